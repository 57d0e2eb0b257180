//! Thin HTTP handlers: parse, call the domain module, shape the answer.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit::{self, Event};
use crate::auth::{self, Caller, Credential};
use crate::documents::{self, Metadata, PDF};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyKind};
use crate::signing::{self, BatchRequest, SignOptions};
use crate::state::AppState;
use crate::totp;
use crate::users::{self, NewUser, Role};

use axum::Json;

mod accounts;
mod approvals;
mod audit_log;
mod document_api;
mod key_management;
mod notify;
mod people;
mod session;

pub use accounts::*;
pub use approvals::*;
pub use audit_log::*;
pub use document_api::*;
pub use key_management::*;
pub use notify::*;
pub use people::*;
pub use session::*;

fn ok(v: Value) -> Response {
    Json(v).into_response()
}

async fn log(state: &AppState, actor: &str, action: &str, target: &str, details: Value) -> ApiResult<()> {
    state
        .audit
        .append(&Event {
            actor,
            action,
            target,
            outcome: "ok",
            details,
        })
        .await
        .map(|_| ())
}

/// `GET /healthz`.
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Response> {
    state.db.ping().await?;
    Ok(ok(json!({"status": "ok"})))
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi(State(state): State<AppState>) -> Response {
    ok(super::openapi::document(&state.config.public_url()))
}

/// `GET /api/v1/ca/certificate`.
pub async fn ca_certificate(State(state): State<AppState>) -> ApiResult<Response> {
    let ca = keys::of_kind(&state.db, KeyKind::Ca)
        .await?
        .ok_or_else(|| ApiError::not_found("no CA yet"))?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], ca.chain_pem).into_response())
}

/// The request's media type without parameters, lower-cased.
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

fn require_type(headers: &HeaderMap, want: &str) -> ApiResult<()> {
    if media_type(headers).as_deref() != Some(want) {
        return Err(ApiError::unsupported_media(format!("send the request as {want}")));
    }
    Ok(())
}

fn binary(content_type: &'static str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// `POST /tsa`.
pub async fn tsa(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    require_type(&headers, "application/timestamp-query")?;
    Ok(binary(
        "application/timestamp-reply",
        crate::revocation::timestamp(&state, &body).await?,
    ))
}

/// `POST /ocsp`.
pub async fn ocsp_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    require_type(&headers, "application/ocsp-request")?;
    Ok(binary(
        "application/ocsp-response",
        crate::revocation::ocsp(&state, &body).await?,
    ))
}

/// `GET /ocsp/{request}` (RFC 6960 A.1: base64 of the DER request, URL-encoded).
pub async fn ocsp_get(State(state): State<AppState>, Path(req): Path<String>) -> ApiResult<Response> {
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(req.trim())
        .map_err(|_| ApiError::bad_request("the OCSP request in the path is not base64"))?;
    Ok(binary(
        "application/ocsp-response",
        crate::revocation::ocsp(&state, &der).await?,
    ))
}

/// `GET /crl/ca.crl`.
pub async fn crl(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(binary("application/pkix-crl", crate::revocation::crl(&state).await?))
}

/// `GET /ca.crt`.
pub async fn ca_der(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(binary(
        "application/pkix-cert",
        crate::revocation::ca_der(&state).await?,
    ))
}
