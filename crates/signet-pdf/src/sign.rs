//! PAdES baseline B-B signatures (ETSI EN 319 142-1): `/Type /Sig`, `/Filter /Adobe.PPKLite`,
//! `/SubFilter /ETSI.CAdES.detached`, `/M`, optional `/Reason` `/Location` `/ContactInfo` `/Name`;
//! CMS without signing-time, with signing-certificate-v2; written as an incremental update.
//!
//! Approval signatures and certification signatures (DocMDP P=1/2/3) are supported; signing a
//! P=1 certified document, certifying twice and certifying after an approval signature are
//! refused. Signatures are invisible (a zero-size widget on the chosen page) or visible stamps
//! ([`crate::appearance`]).

use lopdf::{Dictionary, Object, ObjectId, Stream};
use signet_cms::SignOptions;
use signet_crypto::Signer;
use signet_crypto::digest::Hasher;
use std::io::Write;

use crate::PdfError;
use crate::document::{Limits, PdfDocument};
use crate::incremental::{IncrementalUpdate, serialize};
use crate::source::{Source, hash_and_copy};
use crate::text::{pdf_date, text_string};

/// What to put in the signature.
#[derive(Clone, Debug)]
pub struct PadesOptions {
    /// Name of the new signature field (default: the first free `SignatureN`).
    pub field_name: Option<String>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/ContactInfo`.
    pub contact_info: Option<String>,
    /// `/Name` (the signer's name as text; the certificate is authoritative).
    pub name: Option<String>,
    /// Make this a certification signature with DocMDP permissions P (1, 2 or 3).
    pub certify: Option<u8>,
    /// The claimed signing time written to `/M` (PAdES keeps it out of the CMS).
    pub signing_time: i64,
    /// Page (1-based) that carries the signature widget.
    pub page: usize,
    /// Sign even if the preflight finds shadow-attack preparations (duplicate objects, dormant
    /// page trees, optional content).
    pub allow_suspicious: bool,
    /// A visible stamp; `None` makes an invisible signature.
    pub stamp: Option<crate::appearance::Stamp>,
    /// Make a document timestamp (`/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`, PAdES
    /// B-LTA) instead of a signature; see [`timestamp_to`].
    pub document_timestamp: bool,
}

impl PadesOptions {
    /// Defaults: approval signature on page 1 at `signing_time`.
    pub fn new(signing_time: i64) -> Self {
        PadesOptions {
            field_name: None,
            reason: None,
            location: None,
            contact_info: None,
            name: None,
            certify: None,
            signing_time,
            page: 1,
            allow_suspicious: false,
            stamp: None,
            document_timestamp: false,
        }
    }
}

const BYTE_RANGE_PLACEHOLDER: &[u8] = b"/ByteRange [0 0000000000 0000000000 0000000000]";

fn name(s: &str) -> Object {
    Object::Name(s.as_bytes().to_vec())
}

fn int(i: i64) -> Object {
    Object::Integer(i)
}

/// Signs a PDF in memory; returns the original bytes followed by the incremental update.
pub fn sign_pdf(pdf: &[u8], signer: &dyn Signer, opts: &PadesOptions) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::with_capacity(pdf.len() + 64 * 1024);
    sign_to(&pdf, &mut out, signer, opts)?;
    Ok(out)
}

/// Signs the PDF in `src` and writes the signed file to `out`: the original bytes, copied in
/// chunks while they are hashed, then the incremental update. Memory does not grow with the
/// document's size. Returns the number of bytes written. On error, `out` may hold a partial
/// file: write to a temporary file and rename it on success.
pub fn sign_to(
    src: &dyn Source,
    out: &mut dyn Write,
    signer: &dyn Signer,
    opts: &PadesOptions,
) -> Result<u64, PdfError> {
    sign_to_stamped(src, out, signer, opts, None)
}

/// Like [`sign_to`]; with `stamper`, the signature value is time-stamped (PAdES B-T) before
/// anything is written, so a TSA failure leaves `out` empty.
pub fn sign_to_stamped(
    src: &dyn Source,
    out: &mut dyn Write,
    signer: &dyn Signer,
    opts: &PadesOptions,
    stamper: Option<signet_cms::Stamper<'_>>,
) -> Result<u64, PdfError> {
    let doc = PdfDocument::parse(src, &Limits::default())?;
    let stamped = stamper.is_some();
    let (update, contents_rel, reserve) = prepare(&doc, signer, opts, stamped)?;
    let appended = update;
    let alg = signer.signature_algorithm().hash();
    let mut h = Hasher::new(alg);
    // With a TSA the digest comes first (one read) and the copy after, so nothing is written if
    // the TSA fails; without one, a single pass hashes and copies.
    let copy_now = !stamped;
    hash_and_copy(src, &mut h, if copy_now { Some(&mut *out) } else { None })
        .map_err(|e| PdfError::Write(e.to_string()))?;
    h.update(&appended[..contents_rel]);
    h.update(&appended[contents_rel + 2 * reserve + 2..]);
    let digest = h.finish();
    let cms = signet_cms::sign_digest_stamped(
        &digest,
        None,
        signer,
        &SignOptions {
            signing_time: None,
            include_chain: true,
            algorithm_protection: true,
        },
        stamper,
    )?;
    finish(src, out, appended, contents_rel, reserve, &cms, !copy_now)
}

/// Writes `value` (a CMS or a time-stamp token) into the reserved /Contents, copies the
/// original first when it was not copied while hashing, then appends the update.
fn finish(
    src: &dyn Source,
    out: &mut dyn Write,
    mut appended: Vec<u8>,
    contents_rel: usize,
    reserve: usize,
    value: &[u8],
    copy_original: bool,
) -> Result<u64, PdfError> {
    if value.len() > reserve {
        return Err(PdfError::Write(format!(
            "the signature value ({} bytes) does not fit the reserved {reserve} bytes",
            value.len()
        )));
    }
    let hexed = hex::encode_upper(value);
    appended[contents_rel + 1..contents_rel + 1 + hexed.len()].copy_from_slice(hexed.as_bytes());
    let io = |e: std::io::Error| PdfError::Write(e.to_string());
    if copy_original {
        let mut sink = Hasher::new(signet_crypto::HashAlgorithm::Sha256);
        hash_and_copy(src, &mut sink, Some(&mut *out)).map_err(io)?;
    }
    out.write_all(&appended).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(src.len() + appended.len() as u64)
}

/// Adds a document timestamp (PAdES B-LTA) as an invisible field: the RFC 3161 token that
/// `stamp` obtains for the SHA-256 digest of the signed bytes becomes /Contents. Nothing is
/// written if `stamp` fails. Allowed on P=1 certified documents (an LTV update).
pub fn timestamp_to(
    src: &dyn Source,
    out: &mut dyn Write,
    field_name: Option<String>,
    stamp: signet_cms::Stamper<'_>,
) -> Result<u64, PdfError> {
    let doc = PdfDocument::parse(src, &Limits::default())?;
    let mut opts = PadesOptions::new(0);
    opts.document_timestamp = true;
    opts.field_name = field_name;
    opts.allow_suspicious = true; // the document was signed as it is; an LTV update adds nothing to judge
    let (appended, contents_rel, reserve) = prepare_with(&doc, None, &opts, true)?;
    let alg = signet_crypto::HashAlgorithm::Sha256;
    let mut h = Hasher::new(alg);
    hash_and_copy(src, &mut h, None).map_err(|e| PdfError::Write(e.to_string()))?;
    h.update(&appended[..contents_rel]);
    h.update(&appended[contents_rel + 2 * reserve + 2..]);
    let token = stamp(&h.finish()).map_err(PdfError::Write)?;
    finish(src, out, appended, contents_rel, reserve, &token, true)
}

/// Builds the incremental update with its /ByteRange patched and /Contents left as zeros;
/// returns it, the offset of the `<` of /Contents inside it, and the bytes reserved for the CMS.
fn prepare(
    doc: &PdfDocument,
    signer: &dyn Signer,
    opts: &PadesOptions,
    stamped: bool,
) -> Result<(Vec<u8>, usize, usize), PdfError> {
    prepare_with(doc, Some(signer), opts, stamped)
}

/// [`prepare`] for a signer, or (`signer` None) for a document timestamp.
fn prepare_with(
    doc: &PdfDocument,
    signer: Option<&dyn Signer>,
    opts: &PadesOptions,
    stamped: bool,
) -> Result<(Vec<u8>, usize, usize), PdfError> {
    if !opts.document_timestamp {
        check_permissions(doc, opts)?;
    }
    if !opts.allow_suspicious {
        let found = crate::preflight::inspect(doc);
        if let Some(first) = found.first() {
            return Err(PdfError::Refused(format!(
                "{}{} (rewrite the document, e.g. print it to a new PDF, or override with --allow-suspicious-structure)",
                first.0,
                if found.len() > 1 {
                    format!("; and {} more finding(s)", found.len() - 1)
                } else {
                    String::new()
                }
            )));
        }
    }
    let pages = doc.pages()?;
    if pages.is_empty() {
        return Err(PdfError::Read(
            "no page is reachable from the catalog (the page tree is missing, broken or loops back on itself)".into(),
        ));
    }
    let page_id = *pages.get(opts.page.wrapping_sub(1)).ok_or_else(|| {
        PdfError::Refused(format!(
            "page {} does not exist (the document has {})",
            opts.page,
            pages.len()
        ))
    })?;
    let existing_names = doc.field_names();
    // An existing, empty signature field to fill, or the name of a new one.
    let mut fill: Option<(ObjectId, Dictionary)> = None;
    let field_name = match &opts.field_name {
        Some(n) if existing_names.iter().any(|e| e == n) => {
            let (id, dict, ft) = doc.find_field(n).ok_or_else(|| {
                PdfError::Refused(format!(
                    "the field {n:?} cannot be filled (it is not an indirect object)"
                ))
            })?;
            if ft.as_deref() != Some(b"Sig") {
                return Err(PdfError::Refused(format!(
                    "the field {n:?} exists and is not a signature field"
                )));
            }
            if dict.has(b"V") {
                return Err(PdfError::Refused(format!(
                    "the signature field {n:?} is already signed"
                )));
            }
            if dict.has(b"Kids") {
                return Err(PdfError::Refused(format!(
                    "the signature field {n:?} has separate widget annotations, which Signet does not fill yet"
                )));
            }
            fill = Some((id, dict));
            n.clone()
        }
        Some(n) => n.clone(),
        None => (1..)
            .map(|i| {
                if opts.document_timestamp {
                    format!("Timestamp{i}")
                } else {
                    format!("Signature{i}")
                }
            })
            .find(|n| !existing_names.contains(n))
            .unwrap_or_default(),
    };
    // A filled field lives on its own page.
    let page_id = match &fill {
        Some((_, d)) => d
            .get(b"P")
            .ok()
            .and_then(|p| p.as_reference().ok())
            .filter(|p| pages.contains(p))
            .unwrap_or(page_id),
        None => page_id,
    };

    let mut up = IncrementalUpdate::new(doc);
    let sig_id = up.allocate();
    let field_id = match &fill {
        Some((id, _)) => *id,
        None => up.allocate(),
    };
    // A filled field keeps its own rectangle; a stamp is drawn into it.
    let fill_rect: Option<[f32; 4]> = fill.as_ref().and_then(|(_, d)| crate::document::rect_of(d));
    // The widget's appearance: a stamp, or an empty form for an invisible signature.
    let stamp = match (&opts.stamp, fill_rect) {
        (Some(s), Some(r)) if r[2] - r[0] >= 10.0 && r[3] - r[1] >= 10.0 => {
            let mut s = s.clone();
            s.rect = crate::appearance::visual_rect(doc, page_id, r);
            Some(s)
        }
        (s, _) => s.clone(),
    };
    let (rect, flags, ap_ref, rotate) = match &stamp {
        Some(stamp) => {
            let placed = crate::appearance::build(doc, page_id, stamp, &mut up)?;
            let rect = fill_rect.map(|r| r.to_vec()).unwrap_or_else(|| placed.rect.to_vec());
            (rect, 4, placed.appearance, placed.rotate)
        }
        None if opts.document_timestamp => (vec![0.0; 4], 132, (0, 0), 0),
        None => {
            let ap_id = up.allocate();
            let mut ap_dict = Dictionary::new();
            ap_dict.set("Type", name("XObject"));
            ap_dict.set("Subtype", name("Form"));
            ap_dict.set("BBox", Object::Array(vec![int(0), int(0), int(0), int(0)]));
            up.set_object(ap_id, &Object::Stream(Stream::new(ap_dict, Vec::new())))?;
            (vec![0.0; 4], 132, ap_id, 0) // Print + Locked, zero size
        }
    };

    // The signature field merged with its widget annotation (or the existing one, filled).
    let mut field = fill.as_ref().map(|(_, d)| d.clone()).unwrap_or_default();
    field.set("FT", name("Sig"));
    field.set("Type", name("Annot"));
    field.set("Subtype", name("Widget"));
    field.set("T", text_string(&field_name));
    field.set("V", Object::Reference(sig_id));
    field.set("F", int(flags));
    field.set("Rect", Object::Array(rect.into_iter().map(Object::Real).collect()));
    field.set("P", Object::Reference(page_id));
    // A document timestamp has no appearance at all (it is an LTV update, not a form change);
    // signatures keep one, empty when invisible, for viewers and PDF/A.
    if !opts.document_timestamp {
        let mut ap = Dictionary::new();
        ap.set("N", Object::Reference(ap_ref));
        field.set("AP", Object::Dictionary(ap));
    }
    if rotate != 0 {
        let mut mk = Dictionary::new();
        mk.set("R", int(rotate));
        field.set("MK", Object::Dictionary(mk));
    }
    up.set_object(field_id, &Object::Dictionary(field))?;

    let on_page = doc
        .dictionary(page_id)
        .ok()
        .and_then(|p| p.get(b"Annots").ok().and_then(|a| doc.resolve_array(a)))
        .map(|a| a.contains(&Object::Reference(field_id)))
        .unwrap_or(false);
    if !on_page {
        add_to_page(doc, &mut up, page_id, field_id)?;
    }
    update_catalog(
        doc,
        &mut up,
        (fill.is_none()).then_some(field_id),
        sig_id,
        opts.certify.is_some(),
    )?;

    // The signature dictionary with fixed-width placeholders, /Contents last.
    // A time-stamp token (with the TSA's chain) needs room too.
    let reserve = signer.map(contents_reserve).unwrap_or(0) + if stamped { 16 * 1024 } else { 0 };
    let mut body = if opts.document_timestamp {
        b"<</Type/DocTimeStamp/Filter/Adobe.PPKLite/SubFilter/ETSI.RFC3161".to_vec()
    } else {
        let mut b = b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/M".to_vec();
        b.extend(serialize(&text_string(&pdf_date(opts.signing_time)))?);
        b
    };
    for (key, value) in [
        ("Reason", &opts.reason),
        ("Location", &opts.location),
        ("ContactInfo", &opts.contact_info),
        ("Name", &opts.name),
    ] {
        if let Some(v) = value {
            body.extend_from_slice(format!("/{key}").as_bytes());
            body.extend(serialize(&text_string(v))?);
        }
    }
    if let Some(p) = opts.certify {
        let mut params = Dictionary::new();
        params.set("Type", name("TransformParams"));
        params.set("P", int(p as i64));
        params.set("V", name("1.2"));
        let mut sigref = Dictionary::new();
        sigref.set("Type", name("SigRef"));
        sigref.set("TransformMethod", name("DocMDP"));
        sigref.set("TransformParams", Object::Dictionary(params));
        body.extend_from_slice(b"/Reference");
        body.extend(serialize(&Object::Array(vec![Object::Dictionary(sigref)]))?);
    }
    body.extend_from_slice(BYTE_RANGE_PLACEHOLDER);
    body.extend_from_slice(b"/Contents <");
    body.resize(body.len() + 2 * reserve, b'0');
    body.extend_from_slice(b">>>");
    up.set_raw(sig_id, body);

    let len = doc.len as usize;
    let mut last = [0u8; 1];
    doc.reader
        .source()
        .read_at(doc.len.saturating_sub(1), &mut last)
        .map_err(|e| PdfError::Read(e.to_string()))?;
    let rendered = up.render(len, matches!(last[0], b'\n' | b'\r'))?;
    let mut appended = rendered.bytes;
    let sig_rel = rendered.offsets[&sig_id.0] - len;
    let br_rel = find(&appended[sig_rel..], BYTE_RANGE_PLACEHOLDER)
        .map(|p| p + sig_rel)
        .ok_or_else(|| PdfError::Write("ByteRange placeholder lost".into()))?;
    let contents_rel = find(&appended[br_rel..], b"/Contents <")
        .map(|p| p + br_rel + 10)
        .ok_or_else(|| PdfError::Write("Contents placeholder lost".into()))?;
    let total = len + appended.len();
    let b = len + contents_rel; // offset of '<'
    let c = b + 2 * reserve + 2; // just after '>'
    let range = format!("/ByteRange [0 {b} {c} {}", total - c);
    if range.len() + 1 > BYTE_RANGE_PLACEHOLDER.len() {
        return Err(PdfError::Write(
            "the file is too large for the ByteRange placeholder".into(),
        ));
    }
    let mut patched = range.into_bytes();
    patched.resize(BYTE_RANGE_PLACEHOLDER.len() - 1, b' ');
    patched.push(b']');
    appended[br_rel..br_rel + patched.len()].copy_from_slice(&patched);
    Ok((appended, contents_rel, reserve))
}

fn check_permissions(doc: &PdfDocument, opts: &PadesOptions) -> Result<(), PdfError> {
    if let Some(p) = opts.certify
        && !(1..=3).contains(&p)
    {
        return Err(PdfError::Refused(format!(
            "certification level must be 1, 2 or 3, not {p}"
        )));
    }
    let existing = doc.existing_signatures();
    match doc.certification_level() {
        Some(1) => {
            return Err(PdfError::Refused(
                "the document is certified with P=1: no changes, including signatures, are allowed".into(),
            ));
        }
        Some(_) if opts.certify.is_some() => {
            return Err(PdfError::Refused(
                "the document is already certified; a document has at most one certification signature".into(),
            ));
        }
        _ => {}
    }
    // security.md item 40: a new visible signature field after certification (P=1 is refused
    // above, P=2 here) is a change the certifier did not allow; filling an existing field is.
    if doc.certification_level() == Some(2)
        && opts.stamp.is_some()
        && opts.field_name.as_ref().is_none_or(|n| doc.find_field(n).is_none())
    {
        return Err(PdfError::Refused(
            "the document is certified with P=2 (form filling and signing only): a new visible signature field would invalidate the certification; sign invisibly, or into an existing empty signature field with --field".into(),
        ));
    }
    if opts.certify.is_some() && !existing.is_empty() {
        return Err(PdfError::Refused(format!(
            "a certification signature must be the first signature, and the document already has {} (field {})",
            existing.len(),
            existing[0].field_name
        )));
    }
    Ok(())
}

/// Adds the widget to the page's /Annots (updating the array object if it is indirect).
fn add_to_page(
    doc: &PdfDocument,
    up: &mut IncrementalUpdate,
    page_id: ObjectId,
    widget: ObjectId,
) -> Result<(), PdfError> {
    let mut page = doc.dictionary(page_id)?;
    match page.get(b"Annots") {
        Ok(Object::Reference(r)) => {
            let r = *r;
            let mut arr = doc.array(r)?;
            arr.push(Object::Reference(widget));
            up.set_object(r, &Object::Array(arr))?;
            return Ok(());
        }
        Ok(Object::Array(a)) => {
            let mut a = a.clone();
            a.push(Object::Reference(widget));
            page.set("Annots", Object::Array(a));
        }
        _ => page.set("Annots", Object::Array(vec![Object::Reference(widget)])),
    }
    up.set_object(page_id, &Object::Dictionary(page))
}

/// Registers the field in /AcroForm (creating it if needed), sets /SigFlags 3, and for a
/// certification signature adds /Perms /DocMDP.
fn update_catalog(
    doc: &PdfDocument,
    up: &mut IncrementalUpdate,
    field: Option<ObjectId>,
    sig: ObjectId,
    certify: bool,
) -> Result<(), PdfError> {
    let root_id = doc.root_ref()?;
    let mut catalog = doc.catalog()?;
    let mut catalog_changed = false;
    let add_field = |form: &mut Dictionary, up: &mut IncrementalUpdate| -> Result<(), PdfError> {
        let Some(field) = field else {
            let flags = form.get(b"SigFlags").ok().and_then(|f| f.as_i64().ok()).unwrap_or(0);
            form.set("SigFlags", Object::Integer(flags | 3));
            return Ok(());
        };
        match form.get(b"Fields") {
            Ok(Object::Reference(r)) => {
                let r = *r;
                let mut arr = doc.array(r)?;
                arr.push(Object::Reference(field));
                up.set_object(r, &Object::Array(arr))?;
            }
            Ok(Object::Array(a)) => {
                let mut a = a.clone();
                a.push(Object::Reference(field));
                form.set("Fields", Object::Array(a));
            }
            _ => form.set("Fields", Object::Array(vec![Object::Reference(field)])),
        }
        let flags = form.get(b"SigFlags").ok().and_then(|f| f.as_i64().ok()).unwrap_or(0);
        form.set("SigFlags", Object::Integer(flags | 3));
        Ok(())
    };
    match catalog.get(b"AcroForm") {
        Ok(Object::Reference(r)) => {
            let r = *r;
            let mut form = doc.dictionary(r)?;
            add_field(&mut form, up)?;
            up.set_object(r, &Object::Dictionary(form))?;
        }
        Ok(Object::Dictionary(d)) => {
            let mut form = d.clone();
            add_field(&mut form, up)?;
            catalog.set("AcroForm", Object::Dictionary(form));
            catalog_changed = true;
        }
        _ => {
            let form_id = up.allocate();
            let mut form = Dictionary::new();
            add_field(&mut form, up)?;
            up.set_object(form_id, &Object::Dictionary(form))?;
            catalog.set("AcroForm", Object::Reference(form_id));
            catalog_changed = true;
        }
    }
    if certify {
        let mut perms = catalog
            .get(b"Perms")
            .ok()
            .and_then(|p| doc.resolve_dict(p))
            .unwrap_or_default();
        perms.set("DocMDP", Object::Reference(sig));
        catalog.set("Perms", Object::Dictionary(perms));
        catalog_changed = true;
    }
    if catalog_changed {
        up.set_object(root_id, &Object::Dictionary(catalog))?;
    }
    Ok(())
}

/// Bytes reserved for the CMS: the chain, the signature value and room for attributes.
fn contents_reserve(signer: &dyn Signer) -> usize {
    let chain: usize = signer.certificate_chain().iter().map(|c| c.len()).sum();
    (chain + 4096).div_ceil(1024) * 1024
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}
