//! Notifications (issue "Approvals"): webhooks signed with HMAC-SHA256 over time and body, kept
//! in a persistent outbox and retried with back-off while the receiver is down, then delivered
//! exactly once per event; a delivery replayed on request; e-mail to the people a step waits for,
//! through a real SMTP server (Python's aiosmtpd); a business process that has its documents
//! sealed or approved through the API and hears back by webhook.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a receiver saw: event id → how many times, and whether every signature held.
#[derive(Default)]
struct Received {
    per_event: HashMap<String, usize>,
    bad_signatures: usize,
    events: Vec<serde_json::Value>,
}

fn hmac_ok(secret: &str, headers: &str, body: &[u8]) -> bool {
    let Some(sig) = headers.lines().find_map(|l| {
        l.strip_prefix("x-signet-signature: ")
            .or_else(|| l.strip_prefix("X-Signet-Signature: "))
    }) else {
        return false;
    };
    let mut t = None;
    let mut v1 = None;
    for part in sig.trim().split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x.to_string()),
            Some(("v1", x)) => v1 = Some(x.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    hex::encode(aws_lc_rs::hmac::sign(&key, &msg).as_ref()) == v1
}

/// A webhook receiver on `port` that checks each delivery's signature.
async fn receiver(port: u16, secret: String, seen: Arc<Mutex<Received>>) -> tokio::task::JoinHandle<()> {
    let l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else { return };
            let (secret, seen) = (secret.clone(), seen.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, len) = loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + len {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let body = buf[head_end..].to_vec();
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                {
                    let mut r = seen.lock().unwrap();
                    if !hmac_ok(&secret, &head, &body) {
                        r.bad_signatures += 1;
                    }
                    *r.per_event
                        .entry(event["event_id"].as_str().unwrap_or("?").to_string())
                        .or_default() += 1;
                    r.events.push(event);
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    })
}

async fn leave_with_a_waiting_manager(t: &T) -> (Person, Person) {
    let boss = t.person("boss", &["approver"], None).await;
    let emp = t.person("emp", &["signer"], Some(&boss.id)).await;
    let r = t
        .post(
            "/api/v1/document-types/leave/documents",
            &emp.auth,
            json!({"values": {"kind": "annual", "from": "2027-01-10", "to": "2027-01-12"}, "password": PASSWORD, "totp_code": t.code(&emp.secret)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
    (boss, emp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_retried_while_the_receiver_is_down_then_delivered_once() {
    for b in backends() {
        let t = T::with(&b, |c| {
            c.webhook_allow_private = true;
            c.notification_retry_base_secs = 1;
            c.notification_poll_ms = 100;
        })
        .await;
        // A port nobody listens on yet.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let r = t
            .post(
                "/api/v1/webhooks",
                &t.admin,
                json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["*"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let hook = r.json()["webhook"]["id"].as_str().unwrap().to_string();
        let secret = r.json()["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"));
        let live = Live::start(&t).await;
        leave_with_a_waiting_manager(&t).await;
        let log = || async {
            t.get(&format!("/api/v1/webhooks/{hook}/deliveries"), &t.admin)
                .await
                .json()["deliveries"]
                .clone()
        };
        // Down: attempts are made and fail, nothing is lost.
        let mut failed_once = false;
        for _ in 0..60 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let l = log().await;
            if l.as_array()
                .unwrap()
                .iter()
                .any(|d| d["attempts"].as_i64().unwrap() >= 1 && d["state"] == "pending")
            {
                failed_once = true;
                break;
            }
        }
        assert!(failed_once, "{b:?}: no failed attempt was logged: {}", log().await);
        // Up: every event arrives, once, signed.
        let seen = Arc::new(Mutex::new(Received::default()));
        let rx = receiver(port, secret.clone(), seen.clone()).await;
        let mut all_delivered = false;
        for _ in 0..150 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let l = log().await;
            if l.as_array().unwrap().iter().all(|d| d["state"] == "delivered") {
                all_delivered = true;
                break;
            }
        }
        let l = log().await;
        assert!(all_delivered, "{b:?}: {l}");
        let events: Vec<String> = l
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["event_id"].as_str().unwrap().to_string())
            .collect();
        assert!(
            events.len() >= 3,
            "{b:?}: started, the employee's approval, the manager's step: {events:?}"
        );
        // Nothing more arrives once delivered.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        {
            let r = seen.lock().unwrap();
            assert_eq!(r.bad_signatures, 0, "{b:?}");
            for e in &events {
                assert_eq!(
                    r.per_event.get(e),
                    Some(&1),
                    "{b:?}: event {e} arrived {:?} times",
                    r.per_event.get(e)
                );
            }
        }
        // A replay delivers it again, on request.
        let first = l[0]["id"].as_str().unwrap();
        let r = t
            .post(&format!("/api/v1/deliveries/{first}/replay"), &t.admin, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let e = l[0]["event_id"].as_str().unwrap().to_string();
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if seen.lock().unwrap().per_event.get(&e) == Some(&2) {
                break;
            }
        }
        assert_eq!(seen.lock().unwrap().per_event.get(&e), Some(&2), "{b:?}");
        rx.abort();
        live.stop().await;
    }
}

/// Webhooks to private addresses are refused unless the operator allows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_to_private_addresses_are_refused_by_default() {
    let t = T::with(&Backend::Sqlite, |c| {
        c.notification_retry_base_secs = 1;
        c.notification_poll_ms = 100;
    })
    .await;
    let seen = Arc::new(Mutex::new(Received::default()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // An address literal is refused at once; a name is refused when it resolves to one.
    let r = t
        .post(
            "/api/v1/webhooks",
            &t.admin,
            json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["workflow.started"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.detail());
    assert!(r.detail().contains("private"), "{}", r.detail());
    let r = t
        .post(
            "/api/v1/webhooks",
            &t.admin,
            json!({"url": format!("http://localhost:{port}/hook"), "events": ["workflow.started"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
    let secret = r.json()["secret"].as_str().unwrap().to_string();
    let rx = receiver(port, secret, seen.clone()).await;
    let live = Live::start(&t).await;
    leave_with_a_waiting_manager(&t).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(seen.lock().unwrap().per_event.is_empty());
    let l = t.get("/api/v1/deliveries", &t.admin).await.json();
    let d = l["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "webhook")
        .unwrap();
    assert!(
        d["last_error"].as_str().unwrap().contains("private") || d["last_error"].as_str().unwrap().contains("refused"),
        "{l}"
    );
    // Without an SMTP server, e-mail is skipped (and says why), not retried for ever.
    let emails: Vec<_> = l["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == "email")
        .collect();
    assert!(!emails.is_empty(), "{l}");
    for e in emails {
        assert_eq!(e["state"], "skipped", "{l}");
    }
    rx.abort();
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_gets_an_email_through_a_real_smtp_server() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sink = std::process::Command::new("python3")
        .args(["-u", "-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 -m aiosmtpd (pip install aiosmtpd; scripts/test.sh does)");
    let out = sink.stdout.take().unwrap();
    let captured = Arc::new(Mutex::new(String::new()));
    {
        let captured = captured.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut out = out;
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                captured.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
    // Wait for the sink to listen.
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let t = T::with(&Backend::Sqlite, move |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = port;
        c.smtp_tls = "none".into();
        c.notification_poll_ms = 100;
        c.public_url = Some("https://signet.example".into());
    })
    .await;
    let live = Live::start(&t).await;
    leave_with_a_waiting_manager(&t).await;
    let mut got = String::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        got = captured.lock().unwrap().clone();
        if got.contains("boss@example.com") && got.contains("waits for you") {
            break;
        }
    }
    let _ = sink.kill();
    let _ = sink.wait();
    live.stop().await;
    assert!(got.contains("boss@example.com"), "{got}");
    assert!(got.contains("waits for you"), "{got}");
    assert!(got.contains("https://signet.example/documents/"), "{got}");
}

/// Waits until the receiver has a `workflow.approved` event for `doc`.
async fn approved_event(seen: &Arc<Mutex<Received>>, doc: &str) -> serde_json::Value {
    for _ in 0..100 {
        if let Some(e) = seen
            .lock()
            .unwrap()
            .events
            .iter()
            .find(|e| e["kind"] == "workflow.approved" && e["document"]["id"] == doc)
        {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no workflow.approved event for {doc}: {:?}",
        seen.lock().unwrap().events
    );
}

/// Automatic signing through the API: a service account has its invoice sealed with the
/// organisation key its policy allows, and posts a contract with a route that people approve;
/// both times a signed webhook says the document is done. Refusals (a key the policy does not
/// allow the service, a person asking for a seal) are clear and audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_process_has_documents_signed_and_hears_back_by_webhook() {
    for b in backends() {
        let t = T::with(&b, |c| {
            c.webhook_allow_private = true;
            c.notification_retry_base_secs = 1;
            c.notification_poll_ms = 100;
        })
        .await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let r = t
            .post(
                "/api/v1/webhooks",
                &t.admin,
                json!({"url": format!("http://127.0.0.1:{port}/crm"), "events": ["workflow.approved"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let secret = r.json()["secret"].as_str().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Received::default()));
        let rx = receiver(port, secret, seen.clone()).await;
        let live = Live::start(&t).await;
        let (crm, crm_id) = t.user("crm", &["service"]).await;
        let org = t.org_key().await;
        let ca = t.ca_pem().await;

        // An invoice, sealed on request — once the key's policy lists the service.
        let up = t
            .upload(&crm, "Invoice 7", "invoice", "application/pdf", pdf("Invoice 7"))
            .await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.detail());
        let invoice = up.json()["document"]["id"].as_str().unwrap().to_string();
        let seal = format!("/api/v1/documents/{invoice}/seal");
        let r = t.post(&seal, &crm, json!({"key_id": org})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.detail());
        assert_eq!(audit_outcomes(&t, "workflow.seal", "denied").await, 1, "{b:?}");
        let p = t
            .req(
                "PUT",
                &format!("/api/v1/keys/{org}/policy"),
                &t.admin,
                Some("application/json"),
                json!({"allowed_roles": ["signer", "approver"], "allowed_doc_types": ["invoice", "contract"], "allowed_services": [crm_id]})
                    .to_string()
                    .into_bytes(),
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.detail());
        let r = t.post(&seal, &crm, json!({"key_id": org})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.detail());
        let w = r.json()["workflow"].clone();
        assert_eq!(w["state"], "approved", "{b:?}: {w}");
        assert_eq!(w["steps"][0]["signature"], "seal");
        let e = approved_event(&seen, &invoice).await;
        assert_eq!(e["workflow"]["id"], w["id"]);
        let sealed = t.get(&format!("/api/v1/documents/{invoice}/content"), &crm).await.body;
        let report = validate(&sealed, None, &ca);
        assert_eq!(
            report.indication.as_str(),
            "TOTAL-PASSED",
            "{b:?}: {}",
            report.render_json()
        );
        // People do not ask for seals: they sign with a code.
        let alice = t.person("alice", &["signer"], None).await;
        let mine = t
            .upload(&alice.auth, "Note", "invoice", "application/pdf", pdf("Note"))
            .await;
        let mine = mine.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{mine}/seal"),
                &alice.auth,
                json!({"key_id": org}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.detail());
        assert!(r.detail().contains("service accounts"), "{}", r.detail());

        // A contract with its route: legal review (SES), then the signatory (organisation key).
        let lawyer = t.person("lawyer", &["approver"], None).await;
        let signatory = t.person("signatory", &["approver"], None).await;
        let r = t
            .post(
                "/api/v1/groups",
                &t.admin,
                json!({"name": "legal", "members": [lawyer.id]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let up = t
            .upload(
                &crm,
                "Supply contract",
                "contract",
                "application/pdf",
                pdf("Supply contract"),
            )
            .await;
        let contract = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{contract}/workflow"),
                &crm,
                json!({"values": {"counterparty": "ООО «Ромашка»", "amount": {"amount": "250000", "currency": "RUB"}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.detail());
        let w = r.json()["workflow"].clone();
        let wid = w["id"].as_str().unwrap().to_string();
        let r = t.approve_ses(&lawyer, &wid, &waiting_step(&w, "Legal review")).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        let step = waiting_step(&r.json()["workflow"], "Signatory");
        let r = t
            .post(
                &format!("/api/v1/workflows/{wid}/steps/{step}/approve"),
                &signatory.auth,
                json!({"totp_code": t.code(&signatory.secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        assert_eq!(r.json()["workflow"]["state"], "approved");
        approved_event(&seen, &contract).await;
        let signed = t.get(&format!("/api/v1/documents/{contract}/content"), &crm).await.body;
        let report = validate(&signed, None, &ca);
        assert_eq!(
            report.indication.as_str(),
            "TOTAL-PASSED",
            "{b:?}: {}",
            report.render_json()
        );
        assert_eq!(seen.lock().unwrap().bad_signatures, 0);
        rx.abort();
        live.stop().await;
    }
}
