//! `signet key`: generated keys are read by `openssl pkey`; keys and bundles made by OpenSSL
//! are imported; bad input is a one-line error with exit code 2.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

mod common;
use common::*;

fn spki_sha256_openssl(env: &Env, key: &str, passin: Option<&str>) -> String {
    let mut args = vec!["pkey", "-in", key, "-pubout", "-outform", "DER", "-out", "pub.der"];
    if let Some(p) = passin {
        args.extend(["-passin", p]);
    }
    env.openssl_ok(&args);
    let o = env.openssl_ok(&["dgst", "-sha256", "-r", "pub.der"]);
    o.split_whitespace().next().unwrap().to_string()
}

fn spki_sha256_signet(env: &Env, key: &str) -> String {
    let out = env.ok(&["key", "show", key]);
    out.lines()
        .find_map(|l| l.strip_prefix("public key: sha256:"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn generated_keys_of_every_algorithm_are_encrypted_pkcs8_that_openssl_reads() {
    let env = Env::new();
    for (alg, expect) in [
        ("rsa-2048", "2048 bit"),
        ("rsa-3072", "3072 bit"),
        ("rsa-4096", "4096 bit"),
        ("ecdsa-p256", "256 bit"),
        ("ecdsa-p384", "384 bit"),
        ("ed25519", "ED25519"),
    ] {
        let file = format!("{alg}.key");
        env.ok(&[
            "key",
            "generate",
            "--alg",
            alg,
            "-o",
            &file,
            "--passphrase-file",
            "pw.txt",
        ]);
        let text = std::fs::read_to_string(env.path(&file)).unwrap();
        assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{alg}");
        let o = env.openssl_ok(&["pkey", "-in", &file, "-passin", "file:pw.txt", "-noout", "-text"]);
        assert!(o.contains(expect), "{alg}: {o}");
        // The PBES2 parameters are what we promise.
        let asn = env.openssl_ok(&["asn1parse", "-in", &file]);
        assert!(
            asn.contains("PBES2")
                && asn.contains("PBKDF2")
                && asn.contains("aes-256-cbc")
                && asn.contains("hmacWithSHA256"),
            "{asn}"
        );
        assert_eq!(
            spki_sha256_signet(&env, &file),
            spki_sha256_openssl(&env, &file, Some("file:pw.txt"))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(env.path(&file)).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}

#[test]
fn wrong_passphrase_unknown_algorithm_missing_and_garbage_files_exit_2() {
    let env = Env::new();
    env.ok(&[
        "key",
        "generate",
        "--alg",
        "ecdsa-p256",
        "-o",
        "k.pem",
        "--passphrase-file",
        "pw.txt",
    ]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["key", "show", "k.pem", "--passphrase-file", "wrong.txt"],
            "wrong passphrase",
        ),
        (
            vec!["key", "generate", "--alg", "dsa-1024", "-o", "x.pem"],
            "unsupported algorithm",
        ),
        (vec!["key", "show", "missing.pem"], "cannot open"),
        (
            vec!["key", "generate", "--alg", "ed25519", "-o", "k.pem"],
            "already exists",
        ),
    ];
    for (args, msg) in cases {
        let o = env.signet(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    env.write(
        "garbage.pem",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    env.write("garbage.der", &[0x30, 0x82, 0xff, 0xff, 0x02]);
    env.write("empty.pem", b"");
    for f in ["garbage.pem", "garbage.der", "empty.pem"] {
        let o = env.signet(&["key", "show", f]);
        assert_eq!(code(&o), 2, "{f}: {}", stderr(&o));
    }
}

#[test]
fn openssl_keys_in_every_format_are_imported() {
    let env = Env::new();
    env.openssl_ok(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "rsa8.pem",
    ]);
    env.openssl_ok(&["rsa", "-in", "rsa8.pem", "-traditional", "-out", "rsa1.pem"]);
    env.openssl_ok(&["ecparam", "-name", "prime256v1", "-genkey", "-out", "sec1.pem"]);
    env.openssl_ok(&[
        "ecparam",
        "-name",
        "secp384r1",
        "-genkey",
        "-noout",
        "-out",
        "sec1-384.pem",
    ]);
    env.openssl_ok(&["genpkey", "-algorithm", "ED25519", "-out", "ed.pem"]);
    env.openssl_ok(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        "sec1.pem",
        "-out",
        "enc.pem",
        "-passout",
        "pass:imp0rt",
    ]);
    env.openssl_ok(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-128-cbc",
        "-v2prf",
        "hmacWithSHA512",
        "-in",
        "ed.pem",
        "-outform",
        "DER",
        "-out",
        "enc.der",
        "-passout",
        "pass:imp0rt",
    ]);
    env.openssl_ok(&["pkey", "-in", "rsa8.pem", "-outform", "DER", "-out", "rsa8.der"]);
    env.write("imp.txt", b"imp0rt\n");
    for (src, openssl_pass) in [
        ("rsa8.pem", None),
        ("rsa1.pem", None),
        ("rsa8.der", None),
        ("sec1.pem", None),
        ("sec1-384.pem", None),
        ("ed.pem", None),
        ("enc.pem", Some("pass:imp0rt")),
        ("enc.der", Some("pass:imp0rt")),
    ] {
        let out = format!("{src}.signet");
        env.ok(&[
            "key",
            "import",
            src,
            "-o",
            &out,
            "--in-passphrase-file",
            "imp.txt",
            "--passphrase-file",
            "pw.txt",
        ]);
        assert_eq!(
            spki_sha256_signet(&env, &out),
            spki_sha256_openssl(&env, src, openssl_pass),
            "{src}"
        );
    }
    // A wrong import passphrase is a clear error.
    env.write("bad.txt", b"nope\n");
    let o = env.signet(&[
        "key",
        "import",
        "enc.pem",
        "-o",
        "x.key",
        "--in-passphrase-file",
        "bad.txt",
        "--passphrase-file",
        "pw.txt",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("wrong passphrase"), "{}", stderr(&o));
}

#[test]
fn pkcs12_bundles_from_openssl_are_imported_with_their_certificates() {
    let env = Env::new();
    env.openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "k.pem",
        "-out",
        "c.pem",
        "-subj",
        "/CN=Bundle Signer",
        "-days",
        "30",
    ]);
    env.openssl_ok(&[
        "pkcs12",
        "-export",
        "-inkey",
        "k.pem",
        "-in",
        "c.pem",
        "-out",
        "b.p12",
        "-passout",
        "pass:p12secret",
    ]);
    env.write("p12.txt", b"p12secret\n");
    env.ok(&[
        "key",
        "import",
        "b.p12",
        "-o",
        "k.signet",
        "--cert-out",
        "certs.pem",
        "--in-passphrase-file",
        "p12.txt",
        "--passphrase-file",
        "pw.txt",
    ]);
    assert_eq!(
        spki_sha256_signet(&env, "k.signet"),
        spki_sha256_openssl(&env, "k.pem", None)
    );
    let a = env.openssl_ok(&["x509", "-in", "certs.pem", "-noout", "-fingerprint", "-sha256"]);
    let b = env.openssl_ok(&["x509", "-in", "c.pem", "-noout", "-fingerprint", "-sha256"]);
    assert_eq!(a, b);
    // Wrong password: the MAC check fails.
    env.write("bad.txt", b"wrong\n");
    let o = env.signet(&[
        "key",
        "import",
        "b.p12",
        "-o",
        "x.key",
        "--in-passphrase-file",
        "bad.txt",
        "--passphrase-file",
        "pw.txt",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("wrong passphrase"), "{}", stderr(&o));
    // A bundle that asks for more key-derivation work than the budget (MAC, certificate and
    // key at 1.9 million PBKDF2 iterations each) is refused before the last of it is done.
    env.openssl_ok(&[
        "pkcs12",
        "-export",
        "-inkey",
        "k.pem",
        "-in",
        "c.pem",
        "-out",
        "heavy.p12",
        "-passout",
        "pass:p12secret",
        "-iter",
        "1900000",
    ]);
    let o = env.signet(&[
        "key",
        "import",
        "heavy.p12",
        "-o",
        "h.key",
        "--in-passphrase-file",
        "p12.txt",
        "--passphrase-file",
        "pw.txt",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("key-derivation work"), "{}", stderr(&o));
    assert!(!env.path("h.key").exists());
    // Signing straight from the bundle works too.
    env.write("doc.txt", b"contract");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "sign",
            "--detached",
            "doc.txt",
            "--p12",
            "b.p12",
            "--passphrase-file",
            "p12.txt",
        ])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    env.openssl_ok(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "doc.txt.p7s",
        "-content",
        "doc.txt",
        "-CAfile",
        "c.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ]);
    // A legacy (RC2/3DES) bundle is refused with advice, if this OpenSSL can still make one.
    let legacy = env.openssl(&[
        "pkcs12",
        "-export",
        "-legacy",
        "-inkey",
        "k.pem",
        "-in",
        "c.pem",
        "-out",
        "legacy.p12",
        "-passout",
        "pass:p12secret",
    ]);
    if legacy.status.success() {
        let o = env.signet(&[
            "key",
            "import",
            "legacy.p12",
            "-o",
            "y.key",
            "--in-passphrase-file",
            "p12.txt",
            "--passphrase-file",
            "pw.txt",
        ]);
        assert_eq!(code(&o), 2);
        assert!(stderr(&o).contains("legacy"), "{}", stderr(&o));
    }
}
