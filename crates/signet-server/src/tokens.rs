//! API tokens: `sgt_…` bearer secrets for integrations and scripts, stored hashed, each with an
//! expiry and scopes that narrow what the owner's roles allow — `read` (GET and verification),
//! `sign` (uploads, signatures, own keys) and `admin` (administration and account changes).

use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::{self, Role, User};

/// Prefix of API tokens (so that leaked tokens are easy to find in logs and repositories).
pub const TOKEN_PREFIX: &str = "sgt_";
/// Days a token lives when its creator names no expiry.
pub const DEFAULT_TTL_DAYS: i64 = 90;
/// Longest lifetime, days.
pub const MAX_TTL_DAYS: i64 = 3650;

/// What a token may be used for (on top of its owner's roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Reading: every GET, and verification.
    Read,
    /// Uploading and signing documents, managing own keys.
    Sign,
    /// Administration, and changes to the account itself (password, authenticator, tokens).
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Sign, Scope::Admin];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Sign => "sign",
            Scope::Admin => "admin",
        }
    }

    /// Parses a scope name.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Parses a stored comma-separated scope list (unknown names are dropped).
pub fn parse_list(s: &str) -> Vec<Scope> {
    s.split(',').filter_map(|p| Scope::parse(p.trim())).collect()
}

/// A newly created API token (shown once).
#[derive(Serialize)]
pub struct NewToken {
    /// Token id (for revocation).
    pub id: String,
    /// The secret; shown only now.
    pub token: String,
    /// Expiry (Unix time).
    pub expires_at: i64,
    /// What it may be used for.
    pub scopes: Vec<Scope>,
}

/// A token request that passed its checks (see [`Checked::new`]).
#[derive(Clone, Debug)]
pub struct Checked {
    owner_id: String,
    name: String,
    ttl_days: i64,
    scopes: Vec<Scope>,
}

impl Checked {
    /// Checks a request for a token for `owner`: `ttl_days` (default [`DEFAULT_TTL_DAYS`], at
    /// most [`MAX_TTL_DAYS`]) and `scopes` (default `read` and `sign`; `admin` only for
    /// administrators). Nothing is written.
    pub fn new(owner: &User, name: &str, ttl_days: Option<i64>, scopes: Option<&[String]>) -> ApiResult<Checked> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(ApiError::unprocessable("a token name has 1 to 100 characters"));
        }
        let ttl = ttl_days.unwrap_or(DEFAULT_TTL_DAYS);
        if !(1..=MAX_TTL_DAYS).contains(&ttl) {
            return Err(ApiError::unprocessable(format!(
                "expires_in_days must be between 1 and {MAX_TTL_DAYS}"
            )));
        }
        let scopes = match scopes {
            None => vec![Scope::Read, Scope::Sign],
            Some(list) => {
                let mut out = Vec::new();
                for s in list {
                    let scope = Scope::parse(s.trim()).ok_or_else(|| {
                        ApiError::unprocessable(format!("unknown scope {s:?}; scopes are read, sign and admin"))
                    })?;
                    if !out.contains(&scope) {
                        out.push(scope);
                    }
                }
                if out.is_empty() {
                    return Err(ApiError::unprocessable("a token needs at least one scope"));
                }
                out
            }
        };
        if scopes.contains(&Scope::Admin) && !owner.has(Role::Admin) {
            return Err(ApiError::unprocessable(
                "the admin scope is for administrators' tokens only",
            ));
        }
        Ok(Checked {
            owner_id: owner.id.clone(),
            name: name.trim().to_string(),
            ttl_days: ttl,
            scopes,
        })
    }

    /// What to record in the audit log about it.
    pub fn details(&self) -> serde_json::Value {
        let scopes: Vec<&str> = self.scopes.iter().map(|s| s.as_str()).collect();
        serde_json::json!({"name": self.name, "scopes": scopes, "expires_in_days": self.ttl_days})
    }
}

/// Creates the token a checked request asks for (audit it first).
pub async fn create(state: &AppState, req: Checked) -> ApiResult<NewToken> {
    let token = crate::auth::random_token(TOKEN_PREFIX)?;
    let id = users::new_id()?;
    let now = signet_pki::time::now();
    let expires_at = now + req.ttl_days * 86_400;
    let stored: Vec<&str> = req.scopes.iter().map(|s| s.as_str()).collect();
    sqlx::query("INSERT INTO api_tokens (id, token_hash, user_id, name, created_at, expires_at, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id)
        .bind(crate::auth::token_hash(&token))
        .bind(&req.owner_id)
        .bind(&req.name)
        .bind(now)
        .bind(expires_at)
        .bind(stored.join(","))
        .execute(&state.db.writer)
        .await?;
    Ok(NewToken {
        id,
        token: token.to_string(),
        expires_at,
        scopes: req.scopes,
    })
}

/// A token as presented: its id, scopes and owner.
pub struct Presented {
    /// Token id.
    pub id: String,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// Its owner.
    pub user: User,
}

/// Looks up a presented token (one round trip: the token and its owner). Unknown, revoked
/// and expired tokens are 401s.
pub async fn presented(db: &Db, token: &str, now: i64) -> ApiResult<Presented> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT t.id, t.expires_at, t.revoked, t.scopes, {} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        users::USER_COLUMNS_U
    )))
    .bind(crate::auth::token_hash(token))
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| ApiError::unauthorized("unknown API token"))?;
    let id: String = row.try_get(0)?;
    let expires: Option<i64> = row.try_get(1)?;
    let revoked: i64 = row.try_get(2)?;
    let scopes: String = row.try_get(3)?;
    if revoked != 0 || expires.is_some_and(|e| e <= now) {
        return Err(ApiError::unauthorized("the API token is revoked or expired"));
    }
    Ok(Presented {
        id,
        scopes: parse_list(&scopes),
        user: users::row_user_at(&row, 4)?,
    })
}

/// How many tokens have no expiry (made before expiries existed).
pub async fn unexpiring(db: &Db) -> ApiResult<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens WHERE expires_at IS NULL")
        .fetch_one(&db.pool)
        .await?;
    Ok(n)
}

/// Gives tokens made before expiries existed one: [`DEFAULT_TTL_DAYS`] from `now` (not from
/// their creation, which would end integrations at the upgrade). Returns how many.
pub async fn bound_unexpiring(db: &Db, now: i64) -> ApiResult<u64> {
    let r = sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE expires_at IS NULL")
        .bind(now + DEFAULT_TTL_DAYS * 86_400)
        .execute(&db.writer)
        .await?;
    Ok(r.rows_affected())
}

/// Revokes every API token of a user (an administrator's or the console's password reset: the
/// account may be in someone else's hands).
pub async fn revoke_all_of(db: &Db, user_id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE user_id = $1")
        .bind(user_id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The owner of API token `id`.
pub async fn owner(db: &Db, id: &str) -> ApiResult<Option<String>> {
    let owner: Option<(String,)> = sqlx::query_as("SELECT user_id FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(owner.map(|(o,)| o))
}

/// Revokes API token `id`.
pub async fn revoke(db: &Db, id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}
