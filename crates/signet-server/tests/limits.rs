//! Body limits per route (issue "Server hardening", finding 3): JSON requests and what anyone
//! may send without logging in (`/tsa`, `/ocsp`) are small; only uploads by callers who logged
//! in may be large.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_are_refused_where_none_belongs() {
    let t = T::new(&Backend::Sqlite).await;
    let mib = vec![b'a'; 1 << 20];
    let mut login = b"{\"username\": \"admin\", \"password\": \"".to_vec();
    login.extend_from_slice(&mib);
    login.extend_from_slice(b"\"}");
    let r = t
        .req(
            "POST",
            "/api/v1/auth/login",
            &Auth::None,
            Some("application/json"),
            login,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.detail());
    assert!(r.is_problem());
    for (path, ct) in [
        ("/tsa", "application/timestamp-query"),
        ("/ocsp", "application/ocsp-request"),
    ] {
        let r = t.req("POST", path, &Auth::None, Some(ct), mib.clone()).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {}", r.detail());
    }
    // An upload of the same size by a signer is fine.
    let (alice, _) = t.user("alice", &["signer"]).await;
    let r = t.upload(&alice, "Data", "data", "text/csv", mib).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
}
