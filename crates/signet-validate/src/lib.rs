//! The one validation entry point of Signet.
//!
//! Every caller — `signet verify`, the server's `/verify` and `/documents/{id}/verify`, the
//! benches — builds a [`signet_pki::ValidationContext`] and calls [`validate`], which decides
//! the file's kind once ([`FileKind`]) and hands it to the format's validator: every signature
//! field of a PDF (`signet_pdf::validate`), or a CMS signature, detached over the given content
//! or encapsulating its own (`signet_cms::verify`). The answer is the one report model,
//! [`signet_pki::ValidationReport`].
//!
//! It reads files and bytes; it does no network I/O itself (the context's fetcher may).
#![forbid(unsafe_code)]

pub mod evidence;
pub mod kind;

use std::path::{Path, PathBuf};

use signet_pki::{ValidationContext, ValidationReport};

pub use kind::FileKind;

/// The signed material.
#[derive(Clone, Copy, Debug)]
pub enum Content<'a> {
    /// Bytes in memory.
    Bytes(&'a [u8]),
    /// A file, read as needed (a PDF is read in windows, never whole).
    File(&'a Path),
}

/// What to validate.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// A PDF, a CMS signature with its content inside, or — with `signature` — the signed
    /// content of a detached signature.
    pub content: Content<'a>,
    /// A detached CMS signature (DER, BER or PEM) over `content`, or the sealed evidence of a
    /// simple signature on it (`evidence.json`).
    pub signature: Option<&'a [u8]>,
}

/// Why a file could not be validated at all (as opposed to a signature that is invalid, which
/// is a report).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A PDF that Signet's reader refuses.
    #[error("{0}")]
    Pdf(#[from] signet_pdf::PdfError),
    /// Neither a PDF nor a readable CMS signature.
    #[error("not a readable CMS signature: {0}")]
    NotASignature(String),
    /// A PEM file without a signature block.
    #[error("no PKCS7/CMS block in the PEM signature file")]
    NoPemSignature,
}

/// PDFs up to this size are read into memory whole; larger ones are read in windows, so a
/// 1 GiB PDF validates in a few MiB.
pub const IN_MEMORY_PDF: u64 = 16 << 20;

/// Largest signature read into memory (a CMS file; PDFs are not read whole).
pub const MAX_SIGNATURE_FILE: u64 = signet_cms::verify::MAX_CMS_LEN as u64;

/// Validates every signature in `input` against `ctx`.
pub fn validate(input: Input<'_>, ctx: &ValidationContext) -> Result<ValidationReport, ValidateError> {
    if let Some(sig) = input.signature {
        if evidence::is_evidence(sig) {
            return evidence_on(sig, input.content, ctx);
        }
        let sig = decode_signature(sig)?;
        return checked(match input.content {
            Content::Bytes(b) => cms(&sig, Some(&mut std::io::Cursor::new(b)), ctx),
            Content::File(p) => {
                let f = std::fs::File::open(p).map_err(|source| read_err(p, source))?;
                cms(&sig, Some(&mut std::io::BufReader::new(f)), ctx)
            }
        });
    }
    match input.content {
        Content::Bytes(b) => match FileKind::detect(b) {
            FileKind::Pdf => Ok(with_embedded_evidence(signet_pdf::validate::validate(&b, ctx)?, b, ctx)),
            FileKind::Evidence => evidence::verify(b, None, &evidence::Coverage::default(), ctx),
            FileKind::Other => checked(cms(&decode_signature(b)?, None, ctx)),
        },
        Content::File(p) => match FileKind::of_file(p).map_err(|source| read_err(p, source))? {
            FileKind::Pdf => {
                let f = std::fs::File::open(p).map_err(|source| read_err(p, source))?;
                let len = f.metadata().map_err(|source| read_err(p, source))?.len();
                if len <= IN_MEMORY_PDF {
                    // One read instead of many windowed ones (the signed ranges are read once
                    // for hashing and the structure is visited piecemeal).
                    let data = std::fs::read(p).map_err(|source| read_err(p, source))?;
                    let report = signet_pdf::validate::validate(&data, ctx)?;
                    return Ok(with_embedded_evidence(report, &data, ctx));
                }
                let f = signet_pdf::FileSource::new(f).map_err(|source| read_err(p, source))?;
                Ok(signet_pdf::validate::validate(&f, ctx)?)
            }
            FileKind::Evidence => evidence::verify(&read_limited(p)?, None, &evidence::Coverage::default(), ctx),
            FileKind::Other => {
                let data = read_limited(p)?;
                checked(cms(&decode_signature(&data)?, None, ctx))
            }
        },
    }
}

/// Sealed evidence checked against the document it names: for a PDF, the PDF's own
/// signatures are validated too, since evidence of an earlier revision counts only when one
/// of them covers it and what came after.
fn evidence_on(sig: &[u8], content: Content<'_>, ctx: &ValidationContext) -> Result<ValidationReport, ValidateError> {
    let pdf_report = match content {
        Content::Bytes(b) if FileKind::detect(b) == FileKind::Pdf => signet_pdf::validate::validate(&b, ctx).ok(),
        Content::File(p) if FileKind::of_file(p).map_err(|source| read_err(p, source))? == FileKind::Pdf => {
            let f = std::fs::File::open(p).map_err(|source| read_err(p, source))?;
            let f = signet_pdf::FileSource::new(f).map_err(|source| read_err(p, source))?;
            signet_pdf::validate::validate(&f, ctx).ok()
        }
        _ => None,
    };
    let coverage = pdf_report.as_ref().map(evidence::Coverage::of).unwrap_or_default();
    match content {
        Content::Bytes(b) => evidence::verify(sig, Some(&mut &b[..]), &coverage, ctx),
        Content::File(p) => {
            let f = std::fs::File::open(p).map_err(|source| read_err(p, source))?;
            evidence::verify(sig, Some(&mut std::io::BufReader::new(f)), &coverage, ctx)
        }
    }
}

/// Embedded files read as possible evidence: named `evidence-….json`, each at most
/// [`evidence::MAX_EVIDENCE`], at most 200 of them.
const EMBEDDED_EVIDENCE: signet_pdf::appendix::FileLimits = signet_pdf::appendix::FileLimits {
    max_each: evidence::MAX_EVIDENCE,
    max_files: 200,
    max_total: 64 << 20,
};

/// A PDF's report with the sealed evidence it carries as embedded files (`evidence-*.json`)
/// checked too — each seal, and that its record names this file or, for an earlier revision,
/// that a valid signature of the file covers it. Embedded evidence that cannot be read is
/// reported as a failed signature, not left out.
fn with_embedded_evidence(mut report: ValidationReport, pdf: &[u8], ctx: &ValidationContext) -> ValidationReport {
    let Ok(doc) = signet_pdf::document::PdfDocument::parse(&pdf, &signet_pdf::document::Limits::default()) else {
        return report;
    };
    let wanted = |name: &str| name.starts_with("evidence-") && name.ends_with(".json");
    let files = signet_pdf::appendix::embedded_files(&doc, EMBEDDED_EVIDENCE, &wanted);
    if files.is_empty() {
        return report;
    }
    let coverage = evidence::Coverage::of(&report);
    let mut extra = Vec::new();
    for (name, data) in files {
        match evidence::verify(&data, Some(&mut &pdf[..]), &coverage, ctx) {
            Ok(r) => {
                for mut s in r.signatures {
                    s.format = format!("SES evidence ({name}, embedded)");
                    extra.push(s);
                }
            }
            Err(e) => {
                let mut s = signet_pki::SignatureReport::new(&format!("SES evidence ({name}, embedded)"), ctx.time);
                s.fail(
                    "evidence-record",
                    signet_pki::SubIndication::FORMAT_FAILURE,
                    format!("the embedded evidence cannot be read: {e}"),
                );
                extra.push(s);
            }
        }
    }
    report.signatures.extend(extra);
    ValidationReport::new(report.signatures)
}

fn read_err(p: &Path, source: std::io::Error) -> ValidateError {
    ValidateError::Read {
        path: p.to_path_buf(),
        source,
    }
}

fn read_limited(p: &Path) -> Result<Vec<u8>, ValidateError> {
    use std::io::Read;
    let f = std::fs::File::open(p).map_err(|source| read_err(p, source))?;
    let mut data = Vec::new();
    f.take(MAX_SIGNATURE_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|source| read_err(p, source))?;
    if data.len() as u64 > MAX_SIGNATURE_FILE {
        return Err(ValidateError::NotASignature(
            "the file is larger than 256 MiB and not a PDF".into(),
        ));
    }
    Ok(data)
}

fn cms<'a>(sig: &'a [u8], detached: Option<&'a mut dyn std::io::BufRead>, ctx: &ValidationContext) -> ValidationReport {
    signet_cms::verify(signet_cms::VerifyInput { cms: sig, detached }, ctx)
}

/// A file that is not a CMS structure at all is bad input, not an invalid signature.
fn checked(report: ValidationReport) -> Result<ValidationReport, ValidateError> {
    if let [sig] = report.signatures.as_slice()
        && sig.embedded.is_none()
        && sig.checks.len() == 1
        && sig.checks[0].id == "structure"
    {
        return Err(ValidateError::NotASignature(sig.summary.clone()));
    }
    Ok(report)
}

/// A signature file's DER: PEM (`PKCS7`, `CMS`) decoded, anything else as it is.
pub fn decode_signature(data: &[u8]) -> Result<Vec<u8>, ValidateError> {
    if signet_crypto::pem::is_pem(data) {
        let blocks = signet_crypto::pem::parse_blocks(data).map_err(|e| ValidateError::NotASignature(e.to_string()))?;
        return blocks
            .into_iter()
            .find(|b| matches!(b.label.as_str(), "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA"))
            .map(|b| b.der)
            .ok_or(ValidateError::NoPemSignature);
    }
    Ok(data.to_vec())
}
