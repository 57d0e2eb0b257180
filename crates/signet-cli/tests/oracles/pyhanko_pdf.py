"""pyHanko as the PDF oracle for Signet's validator tests.

  sign IN OUT KEY CERT FIELD [approval|certify1|certify2|certify3|lockall] [visible]
      sign with pyHanko's library (KEY: unencrypted PKCS#8 PEM)
  validate FILE ROOT
      print one JSON line per signature: field, intact, valid, trusted, coverage,
      modification_level, docmdp_ok, bottom_line (or error)
  fill IN OUT FIELD VALUE
      incremental update setting a text field's /V (pyHanko's writer, no appearance)
  annotate IN OUT
      incremental update adding a FreeText annotation to page 1
  editpage IN OUT
      incremental update replacing page 1's content stream
  doctimestamp IN OUT TSA_URL
      add a document timestamp (ETSI.RFC3161) from the TSA at TSA_URL
  (sign takes an optional 8th argument TSA_URL for a signature timestamp, PAdES B-T)
  sign_ltv IN OUT KEY CERT FIELD ROOT TSA_URL lt|lta
      sign as pyHanko's signer does for long-term validation: validation data fetched online
      (OCSP/CRL from the certificates' URLs) into the DSS, PAdES B-LT; with lta a document
      timestamp on top (B-LTA)
  dss_revinfo FILE ROOT CERT...
      validate each CERT offline with pyHanko's certificate validator, using only the
      certificates, CRLs and OCSP responses in FILE's DSS (revocation information required
      for every certificate with a revocation source, no retroactive revinfo); prints
      "CERT: OK" or "CERT: ERROR …" per certificate
"""
import json
import sys

from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder, load_private_key_from_pemder
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext


def sign(inp, out, key, cert, field, mode="approval", visible="", tsa=""):
    # CERT may be a bundle (signer first, then its issuers).
    certs = list(load_certs_from_pemder([cert]))
    signer = signers.SimpleSigner(
        signing_cert=certs[0],
        signing_key=load_private_key_from_pemder(key, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs(certs[1:]),
    )
    certify = mode.startswith("certify")
    perms = {
        "certify1": fields.MDPPerm.NO_CHANGES,
        "certify2": fields.MDPPerm.FILL_FORMS,
        "certify3": fields.MDPPerm.ANNOTATE,
    }.get(mode)
    meta = signers.PdfSignatureMetadata(
        field_name=field, certify=certify, docmdp_permissions=perms or fields.MDPPerm.FILL_FORMS,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    lock = fields.FieldMDPSpec(fields.FieldMDPAction.ALL) if mode == "lockall" else None
    spec = fields.SigFieldSpec(field, box=(300, 50, 500, 110) if visible else None, field_mdp_spec=lock)
    with open(inp, "rb") as f:
        w = IncrementalPdfFileWriter(f, strict=False)
        with open(out, "wb") as o:
            stamper = timestamps.HTTPTimeStamper(tsa) if tsa else None
            signers.sign_pdf(w, meta, signer=signer, new_field_spec=spec, timestamper=stamper, output=o)


def validate(path, root):
    vc = ValidationContext(trust_roots=[load_cert_from_pemder(root)])
    with open(path, "rb") as f:
        r = PdfFileReader(f, strict=False)
        for sig in r.embedded_signatures:
            if sig.sig_object_type == "/DocTimeStamp":
                try:
                    st = validate_pdf_timestamp(sig, validation_context=vc)
                    print(json.dumps({"field": sig.field_name, "doc_timestamp": True, "intact": st.intact,
                                      "valid": st.valid, "trusted": st.trusted}))
                except Exception as e:
                    print(json.dumps({"field": sig.field_name, "doc_timestamp": True, "error": str(e)}))
                continue
            try:
                st = validate_pdf_signature(sig, vc)
                out = {
                    "field": sig.field_name,
                    "intact": st.intact,
                    "valid": st.valid,
                    "trusted": st.trusted,
                    "coverage": st.coverage.name,
                    "modification_level": st.modification_level.name if st.modification_level is not None else None,
                    "docmdp_ok": st.docmdp_ok,
                    "bottom_line": st.bottom_line,
                }
            except Exception as e:  # an attack file may break pyHanko's validation outright
                out = {"field": sig.field_name, "error": f"{type(e).__name__}: {e}"}
            print(json.dumps(out))


def fill(inp, out, field, value):
    with open(inp, "rb") as f:
        w = IncrementalPdfFileWriter(f, strict=False)
        form = w.root["/AcroForm"]
        for ref in form["/Fields"]:
            d = ref.get_object()
            if d.get("/T") == field:
                d["/V"] = generic.TextStringObject(value)
                w.update_container(d) if not isinstance(ref, generic.IndirectObject) else w.mark_update(ref)
                break
        else:
            raise SystemExit(f"no field {field}")
        with open(out, "wb") as o:
            w.write(o)


def annotate(inp, out):
    with open(inp, "rb") as f:
        w = IncrementalPdfFileWriter(f, strict=False)
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        annot = generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
            generic.NameObject("/Rect"): generic.ArrayObject(list(map(generic.NumberObject, [50, 50, 250, 100]))),
            generic.NameObject("/Contents"): generic.TextStringObject("APPROVED 1,000,000 EUR"),
            generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
        })
        aref = w.add_object(annot)
        annots = page.get("/Annots")
        if annots is None:
            page["/Annots"] = generic.ArrayObject([aref])
        else:
            annots = annots.get_object()
            annots.append(aref)
            if isinstance(page.raw_get("/Annots"), generic.IndirectObject):
                w.mark_update(page.raw_get("/Annots"))
        w.mark_update(page_ref)
        with open(out, "wb") as o:
            w.write(o)


def doctimestamp(inp, out, tsa):
    with open(inp, "rb") as f:
        w = IncrementalPdfFileWriter(f, strict=False)
        with open(out, "wb") as o:
            signers.PdfTimeStamper(timestamps.HTTPTimeStamper(tsa)).timestamp_pdf(w, "sha256", output=o)


def editpage(inp, out):
    with open(inp, "rb") as f:
        w = IncrementalPdfFileWriter(f, strict=False)
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        content = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 600 Td (PAY 1,000,000 EUR) Tj ET")
        page["/Contents"] = w.add_object(content)
        w.mark_update(page_ref)
        with open(out, "wb") as o:
            w.write(o)


def sign_ltv(inp, out, key, cert, field, root, tsa, level):
    certs = list(load_certs_from_pemder([cert]))
    signer = signers.SimpleSigner(
        signing_cert=certs[0],
        signing_key=load_private_key_from_pemder(key, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs(certs[1:]),
    )
    vc = ValidationContext(trust_roots=[load_cert_from_pemder(root)], allow_fetching=True, revocation_mode="soft-fail")
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=True,
        validation_context=vc, use_pades_lta=(level == "lta"),
    )
    with open(inp, "rb") as f:
        w = IncrementalPdfFileWriter(f, strict=False)
        with open(out, "wb") as o:
            signers.sign_pdf(w, meta, signer=signer, timestamper=timestamps.HTTPTimeStamper(tsa), output=o)


def dss_revinfo(path, root, *certs):
    import asyncio
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko.sign.validation.errors import NoDSSFoundError
    with open(path, "rb") as f:
        try:
            dss = DocumentSecurityStore.read_dss(PdfFileReader(f, strict=False))
        except NoDSSFoundError:
            for c in certs:
                print(f"{c}: ERROR no DSS")
            return
        vc = dss.as_validation_context(dict(
            trust_roots=[load_cert_from_pemder(root)], allow_fetching=False, retroactive_revinfo=False,
            revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
        ))

        async def check(c):
            try:
                await CertificateValidator(next(iter(load_certs_from_pemder([c]))), validation_context=vc).async_validate_usage(set())
                print(f"{c}: OK")
            except Exception as e:
                print(f"{c}: ERROR {type(e).__name__}: {e}")

        for c in certs:
            asyncio.run(check(c))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"sign": sign, "validate": validate, "fill": fill, "annotate": annotate, "editpage": editpage, "doctimestamp": doctimestamp,
     "sign_ltv": sign_ltv, "dss_revinfo": dss_revinfo}[cmd](*args)
