//! Secrets never reach the logs or Debug output (issue "Server hardening", finding 11): a full
//! API run — first login with a one-time password, password changes, a wrong password, TOTP
//! enrolment and codes, an API token, uploads and signatures, a PKCS#12 import with its
//! password, a KEK passphrase — with every log line the server writes captured at TRACE, then
//! searched for each secret it used; and the Debug form of the configuration and of a caller.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_api_run_logs_no_secret() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .init();
    let passphrase = "kek passphrase that must never be logged";
    let mut secrets: Vec<String> = vec![passphrase.into(), PASSWORD.into()];
    for b in backends() {
        let t = T::with(&b, |c| c.kek_passphrase = Some(passphrase.to_string().into())).await;
        if let Auth::Session { cookie, csrf } = &t.admin {
            secrets.push(cookie.clone());
            secrets.push(csrf.clone());
        }
        // A user with a one-time password, changed; a wrong password.
        let r = t
            .post(
                "/api/v1/users",
                &t.admin,
                json!({"username": "alice", "display_name": "Alice", "roles": ["signer"]}),
            )
            .await;
        let otp = r.json()["one_time_password"].as_str().unwrap().to_string();
        secrets.push(otp.clone());
        let (alice, _) = t.first_login("alice", &otp).await;
        t.login("alice", "wrong password, also secret").await;
        secrets.push("wrong password, also secret".into());
        // TOTP: the secret, the codes.
        let secret = t.enrol(&alice).await;
        secrets.push(signet_crypto::otp::base32_encode(&secret));
        secrets.push(hex::encode(&secret));
        // An API token.
        let r = t
            .post(
                "/api/v1/me/tokens",
                &alice,
                json!({"name": "ci", "password": PASSWORD, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let token = r.json()["token"].as_str().unwrap().to_string();
        secrets.push(token.clone());
        // Upload and sign with a code; a wrong code.
        let up = t
            .upload(&alice, "Leave", "leave", "application/pdf", pdf("Leave"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let code = t.code(&secret);
        secrets.push(code.clone());
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &Auth::Bearer(token.clone()),
                json!({"key_id": t.org_key().await, "totp_code": code}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        // A PKCS#12 import with its password.
        let p12_password = "p12 password never logged";
        secrets.push(p12_password.into());
        let p12 = {
            let dir = tempfile::tempdir().unwrap();
            let k = dir.path().join("k.pem");
            let c = dir.path().join("c.pem");
            let o = dir.path().join("b.p12");
            let run = |args: &[&str]| {
                assert!(
                    std::process::Command::new("openssl")
                        .args(args)
                        .status()
                        .unwrap()
                        .success()
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
                "-subj",
                "/CN=Alice P12",
                "-days",
                "30",
                "-keyout",
                k.to_str().unwrap(),
                "-out",
                c.to_str().unwrap(),
            ]);
            run(&[
                "pkcs12",
                "-export",
                "-inkey",
                k.to_str().unwrap(),
                "-in",
                c.to_str().unwrap(),
                "-out",
                o.to_str().unwrap(),
                "-passout",
                &format!("pass:{p12_password}"),
            ]);
            std::fs::read(o).unwrap()
        };
        use base64::Engine;
        let r = t
            .post(
                "/api/v1/keys/import",
                &alice,
                json!({"label": "mine", "password": p12_password, "pkcs12_base64": base64::engine::general_purpose::STANDARD.encode(p12)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        // Debug forms.
        let dump = format!("{:?} {:?}", t.state.config, t.state.db);
        for s in &secrets {
            assert!(!dump.contains(s.as_str()), "Debug output shows {s:?}");
        }
    }
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("signet::http"),
        "the run was logged: {} bytes",
        text.len()
    );
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "the logs show the secret {s:?}");
    }
}
