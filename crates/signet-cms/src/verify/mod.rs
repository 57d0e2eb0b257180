//! Verifying CMS SignedData: our own implementation, not OpenSSL's.
//!
//! For each SignerInfo: the digest and signature algorithms and their consistency
//! (RFC 5652, RFC 6211, RFC 8419), signer lookup (exactly one certificate), the signed
//! attributes (content-type, message-digest single-valued and once; signing-time; ESS
//! signing-certificate(-v2) binding per RFC 5035), the signature over the signed attributes *as
//! received*, then the certificate path. Each step lands in the report as a named check.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::BufRead;

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::rfc5912;
use der::asn1::OctetString;
use der::{Decode, Encode, Tagged};
use signet_crypto::verify::{VerifyError, verify_signature};
use signet_crypto::{AlgorithmPolicy, HashAlgorithm, SignatureAlgorithm, ber, digest::Hasher};
use signet_pki::ocsp::Response;
use signet_pki::path::{PathOptions, Purpose, RevocationMode, RevocationStatus, Validator};
use signet_pki::report::CertificateInfo;
use signet_pki::time::UnixTime;
use signet_pki::{Certificate, Crl, SignatureReport, SubIndication, ValidationContext, ValidationReport, name};

use crate::attributes::*;

mod signed_attributes;
use signed_attributes::check_attributes;

/// Largest SignedData accepted.
pub const MAX_CMS_LEN: usize = 256 * 1024 * 1024;
/// Largest detached content held in memory when a signer has no signed attributes.
pub const MAX_BUFFERED_CONTENT: u64 = 256 * 1024 * 1024;

/// What to verify; everything it is judged against comes from a [`ValidationContext`].
pub struct VerifyInput<'a> {
    /// The SignedData ContentInfo (DER or BER).
    pub cms: &'a [u8],
    /// The detached content, if the signature is detached (read through its buffer: a reader
    /// over bytes in memory lends them without copying).
    pub detached: Option<&'a mut dyn BufRead>,
}

fn format_failure(time: UnixTime, msg: impl Into<String>) -> ValidationReport {
    let mut r = SignatureReport::new("CMS", time);
    r.fail("structure", SubIndication::FORMAT_FAILURE, msg);
    ValidationReport::new(vec![r])
}

/// Every certificate a SignedData carries, including those inside its signature time-stamp
/// tokens (DER, duplicates removed) — what a long-term validation update should store.
pub fn certificates_of(cms_der: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut stack = vec![cms_der.to_vec()];
    let mut depth = 0;
    while let Some(der) = stack.pop() {
        depth += 1;
        if depth > 16 {
            break;
        }
        let Ok(ci) = ContentInfo::from_der(&der) else { continue };
        let Ok(sd) = crate::signed_data::decode(&ci).map(|d| d.signed_data) else {
            continue;
        };
        for c in sd.certificates.iter().flat_map(|s| s.0.iter()) {
            if let CertificateChoices::Certificate(c) = c
                && let Ok(d) = c.to_der()
                && !out.contains(&d)
            {
                out.push(d);
            }
        }
        for si in sd.signer_infos.0.iter() {
            for a in si.unsigned_attrs.iter().flat_map(|a| a.iter()) {
                if a.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN {
                    stack.extend(a.values.iter().filter_map(|v| v.to_der().ok()));
                }
            }
        }
    }
    out
}

/// Verifies every signature in a CMS SignedData for document signing, against `ctx` (the
/// certificates, CRLs and OCSP answers the SignedData carries are added to it).
pub fn verify(input: VerifyInput<'_>, ctx: &ValidationContext) -> ValidationReport {
    verify_for(input, ctx, Purpose::DocumentSigning)
}

/// As [`verify`], for signer certificates fit for `purpose` (an evidence seal, say).
pub fn verify_for(input: VerifyInput<'_>, ctx: &ValidationContext, purpose: Purpose) -> ValidationReport {
    let opts = &Opts {
        time: ctx.time,
        algorithm_policy: ctx.algorithm_policy,
        purpose,
    };
    let original = input.cms;
    if original.len() > MAX_CMS_LEN {
        return format_failure(opts.time, "the signature file is larger than 256 MiB");
    }
    let (der_bytes, normalised): (Cow<[u8]>, bool) = match ContentInfo::from_der(original) {
        Ok(_) => (Cow::Borrowed(original), false),
        Err(_) => match ber::to_der(original) {
            Ok(d) => (Cow::Owned(d), true),
            Err(e) => return format_failure(opts.time, format!("not a CMS structure: {e}")),
        },
    };
    let ci = match ContentInfo::from_der(&der_bytes) {
        Ok(ci) => ci,
        Err(e) => return format_failure(opts.time, format!("not a CMS ContentInfo: {e}")),
    };
    if ci.content_type != ID_SIGNED_DATA {
        return format_failure(
            opts.time,
            format!("the CMS content type is {}, not signedData", ci.content_type),
        );
    }
    let decoded = match crate::signed_data::decode(&ci) {
        Ok(d) => d,
        Err(e) => return format_failure(opts.time, format!("malformed SignedData: {e}")),
    };
    let sd = decoded.signed_data;
    if sd.signer_infos.0.is_empty() {
        return format_failure(opts.time, "the SignedData has no SignerInfo");
    }

    // Certificates and revocation data carried in the signature join the context's.
    let mut carried: Vec<Certificate> = Vec::new();
    for c in sd.certificates.iter().flat_map(|s| s.0.iter()) {
        if let CertificateChoices::Certificate(c) = c
            && let Ok(der) = c.to_der()
            && let Ok(cert) = Certificate::from_der(&der)
            && !carried.contains(&cert)
        {
            carried.push(cert);
        }
    }
    let mut crls: Vec<Crl> = decoded.crls;
    let mut ocsps: Vec<Response> = decoded.ocsps;
    for si in sd.signer_infos.0.iter() {
        crate::signed_data::adobe_revocation_info(si, &mut crls, &mut ocsps);
    }
    let ctx = &ctx.extended(&carried, &crls, &ocsps);

    // The content: encapsulated or detached.
    let attached: Option<Vec<u8>> = match &sd.encap_content_info.econtent {
        Some(any) => match any.decode_as::<OctetString>() {
            Ok(os) => Some(os.as_bytes().to_vec()),
            Err(_) => Some(any.value().to_vec()),
        },
        None => None,
    };
    let detached_name = if attached.is_some() { "attached" } else { "detached" };
    if attached.is_some() && input.detached.is_some() {
        return format_failure(
            opts.time,
            "the signature encapsulates its content, but a detached file was also given",
        );
    }
    let hashes: BTreeSet<HashAlgorithm> = sd
        .signer_infos
        .0
        .iter()
        .filter_map(|si| HashAlgorithm::from_oid(&si.digest_alg.oid))
        .collect();
    let need_content = sd.signer_infos.0.iter().any(|si| si.signed_attrs.is_none());
    let content = match (attached, input.detached) {
        (Some(c), _) => ContentDigests::from_bytes(&c, &hashes, need_content),
        (None, Some(reader)) => match ContentDigests::from_reader(reader, &hashes, need_content) {
            Ok(c) => c,
            Err(e) => return format_failure(opts.time, e),
        },
        (None, None) => {
            let mut r = SignatureReport::new("CMS detached", opts.time);
            r.fail(
                "content",
                SubIndication::SIGNED_DATA_NOT_FOUND,
                "the signature is detached: give the signed file too",
            );
            return ValidationReport::new(vec![r]);
        }
    };

    let reports = sd
        .signer_infos
        .0
        .iter()
        .map(|si| {
            let mut r = SignatureReport::new(&format!("CMS {detached_name}"), opts.time);
            if normalised {
                r.warn(
                    "encoding",
                    "the signature is BER-encoded; it was normalised to DER for reading",
                );
            }
            verify_signer(si, &sd, original, &content, ctx, opts, &mut r);
            if r.level.is_some() {
                r.format = format!("CAdES {detached_name}");
            }
            r
        })
        .collect();
    ValidationReport::new(reports)
}

struct ContentDigests {
    digests: Vec<(HashAlgorithm, Vec<u8>)>,
    bytes: Option<Vec<u8>>,
}

impl ContentDigests {
    fn from_bytes(c: &[u8], hashes: &BTreeSet<HashAlgorithm>, keep: bool) -> Self {
        let digests = hashes
            .iter()
            .map(|h| (*h, signet_crypto::digest::hash(*h, c)))
            .collect();
        ContentDigests {
            digests,
            bytes: keep.then(|| c.to_vec()),
        }
    }

    fn from_reader(r: &mut dyn BufRead, hashes: &BTreeSet<HashAlgorithm>, keep: bool) -> Result<Self, String> {
        let mut hashers: Vec<(HashAlgorithm, Hasher)> = hashes.iter().map(|h| (*h, Hasher::new(*h))).collect();
        let mut kept = Vec::new();
        let mut total = 0u64;
        loop {
            let buf = match r.fill_buf() {
                Ok([]) => break,
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read the signed file: {e}")),
            };
            let n = buf.len();
            total += n as u64;
            for (_, h) in hashers.iter_mut() {
                h.update(buf);
            }
            if keep {
                if total > MAX_BUFFERED_CONTENT {
                    return Err("the content is larger than 256 MiB and a signer has no signed attributes".into());
                }
                kept.extend_from_slice(buf);
            }
            r.consume(n);
        }
        Ok(ContentDigests {
            digests: hashers.into_iter().map(|(a, h)| (a, h.finish())).collect(),
            bytes: keep.then_some(kept),
        })
    }

    fn digest(&self, alg: HashAlgorithm) -> Option<&[u8]> {
        self.digests.iter().find(|(a, _)| *a == alg).map(|(_, d)| d.as_slice())
    }
}

fn find_signer<'c>(sid: &SignerIdentifier, pool: &'c [Certificate]) -> Vec<&'c Certificate> {
    let mut v: Vec<&Certificate> = pool
        .iter()
        .filter(|c| match sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                c.serial() == ias.serial_number.as_bytes() && name::names_match(c.issuer(), &ias.issuer)
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                c.subject_key_id().ok().flatten().as_deref() == Some(ski.0.as_bytes())
            }
        })
        .collect();
    v.dedup_by(|a, b| a == b);
    v
}

/// Hash algorithm identifiers are equal if the OID is and parameters are absent or NULL.
fn same_digest_alg(a: &spki::AlgorithmIdentifierOwned, b: &spki::AlgorithmIdentifierOwned) -> bool {
    let null_or_absent = |p: &Option<der::Any>| {
        p.as_ref()
            .map(|x| x.value().is_empty() && x.tag() == der::Tag::Null)
            .unwrap_or(true)
    };
    a.oid == b.oid && (a.parameters == b.parameters || (null_or_absent(&a.parameters) && null_or_absent(&b.parameters)))
}

fn signature_algorithm(si: &SignerInfo, digest: HashAlgorithm) -> Result<SignatureAlgorithm, (SubIndication, String)> {
    let id = &si.signature_algorithm;
    let alg = if id.oid == rfc5912::RSA_ENCRYPTION {
        SignatureAlgorithm::RsaPkcs1v15(digest)
    } else if id.oid == rfc5912::ID_EC_PUBLIC_KEY {
        SignatureAlgorithm::Ecdsa(digest)
    } else {
        SignatureAlgorithm::from_algorithm_identifier(id).map_err(|e| {
            (
                SubIndication::CRYPTO_CONSTRAINTS_FAILURE,
                format!("signature algorithm: {e}"),
            )
        })?
    };
    match alg {
        SignatureAlgorithm::Ed25519 if digest != HashAlgorithm::Sha512 => Err((
            SubIndication::FORMAT_FAILURE,
            "Ed25519 in CMS requires the SHA-512 digest algorithm (RFC 8419)".into(),
        )),
        SignatureAlgorithm::Ed25519 => Ok(alg),
        _ if alg.hash() != digest => Err((
            SubIndication::FORMAT_FAILURE,
            format!(
                "algorithm confusion: the signature algorithm uses {} but the digest algorithm is {}",
                alg.hash().name(),
                digest.name()
            ),
        )),
        _ => Ok(alg),
    }
}

/// The parameters of one verification, from the context and the caller's purpose.
struct Opts {
    time: UnixTime,
    algorithm_policy: AlgorithmPolicy,
    purpose: Purpose,
}

fn verify_signer(
    si: &SignerInfo,
    sd: &SignedData,
    original: &[u8],
    content: &ContentDigests,
    ctx: &ValidationContext,
    opts: &Opts,
    r: &mut SignatureReport,
) {
    let pool = &ctx.certificates;
    // Digest algorithm.
    let Some(digest_alg) = HashAlgorithm::from_oid(&si.digest_alg.oid) else {
        r.fail(
            "digest-algorithm",
            SubIndication::FORMAT_FAILURE,
            format!("unsupported digest algorithm {}", si.digest_alg.oid),
        );
        return;
    };
    r.digest_algorithm = Some(digest_alg.name().into());
    if digest_alg == HashAlgorithm::Sha1 && !opts.algorithm_policy.allow_sha1 {
        r.fail(
            "digest-algorithm",
            SubIndication::CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
            "SHA-1 digests are no longer accepted and there is no proof the signature existed before SHA-1 was retired",
        );
    }

    // Signer certificate.
    let candidates = find_signer(&si.sid, pool);
    let signer = match candidates.as_slice() {
        [one] => *one,
        [] => {
            r.fail(
                "signer-certificate",
                SubIndication::NO_SIGNING_CERTIFICATE_FOUND,
                "the signer's certificate is neither in the signature nor among the supplied certificates (--cert)",
            );
            return;
        }
        _ => {
            r.fail(
                "signer-certificate",
                SubIndication::NO_SIGNING_CERTIFICATE_FOUND,
                "the signer identifier matches more than one certificate",
            );
            return;
        }
    };
    r.signer = Some(CertificateInfo::of(signer));
    r.pass("signer-certificate", format!("found: {}", signer.display_name()));

    // Signature algorithm and its consistency with the digest algorithm.
    let sig_alg = match signature_algorithm(si, digest_alg) {
        Ok(a) => a,
        Err((sub, msg)) => {
            r.fail("signature-algorithm", sub, msg);
            return;
        }
    };
    r.signature_algorithm = Some(sig_alg.name());

    // Signed attributes, or the content itself.
    let mut has_ess = false;
    let message: Cow<[u8]> = match &si.signed_attrs {
        Some(attrs) => {
            let Ok(mut enc) = attrs.to_der() else {
                r.fail(
                    "signed-attributes",
                    SubIndication::FORMAT_FAILURE,
                    "signed attributes cannot be encoded",
                );
                return;
            };
            enc[0] = 0xA0;
            if !contains_from_end(original, &enc) {
                r.fail(
                    "signed-attributes",
                    SubIndication::FORMAT_FAILURE,
                    "the signed attributes are not DER-encoded; Signet verifies over the bytes as received and will not re-encode them",
                );
                return;
            }
            enc[0] = 0x31;
            if !check_attributes(si, sd, attrs, content, digest_alg, signer, r, &mut has_ess) {
                return;
            }
            Cow::Owned(enc)
        }
        None => {
            if sd.encap_content_info.econtent_type != ID_DATA {
                r.fail(
                    "content-type",
                    SubIndication::FORMAT_FAILURE,
                    "without signed attributes the content type must be id-data (RFC 5652 §5.3)",
                );
                return;
            }
            r.warn(
                "signed-attributes",
                "no signed attributes: the signature covers the content directly (not CAdES)",
            );
            match &content.bytes {
                Some(b) => Cow::Owned(b.clone()),
                None => {
                    r.fail("content", SubIndication::SIGNED_DATA_NOT_FOUND, "content not available");
                    return;
                }
            }
        }
    };

    // The signature value.
    let spki = match signer.spki_der() {
        Ok(s) => s,
        Err(e) => {
            r.fail("signature", SubIndication::FORMAT_FAILURE, format!("signer key: {e}"));
            return;
        }
    };
    match verify_signature(
        &spki,
        sig_alg,
        &message,
        si.signature.as_bytes(),
        &opts.algorithm_policy,
    ) {
        Ok(()) => r.pass(
            "signature",
            format!(
                "{} signature verifies with the signer's {} key",
                sig_alg.name(),
                signer.key_description()
            ),
        ),
        Err(VerifyError::BadSignature) => {
            r.fail(
                "signature",
                SubIndication::SIG_CRYPTO_FAILURE,
                "the signature value does not verify with the signer's public key",
            );
            return;
        }
        Err(VerifyError::KeyMismatch(m)) => {
            r.fail(
                "signature",
                SubIndication::SIG_CRYPTO_FAILURE,
                format!("algorithm confusion: {m}"),
            );
            return;
        }
        Err(VerifyError::Weak(m)) => {
            r.fail("signature", SubIndication::CRYPTO_CONSTRAINTS_FAILURE_NO_POE, m);
            return;
        }
        Err(e) => {
            r.fail("signature", SubIndication::CRYPTO_CONSTRAINTS_FAILURE, e.to_string());
            return;
        }
    }

    if si.signed_attrs.is_some() && has_ess {
        r.level = Some("CAdES-B-B".into());
    }
    // A valid signature time-stamp is proof that the signature existed at its time: the
    // signer's path is then validated at that time (a certificate that expired or was revoked
    // later does not invalidate it; one revoked earlier does).
    let poe = signature_timestamps(si, ctx, r);

    // Certificate path.
    if ctx.trust_anchors.is_empty() {
        r.fail(
            "certificate-path",
            SubIndication::NO_CERTIFICATE_CHAIN_FOUND,
            "no trust anchor was given (--trust), so the signer cannot be trusted",
        );
        return;
    }
    let at = poe.unwrap_or(opts.time);
    let popts = PathOptions {
        time: at,
        algorithm_policy: opts.algorithm_policy,
        revocation: RevocationMode::RequireWhereSupplied,
        purpose: opts.purpose,
        max_intermediates: 8,
        policy: Default::default(),
        past_time: poe.is_some(),
    };
    match Validator::from_context(ctx, &popts).validate(signer) {
        Ok(path) => {
            r.chain = path.certificates.iter().map(CertificateInfo::of).collect();
            let anchor = path.certificates.last().map(|c| c.display_name()).unwrap_or_default();
            r.pass(
                "certificate-path",
                format!(
                    "chain of {} certificate(s) to trust anchor {anchor}, valid at {}{}",
                    path.certificates.len(),
                    signet_pki::time::format(at),
                    if poe.is_some() {
                        " (the signature time-stamp's time: proof of existence)"
                    } else {
                        ""
                    }
                ),
            );
            for (i, st) in path.revocation.iter().enumerate() {
                let who = path.certificates[i].display_name();
                match st {
                    RevocationStatus::Good { this_update, source } => r.pass(
                        "revocation",
                        format!(
                            "{who}: not revoked ({} of {})",
                            source.name(),
                            signet_pki::time::format(*this_update)
                        ),
                    ),
                    RevocationStatus::RevokedLater(rev) => r.warn(
                        "revocation",
                        format!(
                            "{who}: revoked at {}, after the validation time",
                            signet_pki::time::format(rev.time)
                        ),
                    ),
                    RevocationStatus::Unknown(why) => {
                        r.warn("revocation", format!("{who}: revocation not checked: {why}"))
                    }
                    RevocationStatus::NotChecked => r.skip("revocation", format!("{who}: not checked")),
                }
            }
        }
        Err(e) => r.fail("certificate-path", e.sub_indication(), e.message.clone()),
    }
}

/// Signature time-stamps (RFC 3161 appendix A, CAdES-T): each token must be valid for the
/// time-stamping purpose and stamp this SignerInfo's signature value. A valid one proves the
/// signature existed at its time and lifts the level to B-T; a broken one is reported and
/// proves nothing.
fn signature_timestamps(si: &SignerInfo, ctx: &ValidationContext, r: &mut SignatureReport) -> Option<UnixTime> {
    let mut earliest: Option<UnixTime> = None;
    let tokens = si
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .filter(|a| a.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
        .flat_map(|a| a.values.iter());
    for value in tokens {
        let Ok(token) = value.to_der() else { continue };
        let v = crate::timestamp::verify_token(&token, ctx);
        let Some(info) = v.info else {
            r.warn(
                "signature-timestamp",
                format!("unreadable time-stamp token: {}", v.report.summary),
            );
            continue;
        };
        let expected = signet_crypto::digest::hash(info.hash, si.signature.as_bytes());
        let tsa = v.report.signer.as_ref().map(|s| s.subject.clone()).unwrap_or_default();
        if expected != info.imprint {
            r.warn(
                "signature-timestamp",
                "a time-stamp token stamps something other than this signature value",
            );
        } else if !v.report.passed() {
            r.warn(
                "signature-timestamp",
                format!("the time-stamp by {tsa} does not validate: {}", v.report.summary),
            );
        } else {
            let at = info.gen_time_precise.format();
            r.pass(
                "signature-timestamp",
                format!("the signature existed at {at} (time-stamped by {tsa})"),
            );
            if earliest.is_none_or(|e| info.gen_time < e) {
                r.timestamp_time = Some(at);
                r.timestamp_precision = Some(info.gen_time_precise.precision());
                r.timestamp_accuracy = info.accuracy.clone();
                r.timestamp_chain = v.report.chain.clone();
            }
            if r.level.as_deref() == Some("CAdES-B-B") {
                r.level = Some("CAdES-B-T".into());
            }
            earliest = Some(earliest.map_or(info.gen_time, |e| e.min(info.gen_time)));
        }
    }
    earliest
}

/// Whether `needle` occurs in `hay` (the received file). memmem is linear in the input, so a
/// 256 MiB attached content cannot turn this search quadratic.
fn contains_from_end(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::rfind(hay, needle).is_some()
}
