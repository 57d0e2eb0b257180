//! The register of certificates the organisation CA issued: what its OCSP responder and CRLs
//! answer from.

use signet_pki::Certificate;
use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// A certificate's serial as the register keys it: the INTEGER's content octets in hex, a
/// leading sign byte stripped (as `Certificate::serial_hex` prints it).
pub fn serial_hex(bytes: &[u8]) -> String {
    let trimmed = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        b => b,
    };
    hex::encode(trimmed)
}

/// Records a certificate the CA issued for key `key_id` (so that OCSP knows it).
pub async fn record(db: &Db, cert: &Certificate, key_id: &str) -> ApiResult<()> {
    sqlx::query("INSERT INTO certificates (serial_hex, key_id, subject, not_after, issued_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
        .bind(serial_hex(cert.serial()))
        .bind(key_id)
        .bind(cert.display_name())
        .bind(cert.not_after())
        .bind(signet_pki::time::now())
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Marks the certificates of key `key_id` revoked at `now` (inside the caller's transaction).
pub async fn mark_revoked(conn: &mut sqlx::AnyConnection, key_id: &str, now: i64, reason: Option<u8>) -> ApiResult<()> {
    sqlx::query("UPDATE certificates SET revoked_at = $1, reason = $2 WHERE key_id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(reason.map(i64::from))
        .bind(key_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every revoked certificate, as CRL entries.
pub async fn revoked(db: &Db) -> ApiResult<Vec<signet_pki::crl::RevokedEntry>> {
    let rows = sqlx::query("SELECT serial_hex, revoked_at, reason FROM certificates WHERE revoked_at IS NOT NULL")
        .fetch_all(&db.pool)
        .await?;
    let mut entries = Vec::new();
    for r in rows {
        let serial: String = r.try_get(0)?;
        let at: i64 = r.try_get(1)?;
        let reason: Option<i64> = r.try_get(2)?;
        entries.push(signet_pki::crl::RevokedEntry {
            serial: hex::decode(serial).map_err(ApiError::internal)?,
            revocation_time: at,
            reason: reason.and_then(|x| u8::try_from(x).ok()),
        });
    }
    Ok(entries)
}

/// A registered certificate's status by serial (hex): `None` if the CA never issued it,
/// `Some(None)` if it is not revoked, `Some(Some((time, reason)))` if it is.
pub async fn status(db: &Db, serial: &str) -> ApiResult<Option<Option<(i64, Option<u8>)>>> {
    let row = sqlx::query("SELECT revoked_at, reason FROM certificates WHERE serial_hex = $1")
        .bind(serial)
        .fetch_optional(&db.pool)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let at: Option<i64> = r.try_get(0)?;
    let reason: Option<i64> = r.try_get(1)?;
    Ok(Some(at.map(|t| (t, reason.and_then(|x| u8::try_from(x).ok())))))
}
