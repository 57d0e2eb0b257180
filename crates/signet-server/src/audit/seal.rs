//! Seals: every so often the server signs the log's tail (seq and hash) with its seal key, so
//! rewriting the chain from some point on is caught at the next seal.

use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// The message an audit seal signs.
pub fn seal_message(seq: i64, hash: &str) -> Vec<u8> {
    format!("signet-audit-seal-v1\n{seq}\n{hash}\n").into_bytes()
}

/// Signs the current tail of the log with `signer` if `every` entries have passed since the last
/// seal (or always, with `force`). Returns the sealed seq, if a seal was written.
pub async fn seal_if_due(
    db: &Db,
    signer: &dyn signet_crypto::Signer,
    key_id: &str,
    every: i64,
    force: bool,
) -> ApiResult<Option<i64>> {
    let tail = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    let Some(tail) = tail else { return Ok(None) };
    let (seq, hash): (i64, String) = (tail.try_get(0)?, tail.try_get(1)?);
    let last_seal: Option<(i64,)> = sqlx::query_as("SELECT seq FROM audit_seals ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    let last = last_seal.map(|r| r.0).unwrap_or(0);
    if seq <= last || (!force && seq - last < every) {
        return Ok(None);
    }
    let sig = signer.sign(&seal_message(seq, &hash)).map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO audit_seals (seq, at, hash, signature, key_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(seq)
    .bind(signet_pki::time::now())
    .bind(&hash)
    .bind(sig)
    .bind(key_id)
    .execute(&db.writer)
    .await?;
    Ok(Some(seq))
}
