//! Refused changes are audited: a logged-in caller's `POST`, `PUT`, `PATCH` or `DELETE` that
//! ends in 4xx (a bad form, a route naming a deleted user, a deputy loop, a step not theirs)
//! is written to the audit log as `request.refused` with the method, path, status and the
//! problem's detail — unless the action already wrote its own refusal (`step.approve` denied,
//! say), which the error marks ([`AlreadyAudited`]). Credentials refused (401) and throttling
//! (429) are counted elsewhere, not written one by one.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::audit::Event;
use crate::error::AlreadyAudited;
use crate::state::AppState;

/// Most bytes of a refusal's body read for its detail (problem+json bodies are small).
const MAX_DETAIL_BODY: usize = 16 * 1024;

/// Writes `resp`'s refusal to the audit log when it is one that is not there yet; returns it.
pub(super) async fn audit(app: &AppState, actor: &str, method: &Method, path: &str, resp: Response) -> Response {
    let status = resp.status();
    if !status.is_client_error()
        || matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS)
        || resp.extensions().get::<AlreadyAudited>().is_some()
    {
        return resp;
    }
    // Problems and extractor rejections are small: read for the detail, then handed on
    // unchanged. Anything else passes untouched.
    let small = axum::body::HttpBody::size_hint(resp.body())
        .upper()
        .is_some_and(|n| n <= MAX_DETAIL_BODY as u64);
    let (resp, detail) = if small {
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_DETAIL_BODY).await.unwrap_or_default();
        let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(500).collect());
        (Response::from_parts(parts, Body::from(bytes)), detail)
    } else {
        (resp, String::new())
    };
    let r = app
        .audit
        .append(&Event {
            actor,
            action: "request.refused",
            target: path,
            outcome: "denied",
            details: serde_json::json!({"method": method.as_str(), "status": status.as_u16(), "detail": detail}),
        })
        .await;
    if let Err(e) = r {
        tracing::warn!("could not audit a refused request: {}", e.detail);
    }
    resp
}
