//! Versions of a document: each signature, revision or attached evidence is a new version whose
//! blob is durable before the version is committed with its audit entry (an
//! [`crate::audit::Attachment`]), written in one statement for a batch on PostgreSQL.

use super::{Document, check_content};
use crate::audit::Event;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::User;

/// A version to add (its blob already durable), committed together with its audit entry by
/// the audit writer ([`crate::audit::Log::append_with`]).
#[derive(Clone, Debug)]
pub struct NewVersion {
    /// Document.
    pub document_id: String,
    /// `signed` or `signature`.
    pub kind: String,
    /// Blob.
    pub sha256: String,
    /// Size.
    pub size: i64,
    /// Media type.
    pub media_type: String,
    /// File name.
    pub filename: String,
    /// Who made it.
    pub created_by: String,
    /// Move the document's current version to it, if the current version is still
    /// `expected_current` (else 409: a concurrent signature came first).
    pub make_current: bool,
    /// The current version the signature was made on.
    pub expected_current: i64,
    /// The number this version is expected to get: one past the newest version the caller read.
    /// A hint for writing the batch in one statement; if it is taken meanwhile, the writer
    /// falls back to numbering it in a transaction.
    pub next_version: i64,
    /// The signature row: (signature id, key id, format).
    pub signature: Option<(String, String, String)>,
}

impl crate::audit::Attachment for NewVersion {
    /// Writes the version (and its signature row) inside the audit writer's transaction.
    async fn write(
        &self,
        conn: &mut sqlx::AnyConnection,
        at: i64,
        backend: crate::db::Backend,
    ) -> Result<Result<i64, ApiError>, sqlx::Error> {
        write_version(conn, self, at, backend).await
    }

    fn expected_number(&self) -> i64 {
        self.next_version
    }

    fn one_statement(items: &[&Self], at: i64) -> Option<crate::audit::BatchStatement> {
        versions_in_one_statement(items, at)
    }
}

/// Writes a version inside the caller's transaction. `Ok(Err(_))` is a conflict (nothing
/// written by this call should be kept); `Err(_)` a database failure.
async fn write_version(
    tx: &mut sqlx::AnyConnection,
    v: &NewVersion,
    now: i64,
    backend: crate::db::Backend,
) -> Result<Result<i64, ApiError>, sqlx::Error> {
    if backend == crate::db::Backend::Postgres {
        return write_version_in_one_statement(tx, v, now).await;
    }
    let (next,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(version), 0) + 1 FROM document_versions WHERE document_id = $1")
            .bind(&v.document_id)
            .fetch_one(&mut *tx)
            .await?;
    if v.make_current {
        let r = sqlx::query("UPDATE documents SET current_version = $1 WHERE id = $2 AND current_version = $3")
            .bind(next)
            .bind(&v.document_id)
            .bind(v.expected_current)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() != 1 {
            return Ok(Err(version_conflict()));
        }
    }
    sqlx::query("INSERT INTO document_versions (document_id, version, kind, blob_sha256, size, media_type, filename, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&v.document_id)
        .bind(next)
        .bind(&v.kind)
        .bind(&v.sha256)
        .bind(v.size)
        .bind(&v.media_type)
        .bind(&v.filename)
        .bind(&v.created_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if let Some((sig_id, key_id, format)) = &v.signature {
        sqlx::query("INSERT INTO signatures (id, document_id, version, key_id, user_id, format, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(sig_id)
            .bind(&v.document_id)
            .bind(next)
            .bind(key_id)
            .bind(&v.created_by)
            .bind(format)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    Ok(Ok(next))
}

/// PostgreSQL: a batch's versions (and signature rows) as common table expressions of the audit
/// writer's one statement. Rows are passed as one JSON array (`$1`); each switch of a document's
/// current version is an UPDATE by primary key of its own (a join against the JSON rows would
/// be planned as a scan of all documents), so the statement's text depends only on how many
/// switches the batch holds and is prepared once per count. If any switch finds the current
/// version moved, the guard's cast fails on purpose and nothing is written; versions take the
/// numbers their callers computed, and a number taken meanwhile fails the statement on the
/// primary key. `None` when the batch switches one document twice.
fn versions_in_one_statement(items: &[&NewVersion], at: i64) -> Option<crate::audit::BatchStatement> {
    use crate::audit::Param;
    let switches: Vec<&NewVersion> = items.iter().copied().filter(|v| v.make_current).collect();
    for (i, v) in switches.iter().enumerate() {
        if switches[..i].iter().any(|w| w.document_id == v.document_id) {
            return None;
        }
    }
    let rows: Vec<serde_json::Value> = items
        .iter()
        .map(|v| {
            let (signature_id, key_id, format) = match &v.signature {
                Some((s, k, f)) => (Some(s), Some(k), Some(f)),
                None => (None, None, None),
            };
            serde_json::json!({
                "document_id": v.document_id, "version": v.next_version, "kind": v.kind,
                "blob_sha256": v.sha256, "size": v.size, "media_type": v.media_type,
                "filename": v.filename, "created_by": v.created_by, "created_at": at,
                "signature_id": signature_id, "key_id": key_id, "format": format,
            })
        })
        .collect();
    let mut ctes = String::from(
        "v AS (SELECT * FROM json_to_recordset($1::json) AS x(document_id text, version bigint, kind text, \
         blob_sha256 text, size bigint, media_type text, filename text, created_by text, created_at bigint, \
         signature_id text, key_id text, format text)), ",
    );
    let mut params = vec![Param::Text(serde_json::Value::Array(rows).to_string())];
    for (i, v) in switches.iter().enumerate() {
        let b = 2 + 3 * i;
        ctes.push_str(&format!(
            "u{i} AS (UPDATE documents SET current_version = ${b} WHERE id = ${} AND current_version = ${} RETURNING 1), ",
            b + 1,
            b + 2
        ));
        params.push(Param::Int(v.next_version));
        params.push(Param::Text(v.document_id.clone()));
        params.push(Param::Int(v.expected_current));
    }
    ctes.push_str(
        "ins AS (INSERT INTO document_versions (document_id, version, kind, blob_sha256, size, media_type, filename, \
         created_by, created_at) SELECT document_id, version, kind, blob_sha256, size, media_type, filename, \
         created_by, created_at FROM v RETURNING 1), \
         sig AS (INSERT INTO signatures (id, document_id, version, key_id, user_id, format, created_at) \
         SELECT signature_id, document_id, version, key_id, created_by, format, created_at FROM v \
         WHERE signature_id IS NOT NULL RETURNING 1), ",
    );
    let mut guard = String::from("CAST(CASE WHEN 0");
    for i in 0..switches.len() {
        guard.push_str(&format!(" + (SELECT count(*) FROM u{i})"));
    }
    guard.push_str(&format!(
        " = {} THEN '0' ELSE 'version conflict' END AS bigint) + (SELECT count(*) FROM ins) + (SELECT count(*) FROM sig)",
        switches.len()
    ));
    Some(crate::audit::BatchStatement { ctes, params, guard })
}

/// The conflict [`write_version`] reports.
fn version_conflict() -> ApiError {
    ApiError::conflict(
        "the document changed while it was being signed (another signature came first); sign its new version",
    )
}

/// PostgreSQL: the writes of [`write_version`] as one statement (data-modifying CTEs, which
/// PostgreSQL runs to completion whether or not the final SELECT reads them): one round trip
/// to the database instead of four per signature, which is what the serial audit writer spends
/// its time on. The version row (and the signature row after it) is inserted only if moving
/// the current version succeeded; no row back means a conflict and nothing written.
async fn write_version_in_one_statement(
    tx: &mut sqlx::AnyConnection,
    v: &NewVersion,
    now: i64,
) -> Result<Result<i64, ApiError>, sqlx::Error> {
    // $1…$8: the version row; then $9 the expected current version (when switching); then the
    // signature row's id, key and format.
    let (switch, only_if_switched, next) = if v.make_current {
        (
            "upd AS (UPDATE documents SET current_version = (SELECT v FROM nv) WHERE id = $1 AND current_version = $9 RETURNING 1), ",
            " WHERE EXISTS (SELECT 1 FROM upd)",
            10,
        )
    } else {
        ("", "", 9)
    };
    let signature = if v.signature.is_some() {
        format!(
            ", sig AS (INSERT INTO signatures (id, document_id, version, key_id, user_id, format, created_at) \
             SELECT ${}, $1, version, ${}, $7, ${}, $8 FROM ins RETURNING 1)",
            next,
            next + 1,
            next + 2
        )
    } else {
        String::new()
    };
    let sql = format!(
        "WITH nv AS (SELECT COALESCE(MAX(version), 0) + 1 AS v FROM document_versions WHERE document_id = $1), {switch}\
         ins AS (INSERT INTO document_versions (document_id, version, kind, blob_sha256, size, media_type, filename, created_by, created_at) \
         SELECT $1, v, $2, $3, $4, $5, $6, $7, $8 FROM nv{only_if_switched} RETURNING version){signature} \
         SELECT version FROM ins"
    );
    let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql))
        .bind(&v.document_id)
        .bind(&v.kind)
        .bind(&v.sha256)
        .bind(v.size)
        .bind(&v.media_type)
        .bind(&v.filename)
        .bind(&v.created_by)
        .bind(now);
    if v.make_current {
        q = q.bind(v.expected_current);
    }
    if let Some((sig_id, key_id, format)) = &v.signature {
        q = q.bind(sig_id).bind(key_id).bind(format);
    }
    Ok(match q.fetch_optional(&mut *tx).await? {
        Some((version,)) => Ok(version),
        None => Err(version_conflict()),
    })
}

/// Ids of the documents whose current version has media type `media_type`.
pub async fn ids_with_current_media_type(db: &crate::db::Db, media_type: &str) -> ApiResult<Vec<String>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT d.id FROM documents d JOIN document_versions v ON v.document_id = d.id AND v.version = d.current_version WHERE v.media_type = $1 ORDER BY d.id",
    )
    .bind(media_type)
    .fetch_all(&db.pool)
    .await?;
    Ok(ids)
}

/// A new current version to make of a document: its bytes, how it came to be, and the audit
/// entry that records it.
#[derive(Debug)]
pub struct VersionChange<'a> {
    /// `revised`, `evidence`, …
    pub kind: &'a str,
    /// The bytes.
    pub data: Vec<u8>,
    /// Their media type.
    pub media_type: &'a str,
    /// The file name downloads get.
    pub filename: String,
    /// The audit action (`document.revise`, `document.evidence-attach`).
    pub action: &'a str,
    /// The entry's details; the version's `sha256` and `size` are added.
    pub details: serde_json::Value,
}

/// Stores `change`'s bytes (durable first), then commits them as the document's new current
/// version with the audit entry — unless another version became current meanwhile (409).
/// Returns the version's number.
pub async fn add_current_version(
    state: &AppState,
    by: &User,
    doc: &Document,
    change: VersionChange<'_>,
) -> ApiResult<i64> {
    let size = change.data.len() as i64;
    let blobs = state.blobs.clone();
    let data = change.data;
    let sha = tokio::task::spawn_blocking(move || blobs.put(&data))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the blob store cannot be written: {e}")))?;
    let v = NewVersion {
        document_id: doc.id.clone(),
        kind: change.kind.into(),
        sha256: sha.clone(),
        size,
        media_type: change.media_type.into(),
        filename: change.filename,
        created_by: by.id.clone(),
        make_current: true,
        expected_current: doc.current_version,
        next_version: doc.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1,
        signature: None,
    };
    let mut details = change.details;
    if let Some(o) = details.as_object_mut() {
        o.insert("sha256".into(), serde_json::Value::String(sha));
        o.insert("size".into(), serde_json::Value::from(size));
    }
    let (_, n) = state
        .audit
        .append_with(
            &Event {
                actor: &by.id,
                action: change.action,
                target: &doc.id,
                outcome: "ok",
                details,
            },
            crate::changes::Change::Version(v),
        )
        .await?;
    Ok(n)
}

/// A new version of an uploaded document (changes asked for in an approval), current from now
/// on, committed with its audit entry.
pub async fn add_version(
    state: &AppState,
    user: &User,
    doc: &Document,
    media_type: &str,
    data: &[u8],
) -> ApiResult<i64> {
    {
        let (media_type, data) = (media_type.to_string(), data.to_vec());
        state.work.run(move || check_content(&media_type, &data)).await??;
    }
    let change = VersionChange {
        kind: "revised",
        data: data.to_vec(),
        media_type,
        filename: doc.current()?.filename.clone(),
        action: "document.revise",
        details: serde_json::json!({}),
    };
    add_current_version(state, user, doc, change).await
}
