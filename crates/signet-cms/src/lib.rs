//! CMS SignedData for Signet (RFC 5652) with the CAdES baseline profile (ETSI EN 319 122-1).
//!
//! - [`sign`]: builds detached or attached SignedData with content-type, message-digest,
//!   ESS signing-certificate-v2 (RFC 5035), CMSAlgorithmProtection (RFC 6211) and an optional
//!   signing-time, signing through [`signet_crypto::Signer`]; content is hashed as a stream.
//! - [`verify`]: our own verification: structure and attributes, signer lookup, ESS binding,
//!   algorithm consistency, the signature itself over the *received* signed-attribute bytes, and
//!   the certificate path (via `signet-pki`), reported in the shared validation model.
//!
//! Third-party BER input (e.g. `openssl cms -sign -stream`) is normalised to DER for parsing;
//! signatures are still checked over the original bytes of the signed attributes.
#![forbid(unsafe_code)]

pub mod attributes;
pub mod sign;
pub mod signed_data;
pub mod timestamp;
pub mod verify;

pub use sign::{SignOptions, Stamper, sign_detached_reader, sign_digest, sign_digest_stamped};
pub use verify::{VerifyInput, certificates_of, verify};

/// Errors when building a signature.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    /// Signing failed.
    #[error(transparent)]
    Crypto(#[from] signet_crypto::CryptoError),
    /// A certificate problem.
    #[error(transparent)]
    Pki(#[from] signet_pki::PkiError),
    /// Encoding failed.
    #[error("encoding error: {0}")]
    Der(#[from] der::Error),
    /// Reading the content failed.
    #[error("reading the content: {0}")]
    Io(#[from] std::io::Error),
    /// The request cannot be fulfilled.
    #[error("{0}")]
    Invalid(String),
}
