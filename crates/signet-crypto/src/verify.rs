//! Signature verification over a SubjectPublicKeyInfo, with an algorithm policy.

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use der::asn1::UintRef;
use spki::SubjectPublicKeyInfoOwned;
use thiserror::Error;

use crate::algorithm::{ID_ED25519, ID_RSASSA_PSS};
use crate::{HashAlgorithm, SignatureAlgorithm};

/// Which algorithms and key sizes are acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlgorithmPolicy {
    /// Accept SHA-1 in signatures.
    pub allow_sha1: bool,
    /// Smallest RSA modulus accepted, in bits.
    pub min_rsa_bits: usize,
}

impl AlgorithmPolicy {
    /// Today's policy for signatures: no SHA-1, RSA ≥ 2048 bits (ETSI TS 119 312).
    pub const STRICT: AlgorithmPolicy = AlgorithmPolicy {
        allow_sha1: false,
        min_rsa_bits: 2048,
    };
    /// For historic test suites (NIST PKITS: RSA-1024 with SHA-1).
    pub const LEGACY: AlgorithmPolicy = AlgorithmPolicy {
        allow_sha1: true,
        min_rsa_bits: 1024,
    };
}

impl Default for AlgorithmPolicy {
    fn default() -> Self {
        Self::STRICT
    }
}

/// Why a signature did not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The public key could not be parsed.
    #[error("malformed public key: {0}")]
    MalformedKey(String),
    /// Algorithm or key type not supported by Signet.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The key type does not fit the signature algorithm (algorithm confusion).
    #[error("key/algorithm mismatch: {0}")]
    KeyMismatch(String),
    /// The algorithm or key size is below the policy.
    #[error("too weak: {0}")]
    Weak(String),
    /// The signature value is wrong.
    #[error("the signature value does not verify")]
    BadSignature,
}

/// The RSA modulus size in bits of an SPKI, if it is an RSA key.
pub fn rsa_modulus_bits(spki: &SubjectPublicKeyInfoOwned) -> Option<usize> {
    #[derive(der::Sequence)]
    struct RsaPub<'a> {
        n: UintRef<'a>,
        _e: UintRef<'a>,
    }
    let bytes = spki.subject_public_key.as_bytes()?;
    let k = RsaPub::from_der(bytes).ok()?;
    let n = k.n.as_bytes();
    let lead = n.first().map(|b| b.leading_zeros() as usize).unwrap_or(0);
    Some(n.len() * 8 - lead)
}

/// Describes a public key ("RSA-2048", "ECDSA P-256", "Ed25519").
pub fn describe_public_key(spki_der: &[u8]) -> String {
    let Ok(spki) = SubjectPublicKeyInfoOwned::from_der(spki_der) else {
        return "unparseable key".into();
    };
    let o = spki.algorithm.oid;
    if o == rfc5912::RSA_ENCRYPTION || o == ID_RSASSA_PSS {
        return format!("RSA-{}", rsa_modulus_bits(&spki).unwrap_or(0));
    }
    if o == rfc5912::ID_EC_PUBLIC_KEY {
        return match ec_curve(&spki) {
            Ok(rfc5912::SECP_256_R_1) => "ECDSA P-256".into(),
            Ok(rfc5912::SECP_384_R_1) => "ECDSA P-384".into(),
            Ok(rfc5912::SECP_521_R_1) => "ECDSA P-521".into(),
            _ => "EC (unsupported curve)".into(),
        };
    }
    if o == ID_ED25519 {
        return "Ed25519".into();
    }
    if o == DSA {
        return "DSA".into();
    }
    format!("key {o}")
}

/// The named curve of an EC public key (explicit parameters are refused: CVE-2020-0601).
pub fn ec_curve(spki: &SubjectPublicKeyInfoOwned) -> Result<ObjectIdentifier, der::Error> {
    match &spki.algorithm.parameters {
        Some(p) => p.decode_as::<ObjectIdentifier>(),
        None => Err(der::ErrorKind::Failed.into()),
    }
}

const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

/// Verifies `signature` over `message` with the key in `spki_der`.
pub fn verify_signature(
    spki_der: &[u8],
    alg: SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
    policy: &AlgorithmPolicy,
) -> Result<(), VerifyError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(|e| VerifyError::MalformedKey(e.to_string()))?;
    let (valg, key_bytes) = select(&spki, alg, policy)?;
    let key_bytes = key_bytes.unwrap_or_else(|| spki_der.to_vec());
    UnparsedPublicKey::new(valg, &key_bytes)
        .verify(message, signature)
        .map_err(|_| VerifyError::BadSignature)
}

type Selected = (&'static dyn VerificationAlgorithm, Option<Vec<u8>>);

fn select(
    spki: &SubjectPublicKeyInfoOwned,
    alg: SignatureAlgorithm,
    policy: &AlgorithmPolicy,
) -> Result<Selected, VerifyError> {
    if alg.hash() == HashAlgorithm::Sha1 && !policy.allow_sha1 {
        return Err(VerifyError::Weak("SHA-1 is not accepted for signatures".into()));
    }
    let o = spki.algorithm.oid;
    let raw = || {
        spki.subject_public_key
            .as_bytes()
            .map(|b| b.to_vec())
            .ok_or_else(|| VerifyError::MalformedKey("public key bit string has unused bits".into()))
    };
    let mismatch = |key: &str| VerifyError::KeyMismatch(format!("{} signature with a {key} key", alg.name()));
    if o == rfc5912::RSA_ENCRYPTION || o == ID_RSASSA_PSS {
        if o == rfc5912::RSA_ENCRYPTION
            && let Some(p) = &spki.algorithm.parameters
            && p.value() != [] as [u8; 0]
        {
            return Err(VerifyError::MalformedKey(
                "rsaEncryption key with non-NULL parameters".into(),
            ));
        }
        if o == ID_RSASSA_PSS && !matches!(alg, SignatureAlgorithm::RsaPss(_)) {
            return Err(mismatch("RSASSA-PSS-only"));
        }
        let bits = rsa_modulus_bits(spki).ok_or_else(|| VerifyError::MalformedKey("bad RSA public key".into()))?;
        if bits < policy.min_rsa_bits {
            return Err(VerifyError::Weak(format!(
                "RSA-{bits} is below the {}-bit minimum",
                policy.min_rsa_bits
            )));
        }
        if bits > 8192 {
            return Err(VerifyError::Unsupported(format!("RSA-{bits}")));
        }
        let small = bits < 2048;
        let v: &'static dyn VerificationAlgorithm = match (alg, small) {
            (SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha1), true) => {
                &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
            }
            (SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256), true) => {
                &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
            }
            (SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha512), true) => {
                &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
            }
            (SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha1), false) => {
                &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
            }
            (SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256), false) => &sig::RSA_PKCS1_2048_8192_SHA256,
            (SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha384), false) => &sig::RSA_PKCS1_2048_8192_SHA384,
            (SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha512), false) => &sig::RSA_PKCS1_2048_8192_SHA512,
            (SignatureAlgorithm::RsaPss(HashAlgorithm::Sha256), false) => &sig::RSA_PSS_2048_8192_SHA256,
            (SignatureAlgorithm::RsaPss(HashAlgorithm::Sha384), false) => &sig::RSA_PSS_2048_8192_SHA384,
            (SignatureAlgorithm::RsaPss(HashAlgorithm::Sha512), false) => &sig::RSA_PSS_2048_8192_SHA512,
            (SignatureAlgorithm::Ecdsa(_) | SignatureAlgorithm::Ed25519, _) => return Err(mismatch("RSA")),
            (other, _) => return Err(VerifyError::Unsupported(format!("{} with RSA-{bits}", other.name()))),
        };
        // aws-lc takes the RSAPublicKey inside the SPKI.
        return Ok((v, Some(raw()?)));
    }
    if o == rfc5912::ID_EC_PUBLIC_KEY {
        let curve = ec_curve(spki)
            .map_err(|_| VerifyError::MalformedKey("EC key with explicit or missing curve parameters".into()))?;
        let h = match alg {
            SignatureAlgorithm::Ecdsa(h) => h,
            _ => return Err(mismatch("EC")),
        };
        let v: &'static dyn VerificationAlgorithm = match (curve, h) {
            (rfc5912::SECP_256_R_1, HashAlgorithm::Sha1) => &sig::ECDSA_P256_SHA1_ASN1,
            (rfc5912::SECP_256_R_1, HashAlgorithm::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
            (rfc5912::SECP_256_R_1, HashAlgorithm::Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
            (rfc5912::SECP_256_R_1, HashAlgorithm::Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
            (rfc5912::SECP_384_R_1, HashAlgorithm::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
            (rfc5912::SECP_384_R_1, HashAlgorithm::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
            (rfc5912::SECP_384_R_1, HashAlgorithm::Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
            (rfc5912::SECP_521_R_1, HashAlgorithm::Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
            (rfc5912::SECP_521_R_1, HashAlgorithm::Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
            (rfc5912::SECP_521_R_1, HashAlgorithm::Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
            (c, h) => {
                return Err(VerifyError::Unsupported(format!(
                    "ECDSA on curve {c} with {}",
                    h.name()
                )));
            }
        };
        return Ok((v, Some(raw()?)));
    }
    if o == ID_ED25519 {
        if alg != SignatureAlgorithm::Ed25519 {
            return Err(mismatch("Ed25519"));
        }
        return Ok((&sig::ED25519, Some(raw()?)));
    }
    if o == DSA {
        return Err(VerifyError::Unsupported("DSA keys".into()));
    }
    Err(VerifyError::Unsupported(format!("public key algorithm {o}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyAlgorithm, PrivateKey};

    #[test]
    fn each_key_type_verifies_its_own_signature_and_rejects_a_flipped_bit() {
        for ka in [
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ] {
            let k = PrivateKey::generate(ka).unwrap();
            let alg = k.default_signature_algorithm();
            let mut s = k.sign(alg, b"hello").unwrap();
            let spki = k.public_key_der().unwrap();
            verify_signature(&spki, alg, b"hello", &s, &AlgorithmPolicy::STRICT).unwrap();
            let last = s.len() - 1;
            s[last] ^= 1;
            assert_eq!(
                verify_signature(&spki, alg, b"hello", &s, &AlgorithmPolicy::STRICT),
                Err(VerifyError::BadSignature),
                "{ka:?}"
            );
        }
    }

    #[test]
    fn pss_signature_verifies() {
        let k = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let alg = SignatureAlgorithm::RsaPss(HashAlgorithm::Sha256);
        let s = k.sign(alg, b"m").unwrap();
        verify_signature(&k.public_key_der().unwrap(), alg, b"m", &s, &AlgorithmPolicy::STRICT).unwrap();
    }

    #[test]
    fn digest_signing_equals_message_signing_for_ecdsa_verification() {
        let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let alg = k.default_signature_algorithm();
        let d = crate::digest::hash(HashAlgorithm::Sha256, b"msg");
        let s = k.sign_digest(alg, &d).unwrap();
        verify_signature(&k.public_key_der().unwrap(), alg, b"msg", &s, &AlgorithmPolicy::STRICT).unwrap();
    }

    #[test]
    fn ecdsa_signature_with_rsa_key_is_algorithm_confusion() {
        let k = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let r = verify_signature(
            &k.public_key_der().unwrap(),
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            b"m",
            b"sig",
            &AlgorithmPolicy::STRICT,
        );
        assert!(matches!(r, Err(VerifyError::KeyMismatch(_))));
    }

    #[test]
    fn sha1_is_weak_under_strict_policy() {
        let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let r = verify_signature(
            &k.public_key_der().unwrap(),
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha1),
            b"m",
            b"sig",
            &AlgorithmPolicy::STRICT,
        );
        assert!(matches!(r, Err(VerifyError::Weak(_))));
    }
}
