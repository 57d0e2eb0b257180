//! The HTTP API: router built from the route table, authentication and authorization guard,
//! problem+json for every error (including axum's own rejections), security headers, request
//! metrics and logs.

pub mod client;
pub mod handlers;
pub mod openapi;
mod refusals;
pub mod routes;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use routes::Access;

#[derive(Clone)]
struct Guard {
    app: AppState,
    access: Access,
    scope: crate::tokens::Scope,
}

/// Authenticates, then checks the route's access rule and, for unsafe methods on a session,
/// the CSRF token. The caller is handed to the handler as an extension.
async fn guard(State(g): State<Guard>, mut req: Request, next: Next) -> Response {
    if g.access == Access::Public {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let caller = match auth::authenticate(&g.app, req.headers()).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return ApiError::unauthorized("log in first (session cookie) or send 'Authorization: Bearer <API token>'")
                .into_response();
        }
        Err(e) => {
            // A presented credential that is forged, revoked or expired is a failed attempt:
            // anonymous, so counted per source and minute rather than written one by one; a
            // source that keeps failing is answered 429 (a valid credential is never refused
            // for where it comes from).
            if e.status == StatusCode::UNAUTHORIZED {
                let now = signet_pki::time::now();
                if let Some(c) = req.extensions().get::<crate::audit::Client>()
                    && c.address != client::UNKNOWN
                    && let Err(throttled) =
                        g.app
                            .sources
                            .claim(&c.address, g.app.config.source_max_failures_per_minute, now)
                {
                    g.app.anonymous.count("auth.throttled", now);
                    return throttled.into_response();
                }
                g.app.anonymous.count("auth.failure", now);
            }
            return e.into_response();
        }
    };
    if let Access::Roles(roles) = g.access {
        if caller.user.must_change_password {
            return ApiError::forbidden("change your one-time password first (POST /api/v1/me/password)")
                .into_response();
        }
        if !caller.user.roles.iter().any(|r| roles.contains(r)) {
            denied(&g.app, &caller.user.id, "access.denied", &path, "role").await;
            return ApiError::forbidden("your role does not allow this").into_response();
        }
    }
    if let auth::Credential::Token { scopes, .. } = &caller.credential
        && !scopes.contains(&g.scope)
    {
        denied(&g.app, &caller.user.id, "access.denied", &path, "token scope").await;
        return ApiError::forbidden(format!(
            "this API token's scopes do not allow this (it needs the {} scope)",
            g.scope.as_str()
        ))
        .into_response();
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && let Err(e) = auth::check_csrf(&caller, req.headers()) {
        return e.into_response();
    }
    if safe {
        req.extensions_mut().insert(caller);
        return next.run(req).await;
    }
    let (actor, method) = (caller.user.id.clone(), req.method().clone());
    req.extensions_mut().insert(caller);
    let resp = next.run(req).await;
    refusals::audit(&g.app, &actor, &method, &path, resp).await
}

/// Records a refused request in the audit log (the refusal stands even if that fails).
async fn denied(app: &AppState, actor: &str, action: &str, path: &str, reason: &str) {
    let r = app
        .audit
        .append(&crate::audit::Event {
            actor,
            action,
            target: path,
            outcome: "denied",
            details: serde_json::json!({"reason": reason}),
        })
        .await;
    if let Err(e) = r {
        tracing::warn!("could not audit a refused request: {}", e.detail);
    }
}

/// Turns any error answer that is not problem+json yet (axum's extractor rejections, 404, 405,
/// 413) into one, keeping its status and using its text as the detail.
async fn problems(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if status.as_u16() < 400 {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let mut detail = String::from_utf8_lossy(&text).trim().to_string();
    if detail.is_empty() {
        detail = match status {
            StatusCode::NOT_FOUND => "no such endpoint; see /api/v1/openapi.json".into(),
            StatusCode::METHOD_NOT_ALLOWED => "this endpoint does not take that method".into(),
            _ => status.canonical_reason().unwrap_or("error").into(),
        };
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        detail = format!("{detail} (the server's upload limit is max_upload_bytes)");
    }
    let mut out = ApiError {
        status,
        title: status.canonical_reason().unwrap_or("Error"),
        detail,
        retry_after: None,
        audited: false,
    }
    .into_response();
    for (k, v) in parts.headers.iter() {
        if k == header::ALLOW {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// What every request passes through first.
#[derive(Clone)]
struct Envelope {
    app: AppState,
}

/// The client (address, user agent) for throttling and every audit entry the request makes;
/// the request timeout (408); security headers, request metrics and a structured log line per
/// request.
async fn envelope(State(env): State<Envelope>, mut req: Request, next: Next) -> Response {
    let app = &env.app;
    let start = Instant::now();
    let method = req.method().clone();
    let path = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let client = client::of(&req, &app.trusted_proxies);
    req.extensions_mut().insert(client.clone());
    let limit = std::time::Duration::from_secs(app.config.request_timeout_secs);
    let resp = match tokio::time::timeout(limit, crate::audit::with_client(client, next.run(req))).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "Request timeout",
            "the request took longer than the server allows (request_timeout_secs)",
        )
        .into_response(),
    };
    finish(app, resp, &method, &path, start)
}

/// A route's admission: requests in progress are bounded, and a small body is read whole —
/// within `body_read_timeout_secs` — before a request takes one of those places, so clients
/// that send slowly hold nothing but their own connection.
#[derive(Clone)]
struct Admission {
    app: AppState,
    in_progress: std::sync::Arc<tokio::sync::Semaphore>,
    /// Read the body first, up to this many bytes (routes whose bodies are small).
    buffer: Option<usize>,
    /// Always answered (health checks, metrics).
    exempt: bool,
}

async fn admit(State(a): State<Admission>, req: Request, next: Next) -> Response {
    let req = match a.buffer {
        Some(limit) => {
            let (parts, body) = req.into_parts();
            let deadline = std::time::Duration::from_secs(a.app.config.body_read_timeout_secs);
            match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
                Ok(Ok(bytes)) => Request::from_parts(parts, axum::body::Body::from(bytes)),
                Ok(Err(_)) => {
                    return ApiError::too_large(format!("the request body is larger than {limit} bytes"))
                        .into_response();
                }
                Err(_) => {
                    return ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "Request timeout",
                        "the request body did not arrive in time",
                    )
                    .into_response();
                }
            }
        }
        None => req,
    };
    if a.exempt {
        return next.run(req).await;
    }
    let Ok(_turn) = a.in_progress.clone().try_acquire_owned() else {
        a.app.metrics.shed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if a.buffer.is_none() {
            // Read (a little of) the body first: closing a connection with unread data makes
            // the kernel reset it, and the client would never see the answer.
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(1),
                axum::body::to_bytes(req.into_body(), SMALL_BODY),
            )
            .await;
        }
        return ApiError::unavailable("the server is busy; try again in a moment")
            .with_retry_after(1)
            .into_response();
    };
    next.run(req).await
}

/// Security headers, metrics and the log line of a response.
fn finish(app: &AppState, mut resp: Response, method: &Method, path: &str, start: Instant) -> Response {
    let h = resp.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if app.config.public_url().starts_with("https://") {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    let secs = start.elapsed().as_secs_f64();
    app.metrics.request(resp.status().as_u16(), secs);
    tracing::info!(
        target: "signet::http",
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        ms = (secs * 1000.0) as u64,
        "request"
    );
    resp
}

async fn not_found() -> Response {
    ApiError::not_found("no such endpoint; see /api/v1/openapi.json").into_response()
}

/// Largest body of a JSON request, and of any request anyone may send without logging in
/// (`/tsa`, `/ocsp`): a time-stamp or OCSP request is a few hundred bytes.
pub const SMALL_BODY: usize = 64 * 1024;

/// The body limit of a route: uploads up to `max_upload_bytes` for callers who logged in,
/// [`SMALL_BODY`] for everything else.
fn body_limit(route: &routes::Route, max_upload: usize) -> usize {
    match (route.body, route.access) {
        (routes::BodyKind::File, Access::Public) => SMALL_BODY,
        (routes::BodyKind::File, _) => max_upload,
        _ => SMALL_BODY,
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let mut r: Router<AppState> = Router::new();
    let in_progress = std::sync::Arc::new(tokio::sync::Semaphore::new(state.config.max_concurrent_requests));
    for route in routes::table() {
        let guard_state = Guard {
            app: state.clone(),
            access: route.access,
            scope: routes::scope(&route),
        };
        let limit = body_limit(&route, state.config.max_upload_bytes);
        let admission = Admission {
            app: state.clone(),
            in_progress: in_progress.clone(),
            buffer: (limit == SMALL_BODY).then_some(SMALL_BODY),
            exempt: matches!(route.path, "/healthz" | "/metrics"),
        };
        r = r.route(
            route.path,
            (route.handler)()
                .route_layer(middleware::from_fn_with_state(guard_state, guard))
                .route_layer(middleware::from_fn_with_state(admission, admit))
                .layer(DefaultBodyLimit::max(limit)),
        );
    }
    r.fallback(not_found)
        .layer(middleware::from_fn(problems))
        .layer(DefaultBodyLimit::max(state.config.max_upload_bytes))
        .layer(middleware::from_fn_with_state(
            Envelope { app: state.clone() },
            envelope,
        ))
        .with_state(state)
}
