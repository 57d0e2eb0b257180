//! Unauthenticated denial of service (issue "Server hardening", finding 3): slow clients are cut
//! off, a flood of bad logins neither starves health checks nor grows the audit log one entry
//! per attempt, and heavy work waits its turn off the async workers.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client that sends its request headers a few bytes at a time (slowloris) is disconnected
/// once the header-read timeout passes; the server keeps answering others meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_header_client_is_cut_off() {
    let t = T::with(&Backend::Sqlite, |c| c.header_read_timeout_secs = 1).await;
    let live = Live::start(&t).await;
    let mut s = tokio::net::TcpStream::connect(live.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let start = Instant::now();
    let mut cut_off = false;
    while start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if s.write_all(b"X-Drip: 1\r\n").await.is_err() {
            cut_off = true;
            break;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(10), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut_off = true;
                break;
            }
            // A 408 answer before closing is fine too.
            Ok(Ok(n)) if String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408") => {
                cut_off = true;
                break;
            }
            _ => {}
        }
    }
    assert!(cut_off, "the slow client was still connected after 10 s");
    assert_eq!(live.status("GET", "/healthz", &[], b"").await, 200);
    live.stop().await;
}

/// 500 bad logins at once — unknown users and a real one with wrong passwords — while health
/// checks go on: every health check is answered, and the audit log gets a bounded number of
/// entries (anonymous failures are counted per source and minute, not written one by one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_logins_leaves_health_checks_answered_and_the_audit_log_bounded() {
    for b in backends() {
        // Here the flood and the health checks all come from 127.0.0.1: room for all of them
        // (the per-source connection limit has a test of its own).
        let t = T::with(&b, |c| c.max_connections_per_source = 1000).await;
        t.user("alice", &["signer"]).await;
        let live = std::sync::Arc::new(Live::start(&t).await);
        let before = audit_count(&t, &["login", "login.failure", "auth.failure"]).await;
        let mut flood = Vec::new();
        for i in 0..500 {
            let live = live.clone();
            flood.push(tokio::spawn(async move {
                let user = if i % 5 == 0 {
                    "alice".to_string()
                } else {
                    format!("nobody{i}")
                };
                let body = format!("{{\"username\": \"{user}\", \"password\": \"guess {i}\"}}");
                live.status(
                    "POST",
                    "/api/v1/auth/login",
                    &[("Content-Type", "application/json")],
                    body.as_bytes(),
                )
                .await
            }));
        }
        let health = {
            let live = live.clone();
            tokio::spawn(async move {
                let mut answered = 0;
                for _ in 0..20 {
                    let s = tokio::time::timeout(Duration::from_secs(5), live.status("GET", "/healthz", &[], b""))
                        .await
                        .expect("a health check waited more than 5 s during the flood");
                    assert_eq!(s, 200, "health check during the flood");
                    answered += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                answered
            })
        };
        let mut statuses = std::collections::BTreeMap::new();
        for f in flood {
            *statuses.entry(f.await.unwrap()).or_insert(0) += 1;
        }
        assert_eq!(health.await.unwrap(), 20, "{b:?}");
        // Every attempt got an answer: refused (401), throttled (429) or shed (503).
        assert!(
            statuses.keys().all(|s| [401, 429, 503].contains(s)),
            "{b:?}: {statuses:?}"
        );
        let during = audit_count(&t, &["login", "login.failure", "auth.failure"]).await - before;
        assert!(
            during <= 30,
            "{b:?}: {during} audit entries for 500 bad logins ({statuses:?})"
        );
        // The anonymous ones are there, counted, once flushed.
        t.state.anonymous.flush(&t.state.audit).await.unwrap();
        let summary: Vec<(String,)> = sqlx::query_as(
            "SELECT details FROM audit_log WHERE action IN ('login.failure', 'login.throttled') AND actor = '-'",
        )
        .fetch_all(&t.state.db.pool)
        .await
        .unwrap();
        let counted: i64 = summary
            .iter()
            .map(|(d,)| {
                serde_json::from_str::<serde_json::Value>(d).unwrap()["count"]
                    .as_i64()
                    .unwrap()
            })
            .sum();
        // Every refusal is either its own entry (a wrong password for alice) or counted.
        let refused = statuses.get(&401).copied().unwrap_or(0) + statuses.get(&429).copied().unwrap_or(0);
        assert_eq!(counted + during, refused as i64, "{b:?}: {statuses:?} {summary:?}");
        assert!(
            summary.len() <= 4,
            "{b:?}: one entry per source, action and minute: {summary:?}"
        );
        Live::stop(std::sync::Arc::into_inner(live).unwrap()).await;
    }
}

/// A client sending a small body slowly gets 408 once `body_read_timeout_secs` pass, and holds
/// no place among the requests in progress meanwhile: with room for one request at a time,
/// others are answered while it drips (review finding: slow bodies held every place for the
/// whole request timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_holds_no_place_and_is_cut_off() {
    let t = T::with(&Backend::Sqlite, |c| {
        c.body_read_timeout_secs = 2;
        c.max_concurrent_requests = 1;
    })
    .await;
    let live = Live::start(&t).await;
    let mut s = tokio::net::TcpStream::connect(live.addr).await.unwrap();
    s.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{")
        .await
        .unwrap();
    let dripping = tokio::spawn(async move {
        let start = Instant::now();
        let mut out = Vec::new();
        while start.elapsed() < Duration::from_secs(8) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if s.write_all(b" ").await.is_err() {
                break;
            }
            let mut buf = [0u8; 1024];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(5), s.read(&mut buf)).await {
                out.extend_from_slice(&buf[..n]);
                if n == 0 || out.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
        (start.elapsed(), String::from_utf8_lossy(&out).into_owned())
    });
    // Meanwhile a real request gets the one place.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = live
        .request(
            "POST",
            "/api/v1/auth/login",
            &[("Content-Type", "application/json")],
            br#"{"username": "nobody", "password": "nothing"}"#,
        )
        .await;
    assert_eq!(status, 401, "the slow body must not hold the only place");
    let (took, answer) = dripping.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    live.stop().await;
}

/// One host holds at most `max_connections_per_source` connections; more are closed at once,
/// and the host is served again when it lets go of some.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_source_holds_a_bounded_number_of_connections() {
    let t = T::with(&Backend::Sqlite, |c| c.max_connections_per_source = 3).await;
    let live = Live::start(&t).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(live.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        live.status("GET", "/healthz", &[], b"").await,
        0,
        "a fourth connection is closed"
    );
    held.clear();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(live.status("GET", "/healthz", &[], b"").await, 200);
    live.stop().await;
}

/// A source throttled for bad credentials is still served with a valid one (review finding:
/// 30 bad cookies a minute from behind one NAT locked out everyone there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_credential_is_served_from_a_throttled_source() {
    let t = T::with(&Backend::Sqlite, |c| c.source_max_failures_per_minute = 3).await;
    let (alice, _) = t.user("alice", &["signer"]).await;
    let Auth::Session { cookie, csrf: _ } = &alice else {
        panic!()
    };
    let live = Live::start(&t).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            live.status("GET", "/api/v1/me", &[("Authorization", "Bearer sgt_forged")], b"")
                .await,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let cookie = format!("signet_session={cookie}");
    assert_eq!(live.status("GET", "/api/v1/me", &[("Cookie", &cookie)], b"").await, 200);
    live.stop().await;
}
