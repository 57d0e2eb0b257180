//! The validation result model shared by CMS, PAdES and SES validation.
//!
//! Each signature gets an ETSI EN 319 102-1 main indication (TOTAL-PASSED, TOTAL-FAILED,
//! INDETERMINATE), a sub-indication when it did not pass, and the facts behind the verdict as a
//! list of named checks. The same model renders as text and JSON (HTML comes with the PDF
//! validator).

use serde::Serialize;

use crate::Certificate;
use crate::time::{self, UnixTime};

/// ETSI EN 319 102-1 main status indication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub enum Indication {
    /// Every check required by the policy passed.
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    /// Not enough information to decide.
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
    /// Cryptographically broken, or proven invalid.
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
}

impl Indication {
    /// The ETSI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL-PASSED",
            Indication::TotalFailed => "TOTAL-FAILED",
            Indication::Indeterminate => "INDETERMINATE",
        }
    }
}

/// ETSI EN 319 102-1 sub-indications (clause 5.1.3).
#[allow(non_camel_case_types, missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SubIndication {
    FORMAT_FAILURE,
    HASH_FAILURE,
    SIG_CRYPTO_FAILURE,
    REVOKED,
    EXPIRED,
    NOT_YET_VALID,
    SIG_CONSTRAINTS_FAILURE,
    CHAIN_CONSTRAINTS_FAILURE,
    CERTIFICATE_CHAIN_GENERAL_FAILURE,
    CRYPTO_CONSTRAINTS_FAILURE,
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    POLICY_PROCESSING_ERROR,
    SIGNATURE_POLICY_NOT_AVAILABLE,
    TIMESTAMP_ORDER_FAILURE,
    NO_SIGNING_CERTIFICATE_FOUND,
    NO_CERTIFICATE_CHAIN_FOUND,
    REVOKED_NO_POE,
    REVOKED_CA_NO_POE,
    OUT_OF_BOUNDS_NO_POE,
    OUT_OF_BOUNDS_NOT_REVOKED,
    REVOCATION_OUT_OF_BOUNDS_NO_POE,
    NO_POE,
    TRY_LATER,
    SIGNED_DATA_NOT_FOUND,
}

impl SubIndication {
    /// The main indication this sub-indication belongs to.
    pub fn indication(self) -> Indication {
        use SubIndication::*;
        match self {
            FORMAT_FAILURE | HASH_FAILURE | SIG_CRYPTO_FAILURE | REVOKED | EXPIRED | NOT_YET_VALID => {
                Indication::TotalFailed
            }
            _ => Indication::Indeterminate,
        }
    }
    /// The name as ETSI writes it.
    pub fn as_str(self) -> String {
        format!("{self:?}").trim_end_matches('_').to_string()
    }
}

/// Outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// The check passed.
    Passed,
    /// The check failed; the verdict says how badly.
    Failed,
    /// Something a reader should know that does not change the verdict.
    Warning,
    /// Not performed (and why is in the detail).
    Skipped,
}

/// One named check with its outcome and an explanation.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// Stable identifier, e.g. `message-digest`, `certificate-path`.
    pub id: String,
    /// Outcome.
    pub status: CheckStatus,
    /// What was found, in words.
    pub detail: String,
}

/// Facts about a certificate, for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number (hex).
    pub serial: String,
    /// notBefore (RFC 3339).
    pub not_before: String,
    /// notAfter (RFC 3339).
    pub not_after: String,
    /// Key type and size.
    pub key: String,
    /// SHA-256 fingerprint (hex).
    pub sha256: String,
}

impl CertificateInfo {
    /// Summarises a certificate.
    pub fn of(c: &Certificate) -> Self {
        CertificateInfo {
            subject: crate::name::display(c.subject()),
            issuer: crate::name::display(c.issuer()),
            serial: c.serial_hex(),
            not_before: time::format(c.not_before()),
            not_after: time::format(c.not_after()),
            key: c.key_description(),
            sha256: c.fingerprint(),
        }
    }
}

/// The report for one signature.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    /// Which kind of signature ("CAdES detached", "CMS attached", "PAdES", …).
    pub format: String,
    /// Main indication.
    pub indication: Indication,
    /// Sub-indication (absent when passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<SubIndication>,
    /// One sentence on why.
    pub summary: String,
    /// The signer's certificate.
    pub signer: Option<CertificateInfo>,
    /// The chain from the signer up to the trust anchor (signer first), when one was built.
    pub chain: Vec<CertificateInfo>,
    /// The signing time the signer claims (not proven without a timestamp).
    pub claimed_signing_time: Option<String>,
    /// The time a valid time-stamp proves the signature existed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_time: Option<String>,
    /// How finely that time-stamp's genTime is given ("1 s", "1 ms").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_precision: Option<String>,
    /// The accuracy its TSA claims ("±1 s"), when the token states one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_accuracy: Option<String>,
    /// The chain of that time-stamp's TSA up to its trust anchor (TSA first), when one proved
    /// the time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamp_chain: Vec<CertificateInfo>,
    /// The time the validation was performed for.
    pub validation_time: String,
    /// Signature algorithm.
    pub signature_algorithm: Option<String>,
    /// Digest algorithm.
    pub digest_algorithm: Option<String>,
    /// Baseline level reached (e.g. "CAdES-B-B").
    pub level: Option<String>,
    /// The individual checks.
    pub checks: Vec<Check>,
    /// For a signature embedded in a document (PDF): where it sits and what happened since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded: Option<EmbeddedInfo>,
    /// For the sealed evidence of a simple electronic signature: what it records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceInfo>,
}

/// What the sealed evidence of a simple electronic signature records (the seal's signature and
/// certificate are the report's own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvidenceInfo {
    /// Who signed ("Natalia Ivanova (natalia)").
    pub signer: String,
    /// For whom, as their deputy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acting_for: Option<String>,
    /// `approve` (and, for other records, what was decided).
    pub decision: String,
    /// The document: its number and title.
    pub document: String,
    /// SHA-256 of the document version signed.
    pub document_sha256: String,
    /// How the signer was authenticated (`password`, `totp`).
    pub factors: Vec<String>,
    /// When (as the record says; the time-stamp proves it).
    pub time: String,
    /// The step of the approval route, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

/// Facts about a signature embedded in a document (a PDF signature field).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EmbeddedInfo {
    /// Fully qualified field name.
    pub field: String,
    /// "approval", "certification" or "document timestamp".
    pub kind: String,
    /// DocMDP permission level of a certification signature (1–3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docmdp: Option<u8>,
    /// /Reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// /Location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// /ContactInfo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_info: Option<String>,
    /// /Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// FieldMDP locks this signature sets, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_locks: Option<String>,
    /// /ByteRange as written.
    pub byte_range: Vec<i64>,
    /// "entire file", "entire revision" or what is wrong with the coverage.
    pub coverage: String,
    /// The revision the signature covers (1 = the first), when it covers one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<usize>,
    /// Revisions in the file.
    pub revisions: usize,
    /// What later revisions changed, as a level: NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER.
    pub modification_level: String,
    /// The changes, in words.
    pub changes: Vec<String>,
}

impl SignatureReport {
    /// " (precision 1 ms, accuracy ±1 s)" for the proving time-stamp, or nothing.
    fn timestamp_quality(&self) -> String {
        let parts: Vec<String> = [
            self.timestamp_precision.as_ref().map(|p| format!("precision {p}")),
            self.timestamp_accuracy.as_ref().map(|a| format!("accuracy {a}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }

    /// An empty report to fill in; starts as TOTAL-PASSED and is downgraded by [`Self::fail`].
    pub fn new(format: &str, validation_time: UnixTime) -> Self {
        SignatureReport {
            format: format.into(),
            indication: Indication::TotalPassed,
            sub_indication: None,
            summary: "the signature is valid".into(),
            signer: None,
            chain: Vec::new(),
            timestamp_chain: Vec::new(),
            claimed_signing_time: None,
            timestamp_time: None,
            timestamp_precision: None,
            timestamp_accuracy: None,
            validation_time: time::format(validation_time),
            signature_algorithm: None,
            digest_algorithm: None,
            level: None,
            checks: Vec::new(),
            embedded: None,
            evidence: None,
        }
    }

    /// Records a passed check.
    pub fn pass(&mut self, id: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            id: id.into(),
            status: CheckStatus::Passed,
            detail: detail.into(),
        });
    }

    /// Records a warning.
    pub fn warn(&mut self, id: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            id: id.into(),
            status: CheckStatus::Warning,
            detail: detail.into(),
        });
    }

    /// Records a skipped check.
    pub fn skip(&mut self, id: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            id: id.into(),
            status: CheckStatus::Skipped,
            detail: detail.into(),
        });
    }

    /// Records a failed check and downgrades the verdict; the first, most severe failure names
    /// the sub-indication (TOTAL-FAILED outranks INDETERMINATE).
    pub fn fail(&mut self, id: &str, sub: SubIndication, detail: impl Into<String>) {
        let detail = detail.into();
        let ind = sub.indication();
        if self.sub_indication.is_none() || ind > self.indication {
            self.indication = ind;
            self.sub_indication = Some(sub);
            self.summary = detail.clone();
        }
        self.checks.push(Check {
            id: id.into(),
            status: CheckStatus::Failed,
            detail,
        });
    }

    /// Whether the signature passed.
    pub fn passed(&self) -> bool {
        self.indication == Indication::TotalPassed
    }

    /// Human-readable text: the verdict first, details after.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let verdict = match self.sub_indication {
            None => self.indication.as_str().to_string(),
            Some(sub) => format!("{} / {}", self.indication.as_str(), sub.as_str()),
        };
        s.push_str(&format!("{}: {verdict}\n", self.format));
        s.push_str(&format!("  {}\n", self.summary));
        if let Some(signer) = &self.signer {
            s.push_str(&format!("  signer:     {}\n", signer.subject));
            s.push_str(&format!("  issued by:  {}\n", signer.issuer));
        }
        if let Some(t) = &self.claimed_signing_time {
            s.push_str(&format!(
                "  claimed signing time: {t} (not proven without a timestamp)\n"
            ));
        }
        if let Some(t) = &self.timestamp_time {
            s.push_str(&format!("  time-stamped at:      {t}{}\n", self.timestamp_quality()));
        }
        s.push_str(&format!("  validated as of:      {}\n", self.validation_time));
        if let Some(a) = &self.signature_algorithm {
            s.push_str(&format!("  algorithm:  {a}\n"));
        }
        if let Some(l) = &self.level {
            s.push_str(&format!("  level:      {l}\n"));
        }
        if let Some(e) = &self.embedded {
            let kind = match e.docmdp {
                Some(p) => format!("{} (DocMDP P={p})", e.kind),
                None => e.kind.clone(),
            };
            s.push_str(&format!("  field:      {} — {kind}\n", e.field));
            for (label, v) in [
                ("reason", &e.reason),
                ("location", &e.location),
                ("contact", &e.contact_info),
                ("name", &e.name),
            ] {
                if let Some(v) = v {
                    s.push_str(&format!("  {label:<10}  {v}\n"));
                }
            }
            let rev = e
                .revision
                .map(|r| format!(" (revision {r} of {})", e.revisions))
                .unwrap_or_default();
            s.push_str(&format!("  coverage:   {}{rev}\n", e.coverage));
            s.push_str(&format!("  modified since: {}\n", e.modification_level));
            for c in &e.changes {
                s.push_str(&format!("    - {c}\n"));
            }
        }
        if !self.chain.is_empty() {
            s.push_str("  chain:\n");
            for (i, c) in self.chain.iter().enumerate() {
                s.push_str(&format!(
                    "    {i}. {} (valid {} to {}, {})\n",
                    c.subject, c.not_before, c.not_after, c.key
                ));
            }
        }
        s.push_str("  checks:\n");
        for c in &self.checks {
            let mark = match c.status {
                CheckStatus::Passed => "ok  ",
                CheckStatus::Failed => "FAIL",
                CheckStatus::Warning => "warn",
                CheckStatus::Skipped => "skip",
            };
            s.push_str(&format!("    [{mark}] {}: {}\n", c.id, c.detail));
        }
        s
    }
}

/// A validation of a whole input (one file, one or more signatures).
#[derive(Clone, Debug, Serialize)]
pub struct ValidationReport {
    /// Schema version of this JSON.
    pub schema: &'static str,
    /// The validator.
    pub validator: String,
    /// The overall indication: the worst of the signatures' (INDETERMINATE if none).
    pub indication: Indication,
    /// One entry per signature.
    pub signatures: Vec<SignatureReport>,
}

impl ValidationReport {
    /// Wraps signature reports.
    pub fn new(signatures: Vec<SignatureReport>) -> Self {
        let indication = if signatures.is_empty() {
            Indication::Indeterminate
        } else {
            signatures
                .iter()
                .map(|s| s.indication)
                .max()
                .unwrap_or(Indication::Indeterminate)
        };
        ValidationReport {
            schema: "signet-validation-report/1",
            validator: format!("signet {}", env!("CARGO_PKG_VERSION")),
            indication,
            signatures,
        }
    }

    /// Text rendering.
    pub fn render_text(&self) -> String {
        let mut s = format!(
            "Overall: {} ({} signature(s))\n\n",
            self.indication.as_str(),
            self.signatures.len()
        );
        for sig in &self.signatures {
            s.push_str(&sig.render_text());
            s.push('\n');
        }
        s
    }

    /// A self-contained HTML page (inline CSS, no scripts or external resources) that a person
    /// can open or print: the verdict first, then one section per signature.
    pub fn render_html(&self, title: &str) -> String {
        let e = html_escape;
        let class = |i: Indication| match i {
            Indication::TotalPassed => "ok",
            Indication::Indeterminate => "warn",
            Indication::TotalFailed => "bad",
        };
        let mut h = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n",
        );
        h.push_str(&format!("<title>Signature report: {}</title>\n", e(title)));
        h.push_str(
            "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}.verdict{padding:.6em 1em;border-radius:6px;font-weight:600}\
.ok{background:#e3f6e5;color:#145a1e}.warn{background:#fff4d6;color:#7a5300}.bad{background:#fde2e1;color:#8a1712}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;padding:.25em .5em;border-bottom:1px solid #ddd}\
th{width:14em;font-weight:600}.s-passed{color:#145a1e}.s-failed{color:#8a1712;font-weight:600}.s-warning{color:#7a5300}.s-skipped{color:#666}\
@media print{.verdict{border:1px solid #999}}</style></head><body>\n",
        );
        h.push_str(&format!("<h1>Signature report: {}</h1>\n", e(title)));
        h.push_str(&format!(
            "<p class=\"verdict {}\">Overall: {} — {} signature(s)</p>\n",
            class(self.indication),
            self.indication.as_str(),
            self.signatures.len()
        ));
        h.push_str(&format!("<p>Validated by {}.</p>\n", e(&self.validator)));
        for (i, s) in self.signatures.iter().enumerate() {
            let verdict = match s.sub_indication {
                None => s.indication.as_str().to_string(),
                Some(sub) => format!("{} / {}", s.indication.as_str(), sub.as_str()),
            };
            h.push_str(&format!("<h2>Signature {} ({})</h2>\n", i + 1, e(&s.format)));
            h.push_str(&format!(
                "<p class=\"verdict {}\">{} — {}</p>\n<table>\n",
                class(s.indication),
                e(&verdict),
                e(&s.summary)
            ));
            let mut row = |k: &str, v: &str| h.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>\n", e(k), e(v)));
            if let Some(si) = &s.signer {
                row("Signer", &si.subject);
                row("Issued by", &si.issuer);
            }
            if let Some(t) = &s.claimed_signing_time {
                row("Claimed signing time", t);
            }
            if let Some(t) = &s.timestamp_time {
                row("Time-stamped at", &format!("{t}{}", s.timestamp_quality()));
            }
            row("Validated as of", &s.validation_time);
            if let Some(a) = &s.signature_algorithm {
                row("Algorithm", a);
            }
            if let Some(l) = &s.level {
                row("Level", l);
            }
            if let Some(em) = &s.embedded {
                row("Field", &em.field);
                let kind = match em.docmdp {
                    Some(p) => format!("{} (DocMDP P={p})", em.kind),
                    None => em.kind.clone(),
                };
                row("Kind", &kind);
                for (k, v) in [
                    ("Reason", &em.reason),
                    ("Location", &em.location),
                    ("Contact", &em.contact_info),
                    ("Name", &em.name),
                ] {
                    if let Some(v) = v {
                        row(k, v);
                    }
                }
                let rev = em
                    .revision
                    .map(|r| format!(" (revision {r} of {})", em.revisions))
                    .unwrap_or_default();
                row("Coverage", &format!("{}{rev}", em.coverage));
                row("Modified since", &em.modification_level);
                if !em.changes.is_empty() {
                    row("Changes", &em.changes.join("; "));
                }
            }
            for (n, c) in s.chain.iter().enumerate() {
                row(
                    &format!("Chain {n}"),
                    &format!("{} (valid {} to {}, {})", c.subject, c.not_before, c.not_after, c.key),
                );
            }
            h.push_str("</table>\n<table>\n");
            for c in &s.checks {
                let st = format!("{:?}", c.status).to_lowercase();
                h.push_str(&format!(
                    "<tr><th>{}</th><td class=\"s-{st}\">{st}</td><td>{}</td></tr>\n",
                    e(&c.id),
                    e(&c.detail)
                ));
            }
            h.push_str("</table>\n");
        }
        h.push_str("</body></html>\n");
        h
    }

    /// JSON rendering (pretty-printed).
    pub fn render_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_the_signer_controls() {
        let mut r = SignatureReport::new("PAdES", 0);
        r.fail("x", SubIndication::FORMAT_FAILURE, "<script>alert(1)</script>");
        let h = ValidationReport::new(vec![r]).render_html("a&b.pdf");
        assert!(!h.contains("<script>") && h.contains("&lt;script&gt;") && h.contains("a&amp;b.pdf"));
    }

    #[test]
    fn total_failed_outranks_indeterminate() {
        let mut r = SignatureReport::new("CAdES detached", 0);
        r.fail("chain", SubIndication::NO_CERTIFICATE_CHAIN_FOUND, "no chain");
        assert_eq!(r.indication, Indication::Indeterminate);
        r.fail("digest", SubIndication::HASH_FAILURE, "digest mismatch");
        assert_eq!(r.indication, Indication::TotalFailed);
        assert_eq!(r.sub_indication, Some(SubIndication::HASH_FAILURE));
        r.fail("other", SubIndication::TRY_LATER, "x");
        assert_eq!(r.sub_indication, Some(SubIndication::HASH_FAILURE));
    }

    #[test]
    fn json_uses_etsi_spellings() {
        let mut r = SignatureReport::new("x", 0);
        r.fail("c", SubIndication::REVOKED_NO_POE, "revoked");
        let j = ValidationReport::new(vec![r]).render_json();
        assert!(j.contains("\"INDETERMINATE\"") && j.contains("REVOKED_NO_POE"), "{j}");
    }
}
