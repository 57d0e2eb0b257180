//! The CA's public services on a real port, checked with OpenSSL (a client we did not write):
//! the TSA (`openssl ts -verify`), the OCSP responder (`openssl ocsp`, good then revoked), the
//! CRL (`openssl crl -CAfile`), and the AIA certificate.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::process::Command;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

fn openssl(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let o = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Asks the server's responder with Signet's own OCSP client code.
async fn ask(t: &T, cert: &signet_pki::Certificate, ca: &signet_pki::Certificate) -> signet_pki::ocsp::CertStatus {
    let req = signet_pki::ocsp::request(cert, ca, b"nonce-123").unwrap();
    let r = t
        .req("POST", "/ocsp", &Auth::None, Some("application/ocsp-request"), req)
        .await;
    signet_pki::ocsp::verify_response(&r.body, cert, ca, Some(b"nonce-123"), signet_pki::time::now())
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tsa_ocsp_and_crl_answer_openssl() {
    for b in backends() {
        let t = T::new(&b).await;
        let listener = signet_server::listen("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(signet_server::serve(listener, t.state.clone(), async move {
            let _ = stopped.await;
        }));
        let url = format!("http://{addr}");
        let dir = t.dir.path().to_path_buf();
        std::fs::write(
            dir.join("ca.pem"),
            t.get("/api/v1/ca/certificate", &Auth::None).await.body,
        )
        .unwrap();
        let der = t.get("/ca.crt", &Auth::None).await;
        assert_eq!(der.headers["content-type"], "application/pkix-cert");
        assert_eq!(der.body[0], 0x30);

        // A personal key for alice; its certificate is what OCSP is asked about.
        let (alice, _) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        // A new key needs a code (a stolen session cannot mint itself a signing key).
        let k = t.post("/api/v1/keys", &alice, json!({"label": "alice"})).await;
        assert_eq!(k.status, StatusCode::FORBIDDEN, "{}", k.detail());
        let k = t
            .post(
                "/api/v1/keys",
                &alice,
                json!({"label": "alice", "totp_code": t.code(&secret)}),
            )
            .await;
        let key = k.json()["key"].clone();
        let chain = key["chain_pem"].as_str().unwrap();
        let leaf_end = chain.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----\n".len();
        std::fs::write(dir.join("alice.pem"), &chain[..leaf_end]).unwrap();
        let key_id = key["id"].as_str().unwrap().to_string();

        let d = dir.clone();
        let u = url.clone();
        let good = tokio::task::spawn_blocking(move || {
            openssl(
                &d,
                &[
                    "ocsp",
                    "-issuer",
                    "ca.pem",
                    "-cert",
                    "alice.pem",
                    "-url",
                    &format!("{u}/ocsp"),
                    "-CAfile",
                    "ca.pem",
                    "-resp_text",
                ],
            )
        })
        .await
        .unwrap();
        assert!(good.0, "{}", good.1);
        assert!(good.1.contains("Response verify OK"), "{}", good.1);
        assert!(good.1.contains("alice.pem: good"), "{}", good.1);

        // Our own client agrees (signature, CertID, nonce, freshness checked).
        let ca_cert = signet_pki::Certificate::parse_many(&std::fs::read(dir.join("ca.pem")).unwrap())
            .unwrap()
            .remove(0);
        let alice_cert = signet_pki::Certificate::parse_many(&chain.as_bytes()[..leaf_end])
            .unwrap()
            .remove(0);
        assert_eq!(ask(&t, &alice_cert, &ca_cert).await, signet_pki::ocsp::CertStatus::Good);

        // Alice signs with it while it is good; the server's verify passes.
        let up = t
            .upload(&alice, "Contract", "contract", "application/pdf", pdf("Contract"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": key_id, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let v = t
            .post(&format!("/api/v1/documents/{doc}/verify"), &alice, json!({}))
            .await;
        assert_eq!(v.json()["indication"], "TOTAL-PASSED", "{}", v.json());

        // Revoked by an administrator: OCSP says revoked with the reason, the CRL lists it, the
        // key no longer signs.
        let r = t
            .post(
                &format!("/api/v1/keys/{key_id}/revoke"),
                &t.admin,
                json!({"reason": "keyCompromise"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let d = dir.clone();
        let u = url.clone();
        let revoked = tokio::task::spawn_blocking(move || {
            openssl(
                &d,
                &[
                    "ocsp",
                    "-issuer",
                    "ca.pem",
                    "-cert",
                    "alice.pem",
                    "-url",
                    &format!("{u}/ocsp"),
                    "-CAfile",
                    "ca.pem",
                ],
            )
        })
        .await
        .unwrap();
        assert!(revoked.1.contains("Response verify OK"), "{}", revoked.1);
        assert!(revoked.1.contains("alice.pem: revoked"), "{}", revoked.1);
        assert!(revoked.1.contains("Reason: keyCompromise"), "{}", revoked.1);
        assert!(matches!(
            ask(&t, &alice_cert, &ca_cert).await,
            signet_pki::ocsp::CertStatus::Revoked { reason: Some(1), .. }
        ));
        // The server's own verify now consults its CA's revocation list. The signature's
        // time-stamp proves it existed at a moment given to the millisecond; the revocation
        // time is whole seconds. Revoked in a later second: the signature stands, with a
        // warning. Revoked in the same second: nothing proves the signature came first, so it
        // is indeterminate (REVOKED_NO_POE).
        let v = t
            .post(&format!("/api/v1/documents/{doc}/verify"), &alice, json!({}))
            .await;
        let report = v.json();
        let (revoked_at,): (i64,) = sqlx::query_as("SELECT revoked_at FROM certificates WHERE key_id = $1")
            .bind(&key_id)
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        let stamped = report["signatures"][0]["timestamp_time"].as_str().unwrap();
        let stamped = signet_pki::time::parse(&format!("{}Z", &stamped[..19])).unwrap();
        if revoked_at > stamped {
            assert_eq!(report["indication"], "TOTAL-PASSED", "{report}");
            assert!(report.to_string().contains("after the validation time"), "{report}");
        } else {
            assert_eq!(report["indication"], "INDETERMINATE", "{report}");
            assert_eq!(report["signatures"][0]["sub_indication"], "REVOKED_NO_POE", "{report}");
        }
        let crl = t.get("/crl/ca.crl", &Auth::None).await;
        assert_eq!(crl.headers["content-type"], "application/pkix-crl");
        std::fs::write(dir.join("ca.crl"), &crl.body).unwrap();
        let (_, text) = openssl(
            &dir,
            &[
                "crl", "-inform", "DER", "-in", "ca.crl", "-CAfile", "ca.pem", "-noout", "-text",
            ],
        );
        // `openssl crl -CAfile` exits 0 even when verification fails; read what it says.
        assert!(text.contains("verify OK"), "{text}");
        let serial = key["serial"].as_str().unwrap().to_ascii_uppercase();
        assert!(text.to_ascii_uppercase().contains(&serial), "serial {serial} in {text}");
        let s = t
            .post("/api/v1/keys", &alice, json!({"totp_code": t.code(&secret)}))
            .await;
        assert_eq!(s.status, StatusCode::CREATED);
        let listed = t.get("/api/v1/keys", &alice).await.json();
        assert!(
            listed["keys"]
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k["id"] != key_id.as_str() || k["disabled"] == true)
        );

        // A certificate from another CA: the responder is not authoritative.
        let (ok, out) = openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "o.key",
                "-out",
                "other.pem",
                "-subj",
                "/CN=Other",
                "-days",
                "2",
            ],
        );
        assert!(ok, "{out}");
        let d = dir.clone();
        let u = url.clone();
        let other = tokio::task::spawn_blocking(move || {
            openssl(
                &d,
                &[
                    "ocsp",
                    "-issuer",
                    "other.pem",
                    "-cert",
                    "other.pem",
                    "-url",
                    &format!("{u}/ocsp"),
                    "-CAfile",
                    "ca.pem",
                ],
            )
        })
        .await
        .unwrap();
        assert!(
            other.1.contains("unauthorized") || other.1.contains("Responder Error"),
            "{}",
            other.1
        );

        // The TSA: two tokens for the same data have different serials; OpenSSL verifies them.
        std::fs::write(dir.join("data.txt"), b"leave application").unwrap();
        let (ok, out) = openssl(
            &dir,
            &["ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq"],
        );
        assert!(ok, "{out}");
        let q = std::fs::read(dir.join("q.tsq")).unwrap();
        let mut serials = Vec::new();
        for i in 0..2 {
            let r = t
                .req(
                    "POST",
                    "/tsa",
                    &Auth::None,
                    Some("application/timestamp-query"),
                    q.clone(),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(r.headers["content-type"], "application/timestamp-reply");
            let name = format!("r{i}.tsr");
            std::fs::write(dir.join(&name), &r.body).unwrap();
            let (ok, out) = openssl(
                &dir,
                &[
                    "ts",
                    "-verify",
                    "-in",
                    &name,
                    "-queryfile",
                    "q.tsq",
                    "-CAfile",
                    "ca.pem",
                ],
            );
            assert!(ok && out.contains("Verification: OK"), "{out}");
            let (_, text) = openssl(&dir, &["ts", "-reply", "-in", &name, "-text"]);
            assert!(text.contains("1.3.6.1.4.1.58873.1.1"), "{text}");
            assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");
            serials.push(
                text.lines()
                    .find(|l| l.starts_with("Serial number:"))
                    .unwrap()
                    .to_string(),
            );
        }
        assert_ne!(serials[0], serials[1]);
        let wrong = t
            .req("POST", "/tsa", &Auth::None, Some("application/json"), q.clone())
            .await;
        assert_eq!(wrong.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let junk = t
            .req(
                "POST",
                "/ocsp",
                &Auth::None,
                Some("application/ocsp-request"),
                b"junk".to_vec(),
            )
            .await;
        assert_eq!(junk.body, vec![0x30, 0x03, 0x0a, 0x01, 0x01], "malformedRequest");

        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}

/// A key policy can ask for B-LT or B-LTA: the server embeds its CA's certificate and current
/// CRL in the DSS (and, for B-LTA, adds a document timestamp from its own TSA). Our validator
/// reports the level (B-T, B-LT, B-LTA); pyHanko's AdES validation accepts the B-LT and B-LTA
/// files offline (nothing listens at the certificates' URLs in this test); a bad level is
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_policy_can_ask_for_long_term_validation() {
    for b in backends() {
        let t = T::new(&b).await;
        let (svc, svc_id) = t.user("robot", &["service"]).await;
        let org = t.org_key().await;
        let ca = String::from_utf8(t.get("/api/v1/ca/certificate", &Auth::None).await.body).unwrap();
        let bad = t
            .req(
                "PUT",
                &format!("/api/v1/keys/{org}/policy"),
                &t.admin,
                Some("application/json"),
                json!({"allowed_roles": ["signer"], "allowed_doc_types": ["*"], "allowed_services": [svc_id], "signature_level": "B-XL"}).to_string().into_bytes(),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.detail());
        for level in ["B-T", "B-LT", "B-LTA"] {
            let p = t
                .req(
                    "PUT",
                    &format!("/api/v1/keys/{org}/policy"),
                    &t.admin,
                    Some("application/json"),
                    json!({"allowed_roles": ["signer"], "allowed_doc_types": ["*"], "allowed_services": [svc_id], "signature_level": level}).to_string().into_bytes(),
                )
                .await;
            assert_eq!(p.status, StatusCode::OK, "{}", p.detail());
            assert_eq!(p.json()["key"]["signature_level"], level);
            let up = t.upload(&svc, level, "contract", "application/pdf", pdf(level)).await;
            let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
            let r = t
                .post(&format!("/api/v1/documents/{doc}/sign"), &svc, json!({"key_id": org}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
            let v = t
                .post(&format!("/api/v1/documents/{doc}/verify"), &svc, json!({}))
                .await
                .json();
            assert_eq!(v["indication"], "TOTAL-PASSED", "{v}");
            let sig = v["signatures"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["format"] == "PAdES")
                .unwrap()
                .clone();
            assert_eq!(sig["level"], format!("PAdES-{level}"), "{sig}");
            let signed = t.get(&format!("/api/v1/documents/{doc}/content"), &svc).await;
            let dir = t.dir.path();
            std::fs::write(dir.join("lt.pdf"), &signed.body).unwrap();
            std::fs::write(dir.join("ca.pem"), &ca).unwrap();
            if level == "B-T" {
                // Offline, pyHanko's AdES validation has no revocation data for a B-T file (the
                // CRL's URL is not served here); its signature validation accepts it (api.rs).
                let verdict = pyhanko_validate(dir, &signed.body, &ca);
                assert!(
                    verdict.contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
                    "{verdict}"
                );
                continue;
            }
            let o = std::process::Command::new("pyhanko")
                .args(["sign", "adesverify", "--trust-replace", "--trust", "ca.pem", "lt.pdf"])
                .current_dir(dir)
                .output()
                .unwrap();
            let out = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(o.status.success(), "pyHanko adesverify {level}: {out}");
            assert!(out.contains("INTACT:TRUSTED"), "{level}: {out}");
            if level == "B-LTA" {
                renew_and_check(&t, &svc, &doc, &ca).await;
            }
        }
    }
}

/// The archive renewal job: nothing is due while the TSA certificate has years left; due, but
/// with nothing to gain while our TSA certificate is the same one; after the TSA key is
/// rotated (a new key, the old one disabled, so never used again) the document gets a new
/// current version with a second document timestamp (still B-LTA, pyHanko accepts it),
/// audited; two runs at once renew once.
async fn renew_and_check(t: &T, who: &Auth, doc: &str, ca: &str) {
    let none = signet_server::ltv_renewal::run_once(&t.state, 1).await.unwrap();
    assert!(none.ran && none.renewed.is_empty(), "{none:?}");
    let same_tsa = signet_server::ltv_renewal::run_once(&t.state, 100_000).await.unwrap();
    assert!(same_tsa.ran && same_tsa.renewed.is_empty(), "{same_tsa:?}");
    let old = signet_server::keys::newest_enabled(&t.state.db, signet_server::keys::KeyKind::Tsa)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let subject = signet_pki::name::SubjectSpec {
        common_name: "Rotated TSA".into(),
        ..Default::default()
    };
    signet_server::keys::create_certified(
        &t.state,
        signet_server::keys::KeyKind::Tsa,
        None,
        "TSA 2",
        subject,
        "",
        signet_crypto::KeyAlgorithm::EcdsaP256,
    )
    .await
    .unwrap();
    t.sql(&format!("UPDATE keys SET disabled = 1 WHERE id = '{}'", old.id))
        .await;
    let (a, b) = tokio::join!(
        signet_server::ltv_renewal::run_once(&t.state, 100_000),
        signet_server::ltv_renewal::run_once(&t.state, 100_000)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let renewed: Vec<&String> = a.renewed.iter().chain(&b.renewed).filter(|d| *d == doc).collect();
    assert_eq!(renewed.len(), 1, "renewed exactly once: {a:?} {b:?}");
    let d = t.get(&format!("/api/v1/documents/{doc}"), who).await.json();
    let versions = d["document"]["versions"].as_array().unwrap().clone();
    assert_eq!(versions.last().unwrap()["kind"], "renewed", "{d}");
    assert_eq!(
        d["document"]["current_version"],
        versions.last().unwrap()["version"],
        "{d}"
    );
    let v = t
        .post(&format!("/api/v1/documents/{doc}/verify"), who, json!({}))
        .await
        .json();
    assert_eq!(v["indication"], "TOTAL-PASSED", "{v}");
    let stamps = v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["format"] == "PAdES document timestamp")
        .count();
    assert_eq!(stamps, 2, "{v}");
    let signed = t.get(&format!("/api/v1/documents/{doc}/content"), who).await;
    let verdict = pyhanko_validate(t.dir.path(), &signed.body, ca);
    assert!(
        verdict.contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "{verdict}"
    );
    let audit = t.get("/api/v1/audit?limit=1000", &t.admin).await.json();
    assert!(audit.to_string().contains("document.ltv-renew"), "{audit}");
}
