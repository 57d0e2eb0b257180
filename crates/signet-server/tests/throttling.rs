//! Throttling that holds under concurrency (issue "Server hardening", findings 1 and 2): every
//! one-time code and password attempt is claimed before it is checked, so parallel requests —
//! on one node or two on one PostgreSQL — cannot check more codes than the limit; and wrong
//! codes against the shared organisation key lock the one who typed them, not the key.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

/// A code that matches none of the steps the server accepts now.
fn wrong_code(secret: &[u8], now: i64) -> String {
    let accepted: Vec<String> = (-2..=2)
        .map(|d| signet_server::totp::code_at(secret, now + 30 * d))
        .collect();
    (0..1_000_000u32)
        .map(|n| format!("{:06}", (n * 7919 + 13) % 1_000_000))
        .find(|c| !accepted.contains(c))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_check_no_more_than_the_limit() {
    for b in backends() {
        let t = Arc::new(T::new(&b).await);
        let mut nodes = vec![t.clone()];
        if matches!(b, Backend::Postgres(_)) {
            nodes.push(Arc::new(t.second_node().await));
        }
        let (mallory, _) = t.user("mallory", &["signer"]).await;
        let secret = t.enrol(&mallory).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let alice_secret = t.enrol(&alice).await;
        let org = t.org_key().await;
        let up = t
            .upload(&mallory, "Contract", "contract", "application/pdf", pdf("Contract"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let bad = wrong_code(&secret, t.state.now());
        let mut set = tokio::task::JoinSet::new();
        for i in 0..300 {
            let node = nodes[i % nodes.len()].clone();
            let (m, path, org, bad) = (
                mallory.clone(),
                format!("/api/v1/documents/{doc}/sign"),
                org.clone(),
                bad.clone(),
            );
            set.spawn(async move { node.post(&path, &m, json!({"key_id": org, "totp_code": bad})).await });
        }
        let mut checked = 0;
        let mut refused_unchecked = 0;
        while let Some(r) = set.join_next().await {
            let r = r.unwrap();
            match (r.status, r.detail().as_str()) {
                (StatusCode::FORBIDDEN, "wrong one-time code") => checked += 1,
                (StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS, _) => refused_unchecked += 1,
                other => panic!("unexpected answer {other:?}"),
            }
        }
        let limit = t.state.config.totp_max_failures;
        assert!(checked <= limit, "{checked} codes were checked; the limit is {limit}");
        assert_eq!(checked + refused_unchecked, 300);
        let log = t.get("/api/v1/audit?limit=1000", &t.admin).await.json();
        let failures = log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "totp.failure")
            .count() as i64;
        assert_eq!(failures, checked, "every checked code is audited");
        // Each checked code holds its slot: the counter says exactly how many were checked.
        let (n,): (i64,) = sqlx::query_as("SELECT totp_failures FROM users WHERE username = 'mallory'")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, checked);
        // The shared key was not locked for everyone: alice signs with it.
        let up = t
            .upload(&alice, "Leave", "leave", "application/pdf", pdf("Leave"))
            .await;
        let adoc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{adoc}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": t.code(&alice_secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_are_each_counted() {
    for b in backends() {
        let t = Arc::new(T::with(&b, |c| c.login_max_failures = 5).await);
        t.user("bob", &["signer"]).await;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..40 {
            let t = t.clone();
            set.spawn(async move { t.login("bob", "not the password").await.0.status });
        }
        let mut checked = 0;
        while let Some(s) = set.join_next().await {
            match s.unwrap() {
                StatusCode::UNAUTHORIZED => checked += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("unexpected {other}"),
            }
        }
        // Up to the limit freely, then one per second of back-off at most (the run is short).
        assert!(checked <= 5 + 3, "{checked} passwords were checked in parallel");
        let (n,): (i64,) = sqlx::query_as("SELECT login_failures FROM users WHERE username = 'bob'")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, checked, "every checked password is counted");
    }
}
