//! End-to-end API tests on the real router and database (SQLite, and PostgreSQL when the test
//! command provides one): users, TOTP step-up, signing with the organisation key and own keys,
//! refusals, batch, downloads, bad input. Signed PDFs are checked by pyHanko.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_admin_must_change_the_one_time_password() {
    for b in backends() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = signet_server::Config {
            data_dir: dir.path().join("data"),
            ..signet_server::Config::default()
        };
        if let Backend::Postgres(u) = &b {
            c.database_url = Some(fresh_pg_database(u).await);
        }
        let p = signet_server::prepare(c.clone()).await.unwrap();
        let boot = p.bootstrap.unwrap();
        assert_eq!(boot.username, "admin");
        assert_eq!(boot.password.len(), 20);
        // The key-encryption key is private to its owner, and a restart creates nothing new.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(c.data_dir.join("kek.hex"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "kek.hex must not be readable by others");
        }
        let again = signet_server::prepare(c.clone()).await.unwrap();
        assert!(again.bootstrap.is_none());
        // A node with another key-encryption key refuses to start against this database.
        let mut other = c.clone();
        other.kek_hex = Some("11".repeat(32));
        let e = signet_server::prepare(other).await.err().unwrap();
        assert!(e.contains("key-encryption key"), "{e}");

        let app = signet_server::http::router(p.state.clone());
        let t = T {
            state: p.state,
            app,
            dir,
            admin: Auth::None,
            admin_id: String::new(),
            backend: b.clone(),
        };
        let (r, a) = t.login("admin", &boot.password).await;
        assert_eq!(r.status, StatusCode::OK);
        let a = a.unwrap();
        let blocked = t.get("/api/v1/documents", &a).await;
        assert_eq!(blocked.status, StatusCode::FORBIDDEN);
        assert!(blocked.detail().contains("one-time password"), "{}", blocked.detail());
        let weak = t
            .post(
                "/api/v1/me/password",
                &a,
                json!({"current_password": boot.password.as_str(), "new_password": "short"}),
            )
            .await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ok = t
            .post(
                "/api/v1/me/password",
                &a,
                json!({"current_password": boot.password.as_str(), "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.detail());
        // The password change ended the session; the old password no longer works.
        assert_eq!(t.get("/api/v1/me", &a).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            t.login("admin", &boot.password).await.0.status,
            StatusCode::UNAUTHORIZED
        );
        let (_, a) = t.login("admin", PASSWORD).await;
        assert_eq!(t.get("/api/v1/documents", &a.unwrap()).await.status, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_with_the_organisation_key_and_an_own_key() {
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let (bob, _) = t.user("bob", &["signer"]).await;
        let org = t.org_key().await;
        let up = t
            .upload(
                &alice,
                "Leave application",
                "leave",
                "application/pdf",
                pdf("Leave application"),
            )
            .await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.detail());
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let original = pdf("Leave application");

        // Without an enrolled authenticator, and then without a code: refused.
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": "123456"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail().contains("enrol"), "{}", r.detail());
        let secret = t.enrol(&alice).await;
        let r = t
            .post(&format!("/api/v1/documents/{doc}/sign"), &alice, json!({"key_id": org}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail().contains("one-time code"), "{}", r.detail());

        // With a fresh code: signed, as a new version; the original is kept.
        let code = t.code(&secret);
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": code, "reason": "Approved", "visible": {"page": 1, "rect": [300, 60, 220, 60]}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        assert_eq!(r.json()["version"], 2);
        assert_eq!(r.json()["format"], "pades");

        // The same code again (another document): refused as a replay.
        let up2 = t
            .upload(
                &alice,
                "Payment request",
                "payment",
                "application/pdf",
                pdf("Payment request"),
            )
            .await;
        let doc2 = up2.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{doc2}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": code}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail().contains("already used"), "{}", r.detail());

        let signed = t.get(&format!("/api/v1/documents/{doc}/content"), &alice).await;
        assert_eq!(signed.status, StatusCode::OK);
        assert_eq!(signed.headers["content-type"], "application/pdf");
        assert!(
            signed.body.starts_with(&original),
            "incremental update keeps the original bytes first"
        );
        let v1 = t.get(&format!("/api/v1/documents/{doc}/versions/1"), &alice).await;
        assert_eq!(v1.body, original);
        let ca = String::from_utf8(t.get("/api/v1/ca/certificate", &Auth::None).await.body).unwrap();
        let verdict = pyhanko_validate(t.dir.path(), &signed.body, &ca);
        assert!(
            verdict.contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED"),
            "{verdict}"
        );
        // Proof of time by default (the server's own TSA, genTime to the millisecond): pyHanko
        // reads the signature time-stamp token as intact and trusted.
        let v = t
            .post(&format!("/api/v1/documents/{doc}/verify"), &alice, json!({}))
            .await;
        assert_eq!(v.json()["indication"], "TOTAL-PASSED", "{}", v.json());
        assert_eq!(v.json()["signatures"][0]["level"], "PAdES-B-T", "{}", v.json());
        assert!(v.json()["signatures"][0]["timestamp_time"].is_string(), "{}", v.json());

        // An own key: generated on the server, certified by the organisation CA, owner only.
        let k = t
            .post(
                "/api/v1/keys",
                &alice,
                json!({"label": "Alice's key", "title": "Accountant", "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(k.status, StatusCode::CREATED, "{}", k.detail());
        let own = k.json()["key"]["id"].as_str().unwrap().to_string();
        assert!(k.json()["key"]["subject"].as_str().unwrap().contains("alice Example"));
        let listed = t.get("/api/v1/keys", &bob).await.json();
        assert!(
            !listed["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == own.as_str()),
            "bob must not see alice's key"
        );
        let r = t
            .post(
                &format!("/api/v1/documents/{doc2}/sign"),
                &alice,
                json!({"key_id": own, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let signed2 = t.get(&format!("/api/v1/documents/{doc2}/content"), &alice).await;
        let verdict = pyhanko_validate(t.dir.path(), &signed2.body, &ca);
        assert!(
            verdict.contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED"),
            "{verdict}"
        );

        // Bob cannot use Alice's key (nor see her document), even with his own valid code.
        let bob_secret = t.enrol(&bob).await;
        let up3 = t
            .upload(&bob, "Bob's request", "payment", "application/pdf", pdf("Bob"))
            .await;
        let doc3 = up3.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{doc3}/sign"),
                &bob,
                json!({"key_id": own, "totp_code": t.code(&bob_secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail().contains("another user"), "{}", r.detail());
        assert_eq!(
            t.get(&format!("/api/v1/documents/{doc}"), &bob).await.status,
            StatusCode::NOT_FOUND
        );

        // A second signature on the signed PDF (organisation key): two signatures, both intact.
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let both = t.get(&format!("/api/v1/documents/{doc}/content"), &alice).await;
        let verdict = pyhanko_validate(t.dir.path(), &both.body, &ca);
        assert_eq!(
            verdict
                .matches("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>")
                .count(),
            2,
            "{verdict}"
        );
        let d = t.get(&format!("/api/v1/documents/{doc}"), &alice).await.json();
        assert_eq!(d["document"]["versions"].as_array().unwrap().len(), 3);
        assert_eq!(d["document"]["current_version"], 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_back_off_then_lock_the_account() {
    for b in backends() {
        let t = T::with(&b, |c| {
            c.totp_max_failures = 4;
            c.totp_backoff_after = 2;
            c.totp_backoff_max_secs = 1;
        })
        .await;
        let (alice, alice_id) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        let org = t.org_key().await;
        let up = t
            .upload(&alice, "Contract", "contract", "application/pdf", pdf("Contract"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/documents/{doc}/sign");
        let wrong = |c: &str| {
            let n: u32 = c.parse().unwrap();
            format!("{:06}", (n + 1) % 1_000_000)
        };
        let mut statuses = Vec::new();
        for _ in 0..8 {
            // The clock stands still here, so the back-off window is real time.
            let good = signet_server::totp::code_at(&secret, t.state.now());
            let r = t
                .post(&path, &alice, json!({"key_id": org, "totp_code": wrong(&good)}))
                .await;
            statuses.push(r.status);
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                assert!(r.headers.contains_key("retry-after"));
                tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            }
            if r.detail().contains("locked") {
                break;
            }
        }
        assert!(
            statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
            "back-off must kick in: {statuses:?}"
        );
        // Locked: even the right code is refused until an administrator unlocks.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let r = t
            .post(&path, &alice, json!({"key_id": org, "totp_code": t.code(&secret)}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail().contains("locked"), "{}", r.detail());
        let u = t
            .post(&format!("/api/v1/users/{alice_id}/unlock"), &t.admin, json!({}))
            .await;
        assert_eq!(u.status, StatusCode::OK);
        let r = t
            .post(&path, &alice, json!({"key_id": org, "totp_code": t.code(&secret)}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        // Every refusal is in the audit log.
        let log = t.get("/api/v1/audit?limit=1000", &t.admin).await.json();
        let failures = log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "totp.failure")
            .count();
        assert!(failures >= 4, "{failures}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_code_sign_once() {
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        let org = t.org_key().await;
        let mut docs = Vec::new();
        for i in 0..6 {
            let up = t
                .upload(&alice, &format!("Doc {i}"), "leave", "application/pdf", pdf("x"))
                .await;
            docs.push(up.json()["document"]["id"].as_str().unwrap().to_string());
        }
        let code = t.code(&secret);
        let mut handles = Vec::new();
        for d in docs {
            let app = t.app.clone();
            let alice = alice.clone();
            let body = json!({"key_id": org, "totp_code": code}).to_string();
            handles.push(tokio::spawn(async move {
                use tower::ServiceExt;
                let Auth::Session { cookie, csrf } = alice else {
                    unreachable!()
                };
                let req = axum::http::Request::post(format!("/api/v1/documents/{d}/sign"))
                    .header("cookie", format!("signet_session={cookie}"))
                    .header("x-csrf-token", csrf)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body))
                    .unwrap();
                app.oneshot(req).await.unwrap().status()
            }));
        }
        let mut ok = 0;
        for h in handles {
            let s = h.await.unwrap();
            if s == StatusCode::OK {
                ok += 1;
            } else {
                // A replay is a failed attempt; past the back-off threshold, parallel ones wait.
                assert!(
                    matches!(s, StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS),
                    "{s}"
                );
            }
        }
        assert_eq!(ok, 1, "one code, one signature");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_signing_with_one_code_audits_each_document() {
    for b in backends() {
        let t = T::new(&b).await;
        let (mgr, _) = t.user("manager", &["approver"]).await;
        let (emp, _) = t.user("employee", &["signer"]).await;
        let secret = t.enrol(&mgr).await;
        let org = t.org_key().await;
        let mut ids = Vec::new();
        for i in 0..4 {
            let up = t
                .upload(
                    &emp,
                    &format!("Leave {i}"),
                    "leave",
                    "application/pdf",
                    pdf(&format!("Leave {i}")),
                )
                .await;
            ids.push(up.json()["document"]["id"].as_str().unwrap().to_string());
        }
        let r = t
            .post(
                "/api/v1/signatures/batch",
                &mgr,
                json!({"document_ids": ids, "key_id": org, "totp_code": t.code(&secret), "reason": "Approved"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        assert_eq!(r.json()["signed"].as_array().unwrap().len(), 4);
        let log = t.get("/api/v1/audit?limit=1000", &t.admin).await.json();
        for id in &ids {
            let n = log["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["action"] == "signature.create" && e["target"] == id.as_str() && e["outcome"] == "ok")
                .count();
            assert_eq!(n, 1, "document {id}");
        }
        let ca = String::from_utf8(t.get("/api/v1/ca/certificate", &Auth::None).await.body).unwrap();
        for id in &ids {
            let signed = t.get(&format!("/api/v1/documents/{id}/content"), &emp).await;
            assert!(
                pyhanko_validate(t.dir.path(), &signed.body, &ca)
                    .contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED")
            );
        }
        // A batch naming a document the signer may not see fails before anything is signed.
        let r = t
            .post(
                "/api/v1/signatures/batch",
                &emp,
                json!({"document_ids": ["nope"], "key_id": org, "totp_code": "000000"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_accounts_sign_only_what_the_key_policy_allows() {
    for b in backends() {
        let t = T::new(&b).await;
        let (svc, svc_id) = t.user("crm", &["service"]).await;
        let org = t.org_key().await;
        let up = t
            .upload(&svc, "Invoice", "invoice", "application/pdf", pdf("Invoice"))
            .await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.detail());
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(&format!("/api/v1/documents/{doc}/sign"), &svc, json!({"key_id": org}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "not in the policy yet");
        let p = t
            .req(
                "PUT",
                &format!("/api/v1/keys/{org}/policy"),
                &t.admin,
                Some("application/json"),
                json!({"allowed_roles": ["signer", "approver"], "allowed_doc_types": ["invoice"], "allowed_services": [svc_id]}).to_string().into_bytes(),
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.detail());
        let r = t
            .post(&format!("/api/v1/documents/{doc}/sign"), &svc, json!({"key_id": org}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let up2 = t
            .upload(&svc, "Contract", "contract", "application/pdf", pdf("Contract"))
            .await;
        let doc2 = up2.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(&format!("/api/v1/documents/{doc2}/sign"), &svc, json!({"key_id": org}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail().contains("contract"), "{}", r.detail());
        // Service accounts cannot log in with a password.
        assert_ne!(t.login("crm", "anything at all").await.0.status, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_files_get_a_detached_cades_signature() {
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        let org = t.org_key().await;
        let up = t
            .upload(&alice, "Spreadsheet", "report", "text/csv", b"a,b\n1,2\n".to_vec())
            .await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.detail());
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        assert_eq!(r.json()["format"], "cades");
        let sig = t.get(&format!("/api/v1/documents/{doc}/versions/2"), &alice).await;
        assert_eq!(sig.headers["content-type"], "application/pkcs7-signature");
        // OpenSSL accepts the detached signature over the original with the organisation CA.
        let dir = t.dir.path();
        std::fs::write(dir.join("data.csv"), b"a,b\n1,2\n").unwrap();
        std::fs::write(dir.join("data.p7s"), &sig.body).unwrap();
        std::fs::write(
            dir.join("ca.pem"),
            t.get("/api/v1/ca/certificate", &Auth::None).await.body,
        )
        .unwrap();
        let o = std::process::Command::new("openssl")
            .args([
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                "data.p7s",
                "-content",
                "data.csv",
                "-CAfile",
                "ca.pem",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v = t
            .post(&format!("/api/v1/documents/{doc}/verify"), &alice, json!({}))
            .await;
        assert_eq!(v.json()["indication"], "TOTAL-PASSED", "{}", v.json());
        assert_eq!(v.json()["signatures"][0]["level"], "CAdES-B-T", "{}", v.json());
        // The current version stays the original file.
        let cur = t.get(&format!("/api/v1/documents/{doc}/content"), &alice).await;
        assert_eq!(cur.body, b"a,b\n1,2\n");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pkcs12_key_can_be_imported_and_used() {
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        let dir = t.dir.path();
        let run = |args: &[&str]| {
            let o = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "q.key",
            "-out",
            "q.crt",
            "-subj",
            "/CN=Alice QTSP",
            "-days",
            "30",
        ]);
        run(&[
            "pkcs12",
            "-export",
            "-inkey",
            "q.key",
            "-in",
            "q.crt",
            "-out",
            "q.p12",
            "-passout",
            "pass:secret-p12",
        ]);
        use base64::Engine;
        let p12 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join("q.p12")).unwrap());
        let bad = t
            .post(
                "/api/v1/keys/import",
                &alice,
                json!({"label": "QTSP", "pkcs12_base64": p12, "password": "wrong"}),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let k = t
            .post(
                "/api/v1/keys/import",
                &alice,
                json!({"label": "QTSP", "pkcs12_base64": p12, "password": "secret-p12"}),
            )
            .await;
        assert_eq!(k.status, StatusCode::CREATED, "{}", k.detail());
        let key = k.json()["key"]["id"].as_str().unwrap().to_string();
        let up = t
            .upload(&alice, "Filing", "filing", "application/pdf", pdf("Filing"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": key, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let signed = t.get(&format!("/api/v1/documents/{doc}/content"), &alice).await;
        // The signer's CA and, for the signature's time-stamp, the server's own CA.
        let server_ca = String::from_utf8(t.get("/api/v1/ca/certificate", &Auth::None).await.body).unwrap();
        let trust = std::fs::read_to_string(dir.join("q.crt")).unwrap() + &server_ca;
        let verdict = pyhanko_validate(dir, &signed.body, &trust);
        assert!(
            verdict.contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED"),
            "{verdict}"
        );
        // An imported key can be revoked too: its CA lists it, here it is withdrawn at once.
        let r = t
            .post(
                &format!("/api/v1/keys/{key}/revoke"),
                &t.admin,
                json!({"reason": "key-compromise"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": key, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.detail());
        assert!(r.detail().contains("disabled"), "{}", r.detail());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_problem_json_and_changes_nothing() {
    for b in backends() {
        let t = T::with(&b, |c| c.max_upload_bytes = 64 * 1024).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let cases = [
            t.upload(&alice, "Big", "x", "application/pdf", vec![b'%'; 100 * 1024])
                .await,
            t.upload(
                &alice,
                "Form",
                "x",
                "multipart/form-data; boundary=x",
                b"--x--".to_vec(),
            )
            .await,
            t.req("POST", "/api/v1/documents?title=none", &alice, None, b"abc".to_vec())
                .await,
            t.upload(
                &alice,
                "Broken",
                "x",
                "application/pdf",
                b"%PDF-1.7\nthis is not a pdf".to_vec(),
            )
            .await,
            t.upload(&alice, "", "x", "application/pdf", pdf("no title")).await,
            t.get("/api/v1/documents/does-not-exist", &alice).await,
            t.req(
                "POST",
                "/api/v1/auth/login",
                &Auth::None,
                Some("application/json"),
                b"{not json".to_vec(),
            )
            .await,
            t.req(
                "POST",
                "/api/v1/auth/login",
                &Auth::None,
                Some("text/plain"),
                b"{}".to_vec(),
            )
            .await,
            t.get("/api/v1/no-such-endpoint", &alice).await,
            t.req("DELETE", "/api/v1/documents", &alice, None, Vec::new()).await,
            t.get("/api/v1/documents?limit=abc", &alice).await,
            t.post("/api/v1/documents/x/sign", &alice, json!({"key_id": 5})).await,
            t.get("/api/v1/me", &Auth::Bearer("sgt_forged".into())).await,
            t.get(
                "/api/v1/me",
                &Auth::Session {
                    cookie: "forged".into(),
                    csrf: "x".into(),
                },
            )
            .await,
        ];
        let want = [413, 415, 415, 422, 422, 404, 400, 415, 404, 405, 400, 422, 401, 401];
        for (i, (r, w)) in cases.iter().zip(want).enumerate() {
            assert_eq!(r.status.as_u16(), w, "case {i}: {}", r.detail());
            assert!(r.is_problem(), "case {i} must be problem+json: {:?}", r.headers);
            assert!(!r.detail().is_empty(), "case {i} needs a detail");
        }
        let list = t.get("/api/v1/documents", &alice).await.json();
        assert_eq!(list["documents"].as_array().unwrap().len(), 0, "nothing half-written");
        // CSRF: a session without the header cannot change anything.
        let Auth::Session { cookie, .. } = &alice else {
            unreachable!()
        };
        let no_csrf = Auth::Session {
            cookie: cookie.clone(),
            csrf: String::new(),
        };
        let r = t.upload(&no_csrf, "x", "x", "application/pdf", pdf("x")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail().contains("CSRF"), "{}", r.detail());
        // An expired session is refused.
        t.sql("UPDATE sessions SET expires_at = 1").await;
        let r = t.get("/api/v1/me", &alice).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.detail().contains("expired"), "{}", r.detail());
        // Security headers on every answer.
        let r = t.get("/healthz", &Auth::None).await;
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.headers["x-frame-options"], "DENY");
        assert!(r.headers.contains_key("content-security-policy"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_lists_only_what_the_caller_may_see() {
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let (bob, _) = t.user("bob", &["signer"]).await;
        let (aud, _) = t.user("carol", &["auditor"]).await;
        t.upload(&alice, "Leave application March", "leave", "application/pdf", pdf("a"))
            .await;
        t.upload(&alice, "Purchase request 50%", "purchase", "application/pdf", pdf("b"))
            .await;
        t.upload(&bob, "Leave application Bob", "leave", "application/pdf", pdf("c"))
            .await;
        let n = |r: &Resp| r.json()["documents"].as_array().unwrap().len();
        assert_eq!(n(&t.get("/api/v1/documents", &alice).await), 2);
        assert_eq!(n(&t.get("/api/v1/documents?q=leave", &alice).await), 1);
        assert_eq!(n(&t.get("/api/v1/documents?q=50%25", &alice).await), 1);
        assert_eq!(n(&t.get("/api/v1/documents?q=%25", &alice).await), 1, "% is literal");
        assert_eq!(n(&t.get("/api/v1/documents?type=leave", &aud).await), 2);
        assert_eq!(n(&t.get("/api/v1/documents", &aud).await), 3);
        // Auditors read but do not upload or sign.
        assert_eq!(
            t.upload(&aud, "x", "x", "application/pdf", pdf("x")).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_and_metrics_describe_the_server() {
    let t = T::new(&Backend::Sqlite).await;
    let o = t.get("/api/v1/openapi.json", &Auth::None).await.json();
    assert_eq!(o["openapi"], "3.1.0");
    for r in signet_server::http::routes::table() {
        assert!(
            o["paths"][r.path][r.method.to_lowercase()].is_object(),
            "{} {} missing from the OpenAPI document",
            r.method,
            r.path
        );
    }
    let m = t.get("/metrics", &Auth::None).await;
    let text = String::from_utf8(m.body).unwrap();
    assert!(text.contains("signet_http_requests_total{class=\"2xx\"}"), "{text}");
    assert!(text.contains("signet_signatures_total 0"));
    assert_eq!(t.get("/healthz", &Auth::None).await.json()["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_against_the_shared_key_lock_the_user_not_the_key() {
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        let (mallory, mallory_id) = t.user("mallory", &["signer"]).await;
        let mallory_secret = t.enrol(&mallory).await;
        let org = t.org_key().await;
        let up = t
            .upload(&alice, "Contract", "contract", "application/pdf", pdf("Contract"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let up = t
            .upload(&mallory, "Mine", "contract", "application/pdf", pdf("Mine"))
            .await;
        let mdoc = up.json()["document"]["id"].as_str().unwrap().to_string();
        // Before: 99 failures recorded against the key by the old per-key counter mean nothing.
        t.sql(&format!("UPDATE keys SET failures = 99 WHERE id = '{org}'"))
            .await;
        // Mallory tries wrong codes against the organisation key until his account locks.
        for _ in 0..t.state.config.totp_max_failures {
            let good = signet_server::totp::code_at(&mallory_secret, t.state.now());
            let bad = format!("{:06}", (good.parse::<u32>().unwrap() + 500_000) % 1_000_000);
            t.state.clock.advance(400);
            let r = t
                .post(
                    &format!("/api/v1/documents/{mdoc}/sign"),
                    &mallory,
                    json!({"key_id": org, "totp_code": bad}),
                )
                .await;
            assert!(
                matches!(r.status, StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS),
                "{}",
                r.detail()
            );
        }
        let r = t
            .post(
                &format!("/api/v1/documents/{mdoc}/sign"),
                &mallory,
                json!({"key_id": org, "totp_code": t.code(&mallory_secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail().contains("locked"), "{}", r.detail());
        // Alice still signs with the same key.
        let path = format!("/api/v1/documents/{doc}/sign");
        let r = t
            .post(&path, &alice, json!({"key_id": org, "totp_code": t.code(&secret)}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        // The lock-out is audited, and an administrator unlocks the user.
        let log = t.get("/api/v1/audit?limit=1000", &t.admin).await.json();
        assert!(log.to_string().contains("account.lock"), "{log}");
        let u = t
            .post(&format!("/api/v1/users/{mallory_id}/unlock"), &t.admin, json!({}))
            .await;
        assert_eq!(u.status, StatusCode::OK, "{}", u.detail());
        let r = t
            .post(
                &format!("/api/v1/documents/{mdoc}/sign"),
                &mallory,
                json!({"key_id": org, "totp_code": t.code(&mallory_secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        // Refused requests are audited: a role denial at once, a forged token (anonymous)
        // counted per source and minute, written when the minute is flushed.
        t.get("/api/v1/me", &Auth::Bearer("sgt_forged".into())).await;
        t.get("/api/v1/users", &alice).await;
        t.state.anonymous.flush(&t.state.audit).await.unwrap();
        let log = t.get("/api/v1/audit?limit=1000", &t.admin).await.json();
        let actions: Vec<&str> = log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"auth.failure") && actions.contains(&"access.denied"),
            "{actions:?}"
        );
    }
}

/// A signed version becomes current only if the version it was made on still is: a stale one
/// is a 409 that leaves nothing behind (no version, no signature row, no audit entry), and the
/// rest of the same audit batch goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_on_a_stale_version_conflicts_and_writes_nothing() {
    use signet_server::audit::Event;
    use signet_server::changes::Change;
    use signet_server::documents::NewVersion;
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, alice_id) = t.user("alice", &["signer"]).await;
        let up = t
            .upload(&alice, "Order", "order", "application/pdf", pdf("Order"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let sha = up.json()["document"]["versions"][0]["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        let key = t.org_key().await;
        let version = |expected: i64, sig: &str| NewVersion {
            document_id: doc.clone(),
            kind: "signed".into(),
            sha256: sha.clone(),
            size: 1,
            media_type: "application/pdf".into(),
            filename: "order.pdf".into(),
            created_by: alice_id.clone(),
            make_current: true,
            expected_current: expected,
            next_version: expected + 1,
            signature: Some((sig.to_string(), key.clone(), "pades".into())),
        };
        let ev = Event {
            actor: &alice_id,
            action: "signature.create",
            target: &doc,
            outcome: "ok",
            details: serde_json::json!({}),
        };
        let count = |table: &'static str| {
            let pool = t.state.db.pool.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                n
            }
        };
        let (versions, sigs, entries) = (
            count("document_versions").await,
            count("signatures").await,
            count("audit_log").await,
        );
        // Both at once: one batch (or two); exactly one of them was made on the current version.
        let (stale, fresh) = tokio::join!(
            t.state.audit.append_with(&ev, Change::Version(version(7, "sig-stale"))),
            t.state.audit.append_with(&ev, Change::Version(version(1, "sig-fresh"))),
        );
        let e = stale.unwrap_err();
        assert_eq!(e.status, StatusCode::CONFLICT, "{b:?}: {}", e.detail);
        let (_, v) = fresh.unwrap();
        assert_eq!(v, 2, "{b:?}");
        assert_eq!(count("document_versions").await, versions + 1, "{b:?}");
        assert_eq!(count("signatures").await, sigs + 1, "{b:?}");
        assert_eq!(count("audit_log").await, entries + 1, "{b:?}");
        // Version 2 is current now; one more on version 1 conflicts too.
        let e = t
            .state
            .audit
            .append_with(&ev, Change::Version(version(1, "sig-late")))
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::CONFLICT, "{b:?}");
        let d = t.get(&format!("/api/v1/documents/{doc}"), &alice).await.json();
        assert_eq!(d["document"]["current_version"], 2, "{b:?}: {d}");
        // The version number the caller expects is only a hint: taken meanwhile (here by
        // version 2), the signature still lands, as the next free number, and its entry says so.
        let mut hinted = version(2, "sig-hint");
        hinted.next_version = 2;
        let (seq, v) = t.state.audit.append_with(&ev, Change::Version(hinted)).await.unwrap();
        assert_eq!(v, 3, "{b:?}");
        let log = t.get("/api/v1/audit?limit=1000", &t.admin).await.json();
        let entry = log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["seq"] == seq)
            .unwrap()
            .clone();
        assert!(
            entry["details"].as_str().unwrap().contains("\"version\":3"),
            "{b:?}: {entry}"
        );
        let d = t.get(&format!("/api/v1/documents/{doc}"), &alice).await.json();
        assert_eq!(d["document"]["current_version"], 3, "{b:?}: {d}");
    }
}
