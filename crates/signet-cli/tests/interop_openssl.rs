//! Signet verifies what OpenSSL makes: `openssl cms -sign` signatures (with and without signed
//! attributes, RSA and ECDSA, detached and attached, DER and BER), certificates from
//! `openssl req`/`openssl ca` and CRLs from `openssl ca -gencrl`; plus the e=3 signature
//! forgery (security.md item 67) and SHA-1 (item 62).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

mod common;
use common::*;

const CA_CNF: &str = r#"
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
crlnumber = crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ req ]
distinguished_name = dn
[ dn ]
"#;

/// An OpenSSL-made CA in the scratch directory: ca.key, ca.crt, and `openssl ca` state.
fn openssl_ca(env: &Env) {
    env.write("ca.cnf", CA_CNF.as_bytes());
    env.write("index.txt", b"");
    env.write("serial", b"1000\n");
    env.write("crlnumber", b"01\n");
    std::fs::create_dir_all(env.path("newcerts")).unwrap();
    env.openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=OpenSSL Test CA/O=Interop",
        "-days",
        "60",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
}

/// A leaf issued by `openssl ca` for a new key made with `newkey` (e.g. "rsa:2048").
fn openssl_leaf(env: &Env, name: &str, newkey: &[&str]) {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let crt = format!("{name}.crt");
    let mut args = vec!["req", "-new", "-nodes", "-keyout", &key, "-out", &csr];
    let subj = format!("/CN={name}");
    args.extend(["-subj", &subj]);
    args.extend(newkey);
    env.openssl_ok(&args);
    env.openssl_ok(&[
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-extensions",
        "leaf",
        "-keyfile",
        "ca.key",
        "-cert",
        "ca.crt",
        "-in",
        &csr,
        "-out",
        &crt,
    ]);
}

fn verify_json(env: &Env, args: &[&str]) -> (i32, (String, Option<String>), serde_json::Value) {
    let mut full = vec!["verify"];
    full.extend(args);
    full.extend(["--trust", "ca.crt", "--format", "json"]);
    let o = env.signet(&full);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", stderr(&o)));
    (code(&o), json_verdict(&o), v)
}

#[test]
fn openssl_cms_sign_variants_verify() {
    let env = Env::new();
    openssl_ca(&env);
    openssl_leaf(&env, "rsa", &["-newkey", "rsa:2048"]);
    openssl_leaf(&env, "ec", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]);
    env.write("doc.txt", b"A contract signed with OpenSSL\n");
    for signer in ["rsa", "ec"] {
        let crt = format!("{signer}.crt");
        let key = format!("{signer}.key");
        // (name, extra openssl flags, attached?)
        let variants: Vec<(&str, Vec<&str>, bool)> = vec![
            ("detached-der", vec!["-outform", "DER"], false),
            ("detached-noattr", vec!["-outform", "DER", "-noattr"], false),
            ("detached-cades", vec!["-outform", "DER", "-cades"], false),
            ("attached-der", vec!["-outform", "DER", "-nodetach"], true),
            (
                "attached-ber-stream",
                vec!["-outform", "DER", "-nodetach", "-stream"],
                true,
            ),
            ("ber-stream-embeds-content", vec!["-outform", "DER", "-stream"], true),
            ("detached-pem", vec!["-outform", "PEM"], false),
            ("attached-noattr", vec!["-outform", "DER", "-nodetach", "-noattr"], true),
        ];
        for (name, flags, attached) in variants {
            let out = format!("{signer}-{name}.p7s");
            let mut args = vec![
                "cms", "-sign", "-binary", "-in", "doc.txt", "-signer", &crt, "-inkey", &key, "-out", &out,
            ];
            args.extend(flags.iter());
            env.openssl_ok(&args);
            let (c, verdict, v) = if attached {
                verify_json(&env, &[&out])
            } else {
                verify_json(&env, &["doc.txt", "--signature", &out])
            };
            assert_eq!(
                (c, verdict.clone()),
                (0, ("TOTAL-PASSED".into(), None)),
                "{out}: {}",
                serde_json::to_string_pretty(&v).unwrap()
            );
            let level = v["signatures"][0]["level"].as_str();
            if name.contains("cades") {
                assert_eq!(level, Some("CAdES-B-B"), "{out}");
            }
            if name.contains("ber") {
                // Indefinite lengths were normalised for reading and reported.
                let checks = v["signatures"][0]["checks"].to_string();
                assert!(checks.contains("BER"), "{out}: {checks}");
            }
            // Tampered content is caught for every variant that has detached content.
            if !attached {
                env.write("doc-changed.txt", b"A contract signed with OpenSSL!\n");
                let (c2, v2, _) = verify_json(&env, &["doc-changed.txt", "--signature", &out]);
                assert_eq!(c2, 1);
                assert_eq!(v2.0, "TOTAL-FAILED", "{out}");
            }
        }
    }
}

#[test]
fn two_signers_no_certs_and_sha1() {
    let env = Env::new();
    openssl_ca(&env);
    openssl_leaf(&env, "a", &["-newkey", "rsa:2048"]);
    openssl_leaf(&env, "b", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    env.write("doc.txt", b"board resolution");
    env.openssl_ok(&[
        "cms", "-sign", "-binary", "-in", "doc.txt", "-signer", "a.crt", "-inkey", "a.key", "-signer", "b.crt",
        "-inkey", "b.key", "-outform", "DER", "-out", "two.p7s",
    ]);
    let (c, _, v) = verify_json(&env, &["doc.txt", "--signature", "two.p7s"]);
    assert_eq!(c, 0);
    assert_eq!(v["signatures"].as_array().unwrap().len(), 2);
    // -nocerts: the signer certificate has to be supplied.
    env.openssl_ok(&[
        "cms",
        "-sign",
        "-binary",
        "-nocerts",
        "-in",
        "doc.txt",
        "-signer",
        "a.crt",
        "-inkey",
        "a.key",
        "-outform",
        "DER",
        "-out",
        "nocerts.p7s",
    ]);
    let (c, verdict, _) = verify_json(&env, &["doc.txt", "--signature", "nocerts.p7s"]);
    assert_eq!(
        (c, verdict),
        (1, ("INDETERMINATE".into(), Some("NO_SIGNING_CERTIFICATE_FOUND".into())))
    );
    let (c, _, _) = verify_json(&env, &["doc.txt", "--signature", "nocerts.p7s", "--cert", "a.crt"]);
    assert_eq!(c, 0);
    // Item 62: SHA-1 without proof of existence.
    env.openssl_ok(&[
        "cms", "-sign", "-md", "sha1", "-binary", "-in", "doc.txt", "-signer", "a.crt", "-inkey", "a.key", "-outform",
        "DER", "-out", "sha1.p7s",
    ]);
    let (c, verdict, _) = verify_json(&env, &["doc.txt", "--signature", "sha1.p7s"]);
    assert_eq!(
        (c, verdict),
        (
            1,
            ("INDETERMINATE".into(), Some("CRYPTO_CONSTRAINTS_FAILURE_NO_POE".into()))
        )
    );
}

#[test]
fn openssl_ca_crls_revoke_and_clear() {
    let env = Env::new();
    openssl_ca(&env);
    openssl_leaf(&env, "good", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    openssl_leaf(&env, "bad", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    env.write("doc.txt", b"order 9");
    for who in ["good", "bad"] {
        env.openssl_ok(&[
            "cms",
            "-sign",
            "-binary",
            "-in",
            "doc.txt",
            "-signer",
            &format!("{who}.crt"),
            "-inkey",
            &format!("{who}.key"),
            "-outform",
            "DER",
            "-out",
            &format!("{who}.p7s"),
        ]);
    }
    env.openssl_ok(&[
        "ca",
        "-config",
        "ca.cnf",
        "-keyfile",
        "ca.key",
        "-cert",
        "ca.crt",
        "-revoke",
        "bad.crt",
        "-crl_reason",
        "keyCompromise",
    ]);
    env.openssl_ok(&[
        "ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-out", "ca.crl",
    ]);
    let (c, _, v) = verify_json(&env, &["doc.txt", "--signature", "good.p7s", "--crl", "ca.crl"]);
    assert_eq!(c, 0);
    assert!(v["signatures"][0]["checks"].to_string().contains("not revoked"));
    let (c, verdict, v) = verify_json(&env, &["doc.txt", "--signature", "bad.p7s", "--crl", "ca.crl"]);
    assert_eq!(
        (c, verdict),
        (1, ("INDETERMINATE".into(), Some("REVOKED_NO_POE".into())))
    );
    assert!(
        v["signatures"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("key compromise")
    );
    // The DER form of the CRL works too.
    env.openssl_ok(&["crl", "-in", "ca.crl", "-outform", "DER", "-out", "ca.crl.der"]);
    let (c, _, _) = verify_json(&env, &["doc.txt", "--signature", "bad.p7s", "--crl", "ca.crl.der"]);
    assert_eq!(c, 1);
}

#[test]
fn explicit_curve_parameters_are_refused() {
    let env = Env::new();
    openssl_ca(&env);
    env.openssl_ok(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-param_enc",
        "explicit",
        "-genkey",
        "-noout",
        "-out",
        "x.key",
    ]);
    env.openssl_ok(&["req", "-new", "-key", "x.key", "-out", "x.csr", "-subj", "/CN=Explicit"]);
    env.openssl_ok(&[
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-extensions",
        "leaf",
        "-keyfile",
        "ca.key",
        "-cert",
        "ca.crt",
        "-in",
        "x.csr",
        "-out",
        "x.crt",
    ]);
    env.write("doc.txt", b"curveball");
    env.openssl_ok(&[
        "cms", "-sign", "-binary", "-in", "doc.txt", "-signer", "x.crt", "-inkey", "x.key", "-outform", "DER", "-out",
        "x.p7s",
    ]);
    let (c, verdict, v) = verify_json(&env, &["doc.txt", "--signature", "x.p7s"]);
    assert_eq!(c, 1, "{v}");
    assert_ne!(verdict.0, "TOTAL-PASSED");
}

/// Item 67: Bleichenbacher's e=3 forgery with garbage after the DigestInfo must not verify,
/// while a genuine signature by the same e=3 key does (so the rejection is the padding check).
#[test]
fn rsa_e3_signature_forgery_is_rejected() {
    let env = Env::new();
    openssl_ca(&env);
    openssl_leaf(&env, "e3", &["-newkey", "rsa:2048", "-pkeyopt", "rsa_keygen_pubexp:3"]);
    env.write("doc.txt", b"pay 1 EUR");
    env.openssl_ok(&[
        "cms",
        "-sign",
        "-binary",
        "-in",
        "doc.txt",
        "-signer",
        "e3.crt",
        "-inkey",
        "e3.key",
        "-outform",
        "DER",
        "-out",
        "genuine.p7s",
    ]);
    let (c, verdict, v) = verify_json(&env, &["doc.txt", "--signature", "genuine.p7s"]);
    assert_eq!((c, verdict.0.as_str()), (0, "TOTAL-PASSED"), "{v}");

    // Forge: s = ceil(cbrt(EM)) where EM = 00 01 FF*8 00 DigestInfo(SHA-256(signedAttrs)) garbage.
    let der = std::fs::read(env.path("genuine.p7s")).unwrap();
    use der::{Decode, Encode};
    let ci = cms::content_info::ContentInfo::from_der(&der).unwrap();
    let sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    let si = sd.signer_infos.0.iter().next().unwrap();
    let attrs = si.signed_attrs.as_ref().unwrap().to_der().unwrap();
    let digest = signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, &attrs);
    let genuine_sig = si.signature.as_bytes().to_vec();
    let script = r#"
import sys
d = bytes.fromhex(sys.argv[1])
prefix = bytes([0,1]) + b'\xff'*8 + b'\x00' + bytes.fromhex('3031300d060960864801650304020105000420') + d
k = 256
target = int.from_bytes(prefix + b'\xff'*(k-len(prefix)), 'big')
lo, hi = 0, 1 << 700
while lo < hi:
    mid = (lo + hi) // 2
    if mid**3 < target: lo = mid + 1
    else: hi = mid
s = lo
while (s**3).to_bytes(k, 'big')[:len(prefix)] != prefix:
    s -= 1
print(s.to_bytes(k, 'big').hex())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, &hex::encode(&digest)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let forged = hex::decode(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(forged.len(), genuine_sig.len());
    let pos = der.windows(genuine_sig.len()).position(|w| w == genuine_sig).unwrap();
    let mut forged_der = der.clone();
    forged_der[pos..pos + forged.len()].copy_from_slice(&forged);
    env.write("forged.p7s", &forged_der);
    let (c, verdict, _) = verify_json(&env, &["doc.txt", "--signature", "forged.p7s"]);
    assert_eq!(
        (c, verdict),
        (1, ("TOTAL-FAILED".into(), Some("SIG_CRYPTO_FAILURE".into())))
    );
}
