//! CAdES B-LT revocation values inside the SignedData (ETSI EN 319 122-1 §5.5.2): CRLs and
//! RFC 5940 OCSP responses in the `crls` field are decoded and used by path validation.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

use signet_cms::VerifyInput;
use signet_crypto::{HashAlgorithm, KeyAlgorithm, PrivateKey, Signer, SoftwareSigner};
use signet_pki::issue::{self, Profile, Template};
use signet_pki::name::SubjectSpec;
use signet_pki::ocsp::{self, CertStatus};
use signet_pki::{Certificate, raw};

const NOW: i64 = 1_800_000_000;

fn key() -> SoftwareSigner {
    SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
}

fn cert(
    cn: &str,
    k: &SoftwareSigner,
    profile: Profile,
    issuer: Option<(&Certificate, &SoftwareSigner)>,
) -> Certificate {
    let name = SubjectSpec {
        common_name: cn.into(),
        ..Default::default()
    }
    .to_name()
    .unwrap();
    let t = Template::new(
        name,
        k.public_key_der().unwrap(),
        profile,
        NOW - 86_400,
        NOW + 86_400 * 365,
    );
    match issuer {
        Some((c, ik)) => issue::issue(&t, Some(c), ik).unwrap(),
        None => issue::issue(&t, None, k).unwrap(),
    }
}

/// The elements inside the constructed element `data`.
fn children(data: &[u8]) -> Vec<Vec<u8>> {
    raw::children(data).into_iter().map(|r| data[r].to_vec()).collect()
}

/// The ContentInfo with a `crls` field holding `choices` put before the SignerInfos (nothing
/// signed changes: the field is outside every signature).
fn with_revocation_info(ci: &[u8], choices: &[Vec<u8>]) -> Vec<u8> {
    let top = children(ci);
    let sd = children(&top[1])[0].clone();
    let mut parts = children(&sd);
    let signer_infos = parts.pop().unwrap();
    parts.push(raw::tlv(0xa1, &choices.concat()));
    parts.push(signer_infos);
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let sd = raw::sequence(&refs);
    raw::sequence(&[&top[0], &raw::tlv(0xa0, &sd)])
}

/// RevocationInfoChoice `other` with an OCSP response (RFC 5940).
fn other_ocsp(response: &[u8]) -> Vec<u8> {
    let oid = der::Encode::to_der(&signet_cms::signed_data::ID_RI_OCSP_RESPONSE).unwrap();
    raw::tlv(0xa1, &[oid, response.to_vec()].concat())
}

#[test]
fn ocsp_responses_and_crls_in_the_signed_data_are_used() {
    let (ca_key, leaf_key) = (key(), key());
    let ca = cert("CAdES CA", &ca_key, Profile::RootCa { path_len: None }, None);
    let leaf = cert("Signer", &leaf_key, Profile::Signer, Some((&ca, &ca_key)));
    let signer = leaf_key.with_chain(vec![leaf.der().to_vec()]);
    let content = b"a purchase request";
    let digest = signet_crypto::digest::hash(HashAlgorithm::Sha256, content);
    let cms = signet_cms::sign_digest(&digest, None, &signer, &Default::default()).unwrap();
    let verify = |cms: &[u8]| {
        let mut data: &[u8] = content;
        signet_cms::verify(
            VerifyInput {
                cms,
                detached: Some(&mut data),
            },
            &signet_pki::ValidationContext::new(vec![ca.clone()], NOW),
        )
    };
    let answer = |status| {
        let req = ocsp::request(&leaf, &ca, b"n").unwrap();
        ocsp::respond(&req, &ca, &ca_key, &|_| status, NOW - 60, 3600).unwrap()
    };
    let revocation_checks = |r: &signet_pki::ValidationReport| -> String {
        r.signatures[0]
            .checks
            .iter()
            .filter(|c| c.id == "revocation")
            .map(|c| c.detail.clone())
            .collect()
    };

    let plain = verify(&cms);
    assert!(plain.signatures[0].passed(), "{}", plain.render_text());
    assert!(
        revocation_checks(&plain).contains("not checked"),
        "{}",
        plain.render_text()
    );

    // A "good" OCSP answer as RFC 5940 `other` revocation info: decoded (the SignedData still
    // reads) and used.
    let good = with_revocation_info(&cms, &[other_ocsp(&answer(CertStatus::Good))]);
    let r = verify(&good);
    assert!(r.signatures[0].passed(), "{}", r.render_text());
    assert!(
        revocation_checks(&r).contains("not revoked (OCSP response of"),
        "{}",
        r.render_text()
    );

    // "revoked" fails the signature.
    let revoked = CertStatus::Revoked {
        time: NOW - 3600,
        reason: Some(1),
    };
    let bad = with_revocation_info(&cms, &[other_ocsp(&answer(revoked))]);
    let r = verify(&bad);
    assert_eq!(
        r.signatures[0].sub_indication.map(|s| s.as_str()),
        Some("REVOKED_NO_POE".to_string()),
        "{}",
        r.render_text()
    );

    // A CRL choice next to the OCSP one: both read; the CRL listing the signer fails it too.
    let crl = signet_pki::crl::build(
        &ca,
        &ca_key,
        &[signet_pki::crl::RevokedEntry {
            serial: leaf.serial().to_vec(),
            revocation_time: NOW - 3600,
            reason: Some(1),
        }],
        NOW - 60,
        NOW + 3600,
        1,
    )
    .unwrap();
    let mixed = with_revocation_info(&cms, &[crl.der().to_vec(), other_ocsp(&answer(CertStatus::Good))]);
    let r = verify(&mixed);
    assert_eq!(
        r.signatures[0].sub_indication.map(|s| s.as_str()),
        Some("REVOKED_NO_POE".to_string())
    );
    // And the certificates of such a SignedData are still found for long-term validation data.
    assert_eq!(signet_cms::certificates_of(&mixed), vec![leaf.der().to_vec()]);

    // An unknown `other` format and junk inside are skipped, not fatal.
    let junk = with_revocation_info(&cms, &[raw::tlv(0xa1, &[0x06, 0x03, 0x2a, 0x03, 0x04, 0x05, 0x00])]);
    assert!(verify(&junk).signatures[0].passed());
}
