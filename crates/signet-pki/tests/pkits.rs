//! NIST PKITS (the 246 cases with expectations shipped by pyhanko-certvalidator 0.33.0).
//!
//! The fixtures are fetched at test time with `pip download --no-binary :all:` into
//! `target/test-fixtures/`. A case passes only if the outcome matches *and*, for an invalid
//! path, our failure is of the kind the expectation names (no passing for the wrong reason).
//! The per-section table is written to `target/pkits-report.md`; docs/pkits.md holds a copy.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use signet_crypto::AlgorithmPolicy;
use signet_pki::path::{PathErrorKind, PathOptions, Purpose, RevocationMode, Validator};
use signet_pki::{Certificate, Crl};

fn workspace_target() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.join("../../target")
}

fn fixtures() -> PathBuf {
    let base = workspace_target().join("test-fixtures");
    let dir = base.join("pyhanko_certvalidator-0.33.0/tests/fixtures/nist_pkits");
    if dir.join("pkits.json").exists() {
        return dir;
    }
    std::fs::create_dir_all(&base).unwrap();
    let st = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "pyhanko-certvalidator==0.33.0",
            "-d",
        ])
        .arg(&base)
        .status()
        .expect("python3 -m pip is needed to fetch the PKITS fixtures");
    assert!(st.success(), "pip download of pyhanko-certvalidator failed");
    let st = Command::new("tar")
        .arg("xzf")
        .arg(base.join("pyhanko_certvalidator-0.33.0.tar.gz"))
        .arg("-C")
        .arg(&base)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(dir.join("pkits.json").exists(), "fixtures missing after download");
    dir
}

fn cert(dir: &Path, name: &str) -> Result<Certificate, String> {
    Certificate::from_der(&std::fs::read(dir.join("certs").join(name)).unwrap()).map_err(|e| format!("{name}: {e}"))
}

fn crl(dir: &Path, name: &str) -> Result<Crl, String> {
    Crl::from_der(&std::fs::read(dir.join("crls").join(name)).unwrap()).map_err(|e| format!("{name}: {e}"))
}

/// The failure kind an expectation's message names.
fn expected_kind(class: &str, msg: &str) -> Option<PathErrorKind> {
    use PathErrorKind::*;
    Some(if class == "RevokedError" {
        Revoked
    } else if class == "InsufficientRevinfoError" || class == "StaleRevinfoError" || msg.contains("revocation") {
        RevocationUnknown
    } else if msg.contains("signature of") {
        Signature
    } else if msg.contains("permitted") || msg.contains("excluded") {
        NameConstraints
    } else if msg.contains("maximum path length") {
        PathLength
    } else if msg.contains("is not a CA") {
        NotCa
    } else if msg.contains("issuer name could not be matched") {
        NoPath
    } else if msg.contains("expired") {
        Expired
    } else if msg.contains("not valid until") {
        NotYetValid
    } else if msg.contains("not allowed to sign certificates") {
        CaKeyUsage
    } else if msg.contains("unsupported critical") {
        UnknownCriticalExtension
    } else {
        // policy processing ("no valid set of policies", "policy mapping for the any policy")
        PolicyProcessing
    })
}

const SECTIONS: &[(&str, &str)] = &[
    ("401", "4.1 Signature Verification"),
    ("402", "4.2 Validity Periods"),
    ("403", "4.3 Verifying Name Chaining"),
    ("404", "4.4 Basic Certificate Revocation"),
    ("405", "4.5 Self-Issued Certificates"),
    ("406", "4.6 Verifying Basic Constraints"),
    ("407", "4.7 Key Usage"),
    ("408", "4.8 Certificate Policies"),
    ("409", "4.9 Require Explicit Policy"),
    ("410", "4.10 Policy Mappings"),
    ("411", "4.11 Inhibit Policy Mapping"),
    ("412", "4.12 Inhibit Any Policy"),
    ("413", "4.13 Name Constraints"),
    ("414", "4.14 Distribution Points"),
    ("415", "4.15 Delta-CRLs"),
    ("416", "4.16 Private Certificate Extensions"),
];

/// Passes recorded in docs/pkits.md; the suite fails if we fall below.
const MIN_PASSED: usize = 240;

#[test]
fn nist_pkits() {
    let dir = fixtures();
    let cases: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("pkits.json")).unwrap()).unwrap();
    assert_eq!(cases.len(), 246);
    let anchor = cert(&dir, "TrustAnchorRootCertificate.crt").unwrap();
    let root_crl = crl(&dir, "TrustAnchorRootCRL.crl").unwrap();
    // pyhanko-certvalidator runs the suite with the clock frozen at 2022-05-01.
    let time = signet_pki::time::parse("2022-05-01").unwrap();
    let mut per_section: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut not_passed = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let name = case["name"].as_str().unwrap();
        let section = id[..3].to_string();
        let entry = per_section.entry(section).or_insert((0, 0));
        entry.1 += 1;
        let mut policy = signet_pki::policy::PolicyParams::default();
        if let Some(params) = case.get("params") {
            if let Some(set) = params.get("user_initial_policy_set") {
                policy.user_initial_policy_set = Some(
                    set.as_array()
                        .unwrap()
                        .iter()
                        .map(|o| o.as_str().unwrap().parse().unwrap())
                        .collect(),
                );
            }
            policy.initial_explicit_policy = params["initial_explicit_policy"].as_bool().unwrap_or(false);
            policy.initial_policy_mapping_inhibit = params["initial_policy_mapping_inhibit"].as_bool().unwrap_or(false);
            policy.initial_any_policy_inhibit = params["initial_any_policy_inhibit"].as_bool().unwrap_or(false);
        }
        let loaded = (|| -> Result<(Certificate, Vec<Certificate>, Vec<Crl>), String> {
            let leaf = cert(&dir, case["cert"].as_str().unwrap())?;
            let mut pool = Vec::new();
            for c in case["other_certs"].as_array().into_iter().flatten() {
                pool.push(cert(&dir, c.as_str().unwrap())?);
            }
            let mut crls = vec![root_crl.clone()];
            for c in case["crls"].as_array().into_iter().flatten() {
                crls.push(crl(&dir, c.as_str().unwrap())?);
            }
            Ok((leaf, pool, crls))
        })();
        let (leaf, pool, crls) = match loaded {
            Ok(x) => x,
            Err(e) => {
                let expect = if case.get("error").is_some() {
                    "invalid"
                } else {
                    "valid"
                };
                not_passed.push(format!(
                    "| {id} | {name} | expected {expect}; input refused by the strict DER parser: {e} |"
                ));
                continue;
            }
        };
        let opts = PathOptions {
            time,
            algorithm_policy: AlgorithmPolicy::LEGACY,
            revocation: if case["revocation"].as_bool().unwrap_or(true) {
                RevocationMode::Require
            } else {
                RevocationMode::IfAvailable
            },
            purpose: Purpose::Any,
            max_intermediates: 10,
            policy,
            past_time: false,
        };
        let anchors = vec![anchor.clone()];
        let result = Validator::new(&anchors, &pool, &crls, &opts).validate(&leaf);
        let expected_len = case["path_len"].as_u64().unwrap() as usize;
        let verdict: Result<(), String> = match (case.get("error"), &result) {
            (None, Ok(p)) if p.certificates.len() == expected_len => Ok(()),
            (None, Ok(p)) => Err(format!(
                "valid, but path length {} instead of {expected_len}",
                p.certificates.len()
            )),
            (None, Err(e)) => Err(format!("expected valid; we said: {e}")),
            (Some(err), Ok(_)) => Err(format!(
                "expected invalid ({}); we accepted the path",
                err["msg_regex"].as_str().unwrap_or("")
            )),
            (Some(err), Err(e)) => {
                let class = err["class"].as_str().unwrap_or("");
                let msg = err["msg_regex"].as_str().unwrap_or("");
                match expected_kind(class, msg) {
                    Some(k) if k == e.kind => Ok(()),
                    Some(k) => Err(format!(
                        "rejected for the wrong reason: expected {k:?}, we said {:?}: {e}",
                        e.kind
                    )),
                    None => unreachable!(),
                }
            }
        };
        match verdict {
            Ok(()) => entry.0 += 1,
            Err(why) => not_passed.push(format!("| {id} | {name} | {} |", why.replace('|', "/"))),
        }
    }
    let total_pass: usize = per_section.values().map(|v| v.0).sum();
    let mut report = String::from("| section | passed | cases |\n|---|---:|---:|\n");
    for (sec, title) in SECTIONS {
        let (p, n) = per_section.get(*sec).copied().unwrap_or((0, 0));
        report.push_str(&format!("| {title} | {p} | {n} |\n"));
    }
    report.push_str(&format!("| **total** | **{total_pass}** | **{}** |\n\n", cases.len()));
    report.push_str("Cases not passed:\n\n| id | name | why |\n|---|---|---|\n");
    for l in &not_passed {
        report.push_str(l);
        report.push('\n');
    }
    std::fs::write(workspace_target().join("pkits-report.md"), &report).unwrap();
    println!("{report}");
    assert!(
        total_pass >= MIN_PASSED,
        "PKITS regression: {total_pass} passed, at least {MIN_PASSED} expected"
    );
}
