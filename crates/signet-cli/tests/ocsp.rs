//! Our OCSP client (`signet ocsp check`) against a responder we did not write:
//! `openssl ocsp -index … -port …` on loopback, signing with a delegated responder certificate
//! or with the CA key; good, revoked and unauthorised answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

mod common;

use common::pdf::{Kill, free_port, new_signer, ok_cmd, openssl_ocsp, openssl_serial as serial, plain_key, setup};
use common::{CA_PASS, Env, code};

fn responder(env: &Env, rsigner: &str, rkey: &str) -> (Kill, String) {
    let port = free_port();
    (
        openssl_ocsp(env, port, rsigner, rkey, &[]),
        format!("http://127.0.0.1:{port}"),
    )
}

#[test]
fn our_ocsp_client_reads_openssl_responders() {
    let env = Env::new();
    setup(&env);
    new_signer(
        &env,
        "responder",
        "ecdsa-p256",
        "OCSP Responder",
        &["--profile", "ocsp"],
    );
    for k in ["responder", "alice"] {
        plain_key(&env, k);
    }
    ok_cmd(
        &env,
        "openssl",
        &[
            "pkey",
            "-in",
            "ca/issuing.key",
            "-passin",
            &format!("pass:{CA_PASS}"),
            "-out",
            "issuing.pem",
        ],
    );
    let index = format!(
        "V\t301231235959Z\t\t{}\tunknown\t/CN=alice example\nR\t301231235959Z\t251130120000Z,keyCompromise\t{}\tunknown\t/CN=bob example\n",
        serial(&env, "alice.crt"),
        serial(&env, "bob.crt")
    );
    env.write("index.txt", index.as_bytes());

    let check = |cert: &str, url: &str| {
        env.signet(&[
            "ocsp",
            "check",
            "--cert",
            cert,
            "--issuer",
            "ca/issuing.crt",
            "--url",
            url,
        ])
    };

    // A delegated responder (id-kp-OCSPSigning, issued by the CA).
    let (_r, url) = responder(&env, "responder.crt", "responder.pem");
    let o = check("alice.crt", &url);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let log = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("ocsp-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect::<String>();
    assert_eq!(
        code(&o),
        0,
        "{out}{} responder log: {log}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(": good") && out.contains("signed by OCSP Responder"),
        "{out}"
    );
    let o = check("bob.crt", &url);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("revoked at 2025-11-30") && out.contains("key compromise"),
        "{out}"
    );

    // The CA key itself signs.
    let (_r2, url2) = responder(&env, "ca/issuing.crt", "issuing.pem");
    let o = check("alice.crt", &url2);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(code(&o), 0, "{out}");
    assert!(out.contains("signed by issuer"), "{out}");

    // A responder whose certificate the CA never authorised for OCSP: no usable answer.
    let (_r3, url3) = responder(&env, "alice.crt", "alice.pem");
    let o = check("alice.crt", &url3);
    assert_eq!(code(&o), 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("neither by the CA"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Nothing listening: a clear error.
    let o = check("alice.crt", "http://127.0.0.1:1/");
    assert_eq!(code(&o), 2);
}
