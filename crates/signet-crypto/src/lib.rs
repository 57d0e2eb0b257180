//! Keys and signers for Signet.
//!
//! This crate is the bottom of Signet's dependency graph. It holds:
//! - [`Signer`], the one trait through which everything in Signet signs (CAdES, PAdES, CRLs,
//!   certificates, later TSA/OCSP/audit seals), and [`SoftwareSigner`], its implementation on
//!   keys held in memory (aws-lc-rs);
//! - [`PrivateKey`]: generation and loading of RSA, ECDSA (P-256, P-384) and Ed25519 keys;
//! - [`keyfile`]: encrypted PKCS#8 (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC) key files that
//!   `openssl pkey` reads, plus import of plain PEM keys;
//! - [`pkcs12`]: import of PKCS#12 bundles as `openssl pkcs12 -export` writes them;
//! - [`verify`]: signature verification over a SubjectPublicKeyInfo with an algorithm policy;
//! - [`digest`]: streaming hashes;
//! - [`otp`]: HOTP/TOTP (RFC 4226/6238) and base32;
//! - [`envelope`]: AES-256-GCM sealing of secrets at rest under a key-encryption key.
//!
//! It is not for X.509 or CMS structure: those live in `signet-pki` and `signet-cms`.
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod ber;
pub mod digest;
pub mod envelope;
mod error;
pub mod key;
pub mod keyfile;
pub mod otp;
pub mod pem;
pub mod pkcs12;
pub mod signer;
pub mod verify;

pub use algorithm::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};
pub use error::CryptoError;
pub use key::PrivateKey;
pub use signer::{Signer, SoftwareSigner};
pub use verify::{AlgorithmPolicy, VerifyError};

/// Fills `buf` from the operating system's CSPRNG.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), CryptoError> {
    use aws_lc_rs::rand::SecureRandom;
    aws_lc_rs::rand::SystemRandom::new()
        .fill(buf)
        .map_err(|_| CryptoError::Operation("random number generation"))
}
