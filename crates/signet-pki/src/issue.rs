//! Issuing certificates: the internal CA's profiles, self-signed certificates, CSR intake.
//!
//! Every certificate is signed through [`Signer`], so the CA key can be in memory, on a
//! PKCS#11 token or remote.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{ID_AD_CA_ISSUERS, ID_AD_OCSP};
use der::asn1::{BitString, Ia5String, OctetString};
use der::{Decode, Encode, Sequence};
use flagset::FlagSet;
use signet_crypto::{HashAlgorithm, Signer};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::request::CertReq;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use crate::oids::{KP_DOCUMENT_SIGNING, KP_EMAIL_PROTECTION, KP_OCSP_SIGNING, KP_TIME_STAMPING};
use crate::time::{UnixTime, to_x509};
use crate::{Certificate, PkiError, raw};

/// What a certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Self-signed root CA: basicConstraints cA (critical), keyCertSign + cRLSign.
    RootCa {
        /// pathLenConstraint, if any.
        path_len: Option<u8>,
    },
    /// Subordinate (issuing) CA.
    IssuingCa {
        /// pathLenConstraint, if any.
        path_len: Option<u8>,
    },
    /// A person's or organisation's signing certificate: digitalSignature + nonRepudiation,
    /// EKU emailProtection + documentSigning.
    Signer,
    /// A TSA certificate: digitalSignature, critical EKU timeStamping only (RFC 3161 §2.3).
    TimeStamping,
    /// A delegated OCSP responder (RFC 6960 §4.2.2.2).
    OcspResponder,
    /// The key that seals a Signet audit log: digitalSignature, critical EKU Signet audit seal
    /// only.
    AuditSeal,
    /// The key that seals the evidence of simple signatures: digitalSignature +
    /// nonRepudiation, critical EKU Signet evidence seal only.
    EvidenceSeal,
}

/// The contents of a certificate to issue.
#[derive(Clone, Debug)]
pub struct Template {
    /// Subject name.
    pub subject: Name,
    /// Email for subjectAltName (signer certificates).
    pub email: Option<String>,
    /// SubjectPublicKeyInfo DER of the key being certified.
    pub public_key_der: Vec<u8>,
    /// Profile.
    pub profile: Profile,
    /// Start of validity.
    pub not_before: UnixTime,
    /// End of validity.
    pub not_after: UnixTime,
    /// CRL distribution point URL.
    pub crl_url: Option<String>,
    /// OCSP responder URL (AIA).
    pub ocsp_url: Option<String>,
    /// URL where the issuer's certificate can be fetched (AIA caIssuers).
    pub ca_issuers_url: Option<String>,
    /// Further extensions, appended as given.
    pub extra_extensions: Vec<Extension>,
    /// Serial number; random (128 bits) when absent.
    pub serial: Option<Vec<u8>>,
}

impl Template {
    /// A template with the given subject, key, profile and validity and nothing else.
    pub fn new(
        subject: Name,
        public_key_der: Vec<u8>,
        profile: Profile,
        not_before: UnixTime,
        not_after: UnixTime,
    ) -> Self {
        Template {
            subject,
            email: None,
            public_key_der,
            profile,
            not_before,
            not_after,
            crl_url: None,
            ocsp_url: None,
            ca_issuers_url: None,
            extra_extensions: Vec::new(),
            serial: None,
        }
    }
}

/// RFC 5280 TBSCertificate, as encoded (v3 only).
#[derive(Sequence)]
struct TbsCertificate {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// A random positive 128-bit serial number.
pub fn random_serial() -> Result<Vec<u8>, PkiError> {
    let mut s = [0u8; 16];
    signet_crypto::random_bytes(&mut s)?;
    s[0] = (s[0] & 0x7f) | 0x40;
    Ok(s.to_vec())
}

/// Key identifier: SHA-256 of the subjectPublicKey bits truncated to 160 bits (RFC 7093 §2 method 1).
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    let mut h = signet_crypto::digest::hash(HashAlgorithm::Sha256, spki.subject_public_key.raw_bytes());
    h.truncate(20);
    Ok(h)
}

/// Wraps an extension value.
pub fn extension<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn ext<T: Encode + const_oid::AssociatedOid>(critical: bool, value: &T) -> Result<Extension, PkiError> {
    extension(T::OID, critical, value)
}

fn uri(s: &str) -> Result<GeneralName, PkiError> {
    Ok(GeneralName::UniformResourceIdentifier(Ia5String::new(s).map_err(
        |_| PkiError::Invalid(format!("{s:?} is not an ASCII URL")),
    )?))
}

/// Issues a certificate. With `issuer = None` the certificate is self-signed by `signer`, whose
/// key must be the template's; otherwise `signer` must hold `issuer`'s key.
pub fn issue(t: &Template, issuer: Option<&Certificate>, signer: &dyn Signer) -> Result<Certificate, PkiError> {
    if t.not_after <= t.not_before {
        return Err(PkiError::Invalid("the certificate would end before it starts".into()));
    }
    let signer_key = signer.public_key_der()?;
    let (issuer_name, issuer_key) = match issuer {
        Some(ic) => {
            let ic_key = ic.spki_der()?;
            if ic_key != signer_key {
                return Err(PkiError::Invalid(
                    "the signing key does not belong to the issuer certificate".into(),
                ));
            }
            if !matches!(ic.basic_constraints()?, Some((true, _))) {
                return Err(PkiError::Invalid(format!(
                    "{} is not a CA certificate",
                    ic.display_name()
                )));
            }
            if t.not_after > ic.not_after() {
                return Err(PkiError::Invalid(format!(
                    "the certificate would outlive its issuer (which ends {})",
                    crate::time::format(ic.not_after())
                )));
            }
            (ic.subject().clone(), ic_key)
        }
        None => {
            if signer_key != t.public_key_der {
                return Err(PkiError::Invalid(
                    "a self-signed certificate must be signed by its own key".into(),
                ));
            }
            (t.subject.clone(), signer_key.clone())
        }
    };
    build_and_sign(t, issuer_name, &issuer_key, signer)
}

/// Encodes and signs a certificate from a template without any of [`issue`]'s checks (issuer
/// is a CA, validity nesting, key ownership). For tools and tests that need unusual
/// certificates; Signet's CA uses [`issue`].
pub fn build_and_sign(
    t: &Template,
    issuer_name: Name,
    issuer_key: &[u8],
    signer: &dyn Signer,
) -> Result<Certificate, PkiError> {
    let mut exts = Vec::new();
    let ski = key_identifier(&t.public_key_der)?;
    let aki = key_identifier(issuer_key)?;
    let ca_usage: FlagSet<KeyUsages> = KeyUsages::KeyCertSign | KeyUsages::CRLSign;
    match t.profile {
        Profile::RootCa { path_len } | Profile::IssuingCa { path_len } => {
            exts.push(ext(
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: path_len,
                },
            )?);
            exts.push(ext(true, &KeyUsage(ca_usage | KeyUsages::DigitalSignature))?);
        }
        Profile::Signer => {
            exts.push(ext(
                true,
                &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            )?);
            exts.push(ext(
                false,
                &ExtendedKeyUsage(vec![KP_EMAIL_PROTECTION, KP_DOCUMENT_SIGNING]),
            )?);
        }
        Profile::TimeStamping => {
            exts.push(ext(
                true,
                &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            )?);
            exts.push(ext(true, &ExtendedKeyUsage(vec![KP_TIME_STAMPING]))?);
        }
        Profile::AuditSeal => {
            exts.push(ext(true, &KeyUsage(KeyUsages::DigitalSignature.into()))?);
            exts.push(ext(true, &ExtendedKeyUsage(vec![crate::oids::KP_SIGNET_AUDIT_SEAL]))?);
        }
        Profile::EvidenceSeal => {
            exts.push(ext(
                true,
                &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            )?);
            exts.push(ext(
                true,
                &ExtendedKeyUsage(vec![crate::oids::KP_SIGNET_EVIDENCE_SEAL]),
            )?);
        }
        Profile::OcspResponder => {
            exts.push(ext(true, &KeyUsage(KeyUsages::DigitalSignature.into()))?);
            exts.push(ext(false, &ExtendedKeyUsage(vec![KP_OCSP_SIGNING]))?);
            // id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): NULL value.
            exts.push(extension(crate::oids::PKIX_OCSP_NOCHECK, false, &der::asn1::Null)?);
        }
    }
    exts.push(ext(false, &SubjectKeyIdentifier(OctetString::new(ski)?))?);
    exts.push(ext(
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(aki)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )?);
    if let Some(email) = &t.email {
        let e = Ia5String::new(email).map_err(|_| PkiError::Invalid(format!("{email:?} is not an ASCII email")))?;
        exts.push(ext(false, &SubjectAltName(vec![GeneralName::Rfc822Name(e)]))?);
    }
    if let Some(url) = &t.crl_url {
        exts.push(ext(
            false,
            &CrlDistributionPoints(vec![DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(url)?])),
                reasons: None,
                crl_issuer: None,
            }]),
        )?);
    }
    let mut aia = Vec::new();
    if let Some(url) = &t.ocsp_url {
        aia.push(AccessDescription {
            access_method: ID_AD_OCSP,
            access_location: uri(url)?,
        });
    }
    if let Some(url) = &t.ca_issuers_url {
        aia.push(AccessDescription {
            access_method: ID_AD_CA_ISSUERS,
            access_location: uri(url)?,
        });
    }
    if !aia.is_empty() {
        exts.push(ext(false, &AuthorityInfoAccessSyntax(aia))?);
    }
    exts.extend(t.extra_extensions.iter().cloned());

    let alg = signer.signature_algorithm().algorithm_identifier()?;
    let serial = match &t.serial {
        Some(s) => s.clone(),
        None => random_serial()?,
    };
    let tbs = TbsCertificate {
        version: 2,
        serial_number: SerialNumber::new(&serial)?,
        signature: alg.clone(),
        issuer: issuer_name,
        validity: Validity::new(to_x509(t.not_before)?, to_x509(t.not_after)?),
        subject: t.subject.clone(),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&t.public_key_der)?,
        extensions: Some(exts),
    };
    let tbs_der = tbs.to_der()?;
    let sig = signer.sign(&tbs_der)?;
    let der = raw::sequence(&[&tbs_der, &alg.to_der()?, &BitString::from_bytes(&sig)?.to_der()?]);
    Certificate::from_der(&der)
}

/// A verified certificate signing request.
#[derive(Debug, Clone)]
pub struct VerifiedCsr {
    /// Requested subject.
    pub subject: Name,
    /// The key to certify (SPKI DER).
    pub public_key_der: Vec<u8>,
}

/// Parses a PKCS#10 request (PEM or DER) and checks its proof of possession.
pub fn verify_csr(data: &[u8]) -> Result<VerifiedCsr, PkiError> {
    let der = if signet_crypto::pem::is_pem(data) {
        signet_crypto::pem::parse_blocks(data)?
            .into_iter()
            .find(|b| b.label == "CERTIFICATE REQUEST" || b.label == "NEW CERTIFICATE REQUEST")
            .ok_or_else(|| PkiError::malformed("CSR", "no CERTIFICATE REQUEST block"))?
            .der
    } else {
        data.to_vec()
    };
    let req = CertReq::from_der(&der).map_err(|e| PkiError::malformed("CSR", e))?;
    let info =
        raw::first_inner_element(&der).ok_or_else(|| PkiError::malformed("CSR", "no CertificationRequestInfo"))?;
    let alg = signet_crypto::SignatureAlgorithm::from_algorithm_identifier(&req.algorithm)?;
    let spki = req.info.public_key.to_der()?;
    signet_crypto::verify::verify_signature(
        &spki,
        alg,
        &der[info],
        req.signature.raw_bytes(),
        &signet_crypto::AlgorithmPolicy::STRICT,
    )
    .map_err(|e| {
        PkiError::Invalid(format!(
            "the CSR's signature does not verify ({e}); it was not made with the key it carries"
        ))
    })?;
    Ok(VerifiedCsr {
        subject: req.info.subject.clone(),
        public_key_der: spki,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::SubjectSpec;
    use signet_crypto::{KeyAlgorithm, PrivateKey, SoftwareSigner};

    fn name(cn: &str) -> Name {
        SubjectSpec {
            common_name: cn.into(),
            ..Default::default()
        }
        .to_name()
        .unwrap()
    }

    #[test]
    fn root_and_signer_certificates_have_the_profile_extensions() {
        let ca_key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
        let t = Template::new(
            name("Root"),
            ca_key.public_key_der().unwrap(),
            Profile::RootCa { path_len: Some(1) },
            0,
            4_000_000_000,
        );
        let root = issue(&t, None, &ca_key).unwrap();
        assert_eq!(root.basic_constraints().unwrap(), Some((true, Some(1))));
        assert!(root.key_usage().unwrap().unwrap().key_cert_sign());
        assert!(root.is_self_issued());

        let k = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let mut t = Template::new(
            name("Alice"),
            k.public_key_der().unwrap(),
            Profile::Signer,
            0,
            3_000_000_000,
        );
        t.email = Some("alice@example.com".into());
        let leaf = issue(&t, Some(&root), &ca_key).unwrap();
        assert_eq!(
            leaf.extended_key_usage().unwrap().unwrap(),
            vec![KP_EMAIL_PROTECTION, KP_DOCUMENT_SIGNING]
        );
        assert_eq!(leaf.authority_key_id().unwrap(), root.subject_key_id().unwrap());
        assert!(leaf.key_usage().unwrap().unwrap().non_repudiation());
    }

    #[test]
    fn refuses_to_sign_with_a_key_that_is_not_the_issuers() {
        let ca_key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
        let other = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
        let t = Template::new(
            name("Root"),
            ca_key.public_key_der().unwrap(),
            Profile::RootCa { path_len: None },
            0,
            4_000_000_000,
        );
        let root = issue(&t, None, &ca_key).unwrap();
        let t2 = Template::new(name("X"), other.public_key_der().unwrap(), Profile::Signer, 0, 1000);
        assert!(issue(&t2, Some(&root), &other).is_err());
    }
}
