//! Signing in and the caller's own account: login, logout, password, authenticator, API tokens.

use super::*;

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
    auth::check_own_password(&state, &c.user, &b.current_password, "password.change").await?;
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
    /// Days until it expires (default 90, at most 3650).
    expires_in_days: Option<i64>,
    /// `read`, `sign`, `admin` (default `read` and `sign`).
    scopes: Option<Vec<String>>,
}

/// Own token creation body: re-authentication too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnTokenBody {
    name: String,
    /// Days until it expires (default 90, at most 3650).
    expires_in_days: Option<i64>,
    /// `read`, `sign`, `admin` (default `read` and `sign`).
    scopes: Option<Vec<String>>,
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
    // Checked first (nothing refused is logged as done), then the password and code.
    let req = crate::tokens::Checked::new(&c.user, &b.name, b.expires_in_days, b.scopes.as_deref())?;
    auth::reauthenticate(&state, &c.user, &b.password, b.totp_code.as_deref(), "token.create").await?;
    log(&state, &c.user.id, "token.create", &c.user.id, req.details()).await?;
    Ok(Json(crate::tokens::create(&state, req).await?).into_response())
}

/// `POST /api/v1/users/{id}/tokens`.
pub async fn create_user_token(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<TokenBody>,
) -> ApiResult<Response> {
    let owner = users::require_managed(&state.db, &id).await?;
    let req = crate::tokens::Checked::new(&owner, &b.name, b.expires_in_days, b.scopes.as_deref())?;
    log(&state, &c.user.id, "token.create", &id, req.details()).await?;
    Ok(Json(crate::tokens::create(&state, req).await?).into_response())
}

/// `DELETE /api/v1/tokens/{id}`.
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    match crate::tokens::owner(&state.db, &id).await? {
        Some(o) if o == c.user.id || c.acts_as_admin() => {}
        Some(_) if c.user.has(Role::Admin) => {
            return Err(ApiError::forbidden(
                "revoking another user's token needs a session or an admin-scoped token",
            ));
        }
        _ => return Err(ApiError::not_found(format!("no token {id}"))),
    }
    log(&state, &c.user.id, "token.revoke", &id, json!({})).await?;
    crate::tokens::revoke(&state.db, &id).await?;
    Ok(ok(json!({"status": "revoked"})))
}
