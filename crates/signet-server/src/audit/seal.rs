//! Seals: every so often the server signs the log's tail (seq, hash) and the time with its seal
//! key, so rewriting the chain from some point on is caught at the next seal, and a log whose
//! newest seal is old has lost its tail (a running server seals at least every interval,
//! writing a heartbeat entry when nothing else happened).

use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// The message an audit seal signs: the sealed entry's number and hash, and when.
pub fn seal_message(seq: i64, hash: &str, at: i64) -> Vec<u8> {
    format!("signet-audit-seal-v2\n{seq}\n{hash}\n{at}\n").into_bytes()
}

/// The message seals of earlier versions signed (no time).
pub fn seal_message_v1(seq: i64, hash: &str) -> Vec<u8> {
    format!("signet-audit-seal-v1\n{seq}\n{hash}\n").into_bytes()
}

/// When a seal is due.
#[derive(Clone, Copy, Debug)]
pub struct Due {
    /// After this many entries since the last seal.
    pub every: i64,
    /// Or when the last seal is this many seconds old and entries came after it.
    pub interval_secs: i64,
    /// Now (Unix time).
    pub now: i64,
    /// Or always (when the tail is not sealed yet): at shutdown, on request.
    pub force: bool,
}

/// Signs the current tail of the log with `signer` if a seal is due. Returns the sealed seq, if
/// a seal was written.
pub async fn seal_if_due(
    db: &Db,
    signer: &dyn signet_crypto::Signer,
    key_id: &str,
    due: Due,
) -> ApiResult<Option<i64>> {
    let tail = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    let Some(tail) = tail else { return Ok(None) };
    let (seq, hash): (i64, String) = (tail.try_get(0)?, tail.try_get(1)?);
    let last_seal: Option<(i64, i64)> = sqlx::query_as("SELECT seq, at FROM audit_seals ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    let (last, last_at) = last_seal.unwrap_or((0, 0));
    let old = due.now - last_at >= due.interval_secs;
    if seq <= last || (!due.force && seq - last < due.every && !old) {
        return Ok(None);
    }
    let sig = signer
        .sign(&seal_message(seq, &hash, due.now))
        .map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO audit_seals (seq, at, hash, signature, key_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(seq)
    .bind(due.now)
    .bind(&hash)
    .bind(sig)
    .bind(key_id)
    .execute(&db.writer)
    .await?;
    Ok(Some(seq))
}

/// The newest seal's entry number and time, if any.
pub async fn newest(db: &Db) -> ApiResult<Option<(i64, i64)>> {
    let r: Option<(i64, i64)> = sqlx::query_as("SELECT seq, at FROM audit_seals ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(r)
}

/// The newest entry's number, if any.
pub async fn tail(db: &Db) -> ApiResult<Option<i64>> {
    let r: Option<(i64,)> = sqlx::query_as("SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(r.map(|(s,)| s))
}

/// A stored seal.
#[derive(Clone, Debug)]
pub struct Seal {
    /// The entry it seals through.
    pub seq: i64,
    /// When it was made.
    pub at: i64,
    /// That entry's hash.
    pub hash: String,
    /// The signature over [`seal_message`].
    pub signature: Vec<u8>,
    /// The seal key's id.
    pub key_id: String,
}

/// Every seal, oldest first.
pub async fn list_seals(db: &Db) -> ApiResult<Vec<Seal>> {
    let rows = sqlx::query("SELECT seq, at, hash, signature, key_id FROM audit_seals ORDER BY seq")
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Seal {
                seq: r.try_get(0)?,
                at: r.try_get(1)?,
                hash: r.try_get(2)?,
                signature: r.try_get(3)?,
                key_id: r.try_get(4)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ApiError::from)
}
