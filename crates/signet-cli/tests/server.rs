//! `signet serve` as a process: zero-configuration start, the CLI signing through it
//! (`signet --server … sign`), `signet audit verify` before and after tampering, and two server
//! processes on one PostgreSQL accepting a TOTP code exactly once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::Env;
use common::node::*;
use serde_json::{Value, json};

#[test]
fn zero_config_server_signs_for_the_cli_and_its_audit_log_verifies() {
    let env = Env::new();
    let node = Node::start(&env, &[], &[], true);
    let otp = node
        .admin_password
        .clone()
        .expect("first start prints the administrator's one-time password");
    assert!(
        env.path("signet-data/signet.db").exists(),
        "SQLite database in ./signet-data"
    );
    let admin = session_token(&node, "admin", &otp);
    let (alice, secret) = signer(&node, &admin, "alice");
    let key = org_key(&node, &alice);

    let pdf = common::pdf::raw_pdf(&[common::pdf::CATALOG, common::pdf::PAGES, common::pdf::PAGE], b"");
    std::fs::write(env.path("leave.pdf"), &pdf).unwrap();
    std::fs::write(env.path("other.pdf"), &pdf).unwrap();
    let code_now = code(&secret, 1);
    let o = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "--server",
            &node.url,
            "sign",
            "leave.pdf",
            "--key-id",
            &key,
            "--totp",
            &code_now,
            "--reason",
            "Approved",
            "--doc-type",
            "leave",
        ])
        .env("SIGNET_TOKEN", &alice)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, _, ca) = node.call("GET", "/api/v1/ca/certificate", None, None, &[]);
    std::fs::write(env.path("server-ca.pem"), &ca).unwrap();
    env.ok(&["verify", "leave-signed.pdf", "--trust", "server-ca.pem"]);
    let o = Command::new("pyhanko")
        .args([
            "sign",
            "validate",
            "--trust-replace",
            "--trust",
            "server-ca.pem",
            "leave-signed.pdf",
        ])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let verdict = String::from_utf8_lossy(&o.stdout);
    assert!(
        verdict.contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED"),
        "{verdict}"
    );
    // The same code again: refused, exit 2 with the server's reason, nothing written.
    let o = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "--server",
            &node.url,
            "sign",
            "other.pdf",
            "--key-id",
            &key,
            "--totp",
            &code_now,
            "-o",
            "again.pdf",
        ])
        .env("SIGNET_TOKEN", &alice)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("already used"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!env.path("again.pdf").exists());

    node.stop();
    // Console recovery: a new one-time password for the administrator, audited.
    let out = env.ok(&["user", "reset-password", "admin", "--data-dir", "signet-data"]);
    let fresh = out.lines().next().unwrap().rsplit(' ').next().unwrap().to_string();
    assert_eq!(fresh.len(), 20, "{out}");
    let node = Node::start(&env, &[], &[], false);
    session_token(&node, "admin", &fresh);
    node.stop();
    let out = env.ok(&["audit", "verify", "--data-dir", "signet-data"]);
    assert!(out.contains("audit log intact"), "{out}");
    // Tamper with one entry in the database behind the server's back.
    let py = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_log SET actor='mallory' WHERE seq=4\"); c.commit()";
    let o = Command::new("python3")
        .args(["-c", py, &env.p("signet-data/signet.db")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = env.signet(&["audit", "verify", "--data-dir", "signet-data"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("TAMPERED at entry 4"), "{out}");
}

#[test]
fn two_nodes_on_one_postgres_accept_a_code_exactly_once() {
    let Ok(pg) = std::env::var("SIGNET_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("SIGNET_TEST_REQUIRE_POSTGRES").is_err(),
            "PostgreSQL required"
        );
        return;
    };
    let env = Env::new();
    let mut b = [0u8; 6];
    signet_crypto::random_bytes(&mut b).unwrap();
    let db = format!("signet_test_nodes_{}", hex::encode(b));
    let o = Command::new("psql")
        .args([&pg, "-qc", &format!("CREATE DATABASE {db}")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let url = format!("{}/{db}", pg.rsplit_once('/').unwrap().0);
    let kek = "ab".repeat(32);
    std::fs::create_dir_all(env.path("shared-blobs")).unwrap();
    let common = ["--database-url", &url, "--blob-dir", "shared-blobs"];
    let a = Node::start(
        &env,
        &[&common[..], &["--data-dir", "node-a"]].concat(),
        &[("SIGNET_KEK", &kek)],
        true,
    );
    let admin_otp = a
        .admin_password
        .clone()
        .expect("the first node creates the administrator");
    let bn = Node::start(
        &env,
        &[&common[..], &["--data-dir", "node-b"]].concat(),
        &[("SIGNET_KEK", &kek)],
        false,
    );
    assert!(
        bn.admin_password.is_none(),
        "the second node joins, it does not bootstrap again"
    );

    let admin = session_token(&a, "admin", &admin_otp);
    let (alice, secret) = signer(&a, &admin, "alice");
    let key = org_key(&bn, &alice);
    let pdf = signet_pdf::build::classic_pdf(
        "1.7",
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
        ],
        b"",
    );
    let mut docs = Vec::new();
    for (i, node) in [&a, &bn, &a, &bn, &a, &bn].iter().enumerate() {
        let (s, v, _) = node.call(
            "POST",
            &format!("/api/v1/documents?title=Doc{i}"),
            Some(&alice),
            Some("application/pdf"),
            &pdf,
        );
        assert_eq!(s, 201, "{v}");
        docs.push(v["document"]["id"].as_str().unwrap().to_string());
    }
    // The same code, six requests at once, three to each node.
    let c = code(&secret, 1);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(docs.len()));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let node = if i % 2 == 0 { &a } else { &bn };
                let barrier = barrier.clone();
                let (alice, key, c) = (&alice, &key, &c);
                s.spawn(move || {
                    barrier.wait();
                    node.post(
                        &format!("/api/v1/documents/{d}/sign"),
                        Some(alice),
                        json!({"key_id": key, "totp_code": c}),
                    )
                    .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    // The others are refused as replays (403), or throttled (429) once replays pile up.
    assert!(statuses.iter().all(|s| [200, 403, 429].contains(s)), "{statuses:?}");
    // The signed version is readable from the other node (shared blobs and database).
    let (_, list, _) = bn.call("GET", "/api/v1/documents", Some(&alice), None, &[]);
    let signed = list["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["current_version"] == 2)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _, body) = a.call(
        "GET",
        &format!("/api/v1/documents/{signed}/content"),
        Some(&alice),
        None,
        &[],
    );
    assert_eq!(s, 200);
    assert!(body.starts_with(&pdf));
    a.stop();
    bn.stop();
    // Both nodes wrote to one audit chain: no gaps, nothing out of order.
    let out = env.ok(&["audit", "verify", "--database-url", &url]);
    assert!(out.contains("audit log intact"), "{out}");
}

/// Removes what legitimately differs between two validations of the same file a few seconds
/// apart (the validation time, and time-relative wording built from it).
fn without_validation_time(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("validation_time");
                for x in m.values_mut() {
                    walk(x);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// One validation path: `signet verify --format json` and the server's `POST /api/v1/verify`
/// give the same report, field for field, on a corpus — our server's PAdES B-T, the same file
/// tampered, a PDF signed by pyHanko, an attached CMS from `openssl cms -sign`, a garbage-free
/// but unsigned PDF, and after the signing key is revoked on the server.
#[test]
fn the_cli_and_the_server_report_the_same_on_a_corpus() {
    let env = Env::new();
    let node = Node::start(&env, &[], &[], true);
    let admin = session_token(&node, "admin", node.admin_password.as_deref().unwrap());
    let (alice, secret) = signer(&node, &admin, "alice");
    let key = org_key(&node, &alice);
    let pdf = common::pdf::raw_pdf(&[common::pdf::CATALOG, common::pdf::PAGES, common::pdf::PAGE], b"");
    std::fs::write(env.path("c.pdf"), &pdf).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "--server",
            &node.url,
            "sign",
            "c.pdf",
            "--key-id",
            &key,
            "--totp",
            &code(&secret, 1),
        ])
        .env("SIGNET_TOKEN", &alice)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, _, ca) = node.call("GET", "/api/v1/ca/certificate", None, None, &[]);
    std::fs::write(env.path("server-ca.pem"), &ca).unwrap();
    // The corpus.
    let signed = std::fs::read(env.path("c-signed.pdf")).unwrap();
    let mut tampered = signed.clone();
    let at = tampered.windows(9).position(|w| w == b"/MediaBox").unwrap();
    tampered[at + 11] = b'1';
    std::fs::write(env.path("tampered.pdf"), &tampered).unwrap();
    common::pdf::setup(&env);
    common::pdf::plain_key(&env, "bob");
    common::pdf::ok_cmd(
        &env,
        "python3",
        &[
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/pyhanko_pdf.py"),
            "sign",
            "c.pdf",
            "pyhanko.pdf",
            "bob.pem",
            "bob.crt",
            "Sig1",
        ],
    );
    env.write("memo.txt", b"purchase request 7\n");
    env.openssl_ok(&[
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-in",
        "memo.txt",
        "-signer",
        "bob.crt",
        "-inkey",
        "bob.pem",
        "-outform",
        "DER",
        "-out",
        "memo.p7m",
    ]);
    let corpus = ["c-signed.pdf", "tampered.pdf", "pyhanko.pdf", "memo.p7m", "c.pdf"];
    let compare = |when: &str| {
        let (_, _, crl) = node.call("GET", "/crl/ca.crl", None, None, &[]);
        std::fs::write(env.path("server.crl"), &crl).unwrap();
        for f in corpus {
            let o = env.signet(&[
                "verify",
                f,
                "--trust",
                "server-ca.pem",
                "--crl",
                "server.crl",
                "--format",
                "json",
            ]);
            let cli: Value = serde_json::from_slice(&o.stdout)
                .unwrap_or_else(|_| panic!("{f}: {}", String::from_utf8_lossy(&o.stderr)));
            let body = std::fs::read(env.path(f)).unwrap();
            let (s, server, _) = node.call(
                "POST",
                "/api/v1/verify",
                Some(&alice),
                Some("application/octet-stream"),
                &body,
            );
            assert_eq!(s, 200, "{f}: {server}");
            assert_eq!(
                without_validation_time(cli.clone()),
                without_validation_time(server.clone()),
                "{when}: {f}: the CLI and the server disagree"
            );
            assert!(cli["signatures"].is_array(), "{f}: {cli}");
        }
    };
    compare("before revocation");
    // After the organisation key's certificate is revoked on the server, both see it.
    let (s, v) = node.post(
        &format!("/api/v1/keys/{key}/revoke"),
        Some(&admin),
        json!({"reason": "key-compromise"}),
    );
    assert_eq!(s, 200, "{v}");
    std::thread::sleep(Duration::from_millis(1100));
    compare("after revocation");
    // Both see the revocation: after the signature's time-stamp, so noted, not failed.
    let o = env.signet(&[
        "verify",
        "c-signed.pdf",
        "--trust",
        "server-ca.pem",
        "--crl",
        "server.crl",
        "--format",
        "json",
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("after the validation time"), "{text}");
}
