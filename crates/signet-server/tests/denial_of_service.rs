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
        let t = T::new(&b).await;
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
