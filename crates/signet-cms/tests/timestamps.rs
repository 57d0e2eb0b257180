//! RFC 3161 round trip inside Signet: request → our TSA's response → client checks → token
//! verification with the TSA's root; and the refusals (wrong imprint, wrong nonce, a TSA
//! certificate without the timeStamping EKU, malformed requests).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use signet_cms::VerifyInput;
use signet_cms::timestamp::{self, TsaPolicy};
use signet_crypto::{HashAlgorithm, KeyAlgorithm, PrivateKey, Signer, SoftwareSigner};
use signet_pki::issue::{self, Profile, Template};
use signet_pki::name::SubjectSpec;
use signet_pki::time::now;

fn name(cn: &str) -> x509_cert::name::Name {
    SubjectSpec {
        common_name: cn.into(),
        ..Default::default()
    }
    .to_name()
    .unwrap()
}

/// (root, TSA signer with its chain, a signer whose certificate is for documents).
fn fixture() -> (signet_pki::Certificate, SoftwareSigner, SoftwareSigner) {
    let root_key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let t = Template::new(
        name("TSA Root"),
        root_key.public_key_der().unwrap(),
        Profile::RootCa { path_len: None },
        now() - 3600,
        now() + 86_400,
    );
    let root = issue::issue(&t, None, &root_key).unwrap();
    let mk = |profile: Profile, cn: &str| {
        let key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
        let t = Template::new(
            name(cn),
            key.public_key_der().unwrap(),
            profile,
            now() - 3600,
            now() + 86_400,
        );
        let cert = issue::issue(&t, Some(&root), &root_key).unwrap();
        key.with_chain(vec![cert.der().to_vec(), root.der().to_vec()])
    };
    (
        root.clone(),
        mk(Profile::TimeStamping, "TSA"),
        mk(Profile::Signer, "Not a TSA"),
    )
}

fn policy() -> TsaPolicy {
    TsaPolicy {
        policy: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
        accuracy_secs: 1,
        precision_digits: 3,
    }
}

#[test]
fn round_trip_and_refusals() {
    let (root, tsa, not_tsa) = fixture();
    let imprint = signet_crypto::digest::hash(HashAlgorithm::Sha256, b"signature value");
    let nonce = [0x11, 0x22, 0x33, 0x44];
    let req = timestamp::request(HashAlgorithm::Sha256, &imprint, &nonce).unwrap();
    let resp = timestamp::respond(&req, &tsa, &policy(), &[0x01, 0x02], now()).unwrap();
    let token = timestamp::token_from_response(&resp, HashAlgorithm::Sha256, &imprint, &nonce, now()).unwrap();
    let v = timestamp::verify_token(&token, &signet_pki::ValidationContext::new(vec![root.clone()], now()));
    assert!(v.report.passed(), "{}", v.report.render_text());
    let info = v.info.unwrap();
    assert_eq!(info.imprint, imprint);
    assert!((info.gen_time - now()).abs() < 5);
    // The client refuses an answer for other data, or without our nonce.
    let other = signet_crypto::digest::hash(HashAlgorithm::Sha256, b"something else");
    assert!(timestamp::token_from_response(&resp, HashAlgorithm::Sha256, &other, &nonce, now()).is_err());
    assert!(timestamp::token_from_response(&resp, HashAlgorithm::Sha256, &imprint, &[9, 9], now()).is_err());
    // A token from a key whose certificate is not a TSA's.
    let bad = timestamp::respond(&req, &not_tsa, &policy(), &[3], now()).unwrap();
    let e = timestamp::token_from_response(&bad, HashAlgorithm::Sha256, &imprint, &nonce, now()).unwrap_err();
    assert!(e.contains("timeStamping"), "{e}");
    // Malformed or unsupported requests are rejections, not panics.
    for junk in [&b""[..], b"\x30\x00", b"garbage"] {
        let r = timestamp::respond(junk, &tsa, &policy(), &[4], now()).unwrap();
        let e = timestamp::token_from_response(&r, HashAlgorithm::Sha256, &imprint, &nonce, now()).unwrap_err();
        assert!(e.contains("refused"), "{e}");
    }
    let short = timestamp::request(HashAlgorithm::Sha256, &imprint[..10], &nonce).unwrap();
    let r = timestamp::respond(&short, &tsa, &policy(), &[5], now()).unwrap();
    assert!(timestamp::token_from_response(&r, HashAlgorithm::Sha256, &imprint[..10], &nonce, now()).is_err());
}

/// A signer certificate valid from `from` to `to` (relative to now, seconds), issued by a
/// fresh root that also issues the TSA. Returns (root, signer, tsa).
fn signer_and_tsa(from: i64, to: i64) -> (signet_pki::Certificate, SoftwareSigner, SoftwareSigner) {
    let root_key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let t = Template::new(
        name("Root"),
        root_key.public_key_der().unwrap(),
        Profile::RootCa { path_len: None },
        now() - 86_400 * 10,
        now() + 86_400 * 10,
    );
    let root = issue::issue(&t, None, &root_key).unwrap();
    let mk = |profile: Profile, cn: &str, a: i64, b: i64| {
        let key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
        let t = Template::new(name(cn), key.public_key_der().unwrap(), profile, now() + a, now() + b);
        let cert = issue::issue(&t, Some(&root), &root_key).unwrap();
        key.with_chain(vec![cert.der().to_vec()])
    };
    (
        root.clone(),
        mk(Profile::Signer, "Signer", from, to),
        mk(Profile::TimeStamping, "TSA", -3600, 86_400),
    )
}

/// Signs `content` detached with a signature time-stamp from `tsa` over `stamped(signature)`.
fn sign_stamped(
    content: &[u8],
    signer: &SoftwareSigner,
    tsa: &SoftwareSigner,
    stamped: &dyn Fn(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let digest = signet_crypto::digest::hash(HashAlgorithm::Sha256, content);
    let mut stamp = |sig: &[u8]| -> Result<Vec<u8>, String> {
        let imprint = signet_crypto::digest::hash(HashAlgorithm::Sha256, &stamped(sig));
        let req = timestamp::request(HashAlgorithm::Sha256, &imprint, &[7]).map_err(|e| e.to_string())?;
        let resp = timestamp::respond(&req, tsa, &policy(), &[9], now()).map_err(|e| e.to_string())?;
        timestamp::token_from_response(&resp, HashAlgorithm::Sha256, &imprint, &[7], now())
    };
    signet_cms::sign_digest_stamped(&digest, None, signer, &Default::default(), Some(&mut stamp)).unwrap()
}

fn verify_detached(cms: &[u8], content: &[u8], root: &signet_pki::Certificate) -> signet_pki::SignatureReport {
    let mut r = content;
    signet_cms::verify(
        VerifyInput {
            cms,
            detached: Some(&mut r),
        },
        &signet_pki::ValidationContext::new(vec![root.clone()], now()),
    )
    .signatures
    .remove(0)
}

/// security.md items 69–73.
#[test]
fn time_stamp_items_69_to_73() {
    let content = b"payment request";
    let (root, signer, tsa) = signer_and_tsa(-3600, 86_400);
    // A genuine B-T signature for reference.
    let good = sign_stamped(content, &signer, &tsa, &|sig| sig.to_vec());
    let r = verify_detached(&good, content, &root);
    assert!(
        r.passed() && r.level.as_deref() == Some("CAdES-B-T"),
        "{}",
        r.render_text()
    );
    // 69: the token stamps another signature value: no B-T, no proven time.
    let other = sign_stamped(content, &signer, &tsa, &|_| b"another signature".to_vec());
    let r = verify_detached(&other, content, &root);
    assert_eq!(r.level.as_deref(), Some("CAdES-B-B"), "{}", r.render_text());
    assert!(r.timestamp_time.is_none());
    assert!(
        r.checks
            .iter()
            .any(|c| c.id == "signature-timestamp" && c.detail.contains("something other"))
    );
    // 70 (signer side): a reply without our nonce is refused.
    let imprint = signet_crypto::digest::hash(HashAlgorithm::Sha256, b"x");
    let req = timestamp::request(HashAlgorithm::Sha256, &imprint, &[1, 2]).unwrap();
    let resp = timestamp::respond(&req, &tsa, &policy(), &[3], now()).unwrap();
    let e = timestamp::token_from_response(&resp, HashAlgorithm::Sha256, &imprint, &[1, 3], now()).unwrap_err();
    assert!(e.contains("nonce"), "{e}");
    // 71: a TSA certificate without the timeStamping EKU (a document signer's) is refused.
    let e = {
        let resp = timestamp::respond(&req, &signer, &policy(), &[4], now()).unwrap();
        timestamp::token_from_response(&resp, HashAlgorithm::Sha256, &imprint, &[1, 2], now()).unwrap_err()
    };
    assert!(e.contains("timeStamping"), "{e}");
    // 72: a rejection status; a token whose content is not a TSTInfo; a tampered TSTInfo.
    let rejected = timestamp::respond(b"junk", &tsa, &policy(), &[5], now()).unwrap();
    assert!(timestamp::token_from_response(&rejected, HashAlgorithm::Sha256, &imprint, &[1, 2], now()).is_err());
    assert!(timestamp::tst_info(&good).unwrap_err().contains("not a TSTInfo"));
    let token = timestamp::token_from_response(&resp, HashAlgorithm::Sha256, &imprint, &[1, 2], now()).unwrap();
    let at = token.windows(imprint.len()).position(|w| w == imprint).unwrap();
    let mut tampered = token.clone();
    tampered[at] ^= 1;
    let v = timestamp::verify_token(
        &tampered,
        &signet_pki::ValidationContext::new(vec![root.clone()], now()),
    );
    assert!(!v.report.passed(), "a tampered TSTInfo must not verify");
    // 73: time-stamped after the signer's certificate expired: the proof of existence comes too
    // late, so the path fails at the time-stamp's time.
    let (root2, expired, tsa2) = signer_and_tsa(-86_400 * 2, -86_400);
    let late = sign_stamped(content, &expired, &tsa2, &|sig| sig.to_vec());
    let r = verify_detached(&late, content, &root2);
    assert!(!r.passed(), "{}", r.render_text());
    assert!(
        r.checks
            .iter()
            .any(|c| c.id == "certificate-path" && c.detail.contains("expired")),
        "{}",
        r.render_text()
    );
}
