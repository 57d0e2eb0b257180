//! security.md §6 item 75 and friends: each bad chain gets the verdict it requires.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

use const_oid::ObjectIdentifier;
use signet_crypto::{KeyAlgorithm, PrivateKey, Signer, SoftwareSigner};
use signet_pki::crl::{self, RevokedEntry};
use signet_pki::issue::{self, Profile, Template, build_and_sign, extension};
use signet_pki::name::SubjectSpec;
use signet_pki::path::{PathErrorKind, PathOptions, Purpose, RevocationMode, RevocationStatus, Validator};
use signet_pki::{Certificate, Crl, SubIndication};
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;

const NOW: i64 = 1_800_000_000; // 2027-01-15
const YEAR: i64 = 365 * 86_400;

fn key() -> SoftwareSigner {
    SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
}

fn name(cn: &str) -> x509_cert::name::Name {
    SubjectSpec {
        common_name: cn.into(),
        organization: Some("Test".into()),
        ..Default::default()
    }
    .to_name()
    .unwrap()
}

fn tpl(cn: &str, k: &SoftwareSigner, profile: Profile) -> Template {
    Template::new(name(cn), k.public_key_der().unwrap(), profile, NOW - YEAR, NOW + YEAR)
}

struct Pki {
    root_key: SoftwareSigner,
    root: Certificate,
    int_key: SoftwareSigner,
    int: Certificate,
    leaf_key: SoftwareSigner,
    leaf: Certificate,
}

fn pki() -> Pki {
    let root_key = key();
    let root = issue::issue(
        &tpl("Root", &root_key, Profile::RootCa { path_len: None }),
        None,
        &root_key,
    )
    .unwrap();
    let int_key = key();
    let int = issue::issue(
        &tpl("Issuing", &int_key, Profile::IssuingCa { path_len: Some(0) }),
        Some(&root),
        &root_key,
    )
    .unwrap();
    let leaf_key = key();
    let leaf = issue::issue(&tpl("Alice", &leaf_key, Profile::Signer), Some(&int), &int_key).unwrap();
    Pki {
        root_key,
        root,
        int_key,
        int,
        leaf_key,
        leaf,
    }
}

fn opts(time: i64) -> PathOptions {
    PathOptions::document_signing(time)
}

fn validate(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &[Certificate],
    crls: &[Crl],
    o: &PathOptions,
) -> Result<signet_pki::ValidatedPath, signet_pki::PathError> {
    Validator::new(anchors, pool, crls, o).validate(leaf)
}

#[test]
fn valid_chain_passes() {
    let p = pki();
    let path = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[], &opts(NOW)).unwrap();
    assert_eq!(path.certificates.len(), 3);
    let _ = (&p.root_key, &p.leaf_key);
}

#[test]
fn ca_false_intermediate_is_chain_constraints_failure() {
    let p = pki();
    // An "intermediate" that is a signer certificate (no cA) signs a leaf.
    let fake_key = key();
    let fake = build_and_sign(
        &tpl("Not A CA", &fake_key, Profile::Signer),
        p.root.subject().clone(),
        &p.root_key.public_key_der().unwrap(),
        &p.root_key,
    )
    .unwrap();
    let leaf_key = key();
    let leaf = build_and_sign(
        &tpl("Mallory", &leaf_key, Profile::Signer),
        fake.subject().clone(),
        &fake_key.public_key_der().unwrap(),
        &fake_key,
    )
    .unwrap();
    let e = validate(&leaf, &[fake], &[p.root.clone()], &[], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::NotCa, "{e}");
    assert_eq!(e.sub_indication(), SubIndication::CHAIN_CONSTRAINTS_FAILURE);
}

#[test]
fn path_length_exceeded() {
    let p = pki();
    // Issuing CA has pathLen 0, yet it certifies another CA that signs the leaf.
    let sub_key = key();
    let sub = build_and_sign(
        &tpl("Sub CA", &sub_key, Profile::IssuingCa { path_len: None }),
        p.int.subject().clone(),
        &p.int_key.public_key_der().unwrap(),
        &p.int_key,
    )
    .unwrap();
    let leaf_key = key();
    let leaf = issue::issue(&tpl("Bob", &leaf_key, Profile::Signer), Some(&sub), &sub_key).unwrap();
    let e = validate(&leaf, &[p.int.clone(), sub], &[p.root.clone()], &[], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::PathLength, "{e}");
    assert_eq!(e.sub_indication(), SubIndication::CHAIN_CONSTRAINTS_FAILURE);
}

#[test]
fn unknown_critical_extension_is_refused_but_non_critical_is_ignored() {
    let p = pki();
    let oid = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");
    for critical in [true, false] {
        let k = key();
        let mut t = tpl("Carol", &k, Profile::Signer);
        t.extra_extensions
            .push(extension(oid, critical, &der::asn1::Null).unwrap());
        let leaf = issue::issue(&t, Some(&p.int), &p.int_key).unwrap();
        let r = validate(&leaf, &[p.int.clone()], &[p.root.clone()], &[], &opts(NOW));
        if critical {
            assert_eq!(r.unwrap_err().kind, PathErrorKind::UnknownCriticalExtension);
        } else {
            r.unwrap();
        }
    }
}

#[test]
fn expired_and_not_yet_valid_are_out_of_bounds_without_poe() {
    let p = pki();
    let e = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[], &opts(NOW + 2 * YEAR)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::Expired);
    assert_eq!(e.sub_indication(), SubIndication::OUT_OF_BOUNDS_NO_POE);
    let e = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[], &opts(NOW - 2 * YEAR)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::NotYetValid);
    assert_eq!(e.sub_indication(), SubIndication::OUT_OF_BOUNDS_NO_POE);
}

fn crl_of(p: &Pki, entries: &[RevokedEntry], this: i64, next: i64) -> Crl {
    crl::build(&p.int, &p.int_key, entries, this, next, 1).unwrap()
}

#[test]
fn revoked_before_validation_time_fails_and_after_passes_with_a_note() {
    let p = pki();
    let entry = RevokedEntry {
        serial: p.leaf.serial().to_vec(),
        revocation_time: NOW - 86_400,
        reason: Some(1),
    };
    let c = crl_of(&p, &[entry], NOW - 3600, NOW + 86_400);
    let e = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[c.clone()], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::Revoked, "{e}");
    assert_eq!(e.sub_indication(), SubIndication::REVOKED_NO_POE);
    assert!(e.message.contains("key compromise"));
    // As of a time before the revocation, the same CRL shows a later revocation.
    let ok = validate(
        &p.leaf,
        &[p.int.clone()],
        &[p.root.clone()],
        &[c],
        &opts(NOW - 2 * 86_400),
    );
    // The CRL was issued after that time, so it cannot speak for it: revocation unknown → required.
    assert_eq!(ok.unwrap_err().kind, PathErrorKind::RevocationUnknown);
}

#[test]
fn revocation_listed_for_a_later_time_is_not_a_failure() {
    let p = pki();
    let entry = RevokedEntry {
        serial: p.leaf.serial().to_vec(),
        revocation_time: NOW + 3600,
        reason: None,
    };
    let c = crl_of(&p, &[entry], NOW - 3600, NOW + 86_400);
    let path = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[c], &opts(NOW)).unwrap();
    assert!(matches!(path.revocation[0], RevocationStatus::RevokedLater(_)));
}

#[test]
fn revoked_intermediate_is_revoked_ca() {
    let p = pki();
    let entry = RevokedEntry {
        serial: p.int.serial().to_vec(),
        revocation_time: NOW - 86_400,
        reason: Some(2),
    };
    let c = crl::build(&p.root, &p.root_key, &[entry], NOW - 3600, NOW + 86_400, 7).unwrap();
    let e = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[c], &opts(NOW)).unwrap_err();
    assert_eq!(e.sub_indication(), SubIndication::REVOKED_CA_NO_POE);
}

#[test]
fn stale_or_forged_crl_is_not_silently_ignored() {
    let p = pki();
    let stale = crl_of(&p, &[], NOW - 10 * 86_400, NOW - 3 * 86_400);
    let e = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[stale], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::RevocationUnknown);
    assert_eq!(e.sub_indication(), SubIndication::TRY_LATER);
    assert!(e.message.contains("not recent"), "{}", e.message);
    // A CRL with the issuer's name signed by another key.
    let other = key();
    let forged = crl::build(
        &issue::issue(
            &tpl("Issuing", &other, Profile::RootCa { path_len: None }),
            None,
            &other,
        )
        .unwrap(),
        &other,
        &[],
        NOW - 3600,
        NOW + 86_400,
        1,
    )
    .unwrap();
    let e = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[forged], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::RevocationUnknown, "{e}");
    // Without any CRL for the issuer, IfAvailable / RequireWhereSupplied only note it.
    let path = validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[], &opts(NOW)).unwrap();
    assert!(matches!(path.revocation[0], RevocationStatus::Unknown(_)));
    let mut strict = opts(NOW);
    strict.revocation = RevocationMode::Require;
    assert_eq!(
        validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[], &strict)
            .unwrap_err()
            .kind,
        PathErrorKind::RevocationUnknown
    );
}

#[test]
fn leaf_must_be_fit_for_document_signing() {
    let p = pki();
    let k = key();
    let mut t = tpl("Server", &k, Profile::IssuingCa { path_len: None });
    t.profile = Profile::OcspResponder; // digitalSignature + OCSPSigning only
    let ocsp_leaf = issue::issue(&t, Some(&p.int), &p.int_key).unwrap();
    let e = validate(&ocsp_leaf, &[p.int.clone()], &[p.root.clone()], &[], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::EndEntityUsage, "{e}");
    // keyUsage keyEncipherment only.
    let k2 = key();
    let mut t2 = tpl("Encryptor", &k2, Profile::Signer);
    t2.profile = Profile::TimeStamping;
    let tsa = issue::issue(&t2, Some(&p.int), &p.int_key).unwrap();
    assert_eq!(
        validate(&tsa, &[p.int.clone()], &[p.root.clone()], &[], &opts(NOW))
            .unwrap_err()
            .kind,
        PathErrorKind::EndEntityUsage
    );
    let mut tsa_opts = opts(NOW);
    tsa_opts.purpose = Purpose::TimeStamping;
    validate(&tsa, &[p.int.clone()], &[p.root.clone()], &[], &tsa_opts).unwrap();
    assert_eq!(
        validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[], &tsa_opts)
            .unwrap_err()
            .kind,
        PathErrorKind::EndEntityUsage
    );
}

#[test]
fn wrong_issuer_signature_is_detected() {
    let p = pki();
    let imposter = key();
    let leaf = build_and_sign(
        &tpl("Eve", &p.leaf_key, Profile::Signer),
        p.int.subject().clone(),
        &p.int_key.public_key_der().unwrap(),
        &imposter,
    )
    .unwrap();
    let e = validate(&leaf, &[p.int.clone()], &[p.root.clone()], &[], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::Signature, "{e}");
}

#[test]
fn unknown_issuer_means_no_chain() {
    let p = pki();
    let e = validate(&p.leaf, &[], &[p.root.clone()], &[], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::NoPath);
    assert_eq!(e.sub_indication(), SubIndication::NO_CERTIFICATE_CHAIN_FOUND);
}

#[test]
fn cross_certification_loops_terminate() {
    // A and B certify each other; neither is trusted.
    let (ka, kb) = (key(), key());
    let a = build_and_sign(
        &tpl("A", &ka, Profile::IssuingCa { path_len: None }),
        name("B"),
        &kb.public_key_der().unwrap(),
        &kb,
    )
    .unwrap();
    let b = build_and_sign(
        &tpl("B", &kb, Profile::IssuingCa { path_len: None }),
        name("A"),
        &ka.public_key_der().unwrap(),
        &ka,
    )
    .unwrap();
    let lk = key();
    let leaf = build_and_sign(
        &tpl("Leaf", &lk, Profile::Signer),
        name("A"),
        &ka.public_key_der().unwrap(),
        &ka,
    )
    .unwrap();
    let p = pki();
    let e = validate(&leaf, &[a, b], &[p.root.clone()], &[], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::NoPath);
}

#[test]
fn name_constraints_are_enforced() {
    let p = pki();
    let ca_key = key();
    let mut t = tpl("Constrained CA", &ca_key, Profile::IssuingCa { path_len: None });
    // Permit only names under O=Test (the base is the RDN sequence [O=Test]).
    let base = x509_cert::name::Name::from_der(&{
        let full = SubjectSpec {
            common_name: "unused".into(),
            organization: Some("Test".into()),
            ..Default::default()
        }
        .to_name()
        .unwrap();
        let first_rdn = full.iter_rdn().next().unwrap().clone();
        let mut seq = x509_cert::name::RdnSequence::default();
        seq.push(first_rdn);
        der::Encode::to_der(&seq).unwrap()
    })
    .unwrap();
    let nc = NameConstraints {
        permitted_subtrees: Some(vec![GeneralSubtree {
            base: GeneralName::DirectoryName(base),
            minimum: 0,
            maximum: None,
        }]),
        excluded_subtrees: None,
    };
    t.extra_extensions
        .push(extension(<NameConstraints as const_oid::AssociatedOid>::OID, true, &nc).unwrap());
    let ca = issue::issue(&t, Some(&p.root), &p.root_key).unwrap();
    let ok_key = key();
    let ok_leaf = issue::issue(&tpl("Inside", &ok_key, Profile::Signer), Some(&ca), &ca_key).unwrap();
    validate(&ok_leaf, &[ca.clone()], &[p.root.clone()], &[], &opts(NOW)).unwrap();
    let bad_key = key();
    let mut bt = tpl("Outside", &bad_key, Profile::Signer);
    bt.subject = SubjectSpec {
        common_name: "Outside".into(),
        organization: Some("Other Org".into()),
        ..Default::default()
    }
    .to_name()
    .unwrap();
    let bad_leaf = issue::issue(&bt, Some(&ca), &ca_key).unwrap();
    let e = validate(&bad_leaf, &[ca], &[p.root.clone()], &[], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::NameConstraints, "{e}");
}

use der::Decode;

#[test]
fn partitioned_crls_apply_only_within_their_scope() {
    use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
    use x509_cert::ext::pkix::name::DistributionPointName;
    let p = pki();
    // A leaf whose certificate names distribution point A.
    let k = key();
    let mut t = tpl("Dora", &k, Profile::Signer);
    t.crl_url = Some("http://crl.example.test/part-a.crl".into());
    let leaf = issue::issue(&t, Some(&p.int), &p.int_key).unwrap();
    let idp = |uri: Option<&str>, only_ca: bool| {
        let dp = uri.map(|u| {
            DistributionPointName::FullName(vec![GeneralName::UniformResourceIdentifier(
                der::asn1::Ia5String::new(u).unwrap(),
            )])
        });
        let v = IssuingDistributionPoint {
            distribution_point: dp,
            only_contains_user_certs: false,
            only_contains_ca_certs: only_ca,
            only_some_reasons: None,
            indirect_crl: false,
            only_contains_attribute_certs: false,
        };
        vec![extension(ObjectIdentifier::new_unwrap("2.5.29.28"), true, &v).unwrap()]
    };
    let revoked = RevokedEntry {
        serial: leaf.serial().to_vec(),
        revocation_time: NOW - 86_400,
        reason: Some(1),
    };
    let partition = |uri: Option<&str>, only_ca: bool| {
        crl::build_with_extensions(
            &p.int,
            &p.int_key,
            &[revoked.clone()],
            NOW - 3600,
            NOW + 86_400,
            3,
            idp(uri, only_ca),
        )
        .unwrap()
    };
    // The partition the certificate points at covers it: the revocation is seen.
    let a = partition(Some("http://crl.example.test/part-a.crl"), false);
    assert_eq!(
        validate(&leaf, &[p.int.clone()], &[p.root.clone()], &[a], &opts(NOW))
            .unwrap_err()
            .kind,
        PathErrorKind::Revoked
    );
    // Another partition, or a CA-only CRL, does not speak for it: revocation stays unknown.
    for other in [
        partition(Some("http://crl.example.test/part-b.crl"), false),
        partition(None, true),
    ] {
        let e = validate(&leaf, &[p.int.clone()], &[p.root.clone()], &[other], &opts(NOW)).unwrap_err();
        assert_eq!(e.kind, PathErrorKind::RevocationUnknown, "{e}");
        assert!(e.message.contains("scope"), "{e}");
    }
}

// --- OCSP responses as revocation data ---

use signet_pki::ocsp::{self, CertStatus};
use signet_pki::path::RevocationSource;

/// A response about `cert` from `ca`'s key (or a delegated `responder` key), produced at `at`,
/// valid for `next` seconds.
fn ocsp_of(
    cert: &Certificate,
    ca: &Certificate,
    signer: &SoftwareSigner,
    status: CertStatus,
    at: i64,
    next: i64,
) -> ocsp::Response {
    let req = ocsp::request(cert, ca, b"nonce").unwrap();
    let der = ocsp::respond(&req, ca, signer, &|_| status, at, next).unwrap();
    ocsp::Response::from_der(&der).unwrap()
}

fn validate_ocsp(
    p: &Pki,
    pool: &[Certificate],
    crls: &[Crl],
    ocsps: &[ocsp::Response],
    o: &PathOptions,
) -> Result<signet_pki::ValidatedPath, signet_pki::PathError> {
    let mut all = vec![p.int.clone()];
    all.extend_from_slice(pool);
    Validator::new(&[p.root.clone()], &all, crls, o)
        .with_ocsp(ocsps)
        .validate(&p.leaf)
}

#[test]
fn ocsp_good_proves_the_certificate_unrevoked() {
    let p = pki();
    let r = ocsp_of(&p.leaf, &p.int, &p.int_key, CertStatus::Good, NOW - 60, 3600);
    let path = validate_ocsp(&p, &[], &[], &[r], &opts(NOW)).unwrap();
    assert!(
        matches!(path.revocation[0], RevocationStatus::Good { source: RevocationSource::Ocsp, this_update } if this_update == NOW - 60),
        "{:?}",
        path.revocation
    );
    // The intermediate has no revocation data: noted, not failed (RequireWhereSupplied).
    assert!(matches!(path.revocation[1], RevocationStatus::Unknown(_)));
}

#[test]
fn ocsp_revoked_before_the_time_fails_and_after_it_is_noted() {
    let p = pki();
    let revoked = CertStatus::Revoked {
        time: NOW - 86_400,
        reason: Some(1),
    };
    let r = ocsp_of(&p.leaf, &p.int, &p.int_key, revoked, NOW - 60, 3600);
    let e = validate_ocsp(&p, &[], &[], &[r.clone()], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::Revoked, "{e}");
    assert_eq!(e.sub_indication(), SubIndication::REVOKED_NO_POE);
    assert!(
        e.message.contains("OCSP") && e.message.contains("key compromise"),
        "{e}"
    );
    // At a proven earlier time (a time-stamp's), the later answer shows a later revocation.
    let mut past = opts(NOW - 2 * 86_400);
    past.past_time = true;
    let path = validate_ocsp(&p, &[], &[], &[r.clone()], &past).unwrap();
    assert!(matches!(path.revocation[0], RevocationStatus::RevokedLater(_)));
    // Without the proof, an answer produced after the validation time does not speak for it.
    let e = validate_ocsp(&p, &[], &[], &[r], &opts(NOW - 2 * 86_400)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::RevocationUnknown, "{e}");
    assert!(e.message.contains("after the validation time"), "{e}");
}

#[test]
fn a_revocation_in_any_usable_source_wins_whatever_the_order() {
    let p = pki();
    let good_crl = crl_of(&p, &[], NOW - 7200, NOW + 86_400);
    let revoked = CertStatus::Revoked {
        time: NOW - 3600,
        reason: Some(1),
    };
    let bad = ocsp_of(&p.leaf, &p.int, &p.int_key, revoked, NOW - 60, 3600);
    let good = ocsp_of(&p.leaf, &p.int, &p.int_key, CertStatus::Good, NOW - 7200, 86_400);
    for ocsps in [vec![bad.clone(), good.clone()], vec![good.clone(), bad.clone()]] {
        let e = validate_ocsp(&p, &[], &[good_crl.clone()], &ocsps, &opts(NOW)).unwrap_err();
        assert_eq!(e.kind, PathErrorKind::Revoked, "{e}");
    }
    // Two usable CRLs, an older one without the entry and a newer one with it.
    let entry = RevokedEntry {
        serial: p.leaf.serial().to_vec(),
        revocation_time: NOW - 3600,
        reason: Some(1),
    };
    let newer = crl_of(&p, &[entry], NOW - 60, NOW + 86_400);
    for crls in [
        vec![good_crl.clone(), newer.clone()],
        vec![newer.clone(), good_crl.clone()],
    ] {
        let e = validate_ocsp(&p, &[], &crls, &[], &opts(NOW)).unwrap_err();
        assert_eq!(e.kind, PathErrorKind::Revoked, "{e}");
    }
}

#[test]
fn stale_or_unauthorised_ocsp_answers_prove_nothing() {
    let p = pki();
    // Stale: nextUpdate before the validation time; required because it concerns the leaf.
    let stale = ocsp_of(&p.leaf, &p.int, &p.int_key, CertStatus::Good, NOW - 10 * 86_400, 3600);
    let e = validate_ocsp(&p, &[], &[], &[stale], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::RevocationUnknown, "{e}");
    assert!(e.message.contains("not recent"), "{e}");
    // Signed by the leaf's own key (not authorised by the CA).
    let forged = ocsp_of(&p.leaf, &p.int, &p.leaf_key, CertStatus::Good, NOW - 60, 3600);
    let e = validate_ocsp(&p, &[], &[], &[forged], &opts(NOW)).unwrap_err();
    assert_eq!(e.kind, PathErrorKind::RevocationUnknown, "{e}");
    assert!(e.message.contains("neither by the CA"), "{e}");
    // "unknown" is no proof either.
    let unknown = ocsp_of(&p.leaf, &p.int, &p.int_key, CertStatus::Unknown, NOW - 60, 3600);
    let e = validate_ocsp(&p, &[], &[], &[unknown], &opts(NOW)).unwrap_err();
    assert!(e.message.contains("does not know"), "{e}");
}

#[test]
fn a_delegated_responder_with_nocheck_is_accepted() {
    let p = pki();
    let rkey = key();
    let responder = issue::issue(
        &tpl("Responder", &rkey, Profile::OcspResponder),
        Some(&p.int),
        &p.int_key,
    )
    .unwrap();
    assert!(responder.has_ocsp_nocheck());
    let r = ocsp_of(&p.leaf, &p.int, &rkey, CertStatus::Good, NOW - 60, 3600);
    let path = validate_ocsp(&p, &[responder.clone()], &[], &[r.clone()], &opts(NOW)).unwrap();
    assert!(matches!(path.revocation[0], RevocationStatus::Good { .. }));
    // Without the responder certificate at hand, the signature cannot be attributed.
    assert_eq!(
        validate_ocsp(&p, &[], &[], &[r], &opts(NOW)).unwrap_err().kind,
        PathErrorKind::RevocationUnknown
    );
    // A signer certificate (no id-kp-OCSPSigning) of the same CA is not a responder.
    let signer = ocsp_of(&p.leaf, &p.int, &p.leaf_key, CertStatus::Good, NOW - 60, 3600);
    assert_eq!(
        validate_ocsp(&p, &[p.leaf.clone()], &[], &[signer], &opts(NOW))
            .unwrap_err()
            .kind,
        PathErrorKind::RevocationUnknown
    );
}

/// B-LT coverage: every certificate of the path but the anchor needs revocation data from its
/// issuer — a CRL signed by the issuer's key in whose scope it lies, or an OCSP answer for it
/// signed by the issuer; data under the right name from another key does not count.
#[test]
fn revocation_coverage_needs_data_for_every_certificate_but_the_anchor() {
    use signet_pki::coverage::{has_revocation_data, uncovered};
    let p = pki();
    let path = [&p.leaf, &p.int, &p.root];
    let names = |v: Vec<&Certificate>| v.iter().map(|c| c.display_name()).collect::<Vec<_>>();
    let int_crl = crl_of(&p, &[], NOW - 3600, NOW + 86_400);
    let root_crl = crl::build(&p.root, &p.root_key, &[], NOW - 3600, NOW + 86_400, 1).unwrap();
    // Nothing; the issuing CA's CRL alone (the issuing CA itself uncovered); both.
    assert_eq!(uncovered(&path, &[], &[], &[]).len(), 2);
    assert_eq!(
        names(uncovered(&path, std::slice::from_ref(&int_crl), &[], &[])),
        vec![p.int.display_name()]
    );
    assert!(uncovered(&path, &[int_crl.clone(), root_crl.clone()], &[], &[]).is_empty());
    // An OCSP answer from the issuing CA covers the leaf in place of its CRL.
    let answer = ocsp_of(&p.leaf, &p.int, &p.int_key, CertStatus::Good, NOW, 3600);
    assert!(
        uncovered(
            &path,
            std::slice::from_ref(&root_crl),
            std::slice::from_ref(&answer),
            &[]
        )
        .is_empty()
    );
    // …but not the issuing CA, which it does not name.
    assert!(!has_revocation_data(
        &p.int,
        Some(&p.root),
        &[],
        std::slice::from_ref(&answer),
        &[]
    ));
    // A CRL under the issuing CA's name signed by another key does not count when the issuer
    // is known; with the issuer unknown only the name and scope can be checked.
    let other = key();
    let impostor = issue::issue(
        &tpl("Issuing", &other, Profile::RootCa { path_len: None }),
        None,
        &other,
    )
    .unwrap();
    let forged = crl::build(&impostor, &other, &[], NOW - 3600, NOW + 86_400, 1).unwrap();
    assert!(!has_revocation_data(
        &p.leaf,
        Some(&p.int),
        std::slice::from_ref(&forged),
        &[],
        &[]
    ));
    assert!(has_revocation_data(
        &p.leaf,
        Some(&p.int),
        std::slice::from_ref(&int_crl),
        &[],
        &[]
    ));
    assert!(has_revocation_data(
        &p.leaf,
        None,
        std::slice::from_ref(&int_crl),
        &[],
        &[]
    ));
    // An OCSP answer signed by a key the issuer never authorised does not count either.
    let stranger = key();
    let forged_answer = ocsp_of(&p.leaf, &p.int, &stranger, CertStatus::Good, NOW, 3600);
    assert!(!has_revocation_data(
        &p.leaf,
        Some(&p.int),
        &[],
        std::slice::from_ref(&forged_answer),
        &[]
    ));
}

/// The set form (certificates gathered from signatures, as `sign --level B-LT` checks them):
/// the root is skipped, the issuing CA needs the root's CRL, the leaf its issuer's data.
#[test]
fn revocation_coverage_of_a_certificate_set() {
    use signet_pki::coverage::uncovered_among;
    let p = pki();
    let set = [p.leaf.clone(), p.int.clone(), p.root.clone()];
    let int_crl = crl_of(&p, &[], NOW - 3600, NOW + 86_400);
    let root_crl = crl::build(&p.root, &p.root_key, &[], NOW - 3600, NOW + 86_400, 1).unwrap();
    let names = |v: Vec<&Certificate>| v.iter().map(|c| c.display_name()).collect::<Vec<_>>();
    assert_eq!(
        names(uncovered_among(&set, &[], &[])),
        vec![p.leaf.display_name(), p.int.display_name()]
    );
    assert_eq!(
        names(uncovered_among(&set, std::slice::from_ref(&int_crl), &[])),
        vec![p.int.display_name()]
    );
    assert!(uncovered_among(&set, &[int_crl, root_crl], &[]).is_empty());
}

// --- delta CRLs and reason partitions (review findings) ---

fn delta_of(p: &Pki, entries: &[RevokedEntry], this: i64, number: u64, base: u64) -> Crl {
    let base = der::asn1::Uint::new(&base.to_be_bytes()).unwrap();
    crl::build_with_extensions(
        &p.int,
        &p.int_key,
        entries,
        this,
        NOW + 86_400,
        number,
        vec![extension(ObjectIdentifier::new_unwrap("2.5.29.27"), true, &base).unwrap()],
    )
    .unwrap()
}

/// An old delta CRL (number below the complete CRL's) saying removeFromCRL must not lift a
/// revocation a newer complete CRL lists; a newer delta that revokes is applied.
#[test]
fn an_old_delta_crl_cannot_unrevoke_and_a_newer_one_revokes() {
    let p = pki();
    let serial = p.leaf.serial().to_vec();
    let revoked = RevokedEntry {
        serial: serial.clone(),
        revocation_time: NOW - 86_400,
        reason: Some(1),
    };
    let removed = RevokedEntry {
        serial: serial.clone(),
        revocation_time: NOW - 2 * 86_400,
        reason: Some(8),
    };
    let complete = crl::build(&p.int, &p.int_key, &[revoked.clone()], NOW - 3600, NOW + 86_400, 10).unwrap();
    let old_delta = delta_of(&p, &[removed], NOW - 7200, 9, 8);
    let e = validate(
        &p.leaf,
        &[p.int.clone()],
        &[p.root.clone()],
        &[complete, old_delta],
        &opts(NOW),
    )
    .unwrap_err();
    assert_eq!(e.kind, PathErrorKind::Revoked, "{e}");
    // A complete CRL that does not list it, and a newer delta that does.
    let clean = crl::build(&p.int, &p.int_key, &[], NOW - 3600, NOW + 86_400, 10).unwrap();
    let new_delta = delta_of(&p, &[revoked], NOW - 600, 11, 10);
    let e = validate(
        &p.leaf,
        &[p.int.clone()],
        &[p.root.clone()],
        &[clean.clone(), new_delta],
        &opts(NOW),
    )
    .unwrap_err();
    assert_eq!(e.kind, PathErrorKind::Revoked, "{e}");
    // The complete CRL alone: good.
    assert!(validate(&p.leaf, &[p.int.clone()], &[p.root.clone()], &[clean], &opts(NOW)).is_ok());
}

/// A certificateHold on the CRL partition that covers holds is not lifted by a newer CRL
/// partition that covers other reasons only.
#[test]
fn a_hold_is_lifted_only_by_a_newer_crl_that_speaks_for_holds() {
    use x509_cert::ext::pkix::crl::dp::{IssuingDistributionPoint, Reasons};
    let p = pki();
    let part = |reasons: flagset::FlagSet<Reasons>, entries: &[RevokedEntry], this: i64, n: u64| {
        let v = IssuingDistributionPoint {
            distribution_point: None,
            only_contains_user_certs: false,
            only_contains_ca_certs: false,
            only_some_reasons: Some(reasons),
            indirect_crl: false,
            only_contains_attribute_certs: false,
        };
        crl::build_with_extensions(
            &p.int,
            &p.int_key,
            entries,
            this,
            NOW + 86_400,
            n,
            vec![extension(ObjectIdentifier::new_unwrap("2.5.29.28"), true, &v).unwrap()],
        )
        .unwrap()
    };
    let hold = RevokedEntry {
        serial: p.leaf.serial().to_vec(),
        revocation_time: NOW - 86_400,
        reason: Some(6),
    };
    let holds = part(Reasons::CertificateHold.into(), &[hold], NOW - 7200, 1);
    let others = part(!flagset::FlagSet::from(Reasons::CertificateHold), &[], NOW - 600, 2);
    let e = validate(
        &p.leaf,
        &[p.int.clone()],
        &[p.root.clone()],
        &[holds, others],
        &opts(NOW),
    )
    .unwrap_err();
    assert_eq!(e.kind, PathErrorKind::Revoked, "{e}");
}
