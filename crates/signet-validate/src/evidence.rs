//! The sealed evidence of a simple electronic signature (SES): a record of who approved which
//! document version, how they were authenticated, when and from where, sealed by the
//! organisation (a detached CMS signature with an RFC 3161 time-stamp over the record's exact
//! bytes). `evidence.json` holds the record's text and the seal, so it checks offline:
//! `signet verify evidence.json` (the seal), `signet verify leave.pdf --signature
//! evidence.json` (the seal, and that the record names this document — or, for a PDF, one of
//! its earlier revisions).

use std::io::Read;

use base64::Engine;
use serde::{Deserialize, Serialize};
use signet_pki::{Certificate, CheckStatus, EvidenceInfo, SubIndication, ValidationContext, ValidationReport};

use crate::ValidateError;

/// The record format.
pub const RECORD_FORMAT: &str = "signet-ses-evidence/1";

/// What an evidence record says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// [`RECORD_FORMAT`].
    pub format: String,
    /// The organisation that keeps it.
    pub organisation: String,
    /// `approve`.
    pub decision: String,
    /// The document version.
    pub document: DocumentFacts,
    /// Who.
    pub signer: Person,
    /// For whom, as their deputy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_for: Option<Person>,
    /// The approval step, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepFacts>,
    /// How the signer was authenticated: `password`, `totp`.
    pub factors: Vec<String>,
    /// From where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientFacts>,
    /// When (RFC 3339, UTC).
    pub time: String,
}

/// The document a record is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentFacts {
    /// Id on the server.
    pub id: String,
    /// Its number (`LV-2026-00001`).
    pub number: String,
    /// Title.
    pub title: String,
    /// Type.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Date.
    pub date: String,
    /// The version approved.
    pub version: i64,
    /// SHA-256 (hex) of that version's bytes.
    pub sha256: String,
    /// Its form's values.
    #[serde(default)]
    pub form: serde_json::Value,
}

/// A person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Id on the server.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name.
    pub display_name: String,
}

impl Person {
    fn describe(&self) -> String {
        format!("{} ({})", self.display_name, self.username)
    }
}

/// The approval step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepFacts {
    /// The workflow.
    pub workflow_id: String,
    /// The step.
    pub step_id: String,
    /// Its name.
    pub name: String,
}

/// Where the request came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientFacts {
    /// Address.
    pub address: String,
    /// User agent.
    pub user_agent: String,
}

/// The file: the record's text and its seal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sealed {
    /// Always 1.
    pub signet_evidence: u32,
    /// The record, as the exact text that is sealed.
    pub record: String,
    /// The seal: a detached CMS SignedData (DER, base64) over `record`'s UTF-8 bytes.
    pub seal: String,
}

impl Sealed {
    /// The file's bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// Whether `head` (a file's first bytes) is sealed evidence: a JSON object (no CMS structure,
/// DER or PEM, starts with `{`); one that is not evidence gets a clear error from [`verify`].
pub fn is_evidence(head: &[u8]) -> bool {
    let window = &head[..head.len().min(crate::kind::PDF_HEADER_WINDOW)];
    window.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Most bytes an evidence file may have.
pub const MAX_EVIDENCE: usize = 1 << 20;

/// Most `%%EOF` markers (revisions) looked at in a document.
const MAX_REVISIONS: usize = 10_000;

/// Where a document's valid signatures end: the byte lengths their signed revisions cover.
/// Evidence that names an earlier revision of a PDF counts only when one of them covers that
/// revision and all that came after it.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// End (exclusive) of the revision each valid, non-timestamp signature covers, with no
    /// changes after it but validation data.
    pub signed_ends: Vec<u64>,
}

impl Coverage {
    /// From a PDF's report: its signatures (not document time-stamps, not evidence) that
    /// passed and after which nothing but validation data changed.
    pub fn of(report: &ValidationReport) -> Coverage {
        let signed_ends = report
            .signatures
            .iter()
            .filter(|s| s.passed())
            .filter_map(|s| s.embedded.as_ref())
            .filter(|e| {
                e.kind != "document timestamp" && matches!(e.modification_level.as_str(), "NONE" | "LTA_UPDATES")
            })
            .filter_map(|e| match e.byte_range.as_slice() {
                [_, _, c, d] => u64::try_from(c.checked_add(*d)?).ok(),
                _ => None,
            })
            .collect();
        Coverage { signed_ends }
    }
}

/// Checks sealed evidence: the seal (signature, certificate path, time-stamp) over the record;
/// that the sealer's certificate is an evidence seal of the organisation the record names; the
/// record's form; and — given the document — that the record names it. For a PDF the record
/// may name an earlier revision (the server adds pages and signatures incrementally), which
/// counts only when a valid signature in `coverage` covers that revision and everything after.
pub fn verify(
    file: &[u8],
    document: Option<&mut dyn Read>,
    coverage: &Coverage,
    ctx: &ValidationContext,
) -> Result<ValidationReport, ValidateError> {
    if file.len() > MAX_EVIDENCE {
        return Err(ValidateError::NotASignature(
            "the evidence file is larger than 1 MiB".into(),
        ));
    }
    let sealed: Sealed = serde_json::from_slice(file)
        .map_err(|e| ValidateError::NotASignature(format!("not a Signet evidence file: {e}")))?;
    if sealed.signet_evidence != 1 {
        return Err(ValidateError::NotASignature(format!(
            "evidence format {} is not known to this version",
            sealed.signet_evidence
        )));
    }
    let seal = base64::engine::general_purpose::STANDARD
        .decode(sealed.seal.trim())
        .map_err(|_| ValidateError::NotASignature("the seal is not base64".into()))?;
    let mut signed: &[u8] = sealed.record.as_bytes();
    let mut report = signet_cms::verify::verify_for(
        signet_cms::VerifyInput {
            cms: &seal,
            detached: Some(&mut signed),
        },
        ctx,
        signet_pki::path::Purpose::EvidenceSeal,
    );
    let Some(sig) = report.signatures.first_mut() else {
        return Err(ValidateError::NotASignature("the seal holds no signature".into()));
    };
    sig.format = "SES evidence".into();
    match serde_json::from_str::<Record>(&sealed.record) {
        Ok(r) if r.format == RECORD_FORMAT => {
            check_sealer(sig, &seal, &r.organisation);
            let who = r.signer.describe();
            let deputy = r
                .acting_for
                .as_ref()
                .map(|p| format!(" as deputy of {}", p.describe()))
                .unwrap_or_default();
            sig.pass(
                "evidence-record",
                format!(
                    "{who}{deputy} approved {} \"{}\" (version {}) at {}, authenticated by {}",
                    r.document.number,
                    r.document.title,
                    r.document.version,
                    r.time,
                    r.factors.join(" and ")
                ),
            );
            sig.evidence = Some(EvidenceInfo {
                signer: who,
                acting_for: r.acting_for.as_ref().map(Person::describe),
                decision: r.decision.clone(),
                document: format!("{} {}", r.document.number, r.document.title).trim().to_string(),
                document_sha256: r.document.sha256.clone(),
                factors: r.factors.clone(),
                time: r.time.clone(),
                step: r.step.as_ref().map(|s| s.name.clone()),
            });
            if let Some(doc) = document {
                check_document(sig, doc, &r.document.sha256, coverage)?;
            }
        }
        Ok(r) => sig.fail(
            "evidence-record",
            SubIndication::FORMAT_FAILURE,
            format!("unknown record format {:?}", r.format),
        ),
        Err(e) => sig.fail(
            "evidence-record",
            SubIndication::FORMAT_FAILURE,
            format!("the record cannot be read: {e}"),
        ),
    }
    if sig.checks.iter().any(|c| c.status == CheckStatus::Failed)
        && sig.indication == signet_pki::Indication::TotalPassed
    {
        sig.indication = signet_pki::Indication::TotalFailed;
    }
    Ok(ValidationReport::new(report.signatures))
}

/// The sealer must hold an evidence-seal certificate (critical EKU Signet evidence seal, which
/// no person's certificate carries) of the organisation the record names: anyone else's
/// signature over a record is not the organisation's word.
fn check_sealer(sig: &mut signet_pki::SignatureReport, seal: &[u8], organisation: &str) {
    let Some(info) = sig.signer.clone() else {
        sig.fail(
            "evidence-sealer",
            SubIndication::NO_SIGNING_CERTIFICATE_FOUND,
            "the seal names no certificate",
        );
        return;
    };
    let cert = signet_cms::certificates_of(seal)
        .iter()
        .filter_map(|d| Certificate::from_der(d).ok())
        .find(|c| signet_pki::report::CertificateInfo::of(c) == info);
    let Some(cert) = cert else {
        sig.fail(
            "evidence-sealer",
            SubIndication::NO_SIGNING_CERTIFICATE_FOUND,
            "the seal's certificate is not in it",
        );
        return;
    };
    if !cert.is_evidence_seal() {
        sig.fail(
            "evidence-sealer",
            SubIndication::SIG_CONSTRAINTS_FAILURE,
            format!(
                "sealed by {}, whose certificate is not an evidence seal (critical extended key usage 1.3.6.1.4.1.58873.2.2): not the organisation's evidence",
                info.subject
            ),
        );
        return;
    }
    let org = signet_pki::name::attribute(cert.subject(), const_oid::db::rfc4519::O);
    if org.as_deref() != Some(organisation) {
        sig.fail(
            "evidence-sealer",
            SubIndication::SIG_CONSTRAINTS_FAILURE,
            format!(
                "the record is of {organisation:?}, the seal of {:?}",
                org.unwrap_or_default()
            ),
        );
        return;
    }
    sig.pass(
        "evidence-sealer",
        format!("sealed by {}, the evidence seal of {organisation}", info.subject),
    );
}

/// Whether the record names `doc`: the whole of it, or an earlier revision that a valid
/// signature covers together with all that came after.
fn check_document(
    sig: &mut signet_pki::SignatureReport,
    doc: &mut dyn Read,
    want: &str,
    coverage: &Coverage,
) -> Result<(), ValidateError> {
    match matches_document(doc, want).map_err(|e| ValidateError::NotASignature(format!("cannot read the document: {e}")))? {
        Match::Whole => sig.pass("evidence-document", "the document is the version the record names"),
        Match::Revision { end, later } => match coverage.signed_ends.iter().filter(|e| **e >= end).min() {
            Some(signed) => sig.pass(
                "evidence-document",
                format!(
                    "the record names the document as it was {later} revision(s) ago (its first {end} bytes); a valid signature covers that and the changes after it (up to byte {signed})"
                ),
            ),
            None => sig.fail(
                "evidence-document",
                SubIndication::SIG_CONSTRAINTS_FAILURE,
                format!(
                    "the record names an earlier revision of this document (its first {end} bytes), and no valid signature covers the {later} change(s) made after it: what was approved may not be what is shown"
                ),
            ),
        },
        Match::None => sig.fail(
            "evidence-document",
            SubIndication::HASH_FAILURE,
            "the record names another document: its SHA-256 matches neither this file nor any earlier revision of it",
        ),
    }
    Ok(())
}

/// How a document relates to the hash a record names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Match {
    /// The whole file.
    Whole,
    /// A prefix ending at a `%%EOF` marker (with its end-of-line, if any): an earlier
    /// revision, `later` revisions before the end.
    Revision { end: u64, later: usize },
    /// Neither.
    None,
}

/// Reads `doc` once, hashing as it goes: the whole file, and each prefix that ends at a
/// `%%EOF` marker (with or without the end-of-line after it), are compared with `want`
/// (SHA-256, hex). Linear in the file's length; at most [`MAX_REVISIONS`] prefixes. `later`
/// counts the markers after the match (the changes made since).
fn matches_document(doc: &mut dyn Read, want: &str) -> std::io::Result<Match> {
    let hex = |h: signet_crypto::digest::Hasher| h.finish().iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut hasher = signet_crypto::digest::Hasher::new(signet_crypto::HashAlgorithm::Sha256);
    let mut buf = vec![0u8; signet_crypto::digest::CHUNK];
    // The last bytes of the previous read (a marker may straddle two reads) before this one.
    let mut view: Vec<u8> = Vec::with_capacity(buf.len() + 8);
    let mut pos: u64 = 0;
    let (mut found, mut later, mut markers) = (None, 0usize, 0usize);
    loop {
        let n = doc.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let keep = view.len().min(7);
        view.drain(..view.len() - keep);
        view.extend_from_slice(&buf[..n]);
        let mut fed = 0;
        for i in 0..n {
            // Does the prefix that ends just before buf[i] end a revision (with or without its
            // end-of-line: a writer may put "\n" before its update)?
            let before = &view[..keep + i];
            if !matches!(before.last(), Some(b'F' | b'\n' | b'\r')) || !ends_revision(before) {
                continue;
            }
            if markers >= MAX_REVISIONS {
                break;
            }
            markers += 1;
            hasher.update(&buf[fed..i]);
            fed = i;
            if found.is_some() {
                later += usize::from(before.ends_with(b"%%EOF"));
            } else if hex(hasher.clone()) == want {
                found = Some(pos + i as u64);
            }
        }
        hasher.update(&buf[fed..n]);
        pos += n as u64;
    }
    if hex(hasher) == want {
        return Ok(Match::Whole);
    }
    // The file's own last marker, when nothing follows it.
    later += usize::from(view.ends_with(b"%%EOF"));
    Ok(match found {
        Some(end) => Match::Revision {
            end,
            later: later.max(1),
        },
        None => Match::None,
    })
}

/// Whether `tail` (the last bytes read) ends a revision: `%%EOF` and an optional end-of-line.
fn ends_revision(tail: &[u8]) -> bool {
    tail.ends_with(b"%%EOF") || tail.ends_with(b"%%EOF\n") || tail.ends_with(b"%%EOF\r") || tail.ends_with(b"%%EOF\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(d: &[u8]) -> String {
        signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, d)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn m(doc: &[u8], want: &[u8]) -> Match {
        matches_document(&mut &doc[..], &h(want)).unwrap()
    }

    #[test]
    fn evidence_is_recognised_and_revisions_are_found() {
        assert!(is_evidence(b"  {\n  \"signet_evidence\": 1, \"record\": \"{}\"}"));
        assert!(
            is_evidence(b"{\"seal\": \"\", \"signet_evidence\": 1}"),
            "keys in any order"
        );
        assert!(!is_evidence(b"%PDF-1.7"));
        let first = b"%PDF-1.7\nbody\n%%EOF\n".to_vec();
        let mut doc = first.clone();
        doc.extend_from_slice(b"update\n%%EOF\n");
        assert_eq!(m(&doc, &doc), Match::Whole);
        assert_eq!(
            m(&doc, &first),
            Match::Revision {
                end: first.len() as u64,
                later: 1
            }
        );
        // Without its end-of-line too, as some writers hash it.
        assert_eq!(
            m(&doc, &first[..first.len() - 1]),
            Match::Revision {
                end: first.len() as u64 - 1,
                later: 1
            }
        );
        assert_eq!(m(&doc, b"other"), Match::None);
        // A prefix that does not end at a marker is no revision.
        assert_eq!(m(&doc, &doc[..10]), Match::None);
    }

    #[test]
    fn markers_across_reads_and_crlf_are_found() {
        // The first revision ends with "%%EOF\r\n" straddling the boundary between two reads.
        let mut first = vec![b' '; signet_crypto::digest::CHUNK - 3];
        first.extend_from_slice(b"%%EOF\r\n");
        let mut doc = first.clone();
        doc.extend_from_slice(b"more\n%%EOF\n");
        assert_eq!(
            m(&doc, &first),
            Match::Revision {
                end: first.len() as u64,
                later: 1
            }
        );
        let three = [doc.clone(), b"again\n%%EOF\n".to_vec()].concat();
        assert_eq!(
            m(&three, &first),
            Match::Revision {
                end: first.len() as u64,
                later: 2
            }
        );
        assert_eq!(
            m(&three, &doc),
            Match::Revision {
                end: doc.len() as u64,
                later: 1
            }
        );
    }
}
