//! Certificate revocation lists: building (for the internal CA) and reading.

use std::ops::Range;

use const_oid::AssociatedOid;
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString, Uint};
use der::{Decode, Encode};
use signet_crypto::Signer;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlDistributionPoints, CrlNumber};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use crate::issue::extension;
use crate::time::{UnixTime, from_x509, to_x509};
use crate::{Certificate, PkiError, raw};

/// Largest CRL accepted.
pub const MAX_CRL_LEN: usize = 64 * 1024 * 1024;

const ID_CE_CRL_REASONS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const ID_CE_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
const ID_CE_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const ID_CE_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const ID_CE_ISSUING_DISTRIBUTION_POINT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.28");

fn general_names_match(a: &GeneralName, b: &GeneralName) -> bool {
    match (a, b) {
        (GeneralName::DirectoryName(x), GeneralName::DirectoryName(y)) => crate::name::names_match(x, y),
        _ => a == b,
    }
}

/// A revocation to list in a CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial number of the revoked certificate.
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub revocation_time: UnixTime,
    /// Why (RFC 5280 CRLReason code), if stated.
    pub reason: Option<u8>,
}

/// What a CRL says about one serial number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// When.
    pub time: UnixTime,
    /// The reason code, if any.
    pub reason: Option<u8>,
}

/// Human name of a CRLReason code.
pub fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "key compromise",
        2 => "CA compromise",
        3 => "affiliation changed",
        4 => "superseded",
        5 => "cessation of operation",
        6 => "certificate hold",
        8 => "remove from CRL",
        9 => "privilege withdrawn",
        10 => "AA compromise",
        _ => "unknown reason",
    }
}

/// Parses a reason name as the CLI takes it.
pub fn reason_from_name(s: &str) -> Option<u8> {
    Some(match s {
        "unspecified" => 0,
        "key-compromise" | "keyCompromise" => 1,
        "ca-compromise" | "cACompromise" => 2,
        "affiliation-changed" | "affiliationChanged" => 3,
        "superseded" => 4,
        "cessation-of-operation" | "cessationOfOperation" => 5,
        "certificate-hold" | "certificateHold" => 6,
        "privilege-withdrawn" | "privilegeWithdrawn" => 9,
        _ => return None,
    })
}

/// A parsed CRL with its original bytes.
#[derive(Clone)]
pub struct Crl {
    der: Vec<u8>,
    inner: CertificateList,
    tbs: Range<usize>,
}

impl std::fmt::Debug for Crl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Crl({}, {} entries)",
            crate::name::display(self.issuer()),
            self.len()
        )
    }
}

impl Crl {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        if der.len() > MAX_CRL_LEN {
            return Err(PkiError::malformed("CRL", "larger than 64 MiB"));
        }
        let inner = CertificateList::from_der(der).map_err(|e| PkiError::malformed("CRL", e))?;
        let tbs = raw::first_inner_element(der).ok_or_else(|| PkiError::malformed("CRL", "no TBSCertList"))?;
        Ok(Crl {
            der: der.to_vec(),
            inner,
            tbs,
        })
    }

    /// Parses every CRL in a PEM text, or one DER CRL.
    pub fn parse_many(data: &[u8]) -> Result<Vec<Self>, PkiError> {
        if signet_crypto::pem::is_pem(data) {
            let v: Vec<_> = signet_crypto::pem::parse_blocks(data)?
                .into_iter()
                .filter(|b| b.label == "X509 CRL")
                .map(|b| Crl::from_der(&b.der))
                .collect::<Result<_, _>>()?;
            if v.is_empty() {
                return Err(PkiError::malformed("CRL file", "no X509 CRL block"));
            }
            Ok(v)
        } else {
            Ok(vec![Crl::from_der(data)?])
        }
    }

    /// DER as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
    /// PEM text.
    pub fn to_pem(&self) -> Result<String, PkiError> {
        Ok(signet_crypto::pem::encode("X509 CRL", &self.der)?)
    }
    /// The signed part as received.
    pub fn tbs_der(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }
    /// Parsed structure.
    pub fn inner(&self) -> &CertificateList {
        &self.inner
    }
    /// Issuer name.
    pub fn issuer(&self) -> &Name {
        &self.inner.tbs_cert_list.issuer
    }
    /// thisUpdate.
    pub fn this_update(&self) -> UnixTime {
        from_x509(&self.inner.tbs_cert_list.this_update)
    }
    /// nextUpdate.
    pub fn next_update(&self) -> Option<UnixTime> {
        self.inner.tbs_cert_list.next_update.as_ref().map(from_x509)
    }
    /// The signature algorithm (outer and inner must agree).
    pub fn signature_algorithm(&self) -> Result<signet_crypto::SignatureAlgorithm, signet_crypto::CryptoError> {
        if self.inner.signature_algorithm != self.inner.tbs_cert_list.signature {
            return Err(signet_crypto::CryptoError::UnsupportedAlgorithm(
                "CRL signatureAlgorithm differs from the signed one".into(),
            ));
        }
        signet_crypto::SignatureAlgorithm::from_algorithm_identifier(&self.inner.signature_algorithm)
    }
    /// Signature value.
    pub fn signature_value(&self) -> &[u8] {
        self.inner.signature.raw_bytes()
    }
    /// cRLNumber, if present.
    pub fn crl_number(&self) -> Option<Vec<u8>> {
        let exts = self.inner.tbs_cert_list.crl_extensions.as_ref()?;
        let e = exts.iter().find(|e| e.extn_id == CrlNumber::OID)?;
        CrlNumber::from_der(e.extn_value.as_bytes())
            .ok()
            .map(|n| n.0.as_bytes().to_vec())
    }
    /// The issuingDistributionPoint extension, if present and decodable.
    pub fn issuing_distribution_point(&self) -> Option<IssuingDistributionPoint> {
        let exts = self.inner.tbs_cert_list.crl_extensions.as_ref()?;
        let e = exts.iter().find(|e| e.extn_id == ID_CE_ISSUING_DISTRIBUTION_POINT)?;
        IssuingDistributionPoint::from_der(e.extn_value.as_bytes()).ok()
    }

    /// Whether this CRL's scope (RFC 5280 §5.2.5, §6.3.3 (b)) covers `cert`: `Ok(true)` covers,
    /// `Ok(false)` does not apply to it, `Err` a scope Signet does not process (only some
    /// reasons, indirect CRLs, attribute certificates, names relative to the CRL issuer).
    pub fn covers(&self, cert: &Certificate) -> Result<bool, String> {
        let Some(idp) = self.issuing_distribution_point() else {
            let present = self
                .inner
                .tbs_cert_list
                .crl_extensions
                .iter()
                .flatten()
                .any(|e| e.extn_id == ID_CE_ISSUING_DISTRIBUTION_POINT);
            return if present {
                Err("unreadable issuingDistributionPoint".into())
            } else {
                Ok(true)
            };
        };
        if idp.indirect_crl || idp.only_some_reasons.is_some() || idp.only_contains_attribute_certs {
            return Err("the CRL is indirect or covers only some reasons or attribute certificates, which Signet does not process".into());
        }
        let is_ca = matches!(cert.basic_constraints(), Ok(Some((true, _))));
        if (idp.only_contains_user_certs && is_ca) || (idp.only_contains_ca_certs && !is_ca) {
            return Ok(false);
        }
        match &idp.distribution_point {
            None => Ok(true),
            Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                Err("distribution point names relative to the CRL issuer are not processed".into())
            }
            Some(DistributionPointName::FullName(idp_names)) => {
                let Ok(Some((_, CrlDistributionPoints(dps)))) = cert.extension::<CrlDistributionPoints>() else {
                    return Ok(false);
                };
                let hit = dps.iter().any(|dp| match &dp.distribution_point {
                    Some(DistributionPointName::FullName(names)) => names
                        .iter()
                        .any(|n| idp_names.iter().any(|m| general_names_match(n, m))),
                    None => dp
                        .crl_issuer
                        .iter()
                        .flatten()
                        .any(|n| idp_names.iter().any(|m| general_names_match(n, m))),
                    _ => false,
                });
                Ok(hit)
            }
        }
    }

    /// Critical CRL extensions this code does not process (the CRL must then not be relied on).
    pub fn unsupported_critical_extensions(&self) -> Vec<ObjectIdentifier> {
        let known = [ID_CE_CRL_NUMBER, ID_CE_AKI, ID_CE_ISSUING_DISTRIBUTION_POINT];
        let mut out: Vec<_> = self
            .inner
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .filter(|e| e.critical && !known.contains(&e.extn_id))
            .map(|e| e.extn_id)
            .collect();
        for rc in self.inner.tbs_cert_list.revoked_certificates.iter().flatten() {
            for e in rc.crl_entry_extensions.iter().flatten() {
                if e.critical && ![ID_CE_CRL_REASONS, ID_CE_INVALIDITY_DATE].contains(&e.extn_id) {
                    out.push(e.extn_id);
                }
            }
        }
        out
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.inner
            .tbs_cert_list
            .revoked_certificates
            .as_ref()
            .map(|v| v.len())
            .unwrap_or(0)
    }
    /// Whether the CRL lists nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Looks a serial number up.
    pub fn lookup(&self, serial: &[u8]) -> Option<Revocation> {
        let rc = self
            .inner
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .find(|rc| rc.serial_number.as_bytes() == serial)?;
        let reason = rc
            .crl_entry_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == ID_CE_CRL_REASONS)
            .and_then(|e| CrlReason::from_der(e.extn_value.as_bytes()).ok())
            .map(|r| r as u8);
        Some(Revocation {
            time: from_x509(&rc.revocation_date),
            reason,
        })
    }
}

/// Builds and signs a CRL (v2, with cRLNumber and authorityKeyIdentifier).
pub fn build(
    issuer: &Certificate,
    signer: &dyn Signer,
    entries: &[RevokedEntry],
    this_update: UnixTime,
    next_update: UnixTime,
    crl_number: u64,
) -> Result<Crl, PkiError> {
    build_with_extensions(
        issuer,
        signer,
        entries,
        this_update,
        next_update,
        crl_number,
        Vec::new(),
    )
}

/// As [`build`], with further CRL extensions (e.g. issuingDistributionPoint for partitioned CRLs).
pub fn build_with_extensions(
    issuer: &Certificate,
    signer: &dyn Signer,
    entries: &[RevokedEntry],
    this_update: UnixTime,
    next_update: UnixTime,
    crl_number: u64,
    extra: Vec<x509_cert::ext::Extension>,
) -> Result<Crl, PkiError> {
    if signer.public_key_der()? != issuer.spki_der()? {
        return Err(PkiError::Invalid(
            "the signing key does not belong to the CRL issuer".into(),
        ));
    }
    if next_update <= this_update {
        return Err(PkiError::Invalid("nextUpdate must be after thisUpdate".into()));
    }
    let alg = signer.signature_algorithm().algorithm_identifier()?;
    let mut revoked: Vec<RevokedCert> = Vec::new();
    for e in entries {
        let mut exts = Vec::new();
        if let Some(r) = e.reason {
            let reason = reason_enum(r)?;
            exts.push(extension(ID_CE_CRL_REASONS, false, &reason)?);
        }
        revoked.push(RevokedCert {
            serial_number: SerialNumber::new(&e.serial)?,
            revocation_date: to_x509(e.revocation_time)?,
            crl_entry_extensions: if exts.is_empty() { None } else { Some(exts) },
        });
    }
    let mut crl_exts = vec![extension(
        ID_CE_CRL_NUMBER,
        false,
        &CrlNumber(Uint::new(&crl_number.to_be_bytes())?),
    )?];
    if let Some(ski) = issuer.subject_key_id()? {
        crl_exts.push(extension(
            ID_CE_AKI,
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(ski)?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?);
    }
    crl_exts.extend(extra);
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: alg.clone(),
        issuer: issuer.subject().clone(),
        this_update: to_x509(this_update)?,
        next_update: Some(to_x509(next_update)?),
        revoked_certificates: if revoked.is_empty() { None } else { Some(revoked) },
        crl_extensions: Some(crl_exts),
    };
    let tbs_der = tbs.to_der()?;
    let sig = signer.sign(&tbs_der)?;
    let der = raw::sequence(&[&tbs_der, &alg.to_der()?, &BitString::from_bytes(&sig)?.to_der()?]);
    Crl::from_der(&der)
}

fn reason_enum(code: u8) -> Result<CrlReason, PkiError> {
    Ok(match code {
        0 => CrlReason::Unspecified,
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        6 => CrlReason::CertificateHold,
        8 => CrlReason::RemoveFromCRL,
        9 => CrlReason::PrivilegeWithdrawn,
        10 => CrlReason::AaCompromise,
        _ => return Err(PkiError::Invalid(format!("unknown CRL reason code {code}"))),
    })
}
