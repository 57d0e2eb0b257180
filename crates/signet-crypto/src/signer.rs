//! The one signing trait, and its software implementation.

use crate::{CryptoError, PrivateKey, SignatureAlgorithm};

/// Something that signs: a key in memory, on a PKCS#11 token, or behind a remote service.
///
/// Everything in Signet that produces a signature (CAdES, PAdES, certificates, CRLs, later
/// timestamps, OCSP responses and audit seals) takes a `&dyn Signer` and never learns where the
/// key lives.
pub trait Signer: Send + Sync {
    /// The algorithm this signer produces.
    fn signature_algorithm(&self) -> SignatureAlgorithm;
    /// SubjectPublicKeyInfo (DER) of the signing key.
    fn public_key_der(&self) -> Result<Vec<u8>, CryptoError>;
    /// Certificates (DER), the signer's own first, then issuers; empty for a bare key.
    fn certificate_chain(&self) -> &[Vec<u8>];
    /// Signs a message (hashing it with the algorithm's digest).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// Signs a digest computed elsewhere (two-phase and remote signing). Not every algorithm
    /// can (Ed25519 cannot).
    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

/// A [`Signer`] on a key held in process memory.
#[derive(Debug)]
pub struct SoftwareSigner {
    key: PrivateKey,
    algorithm: SignatureAlgorithm,
    chain: Vec<Vec<u8>>,
    /// The SubjectPublicKeyInfo, exported once.
    spki: Result<Vec<u8>, String>,
}

impl SoftwareSigner {
    /// A signer using the key's default algorithm and no certificates.
    pub fn new(key: PrivateKey) -> Self {
        let algorithm = key.default_signature_algorithm();
        let spki = key.public_key_der().map_err(|e| e.to_string());
        SoftwareSigner {
            key,
            algorithm,
            chain: Vec::new(),
            spki,
        }
    }

    /// Chooses the signature algorithm (must fit the key).
    pub fn with_algorithm(mut self, algorithm: SignatureAlgorithm) -> Result<Self, CryptoError> {
        self.key.check_algorithm(algorithm)?;
        self.algorithm = algorithm;
        Ok(self)
    }

    /// Attaches the certificate chain (signer first).
    pub fn with_chain(mut self, chain: Vec<Vec<u8>>) -> Self {
        self.chain = chain;
        self
    }

    /// The key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }
}

impl Signer for SoftwareSigner {
    fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
    fn public_key_der(&self) -> Result<Vec<u8>, CryptoError> {
        self.spki
            .clone()
            .map_err(|_| CryptoError::Operation("public key export"))
    }
    fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.key.sign(self.algorithm, message)
    }
    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.key.sign_digest(self.algorithm, digest)
    }
}
