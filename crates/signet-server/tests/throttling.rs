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
        // Room for all 300 at once (the default sheds what is beyond 256 in progress).
        let t = Arc::new(T::with(&b, |c| c.max_concurrent_requests = 1000).await);
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
            set.spawn(async move { t.login("bob", "not the password").await.0 });
        }
        let mut answers = Vec::new();
        while let Some(r) = set.join_next().await {
            answers.push(r.unwrap());
        }
        // Every refusal reads the same, checked or locked (finding 6: nothing tells whether
        // the account exists or is locked).
        let first = answers[0].detail();
        assert!(
            answers
                .iter()
                .all(|r| r.status == StatusCode::UNAUTHORIZED && r.detail() == first),
            "{:?}",
            answers.iter().map(|r| (r.status, r.detail())).collect::<Vec<_>>()
        );
        // Up to the limit freely, then one per second of back-off at most (the run is short).
        let (n,): (i64,) = sqlx::query_as("SELECT login_failures FROM users WHERE username = 'bob'")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert!(n <= 5 + 3, "{n} passwords were checked in parallel");
        let (audited,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND outcome = 'failed' AND actor = (SELECT id FROM users WHERE username = 'bob')",
        )
        .fetch_one(&t.state.db.pool)
        .await
        .unwrap();
        assert_eq!(audited, n, "every checked password is counted and audited");
    }
}

/// Uniform answers and per-source throttling (finding 6): a locked account answers exactly as
/// an unknown one does — even to its right password — so refusals do not tell which accounts
/// exist; one client address that keeps failing is answered 429 for the rest of the minute,
/// others are not; behind a trusted proxy the forwarded address counts, from anyone else the
/// header is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_and_unknown_accounts_answer_alike_and_a_noisy_source_is_throttled() {
    for b in backends() {
        let t = T::with(&b, |c| {
            c.login_max_failures = 3;
            c.source_max_failures_per_minute = 8;
            c.trusted_proxies = vec!["127.0.0.1".into()];
        })
        .await;
        t.user("bob", &["signer"]).await;
        let live = Live::start(&t).await;
        let login = |user: &str, password: &str, from: &str| {
            let body = json!({"username": user, "password": password}).to_string();
            let from = from.to_string();
            let live = &live;
            async move {
                live.request(
                    "POST",
                    "/api/v1/auth/login",
                    &[("Content-Type", "application/json"), ("X-Forwarded-For", &from)],
                    body.as_bytes(),
                )
                .await
            }
        };
        for _ in 0..3 {
            login("bob", "wrong", "198.51.100.1").await;
        }
        // Locked for a while (back-off starts at a second; make it last the test).
        t.sql("UPDATE users SET login_locked_until = login_locked_until + 600 WHERE username = 'bob'")
            .await;
        let locked = login("bob", PASSWORD, "198.51.100.2").await;
        let unknown = login("nobody", PASSWORD, "198.51.100.3").await;
        assert_eq!(locked.0, 401, "{b:?}: {locked:?}");
        let detail = |r: &(u16, String)| serde_json::from_str::<serde_json::Value>(&r.1).unwrap()["detail"].clone();
        assert_eq!((locked.0, detail(&locked)), (unknown.0, detail(&unknown)), "{b:?}");
        // One source failing again and again: 429 once over the limit; another source is fine.
        let mut statuses = Vec::new();
        for i in 0..10 {
            statuses.push(login(&format!("guess{i}"), "x", "203.0.113.7").await.0);
        }
        assert_eq!(&statuses[..8], &[401; 8], "{b:?}: {statuses:?}");
        assert_eq!(&statuses[8..], &[429, 429], "{b:?}: {statuses:?}");
        assert_eq!(login("guess", "x", "203.0.113.8").await.0, 401, "{b:?}");
        // The throttled source cannot use a bad token either, but a good session elsewhere works.
        let (s, _) = live
            .request(
                "GET",
                "/api/v1/me",
                &[
                    ("Authorization", "Bearer sgt_forged"),
                    ("X-Forwarded-For", "203.0.113.7"),
                ],
                b"",
            )
            .await;
        assert_eq!(s, 429, "{b:?}");
        live.stop().await;
        // Without a trusted proxy the forwarded header is the client's to forge, and ignored:
        // every attempt counts against the connection's own address.
        let t2 = T::with(&b, |c| c.source_max_failures_per_minute = 3).await;
        let live = Live::start(&t2).await;
        let mut statuses = Vec::new();
        for i in 0..5 {
            let body = json!({"username": "x", "password": "y"}).to_string();
            let from = format!("192.0.2.{i}");
            statuses.push(
                live.status(
                    "POST",
                    "/api/v1/auth/login",
                    &[("Content-Type", "application/json"), ("X-Forwarded-For", &from)],
                    body.as_bytes(),
                )
                .await,
            );
        }
        assert_eq!(statuses, [401, 401, 401, 429, 429], "{b:?}");
        live.stop().await;
    }
}

/// A password change needs the current password, throttled like a login: a stolen session
/// cannot guess the password through it (it could, unthrottled, before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_cannot_be_used_to_guess_the_password() {
    for b in backends() {
        let t = T::with(&b, |c| c.login_max_failures = 3).await;
        let (bob, _) = t.user("bob", &["signer"]).await;
        let mut statuses = Vec::new();
        for i in 0..6 {
            let r = t
                .post(
                    "/api/v1/me/password",
                    &bob,
                    json!({"current_password": format!("guess number {i}"), "new_password": "a brand new passphrase"}),
                )
                .await;
            statuses.push(r.status);
        }
        assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{b:?}: {statuses:?}");
        let (n,): (i64,) = sqlx::query_as("SELECT login_failures FROM users WHERE username = 'bob'")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert!((3..=4).contains(&n), "{b:?}: {n}");
    }
}
