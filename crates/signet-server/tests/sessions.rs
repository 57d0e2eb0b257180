//! A stolen session does not become lasting access (issue "Server hardening", finding 5): API
//! tokens and a new authenticator need the account's password (and a one-time code once one
//! is enrolled), and an administrator's password reset revokes the account's API tokens.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_alone_mints_no_token_and_a_reset_revokes_tokens() {
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, alice_id) = t.user("alice", &["signer"]).await;
        // A new authenticator needs the password.
        let r = t.post("/api/v1/me/totp/enrol", &alice, json!({})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.detail());
        let r = t
            .post(
                "/api/v1/me/totp/enrol",
                &alice,
                json!({"password": "a guess of the thief"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.detail());
        let secret = t.enrol(&alice).await;
        // A token needs the password and, with an authenticator, a code.
        for body in [
            json!({"name": "stolen"}),
            json!({"name": "stolen", "password": "a guess of the thief"}),
            json!({"name": "stolen", "password": PASSWORD}),
        ] {
            let r = t.post("/api/v1/me/tokens", &alice, body.clone()).await;
            assert!(
                matches!(r.status, StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY),
                "{body}: {} {}",
                r.status,
                r.detail()
            );
        }
        let r = t
            .post(
                "/api/v1/me/tokens",
                &alice,
                json!({"name": "cli", "password": PASSWORD, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let token = Auth::Bearer(r.json()["token"].as_str().unwrap().to_string());
        assert_eq!(t.get("/api/v1/me", &token).await.status, StatusCode::OK);
        // The administrator resets alice's password: her tokens stop working.
        let r = t
            .post(&format!("/api/v1/users/{alice_id}/password-reset"), &t.admin, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        assert_eq!(t.get("/api/v1/me", &token).await.status, StatusCode::UNAUTHORIZED);
    }
}
