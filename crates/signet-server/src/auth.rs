//! Who is calling: password login with sessions (cookie + CSRF token), API tokens, and login
//! throttling.

use axum::http::HeaderMap;
use serde::Serialize;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::audit::Event;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::{self, User};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "signet_session";
/// Header carrying the CSRF token on unsafe requests with a session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are (Debug never shows the CSRF token).
#[derive(Clone)]
pub enum Credential {
    /// A browser session; unsafe requests must carry this CSRF token.
    Session {
        /// The session's CSRF token.
        csrf: String,
    },
    /// An API token.
    Token {
        /// The token's id.
        id: String,
        /// What it may be used for.
        scopes: Vec<crate::tokens::Scope>,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Session { .. } => f.debug_struct("Session").field("csrf", &"[redacted]").finish(),
            Credential::Token { id, scopes } => {
                f.debug_struct("Token").field("id", id).field("scopes", scopes).finish()
            }
        }
    }
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// The credential used.
    pub credential: Credential,
}

impl Caller {
    /// Whether the caller may act as an administrator on others' things: the admin role, and
    /// either a session or an API token with the `admin` scope (a sign-only token of an
    /// administrator is not enough).
    pub fn acts_as_admin(&self) -> bool {
        self.user.has(crate::users::Role::Admin)
            && match &self.credential {
                Credential::Session { .. } => true,
                Credential::Token { scopes, .. } => scopes.contains(&crate::tokens::Scope::Admin),
            }
    }
}

/// SHA-256 hex of a secret token (what the database stores).
pub fn token_hash(token: &str) -> String {
    hex::encode(signet_crypto::digest::hash(
        signet_crypto::HashAlgorithm::Sha256,
        token.as_bytes(),
    ))
}

pub(crate) fn random_token(prefix: &str) -> ApiResult<Zeroizing<String>> {
    let mut b = Zeroizing::new([0u8; 32]);
    signet_crypto::random_bytes(b.as_mut()).map_err(ApiError::internal)?;
    Ok(Zeroizing::new(format!("{prefix}{}", hex::encode(b.as_ref()))))
}

/// Reads a cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A fresh login.
#[derive(Serialize)]
pub struct LoginResult {
    /// The user.
    pub user: User,
    /// Send this in `X-CSRF-Token` with every unsafe request of this session.
    pub csrf_token: String,
    /// Session expiry (Unix time).
    pub expires_at: i64,
    /// The session token (set as an HttpOnly cookie; not in the JSON).
    #[serde(skip)]
    pub session: Zeroizing<String>,
}

/// An argon2 hash of nothing in particular, for equal timing when the user is unknown.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| users::hash_password("signet-dummy-password").unwrap_or_default())
}

/// One password attempt for account `id`, throttled like a login: claimed before it is checked
/// (one conditional UPDATE, so parallel guesses each count and, once back-off applies, cannot
/// pass it together), checked off the async workers, audited under `action` when it fails, and
/// the counter reset when it succeeds.
async fn check_password_attempt(
    state: &AppState,
    id: &str,
    hash: Option<String>,
    locked_until: i64,
    disabled: bool,
    password: &str,
    action: &str,
) -> ApiResult<()> {
    let db = &state.db;
    let now = signet_pki::time::now();
    let wait = |until: i64| {
        ApiError::too_many(
            "too many failed password attempts; wait before trying again",
            u64::try_from(until - now).unwrap_or(1).max(1),
        )
    };
    if now < locked_until {
        return Err(wait(locked_until));
    }
    let claimed: Option<(i64,)> = sqlx::query_as(
        "UPDATE users SET login_failures = login_failures + 1, login_locked_until = CASE WHEN login_failures + 1 >= $1 THEN $2 ELSE login_locked_until END WHERE id = $3 AND login_locked_until <= $4 RETURNING login_failures",
    )
    .bind(state.config.login_max_failures)
    .bind(now + 1)
    .bind(id)
    .bind(now)
    .fetch_optional(&db.writer)
    .await?;
    let Some((failures,)) = claimed else {
        let (until,): (i64,) = sqlx::query_as("SELECT login_locked_until FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await?;
        return Err(wait(until));
    };
    // argon2 is deliberately slow: off the async workers, a bounded number at a time.
    let candidate = zeroize::Zeroizing::new(password.to_string());
    let ok = state
        .password_work
        .run(move || match &hash {
            Some(h) => users::verify_password(h, &candidate),
            None => {
                let _ = users::verify_password(dummy_hash(), &candidate);
                false
            }
        })
        .await?;
    if !ok || disabled {
        let over = failures - state.config.login_max_failures;
        let lock = if over >= 0 {
            now + (1i64 << over.min(10)).min(900)
        } else {
            0
        };
        state.audit.append(&Event {
            actor: id,
            action,
            target: id,
            outcome: "failed",
            details: serde_json::json!({"reason": if disabled { "disabled" } else { "wrong password" }, "failures": failures}),
        })
        .await?;
        sqlx::query("UPDATE users SET login_locked_until = $1 WHERE id = $2 AND login_locked_until < $1")
            .bind(lock)
            .bind(id)
            .execute(&db.writer)
            .await?;
        state
            .metrics
            .login_failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(ApiError::unauthorized("wrong username or password"));
    }
    sqlx::query("UPDATE users SET login_failures = 0, login_locked_until = 0 WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The caller's own password again (a password change, re-authentication), throttled like a
/// login: a stolen session cannot guess it faster than a login could. A wrong one is a 403.
pub async fn check_own_password(state: &AppState, user: &User, password: &str, purpose: &str) -> ApiResult<()> {
    let (hash, locked_until, disabled): (Option<String>, i64, i64) =
        sqlx::query_as("SELECT password_hash, login_locked_until, disabled FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_one(&state.db.pool)
            .await?;
    check_password_attempt(state, &user.id, hash, locked_until, disabled != 0, password, purpose)
        .await
        .map_err(|e| {
            if e.status == axum::http::StatusCode::UNAUTHORIZED {
                ApiError::forbidden("wrong password")
            } else {
                e
            }
        })
}

/// Re-authentication for what turns a session into lasting access (API tokens, a new
/// authenticator): the account's password, throttled like a login, and a fresh one-time code
/// when an authenticator is enrolled.
pub async fn reauthenticate(
    state: &AppState,
    user: &User,
    password: &str,
    totp_code: Option<&str>,
    purpose: &str,
) -> ApiResult<()> {
    check_own_password(state, user, password, purpose).await?;
    if user.totp_enrolled {
        let code = totp_code.ok_or_else(|| {
            ApiError::forbidden("a one-time code from your authenticator app is required as well (totp_code)")
        })?;
        crate::totp::step_up(state, user, code, purpose, &user.id, None).await?;
    }
    Ok(())
}

/// What a failed login answers, whatever the cause (unknown user, wrong password, locked or
/// disabled account): the answer does not tell which accounts exist.
fn login_refused() -> ApiError {
    ApiError::unauthorized(
        "wrong username or password, or too many failed attempts on this account (then wait a few minutes)",
    )
}

/// An argon2 run on nothing, so that refusals which need no password check take as long as
/// those that do.
async fn dummy_check(state: &AppState, password: &str) -> ApiResult<()> {
    let candidate = zeroize::Zeroizing::new(password.to_string());
    state
        .password_work
        .run(move || users::verify_password(dummy_hash(), &candidate))
        .await
        .map(|_| ())
}

/// Checks a password, with back-off after repeated failures, and opens a session.
///
/// Throttled per client address first (in memory, before any hashing), then per account (in
/// the database, across nodes). Every refusal is the same 401, whether the user is unknown,
/// the password wrong or the account locked; failures that name no account are counted per
/// source and minute in the audit log rather than written one by one.
pub async fn login(state: &AppState, username: &str, password: &str) -> ApiResult<LoginResult> {
    let started = tokio::time::Instant::now();
    let r = login_checked(state, username, password).await;
    if r.as_ref()
        .is_err_and(|e| e.status == axum::http::StatusCode::UNAUTHORIZED)
    {
        // Every refusal takes the same time, whatever work its cause took (an audit commit
        // for a known account, none for an unknown one).
        tokio::time::sleep_until(started + FAILED_LOGIN_FLOOR).await;
    }
    r
}

/// The least time a refused login takes to answer.
pub const FAILED_LOGIN_FLOOR: std::time::Duration = std::time::Duration::from_millis(300);

async fn login_checked(state: &AppState, username: &str, password: &str) -> ApiResult<LoginResult> {
    let db = &state.db;
    let now = signet_pki::time::now();
    let source = crate::audit::current_client()
        .map(|c| c.address)
        .filter(|a| a != crate::http::client::UNKNOWN);
    // The attempt is claimed for its source before any work; a success gives it back.
    if let Some(s) = &source
        && let Err(e) = state.sources.claim(s, state.config.source_max_failures_per_minute, now)
    {
        state.anonymous.count("login.throttled", now);
        return Err(e);
    }
    let failed = |anonymous: bool| {
        if anonymous {
            // (A wrong password for a known account is counted and audited where it is checked.)
            state.anonymous.count("login.failure", now);
            state
                .metrics
                .login_failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        login_refused()
    };
    let row = sqlx::query(
        "SELECT id, password_hash, login_failures, login_locked_until, disabled FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(&db.pool)
    .await?;
    // Unknown users cost an argon2 run too, so that timing does not reveal who exists.
    let Some(row) = row else {
        dummy_check(state, password).await?;
        return Err(failed(true));
    };
    let id: String = row.try_get(0)?;
    let hash: Option<String> = row.try_get(1)?;
    let locked_until: i64 = row.try_get(3)?;
    let disabled: i64 = row.try_get(4)?;
    match check_password_attempt(state, &id, hash, locked_until, disabled != 0, password, "login").await {
        Ok(()) => {}
        // Locked: no password was checked, and nothing names the account.
        Err(e) if e.status == axum::http::StatusCode::TOO_MANY_REQUESTS => {
            dummy_check(state, password).await?;
            return Err(failed(true));
        }
        Err(e) if e.status == axum::http::StatusCode::UNAUTHORIZED => return Err(failed(false)),
        Err(e) => return Err(e),
    }
    let user = users::get(db, &id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("wrong username or password"))?;
    if user.has(users::Role::Service) {
        return Err(ApiError::forbidden("service accounts use API tokens, not passwords"));
    }
    if let Some(s) = &source {
        state.sources.refund(s, now);
    }
    state
        .audit
        .append(&Event {
            actor: &id,
            action: "login",
            target: &id,
            outcome: "ok",
            details: serde_json::json!({}),
        })
        .await?;
    let session = random_token("")?;
    let csrf = random_token("")?;
    let expires_at = now + state.config.session_ttl_secs;
    sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash(&session))
        .bind(&id)
        .bind(csrf.as_str())
        .bind(now)
        .bind(expires_at)
        .execute(&db.writer)
        .await?;
    Ok(LoginResult {
        user,
        csrf_token: csrf.to_string(),
        expires_at,
        session,
    })
}

/// Ends the session of `headers`.
pub async fn logout(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    if let Some(s) = cookie(headers, SESSION_COOKIE) {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(token_hash(s))
            .execute(&state.db.writer)
            .await?;
    }
    Ok(())
}

/// Identifies the caller from `Authorization: Bearer sgt_…` or the session cookie.
/// `Ok(None)`: no credential at all; an invalid or expired one is an error.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<Caller>> {
    let now = signet_pki::time::now();
    let db = &state.db;
    if let Some(auth) = headers.get(axum::http::header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))?;
        let t = crate::tokens::presented(db, token, now).await?;
        if t.user.disabled {
            return Err(ApiError::unauthorized("the account is disabled"));
        }
        return Ok(Some(Caller {
            user: t.user,
            credential: Credential::Token {
                id: t.id,
                scopes: t.scopes,
            },
        }));
    }
    let Some(session) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT s.csrf, s.expires_at, {} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        users::USER_COLUMNS_U
    )))
    .bind(token_hash(session))
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| ApiError::unauthorized("the session has ended; log in again"))?;
    let csrf: String = row.try_get(0)?;
    let expires: i64 = row.try_get(1)?;
    if expires <= now {
        return Err(ApiError::unauthorized("the session has expired; log in again"));
    }
    let user = users::row_user_at(&row, 2)?;
    if user.disabled {
        return Err(ApiError::unauthorized("the account is disabled"));
    }
    Ok(Some(Caller {
        user,
        credential: Credential::Session { csrf },
    }))
}

/// Checks the CSRF header of an unsafe request made with a session cookie.
pub fn check_csrf(caller: &Caller, headers: &HeaderMap) -> ApiResult<()> {
    if let Credential::Session { csrf } = &caller.credential {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if aws_lc_rs::constant_time::verify_slices_are_equal(sent.as_bytes(), csrf.as_bytes()).is_err() {
            return Err(ApiError::forbidden(
                "missing or wrong X-CSRF-Token header (send the csrf_token the login returned)",
            ));
        }
    }
    Ok(())
}
