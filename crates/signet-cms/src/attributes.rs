//! CMS and CAdES attribute identifiers and the ESS / RFC 6211 structures.

use const_oid::ObjectIdentifier;
use der::Sequence;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// id-data.
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData.
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-contentType.
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest.
pub const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime.
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-signingCertificate (ESS v1, SHA-1).
pub const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-aa-signingCertificateV2 (RFC 5035).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-aa-CMSAlgorithmProtection (RFC 6211).
pub const ID_AA_CMS_ALGORITHM_PROTECTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.52");
/// id-aa-signatureTimeStampToken (RFC 3161 appendix A).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// adbe-revocationInfoArchival (Adobe's signed attribute carrying CRLs and OCSP responses).
pub const ADBE_REVOCATION_INFO_ARCHIVAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");

/// IssuerSerial (RFC 5035).
#[derive(Clone, Debug, Sequence, PartialEq, Eq)]
pub struct IssuerSerial {
    /// The issuer as GeneralNames (a directoryName).
    pub issuer: Vec<GeneralName>,
    /// Serial number.
    pub serial_number: SerialNumber,
}

/// ESSCertIDv2 (RFC 5035 §4); hashAlgorithm defaults to SHA-256.
#[derive(Clone, Debug, Sequence)]
pub struct EssCertIdV2 {
    /// Hash algorithm (absent = SHA-256).
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// Hash of the whole certificate DER.
    pub cert_hash: OctetString,
    /// Issuer and serial of the certificate.
    pub issuer_serial: Option<IssuerSerial>,
}

/// SigningCertificateV2 (RFC 5035 §3).
#[derive(Clone, Debug, Sequence)]
pub struct SigningCertificateV2 {
    /// The signer's certificate first.
    pub certs: Vec<EssCertIdV2>,
    /// Policies (not used by Signet).
    pub policies: Option<der::Any>,
}

/// ESSCertID (RFC 2634, SHA-1).
#[derive(Clone, Debug, Sequence)]
pub struct EssCertId {
    /// SHA-1 of the certificate DER.
    pub cert_hash: OctetString,
    /// Issuer and serial.
    pub issuer_serial: Option<IssuerSerial>,
}

/// SigningCertificate (RFC 2634 §5.4).
#[derive(Clone, Debug, Sequence)]
pub struct SigningCertificate {
    /// The signer's certificate first.
    pub certs: Vec<EssCertId>,
    /// Policies (not used).
    pub policies: Option<der::Any>,
}

/// CMSAlgorithmProtection (RFC 6211 §2).
#[derive(Clone, Debug, Sequence)]
pub struct CmsAlgorithmProtection {
    /// Must equal SignerInfo.digestAlgorithm.
    pub digest_algorithm: AlgorithmIdentifierOwned,
    /// Must equal SignerInfo.signatureAlgorithm.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub signature_algorithm: Option<AlgorithmIdentifierOwned>,
    /// For MACs (not used).
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    pub mac_algorithm: Option<AlgorithmIdentifierOwned>,
}
