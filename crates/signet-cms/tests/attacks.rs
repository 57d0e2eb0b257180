//! security.md §6 items 53–61, 64 and 68: malformed or tampered CMS, each with the verdict it
//! requires. Structures are assembled from raw DER so that every attack is signed properly and
//! only the rule under test can catch it; `raw_baseline_passes` proves the assembler is sound.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Encode;
use signet_cms::attributes::*;
use signet_cms::{VerifyInput, verify};
use signet_crypto::{HashAlgorithm, KeyAlgorithm, PrivateKey, SignatureAlgorithm, Signer, SoftwareSigner, digest};
use signet_pki::ValidationContext;
use signet_pki::issue::{self, Profile, Template};
use signet_pki::name::SubjectSpec;
use signet_pki::{Certificate, CheckStatus, Indication, SubIndication, ValidationReport};

const CONTENT: &[u8] = b"Payment request #42: 1,000.00 EUR to ACME GmbH";

fn now() -> i64 {
    signet_pki::time::now()
}

struct Fx {
    root: Certificate,
    root_key: SoftwareSigner,
    leaf: Certificate,
    key: SoftwareSigner,
}

fn fixture(alg: KeyAlgorithm) -> Fx {
    let root_key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let n = |cn: &str| {
        SubjectSpec {
            common_name: cn.into(),
            ..Default::default()
        }
        .to_name()
        .unwrap()
    };
    let t = Template::new(
        n("Root"),
        root_key.public_key_der().unwrap(),
        Profile::RootCa { path_len: None },
        now() - 3600,
        now() + 86_400 * 30,
    );
    let root = issue::issue(&t, None, &root_key).unwrap();
    let key = SoftwareSigner::new(PrivateKey::generate(alg).unwrap());
    let t = Template::new(
        n("Signer"),
        key.public_key_der().unwrap(),
        Profile::Signer,
        now() - 3600,
        now() + 86_400 * 10,
    );
    let leaf = issue::issue(&t, Some(&root), &root_key).unwrap();
    Fx {
        root,
        root_key,
        leaf,
        key,
    }
}

// ---- raw DER assembly ----

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}
fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    signet_pki::raw::tlv(0x30, &cat(parts))
}
fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    signet_pki::raw::tlv(0x31, &cat(parts))
}
fn oid(o: ObjectIdentifier) -> Vec<u8> {
    o.to_der().unwrap()
}
fn octets(b: &[u8]) -> Vec<u8> {
    signet_pki::raw::tlv(0x04, b)
}
fn attribute(o: ObjectIdentifier, values: &[Vec<u8>]) -> Vec<u8> {
    seq(&[oid(o), set(values)])
}
fn alg_id(o: ObjectIdentifier, null: bool) -> Vec<u8> {
    if null {
        seq(&[oid(o), vec![0x05, 0x00]])
    } else {
        seq(&[oid(o)])
    }
}

fn ess_v2(cert: &Certificate) -> Vec<u8> {
    // SigningCertificateV2 { certs: [ ESSCertIDv2 { certHash } ] }
    seq(&[seq(&[seq(&[octets(&digest::hash(HashAlgorithm::Sha256, cert.der()))])])])
}

fn algprot(digest_alg: &[u8], sig_alg: &[u8]) -> Vec<u8> {
    // CMSAlgorithmProtection { digestAlgorithm, [1] IMPLICIT signatureAlgorithm }
    let mut sig = sig_alg.to_vec();
    sig[0] = 0xA1;
    seq(&[digest_alg.to_vec(), sig])
}

struct Raw {
    attrs: Vec<Vec<u8>>,
    digest_alg: Vec<u8>,
    sig_alg: Vec<u8>,
    certs: Vec<Vec<u8>>,
    sid: Vec<u8>,
    econtent_type: ObjectIdentifier,
}

fn standard(fx: &Fx, content: &[u8]) -> Raw {
    let alg = fx.key.signature_algorithm();
    let h = alg.hash();
    let digest_alg = alg_id(h.oid(), false);
    let sig_alg = alg.algorithm_identifier().unwrap().to_der().unwrap();
    let attrs = vec![
        attribute(ID_CONTENT_TYPE, &[oid(ID_DATA)]),
        attribute(ID_MESSAGE_DIGEST, &[octets(&digest::hash(h, content))]),
        attribute(ID_AA_SIGNING_CERTIFICATE_V2, &[ess_v2(&fx.leaf)]),
        attribute(ID_AA_CMS_ALGORITHM_PROTECTION, &[algprot(&digest_alg, &sig_alg)]),
    ];
    let sid = seq(&[
        fx.leaf.issuer().to_der().unwrap(),
        signet_pki::raw::tlv(0x02, fx.leaf.serial()),
    ]);
    Raw {
        attrs,
        digest_alg,
        sig_alg,
        certs: vec![fx.leaf.der().to_vec()],
        sid,
        econtent_type: ID_DATA,
    }
}

fn sorted_set(attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut a = attrs.to_vec();
    a.sort();
    set(&a)
}

/// Assembles ContentInfo(SignedData) with `embedded_attrs` (a 0x31 SET) in the SignerInfo and
/// `signature` as the signature value.
fn assemble(r: &Raw, embedded_attrs: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut a0 = embedded_attrs.to_vec();
    a0[0] = 0xA0;
    let si = seq(&[
        signet_pki::raw::tlv(0x02, &[1]),
        r.sid.clone(),
        r.digest_alg.clone(),
        a0,
        r.sig_alg.clone(),
        octets(signature),
    ]);
    let mut parts = vec![
        signet_pki::raw::tlv(0x02, &[1]),
        set(std::slice::from_ref(&r.digest_alg)),
        seq(&[oid(r.econtent_type)]),
    ];
    if !r.certs.is_empty() {
        parts.push(signet_pki::raw::tlv(0xA0, &cat(&r.certs)));
    }
    parts.push(set(&[si]));
    let sd = seq(&parts);
    seq(&[oid(ID_SIGNED_DATA), signet_pki::raw::tlv(0xA0, &sd)])
}

/// Signs the (sorted) attributes properly and assembles.
fn build(fx: &Fx, r: &Raw) -> Vec<u8> {
    let s = sorted_set(&r.attrs);
    let sig = fx.key.sign(&s).unwrap();
    assemble(r, &s, &sig)
}

fn check(fx: &Fx, cms: &[u8], content: &[u8], extra: &[Certificate]) -> ValidationReport {
    let mut c = content;
    verify(
        VerifyInput {
            cms,
            detached: Some(&mut c),
        },
        &ValidationContext::new(vec![fx.root.clone()], now()).with_certificates(extra.to_vec()),
    )
}

fn verdict(r: &ValidationReport) -> (Indication, Option<SubIndication>) {
    assert_eq!(r.signatures.len(), 1, "{}", r.render_text());
    (r.signatures[0].indication, r.signatures[0].sub_indication)
}

fn check_passed(r: &ValidationReport, id: &str) -> bool {
    r.signatures[0]
        .checks
        .iter()
        .any(|c| c.id == id && c.status == CheckStatus::Passed)
}

#[test]
fn raw_baseline_passes() {
    for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
        let fx = fixture(alg);
        let cms = build(&fx, &standard(&fx, CONTENT));
        let r = check(&fx, &cms, CONTENT, &[]);
        assert_eq!(
            verdict(&r),
            (Indication::TotalPassed, None),
            "{alg:?}\n{}",
            r.render_text()
        );
        assert_eq!(r.signatures[0].level.as_deref(), Some("CAdES-B-B"));
    }
}

#[test]
fn library_signature_passes_and_survives_only_unchanged_content() {
    let fx = fixture(KeyAlgorithm::EcdsaP384);
    // The fixture's key, through the library's own SignedData builder with the full chain.
    let s = SoftwareSigner::new(PrivateKey::from_pkcs8_der(&fx.key.key().to_pkcs8_der().unwrap()).unwrap())
        .with_chain(vec![fx.leaf.der().to_vec(), fx.root.der().to_vec()]);
    let cms = signet_cms::sign_detached_reader(CONTENT, &s, &Default::default()).unwrap();
    assert_eq!(
        verdict(&check(&fx, &cms, CONTENT, &[])),
        (Indication::TotalPassed, None)
    );
}

#[test]
fn item53_changed_content_is_hash_failure() {
    let fx = fixture(KeyAlgorithm::Rsa2048);
    let cms = build(&fx, &standard(&fx, CONTENT));
    let mut tampered = CONTENT.to_vec();
    tampered[20] ^= 0x01;
    assert_eq!(
        verdict(&check(&fx, &cms, &tampered, &[])),
        (Indication::TotalFailed, Some(SubIndication::HASH_FAILURE))
    );
    // Every single-bit flip anywhere in the content is caught.
    for i in 0..CONTENT.len() {
        let mut t = CONTENT.to_vec();
        t[i] ^= 1 << (i % 8);
        assert_eq!(
            verdict(&check(&fx, &cms, &t, &[])).1,
            Some(SubIndication::HASH_FAILURE),
            "byte {i}"
        );
    }
}

#[test]
fn item54_flipped_signature_bit_is_sig_crypto_failure() {
    for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
        let fx = fixture(alg);
        let r = standard(&fx, CONTENT);
        let s = sorted_set(&r.attrs);
        let mut sig = fx.key.sign(&s).unwrap();
        let mid = sig.len() / 2;
        sig[mid] ^= 0x10;
        let rep = check(&fx, &assemble(&r, &s, &sig), CONTENT, &[]);
        assert_eq!(
            verdict(&rep),
            (Indication::TotalFailed, Some(SubIndication::SIG_CRYPTO_FAILURE)),
            "{alg:?}"
        );
        assert!(check_passed(&rep, "message-digest"), "intact but not valid");
    }
}

#[test]
fn item55_tampered_signed_attributes_are_intact_but_invalid() {
    let fx = fixture(KeyAlgorithm::Rsa2048);
    let r = standard(&fx, CONTENT);
    let signed = sorted_set(&r.attrs);
    let sig = fx.key.sign(&signed).unwrap();
    // (a) delete CMSAlgorithmProtection; (b) add a signing-time; both without re-signing.
    let mut fewer = r.attrs.clone();
    fewer.retain(|a| {
        !a.windows(oid(ID_AA_CMS_ALGORITHM_PROTECTION).len())
            .any(|w| w == oid(ID_AA_CMS_ALGORITHM_PROTECTION))
    });
    assert_eq!(fewer.len(), 3);
    let mut more = r.attrs.clone();
    more.push(attribute(
        ID_SIGNING_TIME,
        &[signet_pki::time::to_x509(now()).unwrap().to_der().unwrap()],
    ));
    for attrs in [fewer, more] {
        let rep = check(&fx, &assemble(&r, &sorted_set(&attrs), &sig), CONTENT, &[]);
        assert_eq!(
            verdict(&rep),
            (Indication::TotalFailed, Some(SubIndication::SIG_CRYPTO_FAILURE))
        );
        assert!(check_passed(&rep, "message-digest"));
    }
}

fn without(attrs: &[Vec<u8>], o: ObjectIdentifier) -> Vec<Vec<u8>> {
    let needle = oid(o);
    attrs
        .iter()
        .filter(|a| {
            let (h, _) = signet_pki::raw::header(a, 0).unwrap();
            !a[h..].starts_with(&needle)
        })
        .cloned()
        .collect()
}

fn format_failure(fx: &Fx, r: &Raw) {
    let rep = check(fx, &build(fx, r), CONTENT, &[]);
    assert_eq!(
        verdict(&rep),
        (Indication::TotalFailed, Some(SubIndication::FORMAT_FAILURE)),
        "{}",
        rep.render_text()
    );
}

#[test]
fn item56_content_type_rules() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    // missing
    let mut r = standard(&fx, CONTENT);
    r.attrs = without(&r.attrs, ID_CONTENT_TYPE);
    assert_eq!(r.attrs.len(), 3);
    format_failure(&fx, &r);
    // duplicated attribute
    let mut r = standard(&fx, CONTENT);
    r.attrs.push(attribute(ID_CONTENT_TYPE, &[oid(ID_DATA)]));
    format_failure(&fx, &r);
    // two values
    let mut r = standard(&fx, CONTENT);
    r.attrs = without(&r.attrs, ID_CONTENT_TYPE);
    r.attrs
        .push(attribute(ID_CONTENT_TYPE, &[oid(ID_DATA), oid(ID_SIGNED_DATA)]));
    format_failure(&fx, &r);
    // wrong content type (envelopedData) for id-data content
    let mut r = standard(&fx, CONTENT);
    r.attrs = without(&r.attrs, ID_CONTENT_TYPE);
    r.attrs.push(attribute(
        ID_CONTENT_TYPE,
        &[oid(ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3"))],
    ));
    format_failure(&fx, &r);
}

#[test]
fn item57_message_digest_rules() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    let mut r = standard(&fx, CONTENT);
    r.attrs = without(&r.attrs, ID_MESSAGE_DIGEST);
    format_failure(&fx, &r);
    let mut r = standard(&fx, CONTENT);
    r.attrs = without(&r.attrs, ID_MESSAGE_DIGEST);
    let d = digest::hash(HashAlgorithm::Sha256, CONTENT);
    r.attrs
        .push(attribute(ID_MESSAGE_DIGEST, &[octets(&d), octets(&[0u8; 32])]));
    format_failure(&fx, &r);
}

#[test]
fn item58_ess_naming_another_certificate_is_no_signing_certificate_found() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    // A second certificate for the same key (a substitution attack's raw material).
    let n = SubjectSpec {
        common_name: "Signer (other cert)".into(),
        ..Default::default()
    }
    .to_name()
    .unwrap();
    let t = Template::new(
        n,
        fx.key.public_key_der().unwrap(),
        Profile::Signer,
        now() - 3600,
        now() + 86_400,
    );
    let other = issue::issue(&t, Some(&fx.root), &fx.root_key).unwrap();
    let mut r = standard(&fx, CONTENT);
    r.attrs = without(&r.attrs, ID_AA_SIGNING_CERTIFICATE_V2);
    r.attrs.push(attribute(ID_AA_SIGNING_CERTIFICATE_V2, &[ess_v2(&other)]));
    let rep = check(&fx, &build(&fx, &r), CONTENT, &[]);
    assert_eq!(
        verdict(&rep),
        (
            Indication::Indeterminate,
            Some(SubIndication::NO_SIGNING_CERTIFICATE_FOUND)
        )
    );
}

#[test]
fn item59_duplicated_ess_attribute_is_format_failure() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    let mut r = standard(&fx, CONTENT);
    r.attrs
        .push(attribute(ID_AA_SIGNING_CERTIFICATE_V2, &[ess_v2(&fx.root)]));
    format_failure(&fx, &r);
}

#[test]
fn item60_algorithm_protection_mismatch_is_format_failure() {
    let fx = fixture(KeyAlgorithm::Rsa2048);
    let mut r = standard(&fx, CONTENT);
    r.attrs = without(&r.attrs, ID_AA_CMS_ALGORITHM_PROTECTION);
    let sha1_rsa = alg_id(rfc5912::SHA_1_WITH_RSA_ENCRYPTION, true);
    r.attrs.push(attribute(
        ID_AA_CMS_ALGORITHM_PROTECTION,
        &[algprot(&alg_id(HashAlgorithm::Sha1.oid(), false), &sha1_rsa)],
    ));
    format_failure(&fx, &r);
}

#[test]
fn item61_algorithm_confusion() {
    // sha256WithRSAEncryption as signature algorithm, SHA-512 as digest algorithm.
    let fx = fixture(KeyAlgorithm::Rsa2048);
    let mut r = standard(&fx, CONTENT);
    r.digest_alg = alg_id(HashAlgorithm::Sha512.oid(), false);
    r.attrs = without(&r.attrs, ID_MESSAGE_DIGEST);
    r.attrs = without(&r.attrs, ID_AA_CMS_ALGORITHM_PROTECTION);
    r.attrs.push(attribute(
        ID_MESSAGE_DIGEST,
        &[octets(&digest::hash(HashAlgorithm::Sha512, CONTENT))],
    ));
    format_failure(&fx, &r);
    // An ECDSA key with an RSA signature algorithm identifier.
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    let mut r = standard(&fx, CONTENT);
    r.sig_alg = SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256)
        .algorithm_identifier()
        .unwrap()
        .to_der()
        .unwrap();
    r.attrs = without(&r.attrs, ID_AA_CMS_ALGORITHM_PROTECTION);
    let rep = check(&fx, &build(&fx, &r), CONTENT, &[]);
    assert_eq!(
        verdict(&rep),
        (Indication::TotalFailed, Some(SubIndication::SIG_CRYPTO_FAILURE)),
        "{}",
        rep.render_text()
    );
    // Ed25519 must use SHA-512 (RFC 8419).
    let fx = fixture(KeyAlgorithm::Ed25519);
    let mut r = standard(&fx, CONTENT);
    r.digest_alg = alg_id(HashAlgorithm::Sha256.oid(), false);
    r.attrs = without(&r.attrs, ID_MESSAGE_DIGEST);
    r.attrs = without(&r.attrs, ID_AA_CMS_ALGORITHM_PROTECTION);
    r.attrs.push(attribute(
        ID_MESSAGE_DIGEST,
        &[octets(&digest::hash(HashAlgorithm::Sha256, CONTENT))],
    ));
    format_failure(&fx, &r);
}

#[test]
fn item64_signer_certificate_missing_or_ambiguous() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    let mut r = standard(&fx, CONTENT);
    r.certs.clear();
    let cms = build(&fx, &r);
    assert_eq!(
        verdict(&check(&fx, &cms, CONTENT, &[])),
        (
            Indication::Indeterminate,
            Some(SubIndication::NO_SIGNING_CERTIFICATE_FOUND)
        )
    );
    // Supplying the certificate separately resolves it.
    assert_eq!(
        verdict(&check(&fx, &cms, CONTENT, std::slice::from_ref(&fx.leaf))),
        (Indication::TotalPassed, None)
    );
    // Two different certificates with the signer's issuer and serial.
    let k2 = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let n = SubjectSpec {
        common_name: "Twin".into(),
        ..Default::default()
    }
    .to_name()
    .unwrap();
    let mut t = Template::new(
        n,
        k2.public_key_der().unwrap(),
        Profile::Signer,
        now() - 3600,
        now() + 86_400,
    );
    t.serial = Some(fx.leaf.serial().to_vec());
    let twin = issue::issue(&t, Some(&fx.root), &fx.root_key).unwrap();
    let mut r = standard(&fx, CONTENT);
    r.certs.push(twin.der().to_vec());
    let rep = check(&fx, &build(&fx, &r), CONTENT, &[]);
    assert_eq!(
        verdict(&rep),
        (
            Indication::Indeterminate,
            Some(SubIndication::NO_SIGNING_CERTIFICATE_FOUND)
        )
    );
}

#[test]
fn subject_key_identifier_signer_id_is_resolved() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    let mut r = standard(&fx, CONTENT);
    r.sid = signet_pki::raw::tlv(0x80, &fx.leaf.subject_key_id().unwrap().unwrap());
    let rep = check(&fx, &build(&fx, &r), CONTENT, &[]);
    assert_eq!(verdict(&rep), (Indication::TotalPassed, None), "{}", rep.render_text());
}

#[test]
fn item68_non_der_signed_attributes_are_refused_not_reencoded() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    let r = standard(&fx, CONTENT);
    let mut a = r.attrs.clone();
    a.sort();
    // SET with a long-form length for a short body: valid BER, not DER. Signed as such.
    let body = cat(&a);
    let mut ber_set = vec![0x31, 0x82, (body.len() >> 8) as u8, body.len() as u8];
    ber_set.extend_from_slice(&body);
    let sig = fx.key.sign(&ber_set).unwrap();
    let rep = check(&fx, &assemble(&r, &ber_set, &sig), CONTENT, &[]);
    let (ind, sub) = verdict(&rep);
    assert_ne!(ind, Indication::TotalPassed);
    assert_eq!(sub, Some(SubIndication::FORMAT_FAILURE), "{}", rep.render_text());
}

#[test]
fn garbage_truncated_and_deeply_nested_input_is_format_failure() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    let good = build(&fx, &standard(&fx, CONTENT));
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"hello".to_vec(),
        vec![0x30, 0x80],
        vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
    ];
    for cut in [1, 2, 10, good.len() / 2, good.len() - 1] {
        inputs.push(good[..cut].to_vec());
    }
    let mut deep = Vec::new();
    for _ in 0..100_000 {
        deep.extend_from_slice(&[0x30, 0x80]);
    }
    inputs.push(deep);
    for inp in inputs {
        let rep = check(&fx, &inp, CONTENT, &[]);
        assert_eq!(
            verdict(&rep),
            (Indication::TotalFailed, Some(SubIndication::FORMAT_FAILURE)),
            "{} bytes",
            inp.len()
        );
    }
}

#[test]
fn without_trust_anchor_the_verdict_is_no_chain() {
    let fx = fixture(KeyAlgorithm::EcdsaP256);
    let cms = build(&fx, &standard(&fx, CONTENT));
    let mut c = CONTENT;
    let rep = verify(
        VerifyInput {
            cms: &cms,
            detached: Some(&mut c),
        },
        &ValidationContext::new(Vec::new(), now()),
    );
    assert_eq!(
        verdict(&rep),
        (
            Indication::Indeterminate,
            Some(SubIndication::NO_CERTIFICATE_CHAIN_FOUND)
        )
    );
}
