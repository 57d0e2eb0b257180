//! RFC 3161 time-stamp tokens: a CMS SignedData whose encapsulated content is a TSTInfo. The
//! token is verified like any CMS signature (attributes, signature, path) with the
//! time-stamping purpose (a critical timeStamping EKU), then its TSTInfo is read so the caller
//! can compare the message imprint with what it expects to be stamped.

use cms::content_info::ContentInfo;
use const_oid::ObjectIdentifier;
use der::asn1::{Int, OctetString};
use der::{Decode, Sequence};
use signet_crypto::HashAlgorithm;
use signet_pki::path::Purpose;
use signet_pki::time::UnixTime;
use signet_pki::{SignatureReport, SubIndication};
use spki::AlgorithmIdentifierOwned;

use crate::attributes::ID_SIGNED_DATA;
use crate::verify::{VerifyInput, verify_for};

/// id-ct-TSTInfo.
pub const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// MessageImprint (RFC 3161 §2.4.1).
#[derive(Clone, Debug, Sequence)]
pub struct MessageImprint {
    /// Hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash of the stamped data.
    pub hashed_message: OctetString,
}

/// Accuracy (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Sequence)]
pub struct Accuracy {
    /// Seconds.
    pub seconds: Option<Int>,
    /// Milliseconds.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<Int>,
    /// Microseconds.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<Int>,
}

/// TSTInfo (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Sequence)]
pub struct TstInfoAsn {
    /// Version (1).
    pub version: Int,
    /// TSA policy.
    pub policy: ObjectIdentifier,
    /// What was stamped.
    pub message_imprint: MessageImprint,
    /// Serial number, unique per TSA.
    pub serial_number: Int,
    /// The time (fractional seconds allowed, RFC 3161 §2.4.2).
    pub gen_time: signet_pki::PreciseTime,
    /// Accuracy.
    pub accuracy: Option<Accuracy>,
    /// Ordering.
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    /// The requester's nonce.
    pub nonce: Option<Int>,
    /// The TSA's name.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<der::Any>,
    /// Extensions.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<x509_cert::ext::Extensions>,
}

/// TimeStampReq (RFC 3161 §2.4.1).
#[derive(Clone, Debug, Sequence)]
pub struct TimeStampReq {
    /// Version (1).
    pub version: u8,
    /// What to stamp.
    pub message_imprint: MessageImprint,
    /// Requested policy.
    pub req_policy: Option<ObjectIdentifier>,
    /// Nonce.
    pub nonce: Option<Int>,
    /// Ask for the TSA's certificate in the token.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
}

/// PKIStatusInfo (RFC 3161 §2.4.2, from RFC 4210).
#[derive(Clone, Debug, Sequence)]
pub struct PkiStatusInfo {
    /// 0 granted, 1 granted with modifications, 2 rejection, 3 waiting, 4/5 revocation.
    pub status: Int,
    /// Free text.
    pub status_string: Option<Vec<String>>,
    /// Failure bits.
    pub fail_info: Option<der::asn1::BitString>,
}

/// TimeStampResp (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Sequence)]
pub struct TimeStampResp {
    /// Status.
    pub status: PkiStatusInfo,
    /// The token, when granted.
    pub time_stamp_token: Option<ContentInfo>,
}

/// A DER TimeStampReq for `imprint` (a `hash` digest) with `nonce`, asking for the TSA's
/// certificate.
pub fn request(hash: HashAlgorithm, imprint: &[u8], nonce: &[u8]) -> Result<Vec<u8>, crate::CmsError> {
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: hash.algorithm_identifier(),
            hashed_message: OctetString::new(imprint)?,
        },
        req_policy: None,
        nonce: Some(Int::new(nonce)?),
        cert_req: true,
    };
    Ok(der::Encode::to_der(&req)?)
}

/// Checks a TSA's reply to [`request`]: granted status, a token whose TSTInfo stamps `imprint`
/// with `hash` and echoes `nonce`, signed (signature and attributes valid) by a certificate with
/// a critical extKeyUsage of timeStamping only. Returns the token (ContentInfo DER). The TSA's
/// trust is judged later, by whoever validates the signature.
pub fn token_from_response(
    response: &[u8],
    hash: HashAlgorithm,
    imprint: &[u8],
    nonce: &[u8],
    time: UnixTime,
) -> Result<Vec<u8>, String> {
    let resp =
        TimeStampResp::from_der(response).map_err(|e| format!("the TSA's answer is not a TimeStampResp: {e}"))?;
    let status = resp.status.status.as_bytes().first().copied().unwrap_or(0);
    if resp.status.status.as_bytes().len() > 1 || status > 1 {
        let text: Vec<String> = resp.status.status_string.iter().flatten().cloned().collect();
        return Err(format!(
            "the TSA refused the request (status {status}{})",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {}", text.join("; "))
            }
        ));
    }
    let ci = resp
        .time_stamp_token
        .ok_or("the TSA granted the request but sent no token")?;
    let token = der::Encode::to_der(&ci).map_err(|e| e.to_string())?;
    let info = tst_info(&token)?;
    if info.hash != hash || info.imprint != imprint {
        return Err("the TSA's token stamps something other than what was sent".into());
    }
    let sent = Int::new(nonce).map_err(|e| e.to_string())?;
    if info.nonce.as_deref() != Some(sent.as_bytes()) {
        return Err("the TSA's token does not echo our nonce (a replayed or foreign answer)".into());
    }
    // The signature and attributes must hold; the path is left to validation (no anchors here).
    let v = verify_token(&token, &signet_pki::ValidationContext::new(Vec::new(), time));
    if let Some(bad) = v
        .report
        .checks
        .iter()
        .find(|c| c.status == signet_pki::CheckStatus::Failed && c.id != "certificate-path")
    {
        return Err(format!("the TSA's token does not verify: {}", bad.detail));
    }
    let signer_fp = v.report.signer.as_ref().map(|s| s.sha256.clone()).unwrap_or_default();
    let ci = ContentInfo::from_der(&token).map_err(|e| e.to_string())?;
    let sd = crate::signed_data::decode(&ci)?.signed_data;
    let tsa_cert = sd
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => der::Encode::to_der(c).ok(),
            _ => None,
        })
        .filter_map(|d: Vec<u8>| signet_pki::Certificate::from_der(&d).ok())
        .find(|c| c.fingerprint() == signer_fp)
        .ok_or("the TSA's token does not carry the TSA certificate (certReq was set)")?;
    if !tsa_cert.is_time_stamping() {
        return Err("the TSA certificate lacks a critical extKeyUsage of timeStamping only (RFC 3161 §2.3)".into());
    }
    Ok(token)
}

/// How a TSA answers.
#[derive(Clone, Debug)]
pub struct TsaPolicy {
    /// The TSA policy OID written into every token.
    pub policy: ObjectIdentifier,
    /// Accuracy in seconds.
    pub accuracy_secs: u8,
    /// Fraction digits in genTime (0: whole seconds, 3: milliseconds; at most 6).
    pub precision_digits: u8,
}

impl TsaPolicy {
    /// A policy from its dotted OID, with one second of accuracy.
    pub fn new(oid: &str) -> Result<Self, String> {
        Ok(TsaPolicy {
            policy: oid.parse().map_err(|_| format!("{oid:?} is not an OID"))?,
            accuracy_secs: 1,
            precision_digits: 0,
        })
    }
}

/// PKIFailureInfo bits (RFC 3161 §2.4.2).
const BAD_ALG: usize = 0;
const BAD_REQUEST: usize = 2;
const BAD_DATA_FORMAT: usize = 5;

fn rejection(bit: usize, text: &str) -> Result<Vec<u8>, crate::CmsError> {
    // A BIT STRING with only `bit` set, as few bytes as needed.
    let mut bytes = vec![0u8; bit / 8 + 1];
    bytes[bit / 8] = 0x80 >> (bit % 8);
    let unused = 7 - (bit % 8) as u8;
    let resp = TimeStampResp {
        status: PkiStatusInfo {
            status: Int::new(&[2])?,
            status_string: Some(vec![text.to_string()]),
            fail_info: Some(der::asn1::BitString::new(unused, bytes)?),
        },
        time_stamp_token: None,
    };
    Ok(der::Encode::to_der(&resp)?)
}

/// `N` random bytes that encode a positive INTEGER without a leading zero octet: TSA serial
/// numbers (20 bytes, 159 random bits: unique without a counter shared between nodes) and
/// request nonces.
pub fn random_positive<const N: usize>() -> Result<[u8; N], crate::CmsError> {
    let mut s = [0u8; N];
    signet_crypto::random_bytes(&mut s)?;
    if let Some(first) = s.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    Ok(s)
}

/// Answers a DER TimeStampReq as a TSA: a granted TimeStampResp with a token signed by `tsa`
/// (which must hold a timeStamping certificate), or a rejection (bad request, unsupported hash,
/// wrong imprint length). `serial` must never repeat for this TSA; `time` is genTime, written
/// with the policy's precision (whole seconds, or up to six fraction digits).
pub fn respond(
    request_der: &[u8],
    tsa: &dyn signet_crypto::Signer,
    policy: &TsaPolicy,
    serial: &[u8],
    time: impl Into<signet_pki::PreciseTime>,
) -> Result<Vec<u8>, crate::CmsError> {
    let time: signet_pki::PreciseTime = time.into();
    let Ok(req) = TimeStampReq::from_der(request_der) else {
        return rejection(BAD_DATA_FORMAT, "not a DER TimeStampReq");
    };
    if req.version != 1 {
        return rejection(BAD_REQUEST, "only version 1 requests are supported");
    }
    let Some(hash) = HashAlgorithm::from_oid(&req.message_imprint.hash_algorithm.oid) else {
        return rejection(BAD_ALG, "unsupported hash algorithm");
    };
    if req.message_imprint.hashed_message.as_bytes().len() != hash.output_len() {
        return rejection(BAD_DATA_FORMAT, "the message imprint has the wrong length");
    }
    if req.req_policy.as_ref().is_some_and(|p| *p != policy.policy) {
        return rejection(15, "unaccepted policy"); // unacceptedPolicy
    }
    if time.secs < 0 {
        return Err(crate::CmsError::Invalid("times before 1970 cannot be stamped".into()));
    }
    let gen_time = signet_pki::PreciseTime::with_precision(time.secs, time.nanos, policy.precision_digits.min(6));
    let info = TstInfoAsn {
        version: Int::new(&[1])?,
        policy: policy.policy,
        message_imprint: req.message_imprint.clone(),
        serial_number: Int::new(serial)?,
        gen_time,
        accuracy: Some(Accuracy {
            seconds: Some(Int::new(&[policy.accuracy_secs])?),
            millis: None,
            micros: None,
        }),
        ordering: false,
        nonce: req.nonce.clone(),
        tsa: None,
        extensions: None,
    };
    let tst = der::Encode::to_der(&info)?;
    let digest = signet_crypto::digest::hash(tsa.signature_algorithm().hash(), &tst);
    let token = crate::sign::build(
        &digest,
        Some(&tst),
        ID_CT_TST_INFO,
        tsa,
        &crate::SignOptions {
            signing_time: None,
            include_chain: true,
            algorithm_protection: true,
        },
        None,
        req.cert_req,
    )?;
    let resp = TimeStampResp {
        status: PkiStatusInfo {
            status: Int::new(&[0])?,
            status_string: None,
            fail_info: None,
        },
        time_stamp_token: Some(ContentInfo::from_der(&token)?),
    };
    Ok(der::Encode::to_der(&resp)?)
}

/// A token from a TSA in this process for `imprint` (a `hash` digest): the request a client
/// would send (with a nonce), answered by [`respond`] and checked by [`token_from_response`]
/// like any TSA's answer. `serial` must never repeat for this TSA.
pub fn local_token(
    tsa: &dyn signet_crypto::Signer,
    policy: &TsaPolicy,
    serial: &[u8],
    time: signet_pki::PreciseTime,
    hash: HashAlgorithm,
    imprint: &[u8],
) -> Result<Vec<u8>, String> {
    let nonce = random_positive::<8>().map_err(|e| e.to_string())?;
    let req = request(hash, imprint, &nonce).map_err(|e| e.to_string())?;
    let reply = respond(&req, tsa, policy, serial, time).map_err(|e| e.to_string())?;
    token_from_response(&reply, hash, imprint, &nonce, time.secs)
}

/// What a token says, once its signature is checked.
#[derive(Clone, Debug)]
pub struct TstInfo {
    /// The time the TSA vouches for (whole seconds).
    pub gen_time: UnixTime,
    /// genTime as encoded, with its fraction of a second.
    pub gen_time_precise: signet_pki::PreciseTime,
    /// The accuracy the TSA claims, in words ("±1 s", "±0.5 ms"), if it states one.
    pub accuracy: Option<String>,
    /// The imprint's hash algorithm.
    pub hash: HashAlgorithm,
    /// The imprint.
    pub imprint: Vec<u8>,
    /// Serial number (hex).
    pub serial: String,
    /// Policy OID.
    pub policy: String,
    /// Nonce bytes, if any.
    pub nonce: Option<Vec<u8>>,
}

/// Reads the TSTInfo out of a token without checking anything.
pub fn tst_info(token: &[u8]) -> Result<TstInfo, String> {
    let ci = ContentInfo::from_der(token).map_err(|e| format!("not a time-stamp token: {e}"))?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err("the time-stamp token is not a SignedData".into());
    }
    let sd = crate::signed_data::decode(&ci)
        .map_err(|e| format!("malformed time-stamp SignedData: {e}"))?
        .signed_data;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(format!(
            "the token's content is {}, not a TSTInfo",
            sd.encap_content_info.econtent_type
        ));
    }
    let content = sd
        .encap_content_info
        .econtent
        .ok_or("the time-stamp token has no TSTInfo")?;
    let os: OctetString = content.decode_as().map_err(|e| format!("malformed eContent: {e}"))?;
    let t = TstInfoAsn::from_der(os.as_bytes()).map_err(|e| format!("malformed TSTInfo: {e}"))?;
    let hash = HashAlgorithm::from_oid(&t.message_imprint.hash_algorithm.oid)
        .ok_or_else(|| format!("unsupported imprint hash {}", t.message_imprint.hash_algorithm.oid))?;
    Ok(TstInfo {
        gen_time: t.gen_time.secs,
        gen_time_precise: t.gen_time,
        accuracy: t.accuracy.as_ref().map(describe_accuracy),
        hash,
        imprint: t.message_imprint.hashed_message.as_bytes().to_vec(),
        serial: hex::encode(t.serial_number.as_bytes()),
        policy: t.policy.to_string(),
        nonce: t.nonce.map(|n| n.as_bytes().to_vec()),
    })
}

/// Accuracy (RFC 3161 §2.4.2) in words: "±1 s", "±1.5 ms", "±0.000200 s".
fn describe_accuracy(a: &Accuracy) -> String {
    let int = |i: &Option<Int>| -> u64 {
        i.as_ref()
            .map(|v| {
                v.as_bytes()
                    .iter()
                    .take(8)
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
            })
            .unwrap_or(0)
    };
    let (s, ms, us) = (int(&a.seconds), int(&a.millis), int(&a.micros));
    match (s, ms, us) {
        (s, 0, 0) => format!("±{s} s"),
        (0, ms, 0) => format!("±{ms} ms"),
        (0, 0, us) => format!("±{us} µs"),
        (s, ms, us) => format!("±{s}.{ms:03}{us:03} s"),
    }
}

/// A verified (or not) token.
pub struct Verified {
    /// The TSA signature's report (time-stamping purpose, path to the anchors).
    pub report: SignatureReport,
    /// The TSTInfo when the token could be read.
    pub info: Option<TstInfo>,
}

/// Verifies a token's CMS signature and path as of the context's time for the time-stamping
/// purpose, and reads its TSTInfo. The caller compares [`TstInfo::imprint`] with its own hash.
pub fn verify_token(token: &[u8], ctx: &signet_pki::ValidationContext) -> Verified {
    let mut report = verify_for(
        VerifyInput {
            cms: token,
            detached: None,
        },
        ctx,
        Purpose::TimeStamping,
    );
    let mut r = if report.signatures.len() == 1 {
        report.signatures.remove(0)
    } else {
        let mut r = SignatureReport::new("RFC 3161 time-stamp token", ctx.time);
        r.fail(
            "signer-infos",
            SubIndication::FORMAT_FAILURE,
            format!("the token has {} signer infos, not one", report.signatures.len()),
        );
        r
    };
    r.format = "RFC 3161 time-stamp token".into();
    let info = match tst_info(token) {
        Ok(i) => Some(i),
        Err(e) => {
            r.fail("tst-info", SubIndication::FORMAT_FAILURE, e);
            None
        }
    };
    Verified { report: r, info }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(tst_info(b"").is_err());
        assert!(tst_info(&[0x30, 0x03, 0x06, 0x01, 0x00]).is_err());
    }
}
