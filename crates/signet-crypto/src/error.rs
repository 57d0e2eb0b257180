use thiserror::Error;

/// Errors from key handling and signing.
#[derive(Debug, Error)]
pub enum CryptoError {
    /// The key material could not be parsed.
    #[error("cannot read the key: {0}")]
    KeyFormat(String),
    /// The passphrase did not decrypt the key (or the file is corrupted).
    #[error("wrong passphrase, or the encrypted data is corrupted")]
    WrongPassphrase,
    /// The algorithm is not one Signet supports.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The key and the requested algorithm do not fit together.
    #[error("algorithm {alg} cannot be used with a {key} key")]
    AlgorithmMismatch {
        /// requested algorithm
        alg: String,
        /// key type
        key: String,
    },
    /// The underlying crypto library failed (key generation, signing).
    #[error("cryptographic operation failed: {0}")]
    Operation(&'static str),
    /// A PKCS#12 bundle could not be read.
    #[error("cannot read the PKCS#12 bundle: {0}")]
    Pkcs12(String),
}

impl From<der::Error> for CryptoError {
    fn from(e: der::Error) -> Self {
        CryptoError::KeyFormat(e.to_string())
    }
}
