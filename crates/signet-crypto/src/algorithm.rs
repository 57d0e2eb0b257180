//! Hash, key and signature algorithm names, and their ASN.1 identifiers.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::asn1::Null;
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;

use crate::CryptoError;

/// OID of Ed25519 (RFC 8410).
pub const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// OID of RSASSA-PSS (RFC 4055).
pub const ID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// OID of ecdsa-with-SHA1 (RFC 3279), verification only.
pub const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
/// OID of MGF1 (RFC 4055).
pub const ID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");

/// A message digest algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SHA-1: verification of legacy material only.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The algorithm's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlgorithm::Sha1 => rfc5912::ID_SHA_1,
            HashAlgorithm::Sha256 => rfc5912::ID_SHA_256,
            HashAlgorithm::Sha384 => rfc5912::ID_SHA_384,
            HashAlgorithm::Sha512 => rfc5912::ID_SHA_512,
        }
    }

    /// Looks an OID up.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|h| h.oid() == *oid)
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// The AlgorithmIdentifier (parameters absent, as RFC 5754 prefers).
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// Name as people write it.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }

    pub(crate) fn aws(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            HashAlgorithm::Sha1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha256 => &aws_lc_rs::digest::SHA256,
            HashAlgorithm::Sha384 => &aws_lc_rs::digest::SHA384,
            HashAlgorithm::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }
}

/// The kind and size of a key pair, as `signet key generate --alg` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
}

impl KeyAlgorithm {
    /// All algorithms, in the order the CLI lists them.
    pub const ALL: [KeyAlgorithm; 6] = [
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
        Self::EcdsaP256,
        Self::EcdsaP384,
        Self::Ed25519,
    ];

    /// The CLI name (`rsa-2048`, `ecdsa-p256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa-2048",
            Self::Rsa3072 => "rsa-3072",
            Self::Rsa4096 => "rsa-4096",
            Self::EcdsaP256 => "ecdsa-p256",
            Self::EcdsaP384 => "ecdsa-p384",
            Self::Ed25519 => "ed25519",
        }
    }

    /// Parses a CLI name.
    pub fn from_name(s: &str) -> Result<Self, CryptoError> {
        Self::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            CryptoError::UnsupportedAlgorithm(format!(
                "{s:?}; choose one of rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384, ed25519"
            ))
        })
    }

    /// The key algorithm of a SubjectPublicKeyInfo (DER), if Signet makes such keys.
    pub fn of_public_key(spki_der: &[u8]) -> Option<Self> {
        let d = crate::verify::describe_public_key(spki_der);
        Self::ALL.into_iter().find(|a| match a {
            Self::Rsa2048 => d == "RSA-2048",
            Self::Rsa3072 => d == "RSA-3072",
            Self::Rsa4096 => d == "RSA-4096",
            Self::EcdsaP256 => d == "ECDSA P-256",
            Self::EcdsaP384 => d == "ECDSA P-384",
            Self::Ed25519 => d == "Ed25519",
        })
    }

    /// The signature algorithm Signet uses by default with this key.
    pub fn default_signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            Self::Rsa2048 | Self::Rsa3072 => SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256),
            Self::Rsa4096 => SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha512),
            Self::EcdsaP256 => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            Self::EcdsaP384 => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
            Self::Ed25519 => SignatureAlgorithm::Ed25519,
        }
    }
}

/// A signature algorithm: key family plus digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
    RsaPkcs1v15(HashAlgorithm),
    /// RSASSA-PSS with MGF1 on the same hash and a salt as long as the hash (RFC 4055).
    RsaPss(HashAlgorithm),
    /// ECDSA with the signature DER-encoded (RFC 5758).
    Ecdsa(HashAlgorithm),
    /// Ed25519 (PureEdDSA, RFC 8410/8419).
    Ed25519,
}

/// RSASSA-PSS-params (RFC 4055 §3.1), with the defaults spelled out where we need them.
#[derive(Clone, Debug, Sequence)]
struct RsaPssParams {
    #[asn1(context_specific = "0", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", optional = "true")]
    salt_len: Option<u32>,
    #[asn1(context_specific = "3", optional = "true")]
    trailer: Option<u32>,
}

impl SignatureAlgorithm {
    /// The digest the algorithm hashes with (SHA-512 for Ed25519, which hashes internally).
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::RsaPkcs1v15(h) | Self::RsaPss(h) | Self::Ecdsa(h) => h,
            Self::Ed25519 => HashAlgorithm::Sha512,
        }
    }

    /// Human-readable name.
    pub fn name(self) -> String {
        match self {
            Self::RsaPkcs1v15(h) => format!("RSA PKCS#1 v1.5 with {}", h.name()),
            Self::RsaPss(h) => format!("RSA-PSS with {}", h.name()),
            Self::Ecdsa(h) => format!("ECDSA with {}", h.name()),
            Self::Ed25519 => "Ed25519".into(),
        }
    }

    /// The signatureAlgorithm identifier to put in certificates, CRLs and SignerInfos.
    pub fn algorithm_identifier(self) -> Result<AlgorithmIdentifierOwned, CryptoError> {
        let oid = match self {
            Self::RsaPkcs1v15(h) => match h {
                HashAlgorithm::Sha1 => rfc5912::SHA_1_WITH_RSA_ENCRYPTION,
                HashAlgorithm::Sha256 => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
                HashAlgorithm::Sha384 => rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
                HashAlgorithm::Sha512 => rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
            },
            Self::RsaPss(h) => {
                let hash_id = AlgorithmIdentifierOwned {
                    oid: h.oid(),
                    parameters: Some(Any::from(Null)),
                };
                let params = RsaPssParams {
                    hash: Some(hash_id.clone()),
                    mask_gen: Some(AlgorithmIdentifierOwned {
                        oid: ID_MGF1,
                        parameters: Some(Any::encode_from(&hash_id)?),
                    }),
                    salt_len: Some(h.output_len() as u32),
                    trailer: None,
                };
                return Ok(AlgorithmIdentifierOwned {
                    oid: ID_RSASSA_PSS,
                    parameters: Some(Any::encode_from(&params)?),
                });
            }
            Self::Ecdsa(h) => match h {
                HashAlgorithm::Sha1 => ECDSA_WITH_SHA_1,
                HashAlgorithm::Sha256 => rfc5912::ECDSA_WITH_SHA_256,
                HashAlgorithm::Sha384 => rfc5912::ECDSA_WITH_SHA_384,
                HashAlgorithm::Sha512 => rfc5912::ECDSA_WITH_SHA_512,
            },
            Self::Ed25519 => ID_ED25519,
        };
        // RFC 4055 §5: the RSA PKCS#1 identifiers carry an explicit NULL; ECDSA and Ed25519 carry none.
        let parameters = match self {
            Self::RsaPkcs1v15(_) => Some(Any::from(Null)),
            _ => None,
        };
        Ok(AlgorithmIdentifierOwned { oid, parameters })
    }

    /// Parses a signatureAlgorithm identifier (certificate, CRL, OCSP).
    ///
    /// For RSA-PSS only the parameter sets this crate can verify are accepted: MGF1 with the
    /// same hash, a salt as long as the hash and the default trailer.
    pub fn from_algorithm_identifier(id: &AlgorithmIdentifierOwned) -> Result<Self, CryptoError> {
        let o = id.oid;
        let pkcs1 = [
            (rfc5912::SHA_1_WITH_RSA_ENCRYPTION, HashAlgorithm::Sha1),
            (rfc5912::SHA_256_WITH_RSA_ENCRYPTION, HashAlgorithm::Sha256),
            (rfc5912::SHA_384_WITH_RSA_ENCRYPTION, HashAlgorithm::Sha384),
            (rfc5912::SHA_512_WITH_RSA_ENCRYPTION, HashAlgorithm::Sha512),
        ];
        let ecdsa = [
            (ECDSA_WITH_SHA_1, HashAlgorithm::Sha1),
            (rfc5912::ECDSA_WITH_SHA_256, HashAlgorithm::Sha256),
            (rfc5912::ECDSA_WITH_SHA_384, HashAlgorithm::Sha384),
            (rfc5912::ECDSA_WITH_SHA_512, HashAlgorithm::Sha512),
        ];
        if let Some((_, h)) = pkcs1.iter().find(|(x, _)| *x == o) {
            // Parameters must be absent or NULL.
            if let Some(p) = &id.parameters
                && p.to_der()? != [0x05, 0x00]
            {
                return Err(CryptoError::UnsupportedAlgorithm(
                    "RSA PKCS#1 v1.5 identifier with non-NULL parameters".into(),
                ));
            }
            return Ok(Self::RsaPkcs1v15(*h));
        }
        if let Some((_, h)) = ecdsa.iter().find(|(x, _)| *x == o) {
            if id.parameters.is_some() {
                return Err(CryptoError::UnsupportedAlgorithm(
                    "ECDSA identifier with parameters".into(),
                ));
            }
            return Ok(Self::Ecdsa(*h));
        }
        if o == ID_ED25519 {
            if id.parameters.is_some() {
                return Err(CryptoError::UnsupportedAlgorithm(
                    "Ed25519 identifier with parameters".into(),
                ));
            }
            return Ok(Self::Ed25519);
        }
        if o == ID_RSASSA_PSS {
            return Self::parse_pss(id);
        }
        Err(CryptoError::UnsupportedAlgorithm(format!("signature algorithm {o}")))
    }

    fn parse_pss(id: &AlgorithmIdentifierOwned) -> Result<Self, CryptoError> {
        let unsupported = |why: &str| CryptoError::UnsupportedAlgorithm(format!("RSA-PSS parameters: {why}"));
        let params = id.parameters.as_ref().ok_or_else(|| unsupported("missing"))?;
        let params = RsaPssParams::from_der(&params.to_der()?)?;
        let hash = match &params.hash {
            None => HashAlgorithm::Sha1,
            Some(h) => HashAlgorithm::from_oid(&h.oid).ok_or_else(|| unsupported("unknown hash"))?,
        };
        let mgf_hash = match &params.mask_gen {
            None => HashAlgorithm::Sha1,
            Some(m) => {
                if m.oid != ID_MGF1 {
                    return Err(unsupported("mask generation is not MGF1"));
                }
                let inner = m.parameters.as_ref().ok_or_else(|| unsupported("MGF1 hash missing"))?;
                let inner = AlgorithmIdentifierOwned::from_der(&inner.to_der()?)?;
                HashAlgorithm::from_oid(&inner.oid).ok_or_else(|| unsupported("unknown MGF1 hash"))?
            }
        };
        if mgf_hash != hash {
            return Err(unsupported("MGF1 hash differs from the message hash"));
        }
        if params.salt_len.unwrap_or(20) as usize != hash.output_len() {
            return Err(unsupported("salt length differs from the hash length"));
        }
        if params.trailer.unwrap_or(1) != 1 {
            return Err(unsupported("trailer field is not 1"));
        }
        if hash == HashAlgorithm::Sha1 {
            return Err(unsupported("RSA-PSS with SHA-1 is not supported"));
        }
        Ok(Self::RsaPss(hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_identifiers_round_trip() {
        for alg in [
            SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256),
            SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha512),
            SignatureAlgorithm::RsaPss(HashAlgorithm::Sha256),
            SignatureAlgorithm::RsaPss(HashAlgorithm::Sha384),
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
            SignatureAlgorithm::Ed25519,
        ] {
            let id = alg.algorithm_identifier().unwrap();
            assert_eq!(SignatureAlgorithm::from_algorithm_identifier(&id).unwrap(), alg);
        }
    }

    #[test]
    fn rejects_pss_with_mismatched_salt() {
        let hash_id = AlgorithmIdentifierOwned {
            oid: HashAlgorithm::Sha256.oid(),
            parameters: None,
        };
        let params = RsaPssParams {
            hash: Some(hash_id.clone()),
            mask_gen: Some(AlgorithmIdentifierOwned {
                oid: ID_MGF1,
                parameters: Some(Any::encode_from(&hash_id).unwrap()),
            }),
            salt_len: Some(0),
            trailer: None,
        };
        let id = AlgorithmIdentifierOwned {
            oid: ID_RSASSA_PSS,
            parameters: Some(Any::encode_from(&params).unwrap()),
        };
        assert!(SignatureAlgorithm::from_algorithm_identifier(&id).is_err());
    }

    #[test]
    fn key_algorithm_names_parse() {
        for a in KeyAlgorithm::ALL {
            assert_eq!(KeyAlgorithm::from_name(a.name()).unwrap(), a);
        }
        assert!(KeyAlgorithm::from_name("dsa-1024").is_err());
    }

    #[test]
    fn key_algorithm_of_a_public_key() {
        for a in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::Rsa2048,
        ] {
            let k = crate::PrivateKey::generate(a).unwrap();
            assert_eq!(KeyAlgorithm::of_public_key(&k.public_key_der().unwrap()), Some(a));
        }
        assert_eq!(KeyAlgorithm::of_public_key(b"junk"), None);
    }
}
