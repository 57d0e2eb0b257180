//! The PDF signature validator: every signature field is found, its bytes checked
//! ([`coverage`]), its CMS verified (signet-cms, same report model), and every revision after
//! the one it signs explained by the allow-list of [`diff`]; DocMDP permissions are judged from
//! that. The bottom line per signature is an ETSI EN 319 102-1 indication; the document's is the
//! worst of them.
//!
//! Sub-indications follow EU DSS, where byte-range, coverage, DocMDP and unexplained-change
//! checks belong to format checking: a failure there is TOTAL-FAILED / FORMAT_FAILURE.

pub mod coverage;
pub mod diff;
pub mod revisions;

use lopdf::{Dictionary, Object, ObjectId};
use signet_cms::VerifyInput;
use signet_pki::ocsp::Response;
use signet_pki::report::EmbeddedInfo;
use signet_pki::{Certificate, Crl, SignatureReport, SubIndication, ValidationContext, ValidationReport};

use crate::PdfError;
use crate::document::{Limits, PdfDocument};
use crate::source::{RangesReader, Source, window};
use diff::ModificationLevel;

/// What the document security store (`/DSS`) holds, decoded; unreadable items are skipped
/// (everything is verified where it is used).
#[derive(Default)]
struct Dss {
    certs: Vec<Certificate>,
    crls: Vec<Crl>,
    ocsps: Vec<Response>,
}

/// Largest DSS stream read (a CA's CRL can run to megabytes).
const MAX_DSS_ITEM: usize = 32 << 20;
/// Most bytes decoded from the whole DSS (a decompression bomb counts with the bytes it
/// inflated before it was refused), so that a store of many bombs cannot turn validation into
/// minutes of inflating.
const MAX_DSS_TOTAL: usize = 128 << 20;

impl Dss {
    fn read(doc: &PdfDocument<'_>) -> Dss {
        let mut out = Dss::default();
        let Some(dss) = doc
            .catalog()
            .ok()
            .and_then(|c| c.get(b"DSS").ok().and_then(|d| doc.resolve_dict(d)))
        else {
            return out;
        };
        let mut budget = MAX_DSS_TOTAL;
        let mut each = |key: &[u8], take: &mut dyn FnMut(&[u8])| {
            let refs = dss.get(key).ok().and_then(|v| doc.resolve_array(v)).unwrap_or_default();
            for id in refs.iter().filter_map(|c| c.as_reference().ok()) {
                if budget == 0 {
                    return;
                }
                let limit = MAX_DSS_ITEM.min(budget);
                match doc.reader.decoded_stream(id, limit) {
                    Ok(d) => {
                        budget -= d.len().min(budget);
                        take(&d);
                    }
                    // Only inflating cost work (a raw stream over the limit is refused unread).
                    Err(e) if e.what.contains("inflates beyond") => budget -= limit,
                    Err(_) => {}
                }
            }
        };
        each(b"Certs", &mut |d| out.certs.extend(Certificate::from_der(d).ok()));
        each(b"CRLs", &mut |d| out.crls.extend(Crl::from_der(d).ok()));
        each(b"OCSPs", &mut |d| out.ocsps.extend(Response::from_der(d).ok()));
        out
    }
}

/// One signature field found in the form.
struct Found {
    field: String,
    value: Option<ObjectId>,
    lock: Option<Dictionary>,
}

/// Validates every signature in the PDF against `ctx` (the document security store's
/// certificates, CRLs and OCSP answers are added to it).
pub fn validate(src: &dyn Source, ctx: &ValidationContext) -> Result<ValidationReport, PdfError> {
    let doc = PdfDocument::parse(src, &Limits::default())?;
    let revs = revisions::revisions(&doc.reader);
    let trailing = trailing_bytes(src, &revs);
    let mut found = Vec::new();
    doc.visit_fields(&mut |f| {
        if f.field_type == Some(b"Sig")
            && let Ok(v) = f.dict.get(b"V")
        {
            found.push(Found {
                field: f.name.to_string(),
                value: v.as_reference().ok(),
                lock: f.dict.get(b"Lock").ok().and_then(|l| doc.resolve_dict(l)),
            });
        }
    });
    let certification = certification(&doc);
    // The validation data in the document security store joins what the caller supplied.
    let dss = Dss::read(&doc);
    let all = ctx.extended(&dss.certs, &dss.crls, &dss.ocsps);
    let mut reports: Vec<SignatureReport> = found
        .iter()
        .map(|f| one(&doc, f, &revs, trailing, certification, &all))
        .collect();
    // Signatures cover distinct revisions; two claiming the same one are a collision.
    let mut seen = std::collections::BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        if let Some(rev) = r.embedded.as_ref().and_then(|e| e.revision) {
            seen.entry(rev).or_insert_with(Vec::new).push(i);
        }
    }
    for idx in seen.values().filter(|v| v.len() > 1) {
        for &i in idx {
            reports[i].fail(
                "byte-range",
                SubIndication::FORMAT_FAILURE,
                "another signature claims the same revision (byte range collision)",
            );
        }
    }
    levels(&dss, &ctx.trust_anchors, &mut reports);
    Ok(ValidationReport::new(reports))
}

/// PAdES B-LT when the document security store holds every certificate of the signer's path
/// and of the signature time-stamp's TSA path, with revocation data for each but the trust
/// anchors ([`signet_pki::coverage`]); B-LTA when a valid document timestamp in a later revision covers
/// that too. A store that holds some data but not all of it is named in a warning.
fn levels(dss: &Dss, anchors: &[Certificate], reports: &mut [SignatureReport]) {
    let known: Vec<(String, &Certificate)> = dss.certs.iter().chain(anchors).map(|c| (c.fingerprint(), c)).collect();
    let find = |fp: &str| known.iter().find(|(f, _)| f == fp).map(|(_, c)| *c);
    let has_revinfo = !dss.ocsps.is_empty() || !dss.crls.is_empty();
    let stamped: Vec<usize> = reports
        .iter()
        .filter(|r| r.passed() && r.format == "PAdES document timestamp")
        .filter_map(|r| r.embedded.as_ref().and_then(|e| e.revision))
        .collect();
    for r in reports.iter_mut() {
        let in_dss = r.signer.as_ref().is_some_and(|s| find(&s.sha256).is_some());
        if r.level.as_deref() != Some("PAdES-B-T") || !in_dss || !has_revinfo {
            continue;
        }
        // The signer's path, and the signature time-stamp's TSA path (B-T proves the time by it).
        let mut missing = Vec::new();
        let mut incomplete = false;
        for chain in [&r.chain, &r.timestamp_chain] {
            let anchored = chain
                .last()
                .is_some_and(|a| anchors.iter().any(|t| t.fingerprint() == a.sha256));
            let path: Option<Vec<&Certificate>> = chain.iter().map(|i| find(&i.sha256)).collect();
            match path {
                Some(path) if anchored => {
                    for c in signet_pki::coverage::uncovered(&path, &dss.crls, &dss.ocsps, &dss.certs) {
                        let name = c.display_name();
                        if !missing.contains(&name) {
                            missing.push(name);
                        }
                    }
                }
                _ => incomplete = true,
            }
        }
        if incomplete {
            r.warn(
                "level",
                "the DSS does not hold every certificate of the signer's and the time-stamp's paths to a trust anchor, so the level stays B-T",
            );
            continue;
        }
        if !missing.is_empty() {
            r.warn(
                "level",
                format!(
                    "the DSS holds no revocation data for {}, so the level stays B-T (long-term validation needs it for every certificate but the trust anchor)",
                    missing.join(", ")
                ),
            );
            continue;
        }
        let rev = r.embedded.as_ref().and_then(|e| e.revision).unwrap_or(0);
        r.level = Some(if stamped.iter().any(|t| *t > rev) {
            "PAdES-B-LTA".into()
        } else {
            "PAdES-B-LT".into()
        });
    }
}

/// The CMS (DER, padding removed) of every signature and document timestamp in the document,
/// in form order — for long-term validation updates.
pub fn signature_contents(doc: &PdfDocument<'_>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    doc.visit_fields(&mut |f| {
        if f.field_type == Some(b"Sig")
            && let Some(v) = f.dict.get(b"V").ok().and_then(|v| doc.resolve_dict(v))
            && let Ok(Object::String(c, _)) = v.get(b"Contents")
            && let Ok(der) = coverage::trim_padding(c)
        {
            out.push(der);
        }
    });
    out
}

/// Bytes after the end of the newest revision that are not whitespace (an update without a
/// cross-reference section, or a trailer pointing back at an old one).
fn trailing_bytes(src: &dyn Source, revs: &[revisions::Revision]) -> Option<u64> {
    let end = revs.last()?.ends.map(|e| e.1)?;
    let len = src.len();
    if end >= len {
        return None;
    }
    let n = (len - end).min(1 << 20) as usize;
    let tail = window(src, end, n).ok()?;
    let junk = tail
        .iter()
        .any(|b| !matches!(b, b' ' | b'\r' | b'\n' | b'\t' | b'\0' | 0x0c));
    (junk || len - end > n as u64).then_some(len - end)
}

/// The certification signature's value and its P, from the catalog's /Perms /DocMDP.
fn certification(doc: &PdfDocument<'_>) -> Option<(ObjectId, u8)> {
    let perms = doc
        .catalog()
        .ok()?
        .get(b"Perms")
        .ok()
        .and_then(|p| doc.resolve_dict(p))?;
    let sig = perms.get(b"DocMDP").ok()?.as_reference().ok()?;
    Some((sig, doc.certification_level().unwrap_or(2)))
}

fn text(d: &Dictionary, key: &[u8]) -> Option<String> {
    d.get(key)
        .ok()
        .and_then(|v| v.as_str().ok())
        .map(crate::text::decode_text)
}

fn one(
    doc: &PdfDocument<'_>,
    f: &Found,
    revs: &[revisions::Revision],
    trailing: Option<u64>,
    certification: Option<(ObjectId, u8)>,
    ctx: &ValidationContext,
) -> SignatureReport {
    let mut info = EmbeddedInfo {
        field: f.field.clone(),
        kind: "approval".into(),
        revisions: revs.len(),
        modification_level: ModificationLevel::None.as_str().into(),
        coverage: "not determined".into(),
        ..Default::default()
    };
    let fresh = |info: EmbeddedInfo| {
        let mut r = SignatureReport::new("PAdES", ctx.time);
        r.embedded = Some(info);
        r
    };
    let Some(sig_id) = f.value else {
        let mut r = fresh(info);
        r.fail(
            "signature-dictionary",
            SubIndication::FORMAT_FAILURE,
            "the signature value is not an indirect object",
        );
        return r;
    };
    let Some(sig) = doc.resolve_dict(&Object::Reference(sig_id)) else {
        let mut r = fresh(info);
        r.fail(
            "signature-dictionary",
            SubIndication::FORMAT_FAILURE,
            "the signature value is not a dictionary",
        );
        return r;
    };
    let sub_filter = sig
        .get(b"SubFilter")
        .ok()
        .and_then(|s| s.as_name().ok())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .unwrap_or_default();
    let is_timestamp =
        sig.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"DocTimeStamp") || sub_filter == "ETSI.RFC3161";
    info.docmdp = doc.docmdp_of(&sig);
    info.kind = if is_timestamp {
        "document timestamp".into()
    } else if info.docmdp.is_some() {
        "certification".into()
    } else {
        "approval".into()
    };
    info.reason = text(&sig, b"Reason");
    info.location = text(&sig, b"Location");
    info.contact_info = text(&sig, b"ContactInfo");
    info.name = text(&sig, b"Name");
    if let Ok(Object::Array(a)) = sig.get(b"ByteRange") {
        info.byte_range = a.iter().filter_map(|v| v.as_i64().ok()).collect();
    }
    let claimed = sig.get(b"M").ok().and_then(|m| m.as_str().ok()).map(|m| {
        let raw = String::from_utf8_lossy(m).into_owned();
        match crate::text::parse_pdf_date(&raw) {
            Some(t) => signet_pki::time::format(t),
            None => raw,
        }
    });

    // FieldMDP: the signature's own /Reference transforms and its field's /Lock.
    let mut locks: Vec<diff::Lock> = sig
        .get(b"Reference")
        .ok()
        .and_then(|r| doc.resolve_array(r))
        .unwrap_or_default()
        .iter()
        .filter_map(|r| doc.resolve_dict(r))
        .filter(|r| r.get(b"TransformMethod").ok().and_then(|m| m.as_name().ok()) == Some(b"FieldMDP"))
        .filter_map(|r| r.get(b"TransformParams").ok().and_then(|t| doc.resolve_dict(t)))
        .filter_map(|t| diff::Lock::from_dict(&t))
        .collect();
    if let Some(l) = f.lock.as_ref().and_then(diff::Lock::from_dict)
        && !locks.contains(&l)
    {
        locks.push(l);
    }
    if !locks.is_empty() {
        info.field_locks = Some(locks.iter().map(diff::Lock::describe).collect::<Vec<_>>().join("; "));
    }
    let covered = coverage::check(&doc.reader, sig_id, revs);
    let mut r = match &covered {
        Ok(c) if !is_timestamp && matches!(sub_filter.as_str(), "ETSI.CAdES.detached" | "adbe.pkcs7.detached") => {
            let mut content = RangesReader::new(doc.reader.source(), c.ranges.clone());
            let report = signet_cms::verify(
                VerifyInput {
                    cms: &c.cms,
                    detached: Some(&mut content),
                },
                ctx,
            );
            let mut sigs = report.signatures;
            if sigs.len() != 1 {
                let mut r = fresh(info.clone());
                r.fail(
                    "signer-infos",
                    SubIndication::FORMAT_FAILURE,
                    format!("the CMS holds {} signer infos; PAdES requires exactly one", sigs.len()),
                );
                r
            } else {
                let mut r = sigs.remove(0);
                r.format = "PAdES".into();
                if r.claimed_signing_time.is_some() && sub_filter == "ETSI.CAdES.detached" {
                    r.warn(
                        "pades-signing-time",
                        "the CMS carries a signing-time attribute, which PAdES baseline signatures must not",
                    );
                }
                r.level = r.level.map(|l| l.replace("CAdES", "PAdES"));
                r
            }
        }
        Ok(c) if is_timestamp => {
            let v = signet_cms::timestamp::verify_token(&c.cms, ctx);
            let mut r = v.report;
            r.format = "PAdES document timestamp".into();
            if let Some(info) = v.info {
                let reader = RangesReader::new(doc.reader.source(), c.ranges.clone());
                match signet_crypto::digest::hash_reader(info.hash, reader) {
                    Ok((h, _)) if h == info.imprint => {
                        r.pass(
                            "message-imprint",
                            "the time-stamp's message imprint is the hash of the signed bytes",
                        );
                        r.timestamp_time = Some(info.gen_time_precise.format());
                        r.timestamp_precision = Some(info.gen_time_precise.precision());
                        r.timestamp_accuracy = info.accuracy.clone();
                        r.level = Some("PAdES document timestamp".into());
                    }
                    Ok(_) => r.fail(
                        "message-imprint",
                        SubIndication::HASH_FAILURE,
                        "the time-stamp's message imprint is not the hash of the signed bytes",
                    ),
                    Err(e) => r.fail("message-imprint", SubIndication::FORMAT_FAILURE, e.to_string()),
                }
            }
            r
        }
        Ok(_) => {
            let mut r = fresh(info.clone());
            r.fail(
                "sub-filter",
                SubIndication::FORMAT_FAILURE,
                format!("unsupported /SubFilter /{sub_filter}"),
            );
            r
        }
        Err(e) => {
            let mut r = fresh(info.clone());
            r.fail("byte-range", SubIndication::FORMAT_FAILURE, e.0.clone());
            r
        }
    };
    if r.claimed_signing_time.is_none() {
        r.claimed_signing_time = claimed;
    }
    let c = match covered {
        Ok(c) => c,
        Err(e) => {
            info.coverage = e.0;
            r.embedded = Some(info);
            return r;
        }
    };
    r.pass(
        "byte-range",
        "the signed bytes are the whole file but /Contents, and the signature dictionary lies inside them",
    );
    info.revision = Some(c.revision + 1);
    let mut diff = match c.coverage {
        coverage::Coverage::EntireFile => {
            info.coverage = "entire file".into();
            diff::Diff {
                level: ModificationLevel::None,
                changes: Vec::new(),
            }
        }
        coverage::Coverage::EntireRevision => {
            info.coverage = "entire revision".into();
            diff::analyse(
                &doc.reader,
                revs[c.revision].section,
                certification.map(|c| c.1),
                &locks,
            )
        }
    };
    if let Some(n) = trailing {
        diff.level = ModificationLevel::Other;
        diff.changes.insert(
            0,
            format!("{n} bytes after the last revision that no cross-reference section accounts for"),
        );
    }
    info.modification_level = diff.level.as_str().into();
    info.changes = diff.changes.clone();
    // DocMDP: the certification signature's P bounds what may follow it (and every later
    // signature's revision follows it too).
    let p = certification.map(|c| c.1);
    // Without certification, as pyHanko's default policy: form filling and signing are fine,
    // new annotations are not (they can cover what was signed). P=3 permits them.
    let allowed = match p {
        Some(1) => ModificationLevel::LtaUpdates,
        Some(3) => ModificationLevel::Annotations,
        _ => ModificationLevel::FormFilling,
    };
    if diff.level == ModificationLevel::Other {
        let first = diff.changes.first().cloned().unwrap_or_default();
        r.fail(
            "modifications",
            SubIndication::FORMAT_FAILURE,
            format!("the document was changed after signing in a way no rule allows: {first}"),
        );
    } else if diff.level > allowed {
        r.fail(
            "docmdp",
            SubIndication::FORMAT_FAILURE,
            match p {
                Some(p) => format!(
                    "changes after signing ({}) exceed what the certification allows (P={p})",
                    diff.level.as_str()
                ),
                None => format!(
                    "changes after signing ({}) go beyond form filling and signing, and no certification permits them",
                    diff.level.as_str()
                ),
            },
        );
    } else {
        r.pass(
            "modifications",
            format!("changes after signing: {}", diff.level.as_str()),
        );
        if diff.level == ModificationLevel::Annotations {
            r.warn(
                "annotations",
                "annotations were added after signing; they can cover what was signed",
            );
        }
    }
    r.embedded = Some(info);
    r
}
