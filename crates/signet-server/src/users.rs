//! Users, roles and passwords (argon2id).

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::Serialize;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users, keys and configuration.
    Admin,
    /// Uploads and signs documents.
    Signer,
    /// Approves (signs) documents others uploaded; sees all documents.
    Approver,
    /// Reads the audit log and all documents, changes nothing.
    Auditor,
    /// An integration: API tokens only, signs without TOTP with the keys its policy names.
    Service,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [Role::Admin, Role::Signer, Role::Approver, Role::Auditor, Role::Service];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Signer => "signer",
            Role::Approver => "approver",
            Role::Auditor => "auditor",
            Role::Service => "service",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Parses a comma-separated role list.
pub fn parse_roles(s: &str) -> ApiResult<Vec<Role>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let r = Role::parse(part).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown role {part:?}; roles are admin, signer, approver, auditor, service"
            ))
        })?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.contains(&Role::Service) && out.len() > 1 {
        return Err(ApiError::bad_request("a service account has the service role only"));
    }
    Ok(out)
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// A user as the rest of the server sees it.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    /// Stable id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name shown in stamps and lists.
    pub display_name: String,
    /// Email.
    pub email: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
    /// The password is a one-time password that must be changed before anything else.
    pub must_change_password: bool,
    /// An authenticator app is enrolled and confirmed.
    pub totp_enrolled: bool,
    /// The account is disabled.
    pub disabled: bool,
    /// The user's manager (routes' "manager of the author").
    pub manager_id: Option<String>,
}

impl User {
    /// Whether the user has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A new random id (128 bits, hex).
pub fn new_id() -> ApiResult<String> {
    let mut b = [0u8; 16];
    signet_crypto::random_bytes(&mut b).map_err(ApiError::internal)?;
    Ok(hex::encode(b))
}

/// A random one-time password: 20 characters from an unambiguous alphabet (~100 bits).
pub fn random_password() -> ApiResult<Zeroizing<String>> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = Zeroizing::new([0u8; 20]);
    signet_crypto::random_bytes(b.as_mut()).map_err(ApiError::internal)?;
    Ok(Zeroizing::new(
        b.iter()
            .map(|x| char::from(ALPHABET[usize::from(*x) % ALPHABET.len()]))
            .collect(),
    ))
}

/// Hashes a password with argon2id (PHC string).
pub fn hash_password(password: &str) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    signet_crypto::random_bytes(&mut salt).map_err(ApiError::internal)?;
    let h: argon2::password_hash::phc::PasswordHash = argon2::Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(ApiError::internal)?;
    Ok(h.to_string())
}

/// Checks a password against a PHC hash (constant-time inside argon2).
pub fn verify_password(hash: &str, password: &str) -> bool {
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Rejects passwords too short or too long to be useful.
pub fn check_password_policy(password: &str) -> ApiResult<()> {
    let n = password.chars().count();
    if n < 12 {
        return Err(ApiError::unprocessable("the password must have at least 12 characters"));
    }
    if n > 256 {
        return Err(ApiError::unprocessable("the password must have at most 256 characters"));
    }
    Ok(())
}

const USER_COLUMNS: &str =
    "id, username, display_name, email, roles, must_change_password, totp_confirmed, disabled, manager_id";

/// The user columns with a table alias (`u.id, u.username, …`), for joins.
pub(crate) const USER_COLUMNS_U: &str = "u.id, u.username, u.display_name, u.email, u.roles, u.must_change_password, u.totp_confirmed, u.disabled, u.manager_id";

fn row_user(r: &sqlx::any::AnyRow) -> ApiResult<User> {
    row_user_at(r, 0)
}

/// A user from the nine user columns starting at column `at`.
pub(crate) fn row_user_at(r: &sqlx::any::AnyRow, at: usize) -> ApiResult<User> {
    let roles: String = r.try_get(at + 4)?;
    Ok(User {
        id: r.try_get(at)?,
        username: r.try_get(at + 1)?,
        display_name: r.try_get(at + 2)?,
        email: r.try_get(at + 3)?,
        roles: roles.split(',').filter_map(Role::parse).collect(),
        must_change_password: r.try_get::<i64, _>(at + 5)? != 0,
        totp_enrolled: r.try_get::<i64, _>(at + 6)? != 0,
        disabled: r.try_get::<i64, _>(at + 7)? != 0,
        manager_id: r.try_get(at + 8)?,
    })
}

/// A user by id.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<User>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    r.as_ref().map(row_user).transpose()
}

/// A user by id, or 404.
pub async fn require(db: &Db, id: &str) -> ApiResult<User> {
    get(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))
}

/// All users, by name.
pub async fn list(db: &Db) -> ApiResult<Vec<User>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY username"
    )))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(row_user).collect()
}

/// What a new account needs.
pub struct NewUser<'a> {
    /// Login name (letters, digits, `.`, `_`, `-`, `@`; 1–64).
    pub username: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Email.
    pub email: Option<&'a str>,
    /// Roles.
    pub roles: &'a [Role],
    /// Initial password; the user must change it at first login.
    pub password: Option<&'a str>,
}

/// Creates a user; the password given is a one-time password.
pub async fn create(db: &Db, n: &NewUser<'_>) -> ApiResult<User> {
    if n.username.is_empty()
        || n.username.len() > 64
        || !n
            .username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(ApiError::unprocessable(
            "a username has 1 to 64 letters, digits, '.', '_', '-' or '@'",
        ));
    }
    if n.display_name.trim().is_empty() || n.display_name.chars().count() > 200 {
        return Err(ApiError::unprocessable("a display name has 1 to 200 characters"));
    }
    if n.roles.is_empty() {
        return Err(ApiError::unprocessable("a user needs at least one role"));
    }
    let hash = match n.password {
        Some(p) => Some(hash_off_workers(p).await?),
        None => None,
    };
    let id = new_id()?;
    let r = sqlx::query(
        "INSERT INTO users (id, username, display_name, email, roles, password_hash, must_change_password, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(n.username)
    .bind(n.display_name.trim())
    .bind(n.email)
    .bind(roles_text(n.roles))
    .bind(hash)
    .bind(i64::from(n.password.is_some()))
    .bind(signet_pki::time::now())
    .execute(&db.writer)
    .await;
    match r {
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            return Err(ApiError::conflict(format!("the username {:?} is taken", n.username)));
        }
        r => {
            r?;
        }
    }
    get(db, &id).await?.ok_or_else(|| ApiError::internal("user vanished"))
}

/// Sets roles and/or the disabled flag.
pub async fn update(db: &Db, id: &str, roles: Option<&[Role]>, disabled: Option<bool>) -> ApiResult<()> {
    if let Some(r) = roles {
        if r.is_empty() {
            return Err(ApiError::unprocessable("a user needs at least one role"));
        }
        sqlx::query("UPDATE users SET roles = $1 WHERE id = $2")
            .bind(roles_text(r))
            .bind(id)
            .execute(&db.writer)
            .await?;
    }
    if let Some(d) = disabled {
        sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(d))
            .bind(id)
            .execute(&db.writer)
            .await?;
        if d {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&db.writer)
                .await?;
        }
    }
    Ok(())
}

/// argon2 on the blocking pool (it is slow by design; the async workers stay free).
async fn hash_off_workers(password: &str) -> ApiResult<String> {
    let p = Zeroizing::new(password.to_string());
    tokio::task::spawn_blocking(move || hash_password(&p))
        .await
        .map_err(ApiError::internal)?
}

/// Sets a new password (`one_time`: must be changed at next login) and ends all sessions.
pub async fn set_password(db: &Db, id: &str, password: &str, one_time: bool) -> ApiResult<()> {
    let hash = hash_off_workers(password).await?;
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, login_failures = 0, login_locked_until = 0 WHERE id = $3")
        .bind(hash)
        .bind(i64::from(one_time))
        .bind(id)
        .execute(&db.writer)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Clears one-time-code and login lock-outs.
pub async fn unlock(db: &Db, id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE users SET totp_failures = 0, totp_locked_until = 0, login_failures = 0, login_locked_until = 0 WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The id of the user called `username`.
pub async fn id_of(db: &Db, username: &str) -> ApiResult<Option<String>> {
    let r: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&db.pool)
        .await?;
    Ok(r.map(|(id,)| id))
}

/// Whether any account holds the admin role.
pub async fn any_admin(db: &Db) -> ApiResult<bool> {
    let r: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE roles LIKE '%admin%' LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(r.is_some())
}

/// Sets (or, with `None`, clears) a user's manager. A chain of managers that comes back to the
/// user is refused.
pub async fn set_manager(db: &Db, id: &str, manager: Option<&str>) -> ApiResult<()> {
    check_manager(db, id, manager).await?;
    sqlx::query("UPDATE users SET manager_id = $1 WHERE id = $2")
        .bind(manager)
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Whether `manager` may be `id`'s manager: an existing user, and no loop of managers.
pub async fn check_manager(db: &Db, id: &str, manager: Option<&str>) -> ApiResult<()> {
    if let Some(m) = manager {
        require(db, m)
            .await
            .map_err(|_| ApiError::unprocessable(format!("no user {m} to be the manager")))?;
        let mut cur = Some(m.to_string());
        let mut seen = 0;
        while let Some(c) = cur {
            if c == id {
                return Err(ApiError::unprocessable(
                    "that manager would make a loop: the user would be their own manager's manager",
                ));
            }
            seen += 1;
            if seen > 100 {
                return Err(ApiError::unprocessable("the chain of managers is too long"));
            }
            cur = require(db, &c).await?.manager_id;
        }
    }
    Ok(())
}

/// Users holding `role` who are not disabled.
pub async fn with_role(db: &Db, role: Role) -> ApiResult<Vec<User>> {
    Ok(list(db)
        .await?
        .into_iter()
        .filter(|u| u.has(role) && !u.disabled)
        .collect())
}

/// The username of the server's own account; no one else may take it.
pub const SYSTEM_USERNAME: &str = "signet-system";

/// A user an administrator manages (not the server's own account, which has no password,
/// no tokens and roles of its own).
pub async fn require_managed(db: &Db, id: &str) -> ApiResult<User> {
    let u = require(db, id).await?;
    if u.username == SYSTEM_USERNAME {
        return Err(ApiError::forbidden("the server's own account is not managed by hand"));
    }
    Ok(u)
}

/// The server's own account, which seals documents at the end of approval routes: a service
/// account without password or tokens, made on first use.
pub async fn system_user(db: &Db) -> ApiResult<User> {
    const NAME: &str = SYSTEM_USERNAME;
    if let Some(id) = id_of(db, NAME).await? {
        return require(db, &id).await;
    }
    match create(
        db,
        &NewUser {
            username: NAME,
            display_name: "Signet (automatic seal)",
            email: None,
            roles: &[Role::Service],
            password: None,
        },
    )
    .await
    {
        Ok(u) => Ok(u),
        // Made meanwhile by another request or node.
        Err(_) => {
            let id = id_of(db, NAME)
                .await?
                .ok_or_else(|| ApiError::internal("the system account cannot be made"))?;
            require(db, &id).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_roles() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterY"));
        assert!(!verify_password("garbage", "x"));
        assert!(check_password_policy("short").is_err());
        assert_eq!(
            parse_roles("signer, approver,signer").unwrap(),
            vec![Role::Signer, Role::Approver]
        );
        assert!(parse_roles("root").is_err());
        assert!(parse_roles("service,admin").is_err());
        let p = random_password().unwrap();
        assert_eq!(p.len(), 20);
    }
}
