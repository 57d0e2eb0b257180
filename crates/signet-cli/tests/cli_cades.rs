//! Signatures Signet makes are accepted by `openssl cms -verify`; Signet's CA, CSR intake and
//! CRLs are accepted by `openssl verify` / `openssl crl`; verification verdicts and exit codes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

mod common;
use common::*;

const ALGS: [&str; 6] = [
    "rsa-2048",
    "rsa-3072",
    "rsa-4096",
    "ecdsa-p256",
    "ecdsa-p384",
    "ed25519",
];

fn setup_ca(env: &Env, alg: &str) {
    env.ok(&[
        "ca",
        "init",
        "--dir",
        "ca",
        "--name",
        "Test Root CA",
        "--org",
        "Test Org",
        "--country",
        "DE",
        "--alg",
        alg,
        "--issuing",
        "Test Issuing CA",
        "--crl-url",
        "http://crl.example.test/issuing.crl",
        "--passphrase-file",
        "capw.txt",
    ]);
}

fn person(env: &Env, alg: &str, name: &str, key: &str, cert: &str) {
    env.ok(&[
        "key",
        "generate",
        "--alg",
        alg,
        "-o",
        key,
        "--passphrase-file",
        "pw.txt",
    ]);
    env.ok(&[
        "cert",
        "issue",
        "--ca",
        "ca",
        "--key",
        key,
        "--cn",
        name,
        "--email",
        "alice@example.test",
        "--org",
        "Test Org",
        "--title",
        "Accountant",
        "-o",
        cert,
    ]);
}

fn openssl_cms_verify(env: &Env, sig: &str, content: Option<&str>, ca: &str) {
    let mut args = vec!["cms", "-verify", "-binary", "-inform", "DER", "-in", sig];
    if let Some(c) = content {
        args.extend(["-content", c]);
    }
    args.extend(["-CAfile", ca, "-out", "/dev/null"]);
    let out = env.openssl_ok(&args);
    assert!(out.contains("Verification successful"), "{out}");
}

/// pyHanko's validate_detached_cms as a second, independent oracle.
fn pyhanko_cms_verify(env: &Env, sig: &str, content: &str, root: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/oracles/pyhanko_cms_verify.py");
    let o = std::process::Command::new("python3")
        .args([script, sig, content, root])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "pyHanko rejects {sig}: {out}{}", stderr(&o));
    assert!(out.contains("intact=True valid=True trusted=True"), "{out}");
}

#[test]
fn openssl_accepts_every_signature_we_make_for_every_key_algorithm() {
    for alg in ALGS {
        let env = Env::new();
        setup_ca(&env, alg);
        person(&env, alg, "Alice Example", "alice.key", "alice.crt");
        env.write(
            "contract.pdf.bin",
            &(0..50_000u32).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>(),
        );
        env.ok(&[
            "sign",
            "--detached",
            "contract.pdf.bin",
            "-o",
            "c.p7s",
            "--key",
            "alice.key",
            "--cert",
            "alice.crt",
            "--signing-time",
        ]);
        // The exact command of the issue. OpenSSL 3.0 has no Ed25519 CMS (RFC 8419 support
        // arrived in 3.2: it cannot even sign one), so Ed25519 is checked by pyHanko alone.
        if alg != "ed25519" {
            openssl_cms_verify(&env, "c.p7s", Some("contract.pdf.bin"), "ca/root.crt");
        }
        pyhanko_cms_verify(&env, "c.p7s", "contract.pdf.bin", "ca/root.crt");
        // CAdES attributes are present.
        let asn = env.openssl_ok(&["asn1parse", "-inform", "DER", "-in", "c.p7s"]);
        for attr in [
            "contentType",
            "messageDigest",
            "signingTime",
            "id-smime-aa-signingCertificateV2",
        ] {
            assert!(asn.contains(attr), "{alg}: {attr} missing");
        }
        // And we agree.
        let o = env.signet(&[
            "verify",
            "contract.pdf.bin",
            "--signature",
            "c.p7s",
            "--trust",
            "ca/root.crt",
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 0, "{alg}: {}", String::from_utf8_lossy(&o.stdout));
        assert_eq!(json_verdict(&o), ("TOTAL-PASSED".into(), None));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["signatures"][0]["level"], "CAdES-B-B");
        assert_eq!(v["signatures"][0]["chain"].as_array().unwrap().len(), 3);
    }
}

#[test]
fn pss_attached_and_self_signed_variants_verify_in_openssl_and_signet() {
    let env = Env::new();
    setup_ca(&env, "rsa-2048");
    person(&env, "rsa-3072", "Bob", "bob.key", "bob.crt");
    env.write("doc.txt", b"Purchase request 17");
    env.ok(&[
        "sign",
        "--detached",
        "doc.txt",
        "-o",
        "pss.p7s",
        "--key",
        "bob.key",
        "--cert",
        "bob.crt",
        "--pss",
    ]);
    openssl_cms_verify(&env, "pss.p7s", Some("doc.txt"), "ca/root.crt");
    assert!(
        env.openssl_ok(&["asn1parse", "-inform", "DER", "-in", "pss.p7s"])
            .contains("rsassaPss")
    );
    env.ok(&["verify", "doc.txt", "--signature", "pss.p7s", "--trust", "ca/root.crt"]);
    env.ok(&[
        "sign",
        "--attached",
        "doc.txt",
        "-o",
        "att.p7s",
        "--key",
        "bob.key",
        "--cert",
        "bob.crt",
    ]);
    openssl_cms_verify(&env, "att.p7s", None, "ca/root.crt");
    env.ok(&["verify", "att.p7s", "--trust", "ca/root.crt"]);
    // Self-signed signer certificate, trusted directly.
    env.ok(&[
        "key",
        "generate",
        "--alg",
        "ecdsa-p256",
        "-o",
        "self.key",
        "--passphrase-file",
        "pw.txt",
    ]);
    env.ok(&[
        "cert",
        "self-signed",
        "--key",
        "self.key",
        "--cn",
        "Đorđe Petrović",
        "--email",
        "djordje@example.test",
        "-o",
        "self.crt",
    ]);
    env.ok(&[
        "sign",
        "--detached",
        "doc.txt",
        "-o",
        "self.p7s",
        "--key",
        "self.key",
        "--cert",
        "self.crt",
    ]);
    openssl_cms_verify(&env, "self.p7s", Some("doc.txt"), "self.crt");
    let out = env.ok(&["verify", "doc.txt", "--signature", "self.p7s", "--trust", "self.crt"]);
    assert!(out.contains("Đorđe Petrović"), "{out}");
    // Verifying against the wrong anchor is INDETERMINATE, exit 1.
    let o = env.signet(&[
        "verify",
        "doc.txt",
        "--signature",
        "self.p7s",
        "--trust",
        "ca/root.crt",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        json_verdict(&o),
        ("INDETERMINATE".into(), Some("NO_CERTIFICATE_CHAIN_FOUND".into()))
    );
}

#[test]
fn certificates_from_csr_chain_in_openssl_and_crls_are_honoured() {
    let env = Env::new();
    setup_ca(&env, "ecdsa-p384");
    // The CA certificates have sane profiles.
    let root = env.openssl_ok(&["x509", "-in", "ca/root.crt", "-noout", "-text"]);
    assert!(
        root.contains("CA:TRUE")
            && root.contains("Certificate Sign, CRL Sign")
            && root.contains("Subject Key Identifier"),
        "{root}"
    );
    let issuing = env.openssl_ok(&["x509", "-in", "ca/issuing.crt", "-noout", "-text"]);
    assert!(
        issuing.contains("pathlen:0") && issuing.contains("Authority Key Identifier"),
        "{issuing}"
    );
    // A CSR made by OpenSSL.
    env.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "csr.key",
        "-out",
        "req.csr",
        "-subj",
        "/CN=Carol From CSR/O=Test Org",
    ]);
    env.ok(&[
        "cert",
        "issue",
        "--ca",
        "ca",
        "--csr",
        "req.csr",
        "--csr-subject",
        "--cn",
        "ignored",
        "-o",
        "carol.crt",
    ]);
    let leaf = env.openssl_ok(&["x509", "-in", "carol.crt", "-noout", "-text"]);
    assert!(
        leaf.contains("Carol From CSR") && leaf.contains("Digital Signature, Non Repudiation"),
        "{leaf}"
    );
    assert!(
        leaf.contains("E-mail Protection") && leaf.contains("1.3.6.1.5.5.7.3.36"),
        "{leaf}"
    );
    assert!(leaf.contains("http://crl.example.test/issuing.crl"), "{leaf}");
    env.openssl_ok(&[
        "verify",
        "-CAfile",
        "ca/root.crt",
        "-untrusted",
        "ca/issuing.crt",
        "carol.crt",
    ]);
    // A tampered CSR is refused.
    env.openssl_ok(&["req", "-in", "req.csr", "-outform", "DER", "-out", "req.der"]);
    let mut d = std::fs::read(env.path("req.der")).unwrap();
    let n = d.len();
    d[n - 5] ^= 0x55;
    env.write("bad.der", &d);
    let o = env.signet(&[
        "cert", "issue", "--ca", "ca", "--csr", "bad.der", "--cn", "X", "-o", "x.crt",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));

    // Alice signs, then her certificate is revoked.
    person(&env, "ecdsa-p256", "Alice", "alice.key", "alice.crt");
    env.write("doc.txt", b"Leave application");
    env.ok(&[
        "sign",
        "--detached",
        "doc.txt",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    env.ok(&["ca", "crl", "--dir", "ca", "-o", "crl0.pem"]);
    // `openssl crl` exits 0 even when verification fails: read what it says.
    let v = env.openssl_ok(&["crl", "-in", "crl0.pem", "-CAfile", "ca/issuing.crt", "-noout"]);
    assert!(v.contains("verify OK") && !v.contains("failure"), "{v}");
    // An impostor CA certificate with the issuing CA's name but another key.
    env.openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "imp.key",
        "-out",
        "impostor.crt",
        "-subj",
        "/C=DE/O=Test Org/CN=Test Issuing CA",
        "-days",
        "2",
    ]);
    let wrong = env.openssl_ok(&["crl", "-in", "crl0.pem", "-CAfile", "impostor.crt", "-noout"]);
    assert!(
        wrong.contains("verify failure"),
        "the oracle must be able to fail: {wrong}"
    );
    let o = env.signet(&[
        "verify",
        "doc.txt",
        "--signature",
        "doc.txt.p7s",
        "--trust",
        "ca/root.crt",
        "--crl",
        "crl0.pem",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    env.ok(&[
        "cert",
        "revoke",
        "--ca",
        "ca",
        "alice.crt",
        "--reason",
        "key-compromise",
    ]);
    env.ok(&["ca", "crl", "--dir", "ca", "-o", "crl1.pem"]);
    let crl = env.openssl_ok(&["crl", "-in", "crl1.pem", "-CAfile", "ca/issuing.crt", "-noout", "-text"]);
    assert!(
        crl.contains("verify OK") && crl.contains("Key Compromise") && crl.contains("X509v3 CRL Number"),
        "{crl}"
    );
    let vo = env.openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        "ca/root.crt",
        "-untrusted",
        "ca/issuing.crt",
        "-CRLfile",
        "crl1.pem",
        "alice.crt",
    ]);
    let said = format!("{}{}", String::from_utf8_lossy(&vo.stdout), stderr(&vo));
    assert!(
        !vo.status.success() && said.contains("certificate revoked"),
        "openssl must see the revocation: {said}"
    );
    let o = env.signet(&[
        "verify",
        "doc.txt",
        "--signature",
        "doc.txt.p7s",
        "--trust",
        "ca/root.crt",
        "--crl",
        "crl1.pem",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        json_verdict(&o),
        ("INDETERMINATE".into(), Some("REVOKED_NO_POE".into()))
    );
}

#[test]
fn time_travel_tampering_and_bad_input_give_the_right_exit_codes() {
    let env = Env::new();
    setup_ca(&env, "ecdsa-p256");
    person(&env, "ecdsa-p256", "Dave", "dave.key", "dave.crt");
    env.write("doc.txt", b"Invoice 2026-118");
    env.ok(&[
        "sign",
        "--detached",
        "doc.txt",
        "--key",
        "dave.key",
        "--cert",
        "dave.crt",
    ]);
    // Validation as of a date after the certificate expired.
    let o = env.signet(&[
        "verify",
        "doc.txt",
        "--signature",
        "doc.txt.p7s",
        "--trust",
        "ca/root.crt",
        "--at",
        "2031-01-01",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        json_verdict(&o),
        ("INDETERMINATE".into(), Some("OUT_OF_BOUNDS_NO_POE".into()))
    );
    // Changed content.
    env.write("doc2.txt", b"Invoice 2026-119");
    let o = env.signet(&[
        "verify",
        "doc2.txt",
        "--signature",
        "doc.txt.p7s",
        "--trust",
        "ca/root.crt",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(json_verdict(&o), ("TOTAL-FAILED".into(), Some("HASH_FAILURE".into())));
    // Garbage, truncated, huge and missing signature files: one-line errors, exit 2.
    let sig = std::fs::read(env.path("doc.txt.p7s")).unwrap();
    env.write("trunc.p7s", &sig[..sig.len() / 3]);
    env.write("garbage.p7s", b"this is not a signature");
    let f = std::fs::File::create(env.path("huge.p7s")).unwrap();
    f.set_len(300 * 1024 * 1024).unwrap();
    for s in ["trunc.p7s", "garbage.p7s", "huge.p7s", "missing.p7s"] {
        let o = env.signet(&["verify", "doc.txt", "--signature", s, "--trust", "ca/root.crt"]);
        assert_eq!(code(&o), 2, "{s}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{s}: {}", stderr(&o));
    }
    // Usage errors.
    assert_eq!(
        code(&env.signet(&["sign", "doc.txt", "--key", "dave.key", "--cert", "dave.crt"])),
        2
    );
    assert_eq!(code(&env.signet(&["verify"])), 2);
    assert_eq!(
        code(&env.signet(&["verify", "doc.txt", "--signature", "doc.txt.p7s", "--at", "someday"])),
        2
    );
    // A certificate that does not belong to the key.
    person(&env, "ecdsa-p256", "Erin", "erin.key", "erin.crt");
    let o = env.signet(&[
        "sign",
        "--detached",
        "doc.txt",
        "-o",
        "x.p7s",
        "--key",
        "erin.key",
        "--cert",
        "dave.crt",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does not belong"), "{}", stderr(&o));
}

#[test]
fn large_files_are_signed_streaming_and_verify_in_openssl() {
    let env = Env::new();
    setup_ca(&env, "ecdsa-p256");
    person(&env, "rsa-2048", "Frank", "f.key", "f.crt");
    let f = std::fs::File::create(env.path("big.bin")).unwrap();
    f.set_len(64 * 1024 * 1024 + 123).unwrap();
    env.ok(&["sign", "--detached", "big.bin", "--key", "f.key", "--cert", "f.crt"]);
    openssl_cms_verify(&env, "big.bin.p7s", Some("big.bin"), "ca/root.crt");
    env.ok(&[
        "verify",
        "big.bin",
        "--signature",
        "big.bin.p7s",
        "--trust",
        "ca/root.crt",
    ]);
}
