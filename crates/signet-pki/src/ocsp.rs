//! OCSP (RFC 6960): the request as clients send it, and a responder that answers for one CA,
//! signing with the CA's own key (no delegated responder certificate needed).
//!
//! The responder is pure: it takes the request bytes, the CA certificate, a signer for the CA key
//! and a lookup from serial number to status; the server does the I/O.

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, Int, OctetString};
use der::{Decode, Encode, Sequence, Tagged};
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
                raw::tlv(0xa1, &inner)
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

/// ResponseBytes.
#[derive(Clone, Debug, Sequence)]
struct ResponseBytes {
    response_type: ObjectIdentifier,
    response: OctetString,
}

/// OCSPResponse, with the status kept as the raw ENUMERATED.
#[derive(Clone, Debug, Sequence)]
struct OcspResponseAsn {
    response_status: der::Any,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    response_bytes: Option<ResponseBytes>,
}

/// BasicOCSPResponse (certificates kept as received, so their signatures verify over the
/// original bytes).
#[derive(Clone, Debug, Sequence)]
struct BasicResponseAsn {
    tbs_response_data: der::Any,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    certs: Option<Vec<der::Any>>,
}

/// ResponseData.
#[derive(Clone, Debug, Sequence)]
struct ResponseDataAsn {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    version: Option<u8>,
    responder_id: der::Any,
    produced_at: GeneralizedTime,
    responses: Vec<SingleResponseAsn>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    response_extensions: Option<Extensions>,
}

/// SingleResponse.
#[derive(Clone, Debug, Sequence)]
struct SingleResponseAsn {
    cert_id: CertId,
    cert_status: der::Any,
    this_update: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    next_update: Option<GeneralizedTime>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    single_extensions: Option<Extensions>,
}

/// A verified answer about one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The status.
    pub status: CertStatus,
    /// thisUpdate.
    pub this_update: UnixTime,
    /// nextUpdate, if given.
    pub next_update: Option<UnixTime>,
    /// producedAt.
    pub produced_at: UnixTime,
    /// Who signed: `issuer` (the CA itself) or the delegated responder's name.
    pub signed_by: String,
}

fn unix(t: &GeneralizedTime) -> UnixTime {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// How far a response's thisUpdate may lie in the future (clock skew).
pub const SKEW_SECS: i64 = 300;
/// Age limit for responses without nextUpdate.
pub const MAX_AGE_SECS: i64 = 3600;

/// Who signed a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseSigner {
    /// The issuing CA's own key.
    Issuer,
    /// A responder certificate the CA issued for OCSP signing (RFC 6960 §4.2.2.2).
    Delegated(Box<Certificate>),
}

impl ResponseSigner {
    /// `issuer` or the responder's name.
    pub fn describe(&self) -> String {
        match self {
            ResponseSigner::Issuer => "issuer".into(),
            ResponseSigner::Delegated(c) => c.display_name(),
        }
    }
}

/// One SingleResponse, decoded.
#[derive(Clone, Debug)]
struct Single {
    cert_id: CertId,
    status: CertStatus,
    this_update: UnixTime,
    next_update: Option<UnixTime>,
}

/// A successful basic OCSP response (RFC 6960 §4.2.1), decoded but not yet trusted: who signed
/// it and whether it is fresh are for [`Response::signer`] and the caller's time rules. Kept
/// with its original bytes, e.g. for a PDF's document security store.
#[derive(Clone, Debug)]
pub struct Response {
    der: Vec<u8>,
    tbs_der: Vec<u8>,
    alg: signet_crypto::SignatureAlgorithm,
    signature: Vec<u8>,
    certs: Vec<Certificate>,
    produced_at: UnixTime,
    singles: Vec<Single>,
    nonce: Option<Vec<u8>>,
}

fn decode_status(any: &der::Any) -> Result<CertStatus, String> {
    let v = any.value();
    match any.to_der().map_err(|e| e.to_string())?.first().copied().unwrap_or(0) {
        0x80 => Ok(CertStatus::Good),
        0x82 => Ok(CertStatus::Unknown),
        0xa1 => {
            let t = raw::element(v, 0).ok_or("malformed RevokedInfo")?;
            let time =
                GeneralizedTime::from_der(&v[t.clone()]).map_err(|e| format!("malformed revocationTime: {e}"))?;
            // revocationReason [0] EXPLICIT ENUMERATED
            let reason = raw::element(v, t.end)
                .map(|r| &v[r])
                .filter(|inner| inner.len() >= 5 && inner[0] == 0xa0 && inner[2] == 0x0a)
                .and_then(|inner| inner.get(4).copied());
            Ok(CertStatus::Revoked {
                time: unix(&time),
                reason,
            })
        }
        _ => Err("unknown certStatus".into()),
    }
}

impl Response {
    /// Decodes an OCSPResponse; an unsuccessful status or a non-basic response is an error.
    pub fn from_der(response_der: &[u8]) -> Result<Self, String> {
        let r = OcspResponseAsn::from_der(response_der).map_err(|e| format!("not an OCSP response: {e}"))?;
        let status = r.response_status.value().first().copied().unwrap_or(255);
        if r.response_status.tag() != der::Tag::Enumerated || status != 0 {
            let what = match status {
                1 => "malformedRequest",
                2 => "internalError",
                3 => "tryLater",
                5 => "sigRequired",
                6 => "unauthorized (the responder does not answer for this CA)",
                _ => "an unknown status",
            };
            return Err(format!("the responder answered {what}"));
        }
        let bytes = r.response_bytes.ok_or("a successful response without responseBytes")?;
        if bytes.response_type != ID_PKIX_OCSP_BASIC {
            return Err(format!("unsupported response type {}", bytes.response_type));
        }
        let basic = BasicResponseAsn::from_der(bytes.response.as_bytes())
            .map_err(|e| format!("malformed BasicOCSPResponse: {e}"))?;
        let tbs_der = basic.tbs_response_data.to_der().map_err(|e| e.to_string())?;
        let data = ResponseDataAsn::from_der(&tbs_der).map_err(|e| format!("malformed ResponseData: {e}"))?;
        let alg = signet_crypto::SignatureAlgorithm::from_algorithm_identifier(&basic.signature_algorithm)
            .map_err(|e| e.to_string())?;
        let signature = basic
            .signature
            .as_bytes()
            .ok_or("the signature is not a whole number of bytes")?
            .to_vec();
        let certs = basic
            .certs
            .iter()
            .flatten()
            .filter_map(|c| Certificate::from_der(&c.to_der().ok()?).ok())
            .collect();
        let singles = data
            .responses
            .iter()
            .map(|s| {
                Ok(Single {
                    cert_id: s.cert_id.clone(),
                    status: decode_status(&s.cert_status)?,
                    this_update: unix(&s.this_update),
                    next_update: s.next_update.as_ref().map(unix),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let nonce = data
            .response_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
            .map(|e| {
                OctetString::from_der(e.extn_value.as_bytes())
                    .map(|o| o.as_bytes().to_vec())
                    .unwrap_or_else(|_| e.extn_value.as_bytes().to_vec())
            });
        Ok(Response {
            der: response_der.to_vec(),
            tbs_der,
            alg,
            signature,
            certs,
            produced_at: unix(&data.produced_at),
            singles,
            nonce,
        })
    }

    /// The response as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// producedAt.
    pub fn produced_at(&self) -> UnixTime {
        self.produced_at
    }

    /// The certificates the response carries (e.g. a delegated responder's).
    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// The answer about `cert` (issued by `issuer`), if the response has one: a SingleResponse
    /// whose CertID (SHA-1 or SHA-256) names this issuer and serial. Not yet a trusted answer.
    pub fn single_for(&self, cert: &Certificate, issuer: &Certificate) -> Option<Answer> {
        self.singles.iter().find_map(|s| {
            let halg = match s.cert_id.hash_algorithm.oid {
                SHA1 => HashAlgorithm::Sha1,
                SHA256 => HashAlgorithm::Sha256,
                _ => return None,
            };
            let expected = cert_id(issuer, cert.serial(), halg).ok()?;
            (expected.issuer_name_hash == s.cert_id.issuer_name_hash
                && expected.issuer_key_hash == s.cert_id.issuer_key_hash
                && expected.serial_number == s.cert_id.serial_number)
                .then(|| Answer {
                    status: s.status,
                    this_update: s.this_update,
                    next_update: s.next_update,
                    produced_at: self.produced_at,
                    signed_by: String::new(),
                })
        })
    }

    /// Who signed the response, if that is someone RFC 6960 §4.2.2.2 lets answer for `issuer`'s
    /// certificates: the issuer's key, or a responder certificate in the response (or in
    /// `more_certs`) that the issuer signed, with id-kp-OCSPSigning, valid at producedAt.
    /// The responder certificate's own revocation status is for the caller to judge
    /// ([`Certificate::has_ocsp_nocheck`]).
    pub fn signer(
        &self,
        issuer: &Certificate,
        more_certs: &[Certificate],
        policy: &signet_crypto::AlgorithmPolicy,
    ) -> Result<ResponseSigner, String> {
        let verifies = |spki: &[u8], alg, msg: &[u8], sig: &[u8]| {
            signet_crypto::verify::verify_signature(spki, alg, msg, sig, policy).is_ok()
        };
        let issuer_spki = issuer.spki_der().map_err(|e| e.to_string())?;
        if verifies(&issuer_spki, self.alg, &self.tbs_der, &self.signature) {
            return Ok(ResponseSigner::Issuer);
        }
        self.certs
            .iter()
            .chain(more_certs)
            .find(|rc| {
                let issued_by_ca = rc.is_issued_by(issuer, policy);
                let for_ocsp = rc
                    .extended_key_usage()
                    .ok()
                    .flatten()
                    .is_some_and(|ekus| ekus.contains(&crate::oids::KP_OCSP_SIGNING));
                let valid = rc.not_before() <= self.produced_at && self.produced_at <= rc.not_after();
                issued_by_ca
                    && for_ocsp
                    && valid
                    && rc
                        .spki_der()
                        .is_ok_and(|k| verifies(&k, self.alg, &self.tbs_der, &self.signature))
            })
            .map(|rc| ResponseSigner::Delegated(Box::new(rc.clone())))
            .ok_or_else(|| {
                "the response is signed neither by the CA nor by a responder it authorised (id-kp-OCSPSigning)".into()
            })
    }
}

/// Checks an OCSP response for `cert` (issued by `issuer`) as RFC 6960 §3.2 asks: status
/// successful, a basic response signed by the issuer or by a responder certificate the issuer
/// issued for OCSP signing (id-kp-OCSPSigning), a SingleResponse for this very CertID, the nonce
/// echoed when one was sent, and fresh at `now` (thisUpdate not in the future beyond
/// [`SKEW_SECS`], nextUpdate not passed, or thisUpdate within [`MAX_AGE_SECS`] without one).
pub fn verify_response(
    response_der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    nonce: Option<&[u8]>,
    now: UnixTime,
) -> Result<Answer, String> {
    let r = Response::from_der(response_der)?;
    let signer = r.signer(issuer, &[], &signet_crypto::AlgorithmPolicy::default())?;
    let mut answer = r
        .single_for(cert, issuer)
        .ok_or("the response does not answer for this certificate")?;
    answer.signed_by = signer.describe();
    if let Some(n) = nonce
        && r.nonce.as_deref() != Some(n)
    {
        return Err("the response does not carry our nonce (a replayed or unrelated answer)".into());
    }
    if answer.this_update > now + SKEW_SECS {
        return Err("the response's thisUpdate is in the future".into());
    }
    match answer.next_update {
        Some(n) if n < now => return Err("the response is stale (nextUpdate has passed)".into()),
        None if now - answer.this_update > MAX_AGE_SECS => {
            return Err("the response is older than an hour and has no nextUpdate".into());
        }
        _ => {}
    }
    Ok(answer)
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
        for status in [
            CertStatus::Good,
            CertStatus::Revoked {
                time: 1_700_000_000,
                reason: Some(1),
            },
            CertStatus::Unknown,
        ] {
            let r = respond(&req, &ca, &ca_key, &|_| status, 1_800_000_000, 3600).unwrap();
            let a = verify_response(&r, &leaf, &ca, Some(b"12345678"), 1_800_000_100).unwrap();
            assert_eq!(a.status, status);
            assert_eq!(a.signed_by, "issuer");
            // Wrong nonce, stale, and a flipped signature bit are refused.
            assert!(verify_response(&r, &leaf, &ca, Some(b"87654321"), 1_800_000_100).is_err());
            if status != CertStatus::Unknown {
                assert!(
                    verify_response(&r, &leaf, &ca, None, 1_800_000_000 + 7200)
                        .unwrap_err()
                        .contains("stale")
                );
            }
            let mut bad = r.clone();
            let n = bad.len();
            bad[n - 2] ^= 1;
            assert!(verify_response(&bad, &leaf, &ca, None, 1_800_000_100).is_err());
        }
        assert!(
            verify_response(&error_response(6), &leaf, &ca, None, 0)
                .unwrap_err()
                .contains("unauthorized")
        );
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
