//! OCSP (RFC 6960): the request as clients send it, and a responder that answers for one CA,
//! signing with the CA's own key (no delegated responder certificate needed).
//!
//! The responder is pure: it takes the request bytes, the CA certificate, a signer for the CA key
//! and a lookup from serial number to status; the server does the I/O.

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, Int, OctetString};
use der::{Decode, Encode, Sequence};
use signet_crypto::{HashAlgorithm, Signer};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extensions;

use crate::time::UnixTime;
use crate::{Certificate, PkiError, raw};

/// id-pkix-ocsp-basic.
pub const ID_PKIX_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-pkix-ocsp-nonce.
pub const ID_PKIX_OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// CertID: which certificate is asked about.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertId {
    /// Hash of the issuer name and key.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// Hash of the issuer's DER name.
    pub issuer_name_hash: OctetString,
    /// Hash of the issuer's public key bits.
    pub issuer_key_hash: OctetString,
    /// The certificate's serial number.
    pub serial_number: Int,
}

/// One Request.
#[derive(Clone, Debug, Sequence)]
pub struct Request {
    /// The certificate.
    pub req_cert: CertId,
    /// Extensions.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub single_request_extensions: Option<Extensions>,
}

/// TBSRequest.
#[derive(Clone, Debug, Sequence)]
pub struct TbsRequest {
    /// Version (v1 = 0).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub version: Option<u8>,
    /// Requestor name.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub requestor_name: Option<der::Any>,
    /// The certificates asked about.
    pub request_list: Vec<Request>,
    /// Extensions (the nonce).
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub request_extensions: Option<Extensions>,
}

/// OCSPRequest.
#[derive(Clone, Debug, Sequence)]
pub struct OcspRequest {
    /// The request.
    pub tbs_request: TbsRequest,
    /// A signature (ignored: this responder answers anyone).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub optional_signature: Option<der::Any>,
}

/// What the responder knows about a serial number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertStatus {
    /// Issued by this CA and not revoked.
    Good,
    /// Revoked at this time, with an optional CRLReason code.
    Revoked {
        /// When.
        time: UnixTime,
        /// RFC 5280 reason code.
        reason: Option<u8>,
    },
    /// Not issued by this CA (as far as it knows).
    Unknown,
}

/// Builds a request for `cert` issued by `issuer` (SHA-1 CertID, as OpenSSL sends), with a nonce.
pub fn request(cert: &Certificate, issuer: &Certificate, nonce: &[u8]) -> Result<Vec<u8>, PkiError> {
    let id = cert_id(issuer, cert.serial(), HashAlgorithm::Sha1)?;
    let nonce_ext = x509_cert::ext::Extension {
        extn_id: ID_PKIX_OCSP_NONCE,
        critical: false,
        extn_value: OctetString::new(OctetString::new(nonce)?.to_der()?)?,
    };
    let req = OcspRequest {
        tbs_request: TbsRequest {
            version: None,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: id,
                single_request_extensions: None,
            }],
            request_extensions: Some(vec![nonce_ext]),
        },
        optional_signature: None,
    };
    Ok(req.to_der()?)
}

/// The CertID of serial `serial` under `issuer` with hash `alg`.
pub fn cert_id(issuer: &Certificate, serial: &[u8], alg: HashAlgorithm) -> Result<CertId, PkiError> {
    let oid = match alg {
        HashAlgorithm::Sha1 => SHA1,
        HashAlgorithm::Sha256 => SHA256,
        other => {
            return Err(PkiError::Invalid(format!(
                "{other:?} is not used for OCSP CertIDs here"
            )));
        }
    };
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid,
            parameters: Some(der::Any::null()),
        },
        issuer_name_hash: OctetString::new(signet_crypto::digest::hash(alg, &issuer.subject().to_der()?))?,
        issuer_key_hash: OctetString::new(signet_crypto::digest::hash(alg, issuer.public_key_bits()))?,
        serial_number: Int::new(serial)?,
    })
}

/// An unsuccessful OCSPResponse: 1 malformedRequest, 2 internalError, 3 tryLater,
/// 6 unauthorized.
pub fn error_response(status: u8) -> Vec<u8> {
    vec![0x30, 0x03, 0x0a, 0x01, status]
}

fn explicit(tag: u8, inner: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa0 | tag];
    raw::push_length(&mut out, inner.len());
    out.extend_from_slice(inner);
    out
}

fn tlv(tag: u8, inner: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    raw::push_length(&mut out, inner.len());
    out.extend_from_slice(inner);
    out
}

/// Answers an OCSP request for certificates issued by `ca`. Requests about another issuer get
/// `unauthorized`; a malformed request gets `malformedRequest`. The nonce is echoed.
/// `next_update_secs` sets how long a "good" answer may be cached.
pub fn respond(
    request_der: &[u8],
    ca: &Certificate,
    signer: &dyn Signer,
    lookup: &dyn Fn(&[u8]) -> CertStatus,
    now: UnixTime,
    next_update_secs: i64,
) -> Result<Vec<u8>, PkiError> {
    let Ok(req) = OcspRequest::from_der(request_der) else {
        return Ok(error_response(1));
    };
    if req.tbs_request.request_list.is_empty() || req.tbs_request.request_list.len() > 100 {
        return Ok(error_response(1));
    }
    let name_der = ca.subject().to_der()?;
    let mut singles = Vec::new();
    for r in &req.tbs_request.request_list {
        let id = &r.req_cert;
        let alg = match id.hash_algorithm.oid {
            SHA1 => HashAlgorithm::Sha1,
            SHA256 => HashAlgorithm::Sha256,
            _ => return Ok(error_response(1)),
        };
        let ours = id.issuer_name_hash.as_bytes() == signet_crypto::digest::hash(alg, &name_der).as_slice()
            && id.issuer_key_hash.as_bytes() == signet_crypto::digest::hash(alg, ca.public_key_bits()).as_slice();
        if !ours {
            return Ok(error_response(6));
        }
        let status = lookup(id.serial_number.as_bytes());
        let status_der = match status {
            CertStatus::Good => vec![0x80, 0x00],
            CertStatus::Unknown => vec![0x82, 0x00],
            CertStatus::Revoked { time, reason } => {
                let mut inner = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                    u64::try_from(time).unwrap_or(0),
                ))?
                .to_der()?;
                if let Some(code) = reason {
                    inner.extend(explicit(0, &[0x0a, 0x01, code]));
                }
                tlv(0xa1, &inner)
            }
        };
        let mut single = id.to_der()?;
        single.extend(status_der);
        single.extend(gtime(now)?);
        if status != CertStatus::Unknown {
            single.extend(explicit(0, &gtime(now + next_update_secs)?));
        }
        singles.push(raw::sequence(&[&single]));
    }
    let key_hash =
        OctetString::new(signet_crypto::digest::hash(HashAlgorithm::Sha1, ca.public_key_bits()))?.to_der()?;
    let mut tbs = explicit(2, &key_hash); // responderID byKey
    tbs.extend(gtime(now)?);
    let refs: Vec<&[u8]> = singles.iter().map(Vec::as_slice).collect();
    tbs.extend(raw::sequence(&refs));
    let nonce = req
        .tbs_request
        .request_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE);
    if let Some(n) = nonce {
        tbs.extend(explicit(1, &raw::sequence(&[&n.to_der()?])));
    }
    let tbs = raw::sequence(&[&tbs]);
    let alg = signer.signature_algorithm().algorithm_identifier()?;
    let sig = signer.sign(&tbs)?;
    let basic = raw::sequence(&[&tbs, &alg.to_der()?, &BitString::from_bytes(&sig)?.to_der()?]);
    let bytes = raw::sequence(&[&ID_PKIX_OCSP_BASIC.to_der()?, &OctetString::new(basic)?.to_der()?]);
    let mut resp = vec![0x0a, 0x01, 0x00];
    resp.extend(explicit(0, &bytes));
    Ok(raw::sequence(&[&resp]))
}

fn gtime(t: UnixTime) -> Result<Vec<u8>, PkiError> {
    Ok(GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(u64::try_from(t).unwrap_or(0)))?.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::{Profile, Template, issue};
    use signet_crypto::{KeyAlgorithm, PrivateKey, SoftwareSigner};

    #[test]
    fn answers_good_revoked_unknown_and_rejects_junk() {
        let ca_key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
        let name = crate::name::SubjectSpec {
            common_name: "OCSP Test CA".into(),
            ..Default::default()
        }
        .to_name()
        .unwrap();
        let t = Template::new(
            name,
            ca_key.public_key_der().unwrap(),
            Profile::RootCa { path_len: None },
            0,
            4_000_000_000,
        );
        let ca = issue(&t, None, &ca_key).unwrap();
        let leaf_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let lt = Template::new(
            crate::name::SubjectSpec {
                common_name: "Leaf".into(),
                ..Default::default()
            }
            .to_name()
            .unwrap(),
            leaf_key.public_key_der().unwrap(),
            Profile::Signer,
            0,
            3_000_000_000,
        );
        let leaf = issue(&lt, Some(&ca), &ca_key).unwrap();
        let req = request(&leaf, &ca, b"12345678").unwrap();
        for (status, marker) in [
            (CertStatus::Good, 0x80u8),
            (CertStatus::Unknown, 0x82),
            (
                CertStatus::Revoked {
                    time: 1_700_000_000,
                    reason: Some(1),
                },
                0xa1,
            ),
        ] {
            let r = respond(&req, &ca, &ca_key, &|_| status, 1_800_000_000, 3600).unwrap();
            assert_eq!(r[0], 0x30);
            assert!(r[..8].windows(3).any(|w| w == [0x0a, 0x01, 0x00]), "successful");
            assert!(r.windows(2).any(|w| w[0] == marker), "{status:?}");
            assert!(r.windows(8).any(|w| w == b"12345678"), "nonce echoed");
        }
        assert_eq!(
            respond(b"junk", &ca, &ca_key, &|_| CertStatus::Good, 0, 1).unwrap(),
            error_response(1)
        );
        // Another issuer: unauthorized.
        let req_other = request(&leaf, &leaf, b"x").unwrap();
        assert_eq!(
            respond(&req_other, &ca, &ca_key, &|_| CertStatus::Good, 0, 1).unwrap(),
            error_response(6)
        );
    }
}
