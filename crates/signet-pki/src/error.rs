use thiserror::Error;

/// Errors from parsing and building X.509 objects.
#[derive(Debug, Error)]
pub enum PkiError {
    /// The input is not a well-formed certificate/CRL/CSR.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// which object
        what: &'static str,
        /// what is wrong
        detail: String,
    },
    /// Signing through the Signer failed.
    #[error(transparent)]
    Crypto(#[from] signet_crypto::CryptoError),
    /// A request that cannot be fulfilled (bad subject, bad dates, …).
    #[error("{0}")]
    Invalid(String),
}

impl PkiError {
    pub(crate) fn malformed(what: &'static str, detail: impl ToString) -> Self {
        PkiError::Malformed {
            what,
            detail: detail.to_string(),
        }
    }
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError::malformed("ASN.1 data", e)
    }
}
