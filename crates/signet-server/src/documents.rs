//! Documents and their versions. The original is never overwritten: each signature adds a
//! version whose blob is durable before the document's current version moves to it, in one
//! transaction.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::Event;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::{Role, User};

/// Media type of PDFs.
pub const PDF: &str = "application/pdf";
/// Media type of detached CMS signatures.
pub const P7S: &str = "application/pkcs7-signature";

/// Metadata given at upload.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Title (required).
    pub title: Option<String>,
    /// Document number (e.g. "2026/114").
    pub number: Option<String>,
    /// Document date (ISO 8601 date).
    pub date: Option<String>,
    /// Type, matched by key policies (e.g. "leave", "contract").
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// File name.
    pub filename: Option<String>,
}

/// One stored version.
#[derive(Clone, Debug, Serialize)]
pub struct Version {
    /// Number (1 = original).
    pub version: i64,
    /// `original`, `signed` (a PAdES-signed PDF) or `signature` (a detached `.p7s`).
    pub kind: String,
    /// SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// Media type.
    pub media_type: String,
    /// File name.
    pub filename: String,
    /// Who made it.
    pub created_by: String,
    /// When (Unix time).
    pub created_at: i64,
}

/// A document.
#[derive(Clone, Debug, Serialize)]
pub struct Document {
    /// Id.
    pub id: String,
    /// Who uploaded it.
    pub owner_id: String,
    /// Title.
    pub title: String,
    /// Number.
    pub number: String,
    /// Date.
    pub date: String,
    /// Type.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// The version downloads give by default.
    pub current_version: i64,
    /// Upload time.
    pub created_at: i64,
    /// The form's values (documents of a type with a form), as JSON text; empty otherwise.
    /// Shown as `values` (an object, or `null`).
    #[serde(rename = "values", serialize_with = "form_as_json")]
    pub form: String,
    /// All versions, oldest first.
    pub versions: Vec<Version>,
}

fn form_as_json<S: serde::Serializer>(form: &str, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&serde_json::from_str::<serde_json::Value>(form).unwrap_or_default(), s)
}

impl Document {
    /// The form's values (`null` when the document has none).
    pub fn form_values(&self) -> serde_json::Value {
        serde_json::from_str(&self.form).unwrap_or(serde_json::Value::Null)
    }
}

impl Document {
    /// The current version.
    pub fn current(&self) -> ApiResult<&Version> {
        self.version(self.current_version)
    }
    /// A version by number.
    pub fn version(&self, n: i64) -> ApiResult<&Version> {
        self.versions
            .iter()
            .find(|v| v.version == n)
            .ok_or_else(|| ApiError::not_found(format!("the document has no version {n}")))
    }
    /// The original upload.
    pub fn original(&self) -> ApiResult<&Version> {
        self.version(1)
    }
}

/// Whether `user` may see documents they do not own.
pub fn sees_all(user: &User) -> bool {
    user.has(Role::Admin) || user.has(Role::Approver) || user.has(Role::Auditor)
}

fn clean(field: &str, v: Option<String>, max: usize) -> ApiResult<String> {
    let v = v.unwrap_or_default();
    let v = v.trim();
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(format!(
            "{field} must have at most {max} characters and no control characters"
        )));
    }
    Ok(v.to_string())
}

/// Checks an upload: PDFs must parse (Signet's strict reader), other files are taken as they are.
pub fn check_content(media_type: &str, data: &[u8]) -> ApiResult<()> {
    if data.is_empty() {
        return Err(ApiError::unprocessable("the file is empty"));
    }
    if media_type == PDF {
        let src: &[u8] = data;
        signet_pdf::document::PdfDocument::parse(&src, &signet_pdf::document::Limits::default())
            .and_then(|d| d.pages().map(|_| ()))
            .map_err(|e| ApiError::unprocessable(format!("not a readable PDF: {e}")))?;
    }
    Ok(())
}

/// Stores a new document (its blob first, durably) and returns it.
pub async fn upload(
    state: &AppState,
    user: &User,
    meta: Metadata,
    media_type: &str,
    data: &[u8],
) -> ApiResult<Document> {
    let title = clean("title", meta.title, 300)?;
    if title.is_empty() {
        return Err(ApiError::unprocessable("a document needs a title (?title=…)"));
    }
    let number = clean("number", meta.number, 100)?;
    let date = clean("date", meta.date, 10)?;
    if !date.is_empty() && signet_pki::time::parse(&format!("{date}T00:00:00Z")).is_err() {
        return Err(ApiError::unprocessable("date must be YYYY-MM-DD"));
    }
    let doc_type = clean("type", meta.doc_type, 100)?;
    let default_name = if media_type == PDF {
        "document.pdf"
    } else {
        "document.bin"
    };
    let mut filename = clean("filename", meta.filename, 255)?;
    filename = filename.replace(['/', '\\', '"'], "_");
    if filename.is_empty() {
        filename = default_name.into();
    }
    {
        // Parsing a PDF is heavy work: off the async workers, a bounded number at a time.
        let (media_type, data) = (media_type.to_string(), data.to_vec());
        state.work.run(move || check_content(&media_type, &data)).await??;
    }
    let id = crate::users::new_id()?;
    let sha = hex::encode(signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, data));
    state.audit.append(&Event {
        actor: &user.id,
        action: "document.upload",
        target: &id,
        outcome: "ok",
        details: serde_json::json!({"title": title, "type": doc_type, "sha256": sha, "size": data.len(), "media_type": media_type}),
    })
    .await?;
    let blobs = state.blobs.clone();
    let owned = data.to_vec();
    tokio::task::spawn_blocking(move || blobs.put(&owned))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the blob store cannot be written: {e}")))?;
    let now = signet_pki::time::now();
    // A document of a known type takes the next number of its series, in this transaction.
    let series = crate::doc_types::get(&state.db, &doc_type).await?;
    let mut tx = state.db.begin_write().await?;
    let number = match &series {
        Some(t) => {
            let year = year_of(now);
            crate::doc_types::numbering::format(
                &t.prefix,
                year,
                crate::doc_types::numbering::take(&mut tx, &t.id, year).await?,
            )
        }
        None => number,
    };
    let row = NewRow {
        id: &id,
        owner: &user.id,
        title: &title,
        number: &number,
        date: &date,
        doc_type: &doc_type,
        form: "",
        sha256: &sha,
        size: data.len() as i64,
        media_type,
        filename: &filename,
        now,
    };
    insert(&mut tx, &row).await?;
    tx.commit().await?;
    get_visible(state, user, &id).await
}

/// The calendar year of a Unix time.
pub fn year_of(t: i64) -> i64 {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| i64::from(d.year()))
        .unwrap_or(1970)
}

/// A new document's rows.
struct NewRow<'a> {
    id: &'a str,
    owner: &'a str,
    title: &'a str,
    number: &'a str,
    date: &'a str,
    doc_type: &'a str,
    form: &'a str,
    sha256: &'a str,
    size: i64,
    media_type: &'a str,
    filename: &'a str,
    now: i64,
}

/// Inserts a new document and its first version (its blob already durable).
async fn insert(tx: &mut sqlx::AnyConnection, r: &NewRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO documents (id, owner_id, title, number, doc_date, doc_type, current_version, created_at, form) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)")
        .bind(r.id)
        .bind(r.owner)
        .bind(r.title)
        .bind(r.number)
        .bind(r.date)
        .bind(r.doc_type)
        .bind(r.now)
        .bind(r.form)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO document_versions (document_id, version, kind, blob_sha256, size, media_type, filename, created_by, created_at) VALUES ($1, 1, 'original', $2, $3, $4, $5, $6, $7)")
        .bind(r.id)
        .bind(r.sha256)
        .bind(r.size)
        .bind(r.media_type)
        .bind(r.filename)
        .bind(r.owner)
        .bind(r.now)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A document made from a type's form: the next number of the type's series, today's date, the
/// values checked and normalised (people named by id or username become ids), the PDF rendered
/// from them — all in one transaction, so a document that fails leaves no gap in the numbers.
pub async fn create_from_form(
    state: &AppState,
    user: &User,
    t: &crate::doc_types::DocType,
    values: &serde_json::Value,
    title: Option<String>,
) -> ApiResult<Document> {
    if t.disabled {
        return Err(ApiError::unprocessable(format!(
            "documents of type {:?} can no longer be made",
            t.id
        )));
    }
    if t.source != crate::doc_types::Source::Form {
        return Err(ApiError::unprocessable(format!(
            "documents of type {:?} are uploaded PDFs: upload one with ?type={}",
            t.id, t.id
        )));
    }
    let values = crate::doc_types::checked_values(state, t, values).await?;
    let title = match clean("title", title, 300)? {
        s if s.is_empty() => format!("{} — {}", t.name, user.display_name),
        s => s,
    };
    let form = serde_json::Value::Object(values.clone()).to_string();
    let id = crate::users::new_id()?;
    let now = signet_pki::time::now();
    let date = signet_pki::time::format(now)[..10].to_string();
    state
        .audit
        .append(&Event {
            actor: &user.id,
            action: "document.create",
            target: &id,
            outcome: "ok",
            details: serde_json::json!({"title": title, "type": t.id, "form": values}),
        })
        .await?;
    let mut tx = state.db.begin_write().await?;
    let year = year_of(now);
    let n = crate::doc_types::numbering::take(&mut tx, &t.id, year).await?;
    let number = crate::doc_types::numbering::format(&t.prefix, year, n);
    let sheet = crate::doc_types::render::sheet(state, t, &values, &number, &date, user).await?;
    let pdf = state
        .work
        .run(move || signet_render::render(&sheet))
        .await?
        .map_err(|e| ApiError::unprocessable(format!("the document cannot be rendered: {e}")))?;
    let sha = hex::encode(signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, &pdf));
    let size = pdf.len() as i64;
    let blobs = state.blobs.clone();
    tokio::task::spawn_blocking(move || blobs.put(&pdf))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the blob store cannot be written: {e}")))?;
    let filename = format!("{number}.pdf");
    let row = NewRow {
        id: &id,
        owner: &user.id,
        title: &title,
        number: &number,
        date: &date,
        doc_type: &t.id,
        form: &form,
        sha256: &sha,
        size,
        media_type: PDF,
        filename: &filename,
        now,
    };
    insert(&mut tx, &row).await?;
    tx.commit().await?;
    get_visible(state, user, &id).await
}

/// Records a document's form values (a revised form's).
pub async fn set_form(
    state: &AppState,
    id: &str,
    values: &serde_json::Map<String, serde_json::Value>,
) -> ApiResult<()> {
    let mut conn = state.db.writer.acquire().await?;
    write_form(&mut conn, id, &serde_json::Value::Object(values.clone()).to_string()).await?;
    Ok(())
}

/// Writes a document's form values (JSON) on `conn` — in a caller's transaction (an uploaded
/// contract's values, with the start of its approval).
pub async fn write_form(conn: &mut sqlx::AnyConnection, id: &str, form: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE documents SET form = $1 WHERE id = $2")
        .bind(form)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn versions(state: &AppState, id: &str) -> ApiResult<Vec<Version>> {
    let rows = sqlx::query("SELECT version, kind, blob_sha256, size, media_type, filename, created_by, created_at FROM document_versions WHERE document_id = $1 ORDER BY version")
        .bind(id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter()
        .map(|r| row_version(r, 0))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ApiError::from)
}

/// A version from the eight version columns starting at column `at`.
fn row_version(r: &sqlx::any::AnyRow, at: usize) -> Result<Version, sqlx::Error> {
    Ok(Version {
        version: r.try_get(at)?,
        kind: r.try_get(at + 1)?,
        sha256: r.try_get(at + 2)?,
        size: r.try_get(at + 3)?,
        media_type: r.try_get(at + 4)?,
        filename: r.try_get(at + 5)?,
        created_by: r.try_get(at + 6)?,
        created_at: r.try_get(at + 7)?,
    })
}

fn row_doc(r: &sqlx::any::AnyRow) -> Result<Document, sqlx::Error> {
    Ok(Document {
        id: r.try_get(0)?,
        owner_id: r.try_get(1)?,
        title: r.try_get(2)?,
        number: r.try_get(3)?,
        date: r.try_get(4)?,
        doc_type: r.try_get(5)?,
        current_version: r.try_get(6)?,
        created_at: r.try_get(7)?,
        form: r.try_get(8)?,
        versions: Vec::new(),
    })
}

const DOC_COLUMNS: &str = "id, owner_id, title, number, doc_date, doc_type, current_version, created_at, form";
const DOC_COLUMNS_D: &str =
    "d.id, d.owner_id, d.title, d.number, d.doc_date, d.doc_type, d.current_version, d.created_at, d.form";

/// A document `user` may see (404 otherwise, so ids of others' documents are not confirmed).
pub async fn get_visible(state: &AppState, user: &User, id: &str) -> ApiResult<Document> {
    let d = get(state, id).await?;
    if d.owner_id != user.id && !sees_all(user) {
        return Err(ApiError::not_found(format!("no document {id}")));
    }
    Ok(d)
}

/// A document with its versions, for the server's own jobs (no access check).
pub async fn get(state: &AppState, id: &str) -> ApiResult<Document> {
    // One round trip: the document and its versions.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DOC_COLUMNS_D}, v.version, v.kind, v.blob_sha256, v.size, v.media_type, v.filename, v.created_by, v.created_at FROM documents d JOIN document_versions v ON v.document_id = d.id WHERE d.id = $1 ORDER BY v.version"
    )))
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?;
    let first = rows
        .first()
        .ok_or_else(|| ApiError::not_found(format!("no document {id}")))?;
    let mut d = row_doc(first)?;
    d.versions = rows
        .iter()
        .map(|r| row_version(r, 9))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(d)
}

/// Search parameters.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// Text in the title or number.
    pub q: Option<String>,
    /// Exact type.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// At most this many (default 100, max 1000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

/// Lists the documents `user` may see, newest first.
pub async fn list(state: &AppState, user: &User, s: &Search) -> ApiResult<Vec<Document>> {
    let q = s.q.clone().unwrap_or_default();
    let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let all = i64::from(sees_all(user));
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE ($1 = 1 OR owner_id = $2) AND (LOWER(title) LIKE LOWER($3) ESCAPE '\\' OR LOWER(number) LIKE LOWER($3) ESCAPE '\\') AND ($4 = '' OR doc_type = $4) ORDER BY created_at DESC, id LIMIT $5 OFFSET $6"
    )))
    .bind(all)
    .bind(&user.id)
    .bind(&pattern)
    .bind(s.doc_type.clone().unwrap_or_default())
    .bind(s.limit.unwrap_or(100).clamp(1, 1000))
    .bind(s.offset.unwrap_or(0).max(0))
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let mut d = row_doc(r)?;
        d.versions = versions(state, &d.id).await?;
        out.push(d);
    }
    Ok(out)
}

/// Reads a version's bytes (checked against their hash).
pub async fn content(state: &AppState, v: &Version) -> ApiResult<Vec<u8>> {
    let blobs = state.blobs.clone();
    let sha = v.sha256.clone();
    tokio::task::spawn_blocking(move || blobs.get(&sha))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the document's content cannot be read: {e}")))
}

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

/// A form document revised after it was returned for changes: `values` rendered again (same
/// number and type), as a new current version, committed with its audit entry; the form's
/// values are updated with it.
pub async fn revise(
    state: &AppState,
    user: &User,
    doc: &Document,
    t: &crate::doc_types::DocType,
    values: &serde_json::Map<String, serde_json::Value>,
) -> ApiResult<i64> {
    let now = signet_pki::time::now();
    let date = signet_pki::time::format(now)[..10].to_string();
    let author = crate::users::require(&state.db, &doc.owner_id).await?;
    let sheet = crate::doc_types::render::sheet(state, t, values, &doc.number, &date, &author).await?;
    let pdf = state
        .work
        .run(move || signet_render::render(&sheet))
        .await?
        .map_err(|e| ApiError::unprocessable(format!("the document cannot be rendered: {e}")))?;
    let size = pdf.len() as i64;
    let blobs = state.blobs.clone();
    let sha = tokio::task::spawn_blocking(move || blobs.put(&pdf))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the blob store cannot be written: {e}")))?;
    let v = NewVersion {
        document_id: doc.id.clone(),
        kind: "revised".into(),
        sha256: sha.clone(),
        size,
        media_type: PDF.into(),
        filename: format!("{}.pdf", doc.number),
        created_by: user.id.clone(),
        make_current: true,
        expected_current: doc.current_version,
        next_version: doc.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1,
        signature: None,
    };
    let (_, n) = state
        .audit
        .append_with(
            &Event {
                actor: &user.id,
                action: "document.revise",
                target: &doc.id,
                outcome: "ok",
                details: serde_json::json!({"sha256": sha, "form": values}),
            },
            crate::changes::Change::Version(v),
        )
        .await?;
    set_form(state, &doc.id, values).await?;
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
    let blobs = state.blobs.clone();
    let owned = data.to_vec();
    let sha = tokio::task::spawn_blocking(move || blobs.put(&owned))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the blob store cannot be written: {e}")))?;
    let filename = doc.current()?.filename.clone();
    let v = NewVersion {
        document_id: doc.id.clone(),
        kind: "revised".into(),
        sha256: sha.clone(),
        size: data.len() as i64,
        media_type: media_type.into(),
        filename,
        created_by: user.id.clone(),
        make_current: true,
        expected_current: doc.current_version,
        next_version: doc.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1,
        signature: None,
    };
    let (_, n) = state
        .audit
        .append_with(
            &Event {
                actor: &user.id,
                action: "document.revise",
                target: &doc.id,
                outcome: "ok",
                details: serde_json::json!({"sha256": sha, "size": data.len()}),
            },
            crate::changes::Change::Version(v),
        )
        .await?;
    Ok(n)
}
