//! The sealed evidence of a simple electronic signature (SES): a record of who approved which
//! document version, how they were authenticated, when and from where, sealed by the
//! organisation (a detached CMS signature with an RFC 3161 time-stamp over the record's exact
//! bytes). `evidence.json` holds the record's text and the seal, so it checks offline:
//! `signet verify evidence.json` (the seal), `signet verify leave.pdf --signature
//! evidence.json` (the seal, and that the record names this document — or, for a PDF, one of
//! its earlier revisions).

use serde::{Deserialize, Serialize};
use signet_pki::{CheckStatus, EvidenceInfo, SubIndication, ValidationContext, ValidationReport};

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

/// Whether `head` (a file's first bytes) is sealed evidence.
pub fn is_evidence(head: &[u8]) -> bool {
    let window = &head[..head.len().min(crate::kind::PDF_HEADER_WINDOW)];
    window.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && window.windows(17).any(|w| w == b"\"signet_evidence\"")
}

/// Most bytes an evidence file may have.
pub const MAX_EVIDENCE: usize = 1 << 20;

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let v = T.iter().position(|t| *t == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Checks sealed evidence: the seal (signature, certificate path, time-stamp) over the record,
/// the record's form, and — given the document — that the record names it (for a PDF, the
/// record may name one of its revisions: a later signature or seal keeps it as a prefix).
pub fn verify(
    file: &[u8],
    document: Option<&[u8]>,
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
    let seal =
        base64_decode(&sealed.seal).ok_or_else(|| ValidateError::NotASignature("the seal is not base64".into()))?;
    let mut signed: &[u8] = sealed.record.as_bytes();
    let mut report = signet_cms::verify(
        signet_cms::VerifyInput {
            cms: &seal,
            detached: Some(&mut signed),
        },
        ctx,
    );
    let Some(sig) = report.signatures.first_mut() else {
        return Err(ValidateError::NotASignature("the seal holds no signature".into()));
    };
    sig.format = "SES evidence".into();
    match serde_json::from_str::<Record>(&sealed.record) {
        Ok(r) if r.format == RECORD_FORMAT => {
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
                match matches_document(doc, &r.document.sha256) {
                    Some(0) => sig.pass("evidence-document", "the document is the version the record names"),
                    Some(n) => sig.pass(
                        "evidence-document",
                        format!("the record names the document as it was before its last {n} change(s): an earlier revision of this file"),
                    ),
                    None => sig.fail(
                        "evidence-document",
                        SubIndication::HASH_FAILURE,
                        "the record names another document: its SHA-256 matches neither this file nor any earlier revision of it",
                    ),
                }
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

/// Whether `doc`, or a prefix of it ending at one of its `%%EOF` markers (an earlier revision
/// of a PDF), has SHA-256 `want`: `Some(0)` for the whole file, `Some(n)` for the revision `n`
/// updates before the end.
fn matches_document(doc: &[u8], want: &str) -> Option<usize> {
    let hex = |d: &[u8]| {
        signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, d)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    if hex(doc) == want {
        return Some(0);
    }
    let mut ends: Vec<usize> = Vec::new();
    let mut from = 0;
    while let Some(i) = doc[from..].windows(5).position(|w| w == b"%%EOF") {
        let mut end = from + i + 5;
        // The end-of-line after %%EOF belongs to the revision when present.
        if doc.get(end) == Some(&b'\r') {
            end += 1;
        }
        if doc.get(end) == Some(&b'\n') {
            end += 1;
        }
        ends.push(end);
        from = from + i + 5;
    }
    ends.iter()
        .rev()
        .enumerate()
        .find(|(_, e)| {
            **e < doc.len()
                && (hex(&doc[..**e]) == want || hex(&doc[..**e - usize::from(doc[**e - 1] == b'\n')]) == want)
        })
        .map(|(i, _)| i + usize::from(ends.last() != Some(&doc.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_recognised_and_revisions_are_found() {
        assert!(is_evidence(b"  {\n  \"signet_evidence\": 1, \"record\": \"{}\"}"));
        assert!(!is_evidence(b"{\"other\": 1}"));
        assert!(!is_evidence(b"%PDF-1.7"));
        let first = b"%PDF-1.7\nbody\n%%EOF\n".to_vec();
        let mut doc = first.clone();
        doc.extend_from_slice(b"update\n%%EOF\n");
        let h = |d: &[u8]| {
            signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, d)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(matches_document(&doc, &h(&doc)), Some(0));
        assert_eq!(matches_document(&doc, &h(&first)), Some(1));
        assert_eq!(matches_document(&doc, &h(b"other")), None);
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
    }
}
