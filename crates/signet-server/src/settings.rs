//! Server-wide settings kept in the database (the KEK check, the passphrase's salt, the audit
//! seal's pin): name → text.

use crate::db::Db;
use crate::error::ApiResult;

/// A setting's value.
pub async fn get(db: &Db, name: &str) -> ApiResult<Option<String>> {
    let v: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await?;
    Ok(v.map(|(v,)| v))
}

/// A setting's value; if it has none yet, `value` becomes it (the first writer wins, on any
/// node).
pub async fn get_or_insert(db: &Db, name: &str, value: &str) -> ApiResult<String> {
    sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(value)
        .execute(&db.writer)
        .await?;
    Ok(get(db, name).await?.unwrap_or_else(|| value.to_string()))
}
