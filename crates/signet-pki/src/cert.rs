//! A parsed certificate that keeps the bytes it was parsed from.

use std::ops::Range;

use const_oid::AssociatedOid;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use signet_crypto::{HashAlgorithm, SignatureAlgorithm};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use crate::time::UnixTime;
use crate::{PkiError, name, raw};

/// Largest certificate accepted.
pub const MAX_CERT_LEN: usize = 256 * 1024;

/// An X.509 certificate plus its original DER.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    inner: x509_cert::Certificate,
    tbs: Range<usize>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Certificate({}, serial {})",
            name::display(self.subject()),
            self.serial_hex()
        )
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

impl Certificate {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        if der.len() > MAX_CERT_LEN {
            return Err(PkiError::malformed("certificate", "larger than 256 KiB"));
        }
        let inner = x509_cert::Certificate::from_der(der).map_err(|e| PkiError::malformed("certificate", e))?;
        let tbs =
            raw::first_inner_element(der).ok_or_else(|| PkiError::malformed("certificate", "no TBSCertificate"))?;
        Ok(Certificate {
            der: der.to_vec(),
            inner,
            tbs,
        })
    }

    /// Parses every certificate in a PEM text or one DER certificate.
    pub fn parse_many(data: &[u8]) -> Result<Vec<Self>, PkiError> {
        if signet_crypto::pem::is_pem(data) {
            let blocks = signet_crypto::pem::parse_blocks(data)?;
            let certs: Vec<_> = blocks
                .into_iter()
                .filter(|b| b.label == "CERTIFICATE" || b.label == "TRUSTED CERTIFICATE")
                .map(|b| Certificate::from_der(&b.der))
                .collect::<Result<_, _>>()?;
            if certs.is_empty() {
                return Err(PkiError::malformed("certificate file", "no CERTIFICATE block"));
            }
            Ok(certs)
        } else {
            Ok(vec![Certificate::from_der(data)?])
        }
    }

    /// The certificate as PEM text.
    pub fn to_pem(&self) -> Result<String, PkiError> {
        Ok(signet_crypto::pem::encode("CERTIFICATE", &self.der)?)
    }

    /// The DER bytes as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
    /// The parsed structure.
    pub fn inner(&self) -> &x509_cert::Certificate {
        &self.inner
    }
    /// The TBSCertificate bytes exactly as received (what the issuer signed).
    pub fn tbs_der(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }
    /// Subject name.
    pub fn subject(&self) -> &Name {
        self.inner.tbs_certificate().subject()
    }
    /// Issuer name.
    pub fn issuer(&self) -> &Name {
        self.inner.tbs_certificate().issuer()
    }
    /// Serial number bytes (big-endian, as encoded).
    pub fn serial(&self) -> &[u8] {
        self.inner.tbs_certificate().serial_number().as_bytes()
    }
    /// Serial number as lower-case hex.
    pub fn serial_hex(&self) -> String {
        hex::encode(self.serial())
    }
    /// notBefore.
    pub fn not_before(&self) -> UnixTime {
        crate::time::from_x509(&self.inner.tbs_certificate().validity().not_before)
    }
    /// notAfter.
    pub fn not_after(&self) -> UnixTime {
        crate::time::from_x509(&self.inner.tbs_certificate().validity().not_after)
    }
    /// X.509 version number (1, 2 or 3).
    pub fn version(&self) -> u8 {
        self.inner.tbs_certificate().version() as u8 + 1
    }
    /// SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Result<Vec<u8>, PkiError> {
        Ok(self.inner.tbs_certificate().subject_public_key_info().to_der()?)
    }
    /// The raw subjectPublicKey bits.
    pub fn public_key_bits(&self) -> &[u8] {
        self.inner
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
    }
    /// Describes the key ("RSA-2048").
    pub fn key_description(&self) -> String {
        self.spki_der()
            .map(|d| signet_crypto::verify::describe_public_key(&d))
            .unwrap_or_else(|_| "unparseable key".into())
    }
    /// The algorithm the issuer signed with.
    pub fn signature_algorithm(&self) -> Result<SignatureAlgorithm, signet_crypto::CryptoError> {
        let outer = self.inner.signature_algorithm();
        let inner = self.inner.tbs_certificate().signature();
        if outer != inner {
            return Err(signet_crypto::CryptoError::UnsupportedAlgorithm(
                "signatureAlgorithm differs from tbsCertificate.signature".into(),
            ));
        }
        SignatureAlgorithm::from_algorithm_identifier(outer)
    }
    /// The signature value.
    pub fn signature_value(&self) -> &[u8] {
        self.inner.signature().raw_bytes()
    }
    /// All extensions.
    pub fn extensions(&self) -> &[Extension] {
        self.inner
            .tbs_certificate()
            .extensions()
            .map(|e| e.as_slice())
            .unwrap_or(&[])
    }
    /// Decodes the extension of type `T` if present: `(critical, value)`. Duplicates are an error.
    pub fn extension<T: for<'a> Decode<'a> + AssociatedOid>(&self) -> Result<Option<(bool, T)>, PkiError> {
        let mut found = None;
        for ext in self.extensions() {
            if ext.extn_id == T::OID {
                if found.is_some() {
                    return Err(PkiError::malformed(
                        "certificate",
                        format!("extension {} appears twice", T::OID),
                    ));
                }
                let v = T::from_der(ext.extn_value.as_bytes())
                    .map_err(|_| PkiError::malformed("certificate", format!("extension {} does not decode", T::OID)))?;
                found = Some((ext.critical, v));
            }
        }
        Ok(found)
    }
    /// basicConstraints: `(cA, pathLenConstraint)`.
    pub fn basic_constraints(&self) -> Result<Option<(bool, Option<u8>)>, PkiError> {
        Ok(self
            .extension::<BasicConstraints>()?
            .map(|(_, bc)| (bc.ca, bc.path_len_constraint)))
    }
    /// keyUsage.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>, PkiError> {
        Ok(self.extension::<KeyUsage>()?.map(|(_, k)| k))
    }
    /// extKeyUsage purposes.
    pub fn extended_key_usage(&self) -> Result<Option<Vec<ObjectIdentifier>>, PkiError> {
        Ok(self.extension::<ExtendedKeyUsage>()?.map(|(_, e)| e.0))
    }
    /// Whether this is a TSA certificate: extKeyUsage critical and timeStamping only
    /// (RFC 3161 §2.3).
    pub fn is_time_stamping(&self) -> bool {
        matches!(self.extended_key_usage(), Ok(Some(e)) if e == [crate::oids::KP_TIME_STAMPING])
            && self.extended_key_usage_critical()
    }

    /// Whether this is a Signet audit-seal certificate: extKeyUsage Signet audit seal only.
    pub fn is_audit_seal(&self) -> bool {
        matches!(self.extended_key_usage(), Ok(Some(e)) if e == [crate::oids::KP_SIGNET_AUDIT_SEAL])
    }

    /// Whether this is a Signet evidence-seal certificate: extKeyUsage critical and Signet
    /// evidence seal only.
    pub fn is_evidence_seal(&self) -> bool {
        matches!(self.extended_key_usage(), Ok(Some(e)) if e == [crate::oids::KP_SIGNET_EVIDENCE_SEAL])
            && self.extended_key_usage_critical()
    }

    /// Whether the extended key usage extension is critical.
    pub fn extended_key_usage_critical(&self) -> bool {
        self.extensions()
            .iter()
            .any(|e| e.extn_id == ExtendedKeyUsage::OID && e.critical)
    }
    /// subjectKeyIdentifier.
    pub fn subject_key_id(&self) -> Result<Option<Vec<u8>>, PkiError> {
        Ok(self
            .extension::<SubjectKeyIdentifier>()?
            .map(|(_, s)| s.0.as_bytes().to_vec()))
    }
    /// authorityKeyIdentifier's keyIdentifier.
    pub fn authority_key_id(&self) -> Result<Option<Vec<u8>>, PkiError> {
        Ok(self
            .extension::<AuthorityKeyIdentifier>()?
            .and_then(|(_, a)| a.key_identifier.map(|k| k.as_bytes().to_vec())))
    }
    /// subjectAltName entries.
    pub fn subject_alt_names(&self) -> Result<Vec<GeneralName>, PkiError> {
        Ok(self
            .extension::<SubjectAltName>()?
            .map(|(_, s)| s.0)
            .unwrap_or_default())
    }
    /// URLs of the CRL distribution points.
    pub fn crl_urls(&self) -> Result<Vec<String>, PkiError> {
        let mut out = Vec::new();
        if let Some((_, CrlDistributionPoints(dps))) = self.extension::<CrlDistributionPoints>()? {
            for DistributionPoint { distribution_point, .. } in dps {
                if let Some(DistributionPointName::FullName(names)) = distribution_point {
                    for n in names {
                        if let GeneralName::UniformResourceIdentifier(u) = n {
                            out.push(u.to_string());
                        }
                    }
                }
            }
        }
        Ok(out)
    }
    /// Whether `issuer` issued this certificate: its subject is this certificate's issuer name
    /// and its key verifies this certificate's signature under `policy`.
    pub fn is_issued_by(&self, issuer: &Certificate, policy: &signet_crypto::AlgorithmPolicy) -> bool {
        crate::name::names_match(issuer.subject(), self.issuer())
            && issuer.spki_der().is_ok_and(|k| {
                self.signature_algorithm().is_ok_and(|alg| {
                    signet_crypto::verify::verify_signature(&k, alg, self.tbs_der(), self.signature_value(), policy)
                        .is_ok()
                })
            })
    }

    /// Whether the certificate carries id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): an OCSP
    /// responder certificate whose own revocation status need not be checked.
    pub fn has_ocsp_nocheck(&self) -> bool {
        self.extensions()
            .iter()
            .any(|e| e.extn_id == crate::oids::PKIX_OCSP_NOCHECK)
    }
    /// OCSP responder URLs from the Authority Information Access extension.
    pub fn ocsp_urls(&self) -> Result<Vec<String>, PkiError> {
        let mut out = Vec::new();
        if let Some((_, x509_cert::ext::pkix::AuthorityInfoAccessSyntax(aia))) =
            self.extension::<x509_cert::ext::pkix::AuthorityInfoAccessSyntax>()?
        {
            for ad in aia {
                if ad.access_method == const_oid::db::rfc5280::ID_AD_OCSP
                    && let GeneralName::UniformResourceIdentifier(u) = ad.access_location
                {
                    out.push(u.to_string());
                }
            }
        }
        Ok(out)
    }
    /// Whether issuer and subject are the same name (RFC 5280 "self-issued").
    pub fn is_self_issued(&self) -> bool {
        name::names_match(self.subject(), self.issuer())
    }
    /// The subject's common name (or whole DN).
    pub fn display_name(&self) -> String {
        name::display_name(self.subject())
    }
    /// SHA-256 fingerprint, lower-case hex.
    pub fn fingerprint(&self) -> String {
        hex::encode(signet_crypto::digest::hash(HashAlgorithm::Sha256, &self.der))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for input in [&b""[..], b"\x30", b"\x30\x82\xff\xff", b"hello world"] {
            assert!(Certificate::from_der(input).is_err());
        }
    }
}
