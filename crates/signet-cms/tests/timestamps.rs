//! RFC 3161 round trip inside Signet: request → our TSA's response → client checks → token
//! verification with the TSA's root; and the refusals (wrong imprint, wrong nonce, a TSA
//! certificate without the timeStamping EKU, malformed requests).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use signet_cms::timestamp::{self, TsaPolicy};
use signet_cms::{VerifyInput, VerifyOptions};
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
    let v = timestamp::verify_token(
        VerifyInput {
            cms: &token,
            detached: None,
            trust_anchors: std::slice::from_ref(&root),
            extra_certs: &[],
            crls: &[],
        },
        &VerifyOptions::new(now()),
    );
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
