//! Certificate revocation lists: building (for the internal CA) and reading.

use std::ops::Range;

use const_oid::AssociatedOid;
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString, Uint};
use der::{Decode, Encode};
use signet_crypto::Signer;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::crl::dp::{DistributionPoint, IssuingDistributionPoint};
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
const ID_CE_DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ID_CE_CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");
const ID_CE_FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");

/// Every revocation reason a CRL can cover (ReasonFlags bits 1–8).
pub const ALL_REASONS: u16 = 0x1fe;

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

    /// Whether this CRL's scope (RFC 5280 §5.2.5, §6.3.3 (b)) covers `cert`: `Ok(true)` covers
    /// (for some reasons at least, see [`Crl::scope_for`]), `Ok(false)` does not apply to it,
    /// `Err` an unreadable scope.
    pub fn covers(&self, cert: &Certificate) -> Result<bool, String> {
        self.scope_for(cert).map(|r| r.is_some())
    }

    /// RFC 5280 §6.3.3 (b) and (d): whether this complete or delta CRL is one for `cert` — its
    /// issuer is the certificate's issuer, or the cRLIssuer a distribution point of the
    /// certificate names and the CRL is indirect; its issuingDistributionPoint, if any, shares
    /// a name with one of the certificate's distribution points (names relative to the CRL
    /// issuer expanded) and admits the kind of certificate — and if so, the reasons it covers
    /// (ReasonFlags bits; [`ALL_REASONS`] without onlySomeReasons). `Ok(None)`: not for
    /// `cert`.
    pub fn scope_for(&self, cert: &Certificate) -> Result<Option<u16>, String> {
        let idp = match self.idp_raw() {
            None => None,
            Some(raw) => Some(
                IssuingDistributionPoint::from_der(raw)
                    .map_err(|_| "unreadable issuingDistributionPoint".to_string())?,
            ),
        };
        let dps: Vec<DistributionPoint> = match cert.extension::<CrlDistributionPoints>() {
            Ok(Some((_, CrlDistributionPoints(dps)))) => dps,
            Ok(None) => Vec::new(),
            Err(_) => return Err("unreadable cRLDistributionPoints in the certificate".into()),
        };
        // (b)(1) the issuer.
        let dp_crl_issuers: Vec<&GeneralName> = dps.iter().flat_map(|d| d.crl_issuer.iter().flatten()).collect();
        let indirect = idp.as_ref().is_some_and(|i| i.indirect_crl);
        if dp_crl_issuers.is_empty() {
            if !crate::name::names_match(self.issuer(), cert.issuer()) {
                return Ok(None);
            }
        } else {
            let named = dp_crl_issuers
                .iter()
                .any(|n| matches!(n, GeneralName::DirectoryName(d) if crate::name::names_match(d, self.issuer())));
            if !(named && indirect) {
                return Ok(None);
            }
        }
        let Some(idp) = idp else {
            return Ok(Some(ALL_REASONS));
        };
        // (b)(2)(i) distribution point names.
        if let Some(idp_name) = &idp.distribution_point {
            let idp_names = expand(idp_name, self.issuer());
            let matched = if dps.is_empty() {
                idp_names
                    .iter()
                    .any(|m| matches!(m, GeneralName::DirectoryName(d) if crate::name::names_match(d, self.issuer())))
            } else {
                let mut has_dp_name = false;
                let mut hit = false;
                for dp in &dps {
                    let base = dp
                        .crl_issuer
                        .iter()
                        .flatten()
                        .find_map(|n| match n {
                            GeneralName::DirectoryName(d) => Some(d),
                            _ => None,
                        })
                        .unwrap_or(cert.issuer());
                    let names: Vec<GeneralName> = match &dp.distribution_point {
                        Some(n) => expand(n, base),
                        None => dp.crl_issuer.iter().flatten().cloned().collect(),
                    };
                    has_dp_name |= !names.is_empty();
                    hit |= names
                        .iter()
                        .any(|n| idp_names.iter().any(|m| general_names_match(n, m)));
                }
                hit || !has_dp_name
            };
            if !matched {
                return Ok(None);
            }
        }
        // (b)(2)(ii)–(iv) the kind of certificate.
        let is_ca = matches!(cert.basic_constraints(), Ok(Some((true, _))));
        if (idp.only_contains_user_certs && is_ca)
            || (idp.only_contains_ca_certs && !is_ca)
            || idp.only_contains_attribute_certs
        {
            return Ok(None);
        }
        // (d) the reasons.
        Ok(Some(match idp.only_some_reasons {
            Some(r) => r.bits() & ALL_REASONS,
            None => ALL_REASONS,
        }))
    }

    fn idp_raw(&self) -> Option<&[u8]> {
        self.extension_raw(ID_CE_ISSUING_DISTRIBUTION_POINT)
    }

    fn extension_raw(&self, oid: ObjectIdentifier) -> Option<&[u8]> {
        self.inner
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    }

    /// For a delta CRL (RFC 5280 §5.2.4), the BaseCRLNumber; `None` for a complete CRL.
    pub fn delta_base(&self) -> Option<Vec<u8>> {
        let raw = self.extension_raw(ID_CE_DELTA_CRL_INDICATOR)?;
        Some(
            Uint::from_der(raw)
                .map(|n| n.as_bytes().to_vec())
                .unwrap_or_else(|_| vec![0xff; 32]),
        )
    }

    /// Whether `delta` is a delta CRL for this complete CRL (§6.3.3 (c), §5.2.4): same issuer,
    /// same issuingDistributionPoint, same authority key identifier, a BaseCRLNumber not above
    /// this CRL's number, and newer than this CRL (a higher CRL number, a thisUpdate not
    /// before it) — an old delta must never speak over a newer complete CRL.
    pub fn matches_delta(&self, delta: &Crl) -> bool {
        let Some(base) = delta.delta_base() else { return false };
        if !crate::name::names_match(self.issuer(), delta.issuer())
            || self.idp_raw() != delta.idp_raw()
            || self.extension_raw(ID_CE_AKI) != delta.extension_raw(ID_CE_AKI)
            || delta.this_update() < self.this_update()
        {
            return false;
        }
        match (self.crl_number(), delta.crl_number()) {
            (Some(n), Some(d)) => {
                compare_uint(&base, &n) != std::cmp::Ordering::Greater
                    && compare_uint(&d, &n) == std::cmp::Ordering::Greater
            }
            // RFC 5280 requires cRLNumber in both; without it the order cannot be proven.
            _ => false,
        }
    }

    /// Orders two delta CRLs by their CRL number (newest greatest).
    pub fn compare_number(&self, other: &Crl) -> std::cmp::Ordering {
        compare_uint(
            &self.crl_number().unwrap_or_default(),
            &other.crl_number().unwrap_or_default(),
        )
    }

    /// Critical CRL extensions this code does not process (the CRL must then not be relied on).
    pub fn unsupported_critical_extensions(&self) -> Vec<ObjectIdentifier> {
        let known = [
            ID_CE_CRL_NUMBER,
            ID_CE_AKI,
            ID_CE_ISSUING_DISTRIBUTION_POINT,
            ID_CE_DELTA_CRL_INDICATOR,
            ID_CE_FRESHEST_CRL,
        ];
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
                if e.critical
                    && ![ID_CE_CRL_REASONS, ID_CE_INVALIDITY_DATE, ID_CE_CERTIFICATE_ISSUER].contains(&e.extn_id)
                {
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
    /// Looks a serial number up (entries of the CRL's own issuer's certificates).
    pub fn lookup(&self, serial: &[u8]) -> Option<Revocation> {
        self.lookup_issued_by(serial, self.issuer()).ok().flatten()
    }

    /// Looks up the certificate `serial` issued by `cert_issuer`: in an indirect CRL an entry's
    /// certificate issuer is the one its certificateIssuer extension names, or the previous
    /// entry's, or at first the CRL issuer (RFC 5280 §5.3.3). An unreadable certificateIssuer
    /// makes the whole list unusable (`Err`): the entries after it could be anyone's.
    pub fn lookup_issued_by(&self, serial: &[u8], cert_issuer: &Name) -> Result<Option<Revocation>, String> {
        let mut current: Vec<GeneralName> = vec![GeneralName::DirectoryName(self.issuer().clone())];
        for rc in self.inner.tbs_cert_list.revoked_certificates.iter().flatten() {
            if let Some(e) = rc
                .crl_entry_extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == ID_CE_CERTIFICATE_ISSUER)
            {
                current = x509_cert::ext::pkix::name::GeneralNames::from_der(e.extn_value.as_bytes())
                    .map_err(|_| "the CRL has an unreadable certificateIssuer entry extension".to_string())?;
            }
            if rc.serial_number.as_bytes() != serial {
                continue;
            }
            let issued_by = current
                .iter()
                .any(|n| matches!(n, GeneralName::DirectoryName(d) if crate::name::names_match(d, cert_issuer)));
            if !issued_by {
                continue;
            }
            let reason = rc
                .crl_entry_extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == ID_CE_CRL_REASONS)
                .and_then(|e| CrlReason::from_der(e.extn_value.as_bytes()).ok())
                .map(|r| r as u8);
            return Ok(Some(Revocation {
                time: from_x509(&rc.revocation_date),
                reason,
            }));
        }
        Ok(None)
    }
}

/// A distribution point name as general names: a full name as it is, a name relative to the
/// CRL issuer appended to `base` (RFC 5280 §4.2.1.13).
fn expand(n: &DistributionPointName, base: &Name) -> Vec<GeneralName> {
    match n {
        DistributionPointName::FullName(names) => names.clone(),
        DistributionPointName::NameRelativeToCRLIssuer(rdn) => {
            // The base name's RDNs, then this one: SEQUENCE OF RelativeDistinguishedName.
            let (Ok(base_der), Ok(rdn_der)) = (base.to_der(), rdn.to_der()) else {
                return Vec::new();
            };
            let mut rdns: Vec<u8> = raw::children(&base_der)
                .into_iter()
                .flat_map(|r| base_der[r].to_vec())
                .collect();
            rdns.extend_from_slice(&rdn_der);
            Name::from_der(&raw::tlv(0x30, &rdns))
                .map(|n| vec![GeneralName::DirectoryName(n)])
                .unwrap_or_default()
        }
    }
}

/// Compares two unsigned big-endian integers (leading zeros ignored).
fn compare_uint(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let strip = |x: &[u8]| -> Vec<u8> { x.iter().skip_while(|b| **b == 0).copied().collect() };
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
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
