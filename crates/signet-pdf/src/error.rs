use thiserror::Error;

/// Why a PDF could not be signed.
#[derive(Debug, Error)]
pub enum PdfError {
    /// The file is not a PDF Signet can read (or breaks a limit).
    #[error("cannot read the PDF: {0}")]
    Read(String),
    /// The file is encrypted.
    #[error(
        "the PDF is encrypted; Signet refuses to sign encrypted PDFs, with or without their password (decrypt it first, e.g. `qpdf --decrypt --password=PASSWORD in.pdf plain.pdf`, then sign plain.pdf)"
    )]
    Encrypted,
    /// Signing it would break a rule (certification, locks).
    #[error("refusing to sign: {0}")]
    Refused(String),
    /// The CMS signature could not be made.
    #[error(transparent)]
    Cms(#[from] signet_cms::CmsError),
    /// Writing failed.
    #[error("writing the signed PDF: {0}")]
    Write(String),
}

impl From<lopdf::Error> for PdfError {
    fn from(e: lopdf::Error) -> Self {
        PdfError::Read(e.to_string())
    }
}

impl From<crate::syntax::SyntaxError> for PdfError {
    fn from(e: crate::syntax::SyntaxError) -> Self {
        PdfError::Read(e.to_string())
    }
}
