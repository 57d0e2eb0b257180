//! Private keys held in memory: generation, loading, export, raw signing.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use zeroize::Zeroizing;

use crate::algorithm::ID_ED25519;
use crate::{CryptoError, HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};

const SECP256R1: ObjectIdentifier = rfc5912::SECP_256_R_1;
const SECP384R1: ObjectIdentifier = rfc5912::SECP_384_R_1;

/// A private key in memory. Key material is freed (and wiped) by aws-lc when dropped.
pub enum PrivateKey {
    /// An RSA key of any size aws-lc accepts (1024–8192 bits).
    Rsa(RsaKeyPair),
    /// An ECDSA key on P-256 (signs with SHA-256).
    EcP256(EcdsaKeyPair),
    /// An ECDSA key on P-384 (signs with SHA-384).
    EcP384(EcdsaKeyPair),
    /// An Ed25519 key.
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.describe())
    }
}

fn op(what: &'static str) -> impl Fn(aws_lc_rs::error::Unspecified) -> CryptoError {
    move |_| CryptoError::Operation(what)
}

impl PrivateKey {
    /// Generates a fresh key pair.
    pub fn generate(alg: KeyAlgorithm) -> Result<Self, CryptoError> {
        let rsa = |size| {
            RsaKeyPair::generate(size)
                .map(PrivateKey::Rsa)
                .map_err(op("RSA key generation"))
        };
        match alg {
            KeyAlgorithm::Rsa2048 => rsa(KeySize::Rsa2048),
            KeyAlgorithm::Rsa3072 => rsa(KeySize::Rsa3072),
            KeyAlgorithm::Rsa4096 => rsa(KeySize::Rsa4096),
            KeyAlgorithm::EcdsaP256 => EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
                .map(PrivateKey::EcP256)
                .map_err(op("EC key generation")),
            KeyAlgorithm::EcdsaP384 => EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_ASN1_SIGNING)
                .map(PrivateKey::EcP384)
                .map_err(op("EC key generation")),
            KeyAlgorithm::Ed25519 => Ed25519KeyPair::generate()
                .map(PrivateKey::Ed25519)
                .map_err(op("Ed25519 key generation")),
        }
    }

    /// Loads an unencrypted PKCS#8 PrivateKeyInfo (RFC 5208/5958).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der)?;
        let oid = info.algorithm.oid;
        let reject = |e: aws_lc_rs::error::KeyRejected| CryptoError::KeyFormat(format!("key rejected: {e}"));
        if oid == rfc5912::RSA_ENCRYPTION {
            return RsaKeyPair::from_pkcs8(der).map(PrivateKey::Rsa).map_err(reject);
        }
        if oid == rfc5912::ID_EC_PUBLIC_KEY {
            let curve: ObjectIdentifier = info
                .algorithm
                .parameters_oid()
                .map_err(|_| CryptoError::UnsupportedAlgorithm("EC key without a named curve".into()))?;
            return match curve {
                SECP256R1 => EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der)
                    .map(PrivateKey::EcP256)
                    .map_err(reject),
                SECP384R1 => EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_ASN1_SIGNING, der)
                    .map(PrivateKey::EcP384)
                    .map_err(reject),
                other => Err(CryptoError::UnsupportedAlgorithm(format!("EC curve {other}"))),
            };
        }
        if oid == ID_ED25519 {
            return Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .map(PrivateKey::Ed25519)
                .map_err(reject);
        }
        Err(CryptoError::UnsupportedAlgorithm(format!(
            "private key algorithm {oid}"
        )))
    }

    /// Loads a PKCS#1 RSAPrivateKey (`-----BEGIN RSA PRIVATE KEY-----`).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        RsaKeyPair::from_der(der)
            .map(PrivateKey::Rsa)
            .map_err(|e| CryptoError::KeyFormat(format!("RSA key rejected: {e}")))
    }

    /// Loads a SEC 1 ECPrivateKey (`-----BEGIN EC PRIVATE KEY-----`) on P-256 or P-384.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, CryptoError> {
        if let Ok(k) = EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            return Ok(PrivateKey::EcP256(k));
        }
        EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P384_SHA384_ASN1_SIGNING, der)
            .map(PrivateKey::EcP384)
            .map_err(|e| CryptoError::KeyFormat(format!("EC key rejected (P-256 and P-384 supported): {e}")))
    }

    /// Exports as unencrypted PKCS#8 DER (wiped when dropped).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let v = match self {
            PrivateKey::Rsa(k) => AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(k)
                .map_err(op("PKCS#8 export"))?
                .as_ref()
                .to_vec(),
            PrivateKey::EcP256(k) | PrivateKey::EcP384(k) => {
                k.to_pkcs8v1().map_err(op("PKCS#8 export"))?.as_ref().to_vec()
            }
            PrivateKey::Ed25519(k) => k.to_pkcs8v1().map_err(op("PKCS#8 export"))?.as_ref().to_vec(),
        };
        Ok(Zeroizing::new(v))
    }

    /// The SubjectPublicKeyInfo DER of the public half.
    pub fn public_key_der(&self) -> Result<Vec<u8>, CryptoError> {
        let v = match self {
            PrivateKey::Rsa(k) => k
                .public_key()
                .as_der()
                .map_err(op("public key export"))?
                .as_ref()
                .to_vec(),
            PrivateKey::EcP256(k) | PrivateKey::EcP384(k) => k
                .public_key()
                .as_der()
                .map_err(op("public key export"))?
                .as_ref()
                .to_vec(),
            PrivateKey::Ed25519(k) => k
                .public_key()
                .as_der()
                .map_err(op("public key export"))?
                .as_ref()
                .to_vec(),
        };
        Ok(v)
    }

    /// "RSA-2048", "ECDSA P-256", "Ed25519".
    pub fn describe(&self) -> String {
        match self {
            PrivateKey::Rsa(k) => format!("RSA-{}", k.public_modulus_len() * 8),
            PrivateKey::EcP256(_) => "ECDSA P-256".into(),
            PrivateKey::EcP384(_) => "ECDSA P-384".into(),
            PrivateKey::Ed25519(_) => "Ed25519".into(),
        }
    }

    /// The signature algorithm Signet uses with this key unless told otherwise.
    pub fn default_signature_algorithm(&self) -> SignatureAlgorithm {
        match self {
            PrivateKey::Rsa(k) if k.public_modulus_len() >= 512 => {
                SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha512)
            }
            PrivateKey::Rsa(_) => SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256),
            PrivateKey::EcP256(_) => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            PrivateKey::EcP384(_) => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
            PrivateKey::Ed25519(_) => SignatureAlgorithm::Ed25519,
        }
    }

    /// Checks that `alg` can be used with this key.
    pub fn check_algorithm(&self, alg: SignatureAlgorithm) -> Result<(), CryptoError> {
        let ok = match (self, alg) {
            (PrivateKey::Rsa(_), SignatureAlgorithm::RsaPkcs1v15(h) | SignatureAlgorithm::RsaPss(h)) => {
                h != HashAlgorithm::Sha1
            }
            (PrivateKey::EcP256(_), SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256)) => true,
            (PrivateKey::EcP384(_), SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384)) => true,
            (PrivateKey::Ed25519(_), SignatureAlgorithm::Ed25519) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(CryptoError::AlgorithmMismatch {
                alg: alg.name(),
                key: self.describe(),
            })
        }
    }

    /// Signs a message (the key hashes it).
    pub fn sign(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.check_algorithm(alg)?;
        let rng = SystemRandom::new();
        match self {
            PrivateKey::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(rsa_encoding(alg)?, &rng, message, &mut sig)
                    .map_err(op("RSA signing"))?;
                Ok(sig)
            }
            PrivateKey::EcP256(k) | PrivateKey::EcP384(k) => {
                Ok(k.sign(&rng, message).map_err(op("ECDSA signing"))?.as_ref().to_vec())
            }
            PrivateKey::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    /// Signs a precomputed digest (RSA and ECDSA; Ed25519 signs messages only).
    pub fn sign_digest(&self, alg: SignatureAlgorithm, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.check_algorithm(alg)?;
        if digest.len() != alg.hash().output_len() {
            return Err(CryptoError::Operation("digest length does not match the algorithm"));
        }
        let d = aws_lc_rs::digest::Digest::import_less_safe(digest, alg.hash().aws()).map_err(op("digest import"))?;
        match self {
            PrivateKey::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign_digest(rsa_encoding(alg)?, &d, &mut sig)
                    .map_err(op("RSA signing"))?;
                Ok(sig)
            }
            PrivateKey::EcP256(k) | PrivateKey::EcP384(k) => {
                Ok(k.sign_digest(&d).map_err(op("ECDSA signing"))?.as_ref().to_vec())
            }
            PrivateKey::Ed25519(_) => Err(CryptoError::UnsupportedAlgorithm(
                "Ed25519 signs whole messages, not digests".into(),
            )),
        }
    }
}

fn rsa_encoding(alg: SignatureAlgorithm) -> Result<&'static dyn signature::RsaEncoding, CryptoError> {
    Ok(match alg {
        SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256) => &signature::RSA_PKCS1_SHA256,
        SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha384) => &signature::RSA_PKCS1_SHA384,
        SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha512) => &signature::RSA_PKCS1_SHA512,
        SignatureAlgorithm::RsaPss(HashAlgorithm::Sha256) => &signature::RSA_PSS_SHA256,
        SignatureAlgorithm::RsaPss(HashAlgorithm::Sha384) => &signature::RSA_PSS_SHA384,
        SignatureAlgorithm::RsaPss(HashAlgorithm::Sha512) => &signature::RSA_PSS_SHA512,
        other => return Err(CryptoError::UnsupportedAlgorithm(other.name())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_key_round_trips_through_pkcs8() {
        for alg in [
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ] {
            let k = PrivateKey::generate(alg).unwrap();
            let der = k.to_pkcs8_der().unwrap();
            let k2 = PrivateKey::from_pkcs8_der(&der).unwrap();
            assert_eq!(k.public_key_der().unwrap(), k2.public_key_der().unwrap(), "{alg:?}");
        }
    }

    #[test]
    fn refuses_ecdsa_algorithm_on_rsa_key() {
        let k = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        assert!(k.sign(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256), b"x").is_err());
    }

    #[test]
    fn garbage_is_a_key_format_error() {
        assert!(matches!(
            PrivateKey::from_pkcs8_der(b"\x30\x03\x02\x01"),
            Err(CryptoError::KeyFormat(_))
        ));
    }
}
