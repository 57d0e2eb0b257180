//! Thin HTTP handlers: parse, call the domain module, shape the answer.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

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

fn ok(v: Value) -> Response {
    Json(v).into_response()
}

async fn log(state: &AppState, actor: &str, action: &str, target: &str, details: Value) -> ApiResult<()> {
    audit::append(
        &state.db,
        &Event {
            actor,
            action,
            target,
            outcome: "ok",
            details,
        },
    )
    .await
    .map(|_| ())
}

/// `GET /healthz`.
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Response> {
    sqlx::query("SELECT 1").execute(&state.db.pool).await?;
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

/// Revocation body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// RFC 5280 reason name (`keyCompromise`, `superseded`, …).
    reason: Option<String>,
}

/// `POST /api/v1/keys/{id}/revoke`.
pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<RevokeBody>,
) -> ApiResult<Response> {
    let k = keys::require(&state.db, &id).await?;
    if !c.user.has(Role::Admin) && k.owner_id.as_deref() != Some(c.user.id.as_str()) {
        return Err(ApiError::not_found(format!("no key {id}")));
    }
    let reason = match &b.reason {
        None => None,
        Some(r) => Some(signet_pki::crl::reason_from_name(r).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "unknown reason {r:?} (e.g. keyCompromise, superseded, cessationOfOperation)"
            ))
        })?),
    };
    crate::revocation::revoke(&state, &c.user.id, &id, reason).await?;
    Ok(ok(
        json!({"status": "revoked", "key": keys::get(&state.db, &id).await?}),
    ))
}

/// Login body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: zeroize::Zeroizing<String>,
}

/// `POST /api/v1/auth/login`.
pub async fn login(State(state): State<AppState>, Json(b): Json<LoginBody>) -> ApiResult<Response> {
    let r = auth::login(&state, &b.username, &b.password).await?;
    let secure = if state.config.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        auth::SESSION_COOKIE,
        r.session.as_str(),
        state.config.session_ttl_secs
    );
    let mut resp = Json(&r).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(resp)
}

/// `POST /api/v1/auth/logout`.
pub async fn logout(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    auth::logout(&state, &headers).await?;
    log(&state, &c.user.id, "logout", &c.user.id, json!({})).await?;
    let mut resp = ok(json!({"status": "logged out"}));
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("signet_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

/// `GET /api/v1/me`.
pub async fn me(Extension(c): Extension<Caller>) -> Response {
    ok(
        json!({"user": c.user, "via": match c.credential { Credential::Session { .. } => "session", Credential::Token { .. } => "token" }}),
    )
}

/// Password change body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: zeroize::Zeroizing<String>,
    new_password: zeroize::Zeroizing<String>,
}

/// `POST /api/v1/me/password`.
pub async fn change_password(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<PasswordBody>,
) -> ApiResult<Response> {
    let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(&c.user.id)
        .fetch_one(&state.db.pool)
        .await?;
    let hash: Option<String> = row.try_get(0)?;
    if !hash.is_some_and(|h| users::verify_password(&h, &b.current_password)) {
        return Err(ApiError::forbidden("the current password is wrong"));
    }
    users::check_password_policy(&b.new_password)?;
    if *b.new_password == *b.current_password {
        return Err(ApiError::unprocessable(
            "the new password must differ from the current one",
        ));
    }
    log(&state, &c.user.id, "password.change", &c.user.id, json!({})).await?;
    users::set_password(&state.db, &c.user.id, &b.new_password, false).await?;
    Ok(ok(json!({"status": "password changed; log in again"})))
}

/// Re-authentication in a request body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReauthBody {
    password: zeroize::Zeroizing<String>,
}

/// `POST /api/v1/me/totp/enrol` (the account's password: a stolen session alone cannot tie
/// the account to the thief's authenticator).
pub async fn totp_enrol(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<ReauthBody>,
) -> ApiResult<Response> {
    auth::reauthenticate(&state, &c.user, &b.password, None, "totp.enrol").await?;
    Ok(Json(totp::enrol(&state, &c.user).await?).into_response())
}

/// A body with a one-time or recovery code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST /api/v1/me/totp/confirm`.
pub async fn totp_confirm(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<CodeBody>,
) -> ApiResult<Response> {
    let codes = totp::confirm(&state, &c.user, &b.code).await?;
    Ok(ok(json!({"recovery_codes": codes})))
}

/// `POST /api/v1/me/totp/recover`.
pub async fn totp_recover(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<CodeBody>,
) -> ApiResult<Response> {
    totp::recover(&state, &c.user, &b.code).await?;
    Ok(ok(json!({"status": "authenticator removed; enrol a new one"})))
}

/// Token creation body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    name: String,
    expires_in_days: Option<i64>,
}

/// Own token creation body: re-authentication too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnTokenBody {
    name: String,
    expires_in_days: Option<i64>,
    /// The account's password.
    password: zeroize::Zeroizing<String>,
    /// A fresh one-time code, when an authenticator is enrolled.
    totp_code: Option<String>,
}

/// `POST /api/v1/me/tokens` (password, and a code when enrolled: a stolen session cannot
/// mint itself lasting access).
pub async fn create_own_token(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<OwnTokenBody>,
) -> ApiResult<Response> {
    auth::reauthenticate(&state, &c.user, &b.password, b.totp_code.as_deref(), "token.create").await?;
    log(&state, &c.user.id, "token.create", &c.user.id, json!({"name": b.name})).await?;
    Ok(Json(auth::create_token(&state, &c.user.id, &b.name, b.expires_in_days).await?).into_response())
}

/// `POST /api/v1/users/{id}/tokens`.
pub async fn create_user_token(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<TokenBody>,
) -> ApiResult<Response> {
    users::require(&state.db, &id).await?;
    log(&state, &c.user.id, "token.create", &id, json!({"name": b.name})).await?;
    Ok(Json(auth::create_token(&state, &id, &b.name, b.expires_in_days).await?).into_response())
}

/// `DELETE /api/v1/tokens/{id}`.
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let owner: Option<(String,)> = sqlx::query_as("SELECT user_id FROM api_tokens WHERE id = $1")
        .bind(&id)
        .fetch_optional(&state.db.pool)
        .await?;
    match owner {
        Some((o,)) if o == c.user.id || c.user.has(Role::Admin) => {}
        _ => return Err(ApiError::not_found(format!("no token {id}"))),
    }
    log(&state, &c.user.id, "token.revoke", &id, json!({})).await?;
    sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE id = $1")
        .bind(&id)
        .execute(&state.db.writer)
        .await?;
    Ok(ok(json!({"status": "revoked"})))
}

/// `GET /api/v1/users`.
pub async fn list_users(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(ok(json!({"users": users::list(&state.db).await?})))
}

/// User creation body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    username: String,
    display_name: String,
    email: Option<String>,
    roles: Vec<String>,
}

/// `POST /api/v1/users`.
pub async fn create_user(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<NewUserBody>,
) -> ApiResult<Response> {
    let roles = users::parse_roles(&b.roles.join(","))?;
    let service = roles.contains(&Role::Service);
    let password = if service { None } else { Some(users::random_password()?) };
    log(
        &state,
        &c.user.id,
        "user.create",
        &b.username,
        json!({"roles": b.roles}),
    )
    .await?;
    let u = users::create(
        &state.db,
        &NewUser {
            username: &b.username,
            display_name: &b.display_name,
            email: b.email.as_deref(),
            roles: &roles,
            password: password.as_deref().map(|s| s.as_str()),
        },
    )
    .await?;
    let mut resp =
        Json(json!({"user": u, "one_time_password": password.as_deref().map(|s| s.as_str())})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// User update body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    roles: Option<Vec<String>>,
    disabled: Option<bool>,
}

/// `PATCH /api/v1/users/{id}`.
pub async fn update_user(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<UpdateUserBody>,
) -> ApiResult<Response> {
    let target = users::require(&state.db, &id).await?;
    let roles = b.roles.as_ref().map(|r| users::parse_roles(&r.join(","))).transpose()?;
    if id == c.user.id && (b.disabled == Some(true) || roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin))) {
        return Err(ApiError::conflict(
            "administrators cannot disable themselves or drop their own admin role",
        ));
    }
    if let Some(r) = &roles
        && (r.contains(&Role::Service) != target.has(Role::Service))
    {
        return Err(ApiError::unprocessable(
            "a person cannot become a service account or the other way round",
        ));
    }
    log(
        &state,
        &c.user.id,
        "user.update",
        &id,
        json!({"roles": b.roles, "disabled": b.disabled}),
    )
    .await?;
    users::update(&state.db, &id, roles.as_deref(), b.disabled).await?;
    Ok(ok(json!({"user": users::get(&state.db, &id).await?})))
}

/// `POST /api/v1/users/{id}/password-reset`.
pub async fn reset_password(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let u = users::require(&state.db, &id).await?;
    if u.has(Role::Service) {
        return Err(ApiError::unprocessable(
            "service accounts have no password; create an API token",
        ));
    }
    let p = users::random_password()?;
    log(
        &state,
        &c.user.id,
        "password.reset",
        &id,
        json!({"api_tokens": "revoked"}),
    )
    .await?;
    users::set_password(&state.db, &id, &p, true).await?;
    auth::revoke_tokens_of(&state.db, &id).await?;
    Ok(ok(json!({"one_time_password": p.as_str()})))
}

/// `POST /api/v1/users/{id}/unlock`.
pub async fn unlock_user(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    users::require(&state.db, &id).await?;
    log(&state, &c.user.id, "user.unlock", &id, json!({})).await?;
    users::unlock(&state.db, &id).await?;
    Ok(ok(json!({"status": "unlocked"})))
}

/// `POST /api/v1/users/{id}/totp-reset`.
pub async fn reset_totp(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    users::require(&state.db, &id).await?;
    log(&state, &c.user.id, "totp.reset", &id, json!({})).await?;
    totp::reset(&state, &id).await?;
    Ok(ok(json!({"status": "authenticator removed"})))
}

/// `GET /api/v1/keys`.
pub async fn list_keys(State(state): State<AppState>, Extension(c): Extension<Caller>) -> ApiResult<Response> {
    Ok(ok(json!({"keys": keys::list_for(&state.db, &c.user).await?})))
}

/// Key generation body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    label: Option<String>,
    title: Option<String>,
    organizational_unit: Option<String>,
    /// `ecdsa-p256` (default), `ecdsa-p384`, `rsa-2048`, `rsa-3072` or `rsa-4096`.
    algorithm: Option<String>,
    /// A fresh code from the caller's authenticator (a new key is a new way to sign as them).
    totp_code: Option<String>,
}

/// `POST /api/v1/keys`.
pub async fn create_key(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<NewKeyBody>,
) -> ApiResult<Response> {
    let label = b.label.unwrap_or_else(|| format!("{} (personal)", c.user.display_name));
    if label.chars().count() > 200 {
        return Err(ApiError::unprocessable("a label has at most 200 characters"));
    }
    if !c.user.has(Role::Service) {
        let code = b.totp_code.as_deref().ok_or_else(|| {
            ApiError::forbidden("a one-time code from your authenticator app is required to create a key (totp_code)")
        })?;
        crate::totp::step_up(&state, &c.user, code, "key.create", &c.user.id, None).await?;
    }
    log(&state, &c.user.id, "key.create", &c.user.id, json!({"label": label})).await?;
    let subject = signet_pki::name::SubjectSpec {
        common_name: c.user.display_name.clone(),
        organization: Some(state.config.organisation.clone()),
        organizational_unit: b.organizational_unit,
        title: b.title,
        country: None,
        email: c.user.email.clone(),
    };
    let algorithm = match b.algorithm.as_deref() {
        None => signet_crypto::KeyAlgorithm::EcdsaP256,
        Some(a) => signet_crypto::KeyAlgorithm::from_name(a).map_err(|e| ApiError::unprocessable(e.to_string()))?,
    };
    let k = keys::create_certified(&state, KeyKind::Personal, Some(&c.user), &label, subject, "", algorithm).await?;
    let mut resp = Json(json!({"key": k})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// PKCS#12 import body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    label: String,
    pkcs12_base64: String,
    password: zeroize::Zeroizing<String>,
}

/// `POST /api/v1/keys/import`.
pub async fn import_key(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<ImportBody>,
) -> ApiResult<Response> {
    use base64::Engine;
    let p12 = base64::engine::general_purpose::STANDARD
        .decode(b.pkcs12_base64.trim())
        .map_err(|_| ApiError::unprocessable("pkcs12_base64 is not base64"))?;
    log(&state, &c.user.id, "key.import", &c.user.id, json!({"label": b.label})).await?;
    let k = keys::import_pkcs12(&state, &c.user, &b.label, &p12, b.password.as_bytes()).await?;
    let mut resp = Json(json!({"key": k})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// Key policy body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    allowed_roles: Vec<String>,
    allowed_doc_types: Vec<String>,
    #[serde(default)]
    allowed_services: Vec<String>,
    /// `B-T`, `B-LT` or `B-LTA` (unchanged when absent).
    signature_level: Option<String>,
}

/// `PUT /api/v1/keys/{id}/policy`.
pub async fn set_key_policy(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<PolicyBody>,
) -> ApiResult<Response> {
    let k = keys::require(&state.db, &id).await?;
    if k.kind != KeyKind::Organisation {
        return Err(ApiError::unprocessable(
            "only organisation keys have a policy; personal keys serve their owner",
        ));
    }
    for s in &b.allowed_services {
        let u = users::get(&state.db, s).await?;
        if !u.is_some_and(|u| u.has(Role::Service)) {
            return Err(ApiError::unprocessable(format!("{s} is not a service account")));
        }
    }
    let level = b.signature_level.clone().unwrap_or_else(|| k.signature_level.clone());
    let policy = keys::Policy {
        roles: &b.allowed_roles,
        doc_types: &b.allowed_doc_types,
        services: &b.allowed_services,
        signature_level: &level,
    };
    keys::check_policy(&policy)?;
    log(&state, &c.user.id, "key.policy", &id, json!({"allowed_roles": b.allowed_roles, "allowed_doc_types": b.allowed_doc_types, "allowed_services": b.allowed_services, "signature_level": level})).await?;
    keys::set_policy(&state.db, &id, &policy).await?;
    Ok(ok(json!({"key": keys::get(&state.db, &id).await?})))
}

/// `POST /api/v1/keys/{id}/unlock`.
pub async fn unlock_key(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    keys::require(&state.db, &id).await?;
    log(&state, &c.user.id, "key.unlock", &id, json!({})).await?;
    sqlx::query("UPDATE keys SET failures = 0, locked_until = 0 WHERE id = $1")
        .bind(&id)
        .execute(&state.db.writer)
        .await?;
    Ok(ok(json!({"status": "unlocked"})))
}

/// `GET /api/v1/documents`.
pub async fn list_documents(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(s): Query<documents::Search>,
) -> ApiResult<Response> {
    Ok(ok(json!({"documents": documents::list(&state, &c.user, &s).await?})))
}

/// The media type of an upload, from `Content-Type` (PDFs sniffed from octet-stream).
fn upload_media_type(headers: &HeaderMap, data: &[u8]) -> ApiResult<String> {
    let ct = media_type(headers).ok_or_else(|| {
        ApiError::unsupported_media("send the file as the body with its Content-Type (e.g. application/pdf)")
    })?;
    let (top, sub) = ct
        .split_once('/')
        .ok_or_else(|| ApiError::unsupported_media(format!("{ct:?} is not a media type")))?;
    if top.is_empty() || sub.is_empty() || ct.len() > 127 {
        return Err(ApiError::unsupported_media(format!("{ct:?} is not a media type")));
    }
    if top == "multipart" || ct == "application/json" || ct == "application/x-www-form-urlencoded" {
        return Err(ApiError::unsupported_media(format!(
            "{ct} is not accepted here: send the file itself as the body (metadata goes in the query string)"
        )));
    }
    // The one rule decides: a PDF is signed as a PDF whatever type it was sent as.
    if signet_validate::FileKind::detect(data) == signet_validate::FileKind::Pdf {
        return Ok(PDF.into());
    }
    Ok(ct)
}

/// `POST /api/v1/documents`.
pub async fn upload_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(meta): Query<Metadata>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let media = upload_media_type(&headers, &body)?;
    let d = documents::upload(&state, &c.user, meta, &media, &body).await?;
    let mut resp = Json(json!({"document": d})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `GET /api/v1/documents/{id}`.
pub async fn get_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(
        json!({"document": documents::get_visible(&state, &c.user, &id).await?}),
    ))
}

async fn download(state: &AppState, c: &Caller, id: &str, version: Option<i64>) -> ApiResult<Response> {
    let d = documents::get_visible(state, &c.user, id).await?;
    let v = match version {
        Some(n) => d.version(n)?,
        None => d.current()?,
    }
    .clone();
    log(
        state,
        &c.user.id,
        "document.download",
        id,
        json!({"version": v.version, "sha256": v.sha256}),
    )
    .await?;
    let data = documents::content(state, &v).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        v.filename
            .replace(|ch: char| !ch.is_ascii() || ch.is_ascii_control(), "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, v.media_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        data,
    )
        .into_response())
}

/// `GET /api/v1/documents/{id}/content`.
pub async fn download_current(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    download(&state, &c, &id, None).await
}

/// `GET /api/v1/documents/{id}/versions/{version}`.
pub async fn download_version(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path((id, version)): Path<(String, i64)>,
) -> ApiResult<Response> {
    download(&state, &c, &id, Some(version)).await
}

/// `POST /api/v1/documents/{id}/sign`.
pub async fn sign_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(o): Json<SignOptions>,
) -> ApiResult<Response> {
    Ok(Json(signing::sign(&state, &c.user, &id, &o).await?).into_response())
}

/// `POST /api/v1/signatures/batch`.
pub async fn sign_batch(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<BatchRequest>,
) -> ApiResult<Response> {
    Ok(ok(json!({"signed": signing::sign_batch(&state, &c.user, &b).await?})))
}

/// `POST /api/v1/documents/{id}/verify`.
pub async fn verify_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let d = documents::get_visible(&state, &c.user, &id).await?;
    let report = signing::verify(&state, &c.user, &d).await?;
    Ok(Json(report).into_response())
}

/// `POST /api/v1/verify`.
pub async fn verify_upload(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Response> {
    if body.is_empty() {
        return Err(ApiError::unprocessable(
            "send the signed PDF or the CMS signature as the body",
        ));
    }
    let sha = hex::encode(signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, &body));
    log(
        &state,
        &c.user.id,
        "document.verify",
        "upload",
        json!({"sha256": sha, "size": body.len()}),
    )
    .await?;
    let report = crate::validation::validate(&state, body.to_vec(), None).await?;
    Ok(Json(report).into_response())
}

/// Audit paging.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/audit`.
pub async fn read_audit(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    log(&state, &c.user.id, "audit.read", "", json!({"after": q.after})).await?;
    Ok(ok(
        json!({"entries": audit::list(&state.db, q.after.unwrap_or(0), q.limit.unwrap_or(100)).await?}),
    ))
}

/// `GET /api/v1/audit/verify`.
pub async fn verify_audit(State(state): State<AppState>) -> ApiResult<Response> {
    let v = crate::verify_audit_log(&state.db).await?;
    Ok(Json(v).into_response())
}

/// `POST /api/v1/audit/seal`.
pub async fn seal_audit(State(state): State<AppState>, Extension(c): Extension<Caller>) -> ApiResult<Response> {
    log(&state, &c.user.id, "audit.seal", "", json!({})).await?;
    let s = crate::seal(&state, 1, true).await?;
    Ok(ok(json!({"sealed_through": s})))
}
