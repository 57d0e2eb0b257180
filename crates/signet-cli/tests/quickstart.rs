//! The offline tour (`signet quickstart`; the README's first command is `signet serve`, tested in
//! server.rs): on a fresh machine it creates the CA, the
//! organisation key and certificate, prints the passphrase once, and signs and verifies a
//! sample CMS and a sample PDF; the results are usable with the printed passphrase.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::pdf::*;
use common::*;

#[test]
fn quickstart_sets_everything_up_and_its_outputs_verify() {
    let env = Env::new();
    let run = |args: &[&str], pass: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_signet"));
        c.args(args)
            .current_dir(env.dir.path())
            .env_remove("SIGNET_PASSPHRASE")
            .env_remove("SIGNET_CA_PASSPHRASE");
        if let Some(p) = pass {
            c.env("SIGNET_PASSPHRASE", p).env("SIGNET_CA_PASSPHRASE", p);
        }
        c.output().unwrap()
    };
    let o = run(&["quickstart"], None);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert!(out.contains("verified: TOTAL-PASSED"), "{out}");
    let pass = out
        .lines()
        .skip_while(|l| !l.contains("shown once"))
        .nth(2)
        .map(|l| l.trim().to_string())
        .unwrap();
    assert!(pass.len() >= 16, "{out}");
    // The signed sample verifies here and in tools we did not write.
    let o = run(
        &[
            "verify",
            "signet-data/sample-purchase-request-signed.pdf",
            "--trust",
            "signet-data/ca/root.crt",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let (valid, whole) = pdfsig_valid_count(&env, "signet-data/sample-purchase-request-signed.pdf");
    assert_eq!((valid, whole), (1, true));
    // Running it again changes nothing.
    let o = run(&["quickstart"], None);
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("already initialised"));
    // The printed passphrase unlocks the organisation key for the next signature.
    let o = run(
        &[
            "sign",
            "signet-data/sample-purchase-request.pdf",
            "-o",
            "second.pdf",
            "--key",
            "signet-data/organisation.key",
            "--cert",
            "signet-data/organisation.crt",
        ],
        Some(&pass),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(&["verify", "second.pdf", "--trust", "signet-data/ca/root.crt"], None);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
}
