//! Documents and their versions. The original is never overwritten: each signature adds a
//! version whose blob is durable before the document's current version moves to it, in one
//! transaction.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::Event;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::{Role, User};

mod forms;
mod versions;

pub use forms::{create_from_form, revise, set_form, write_form};
pub use versions::{NewVersion, VersionChange, add_current_version, add_version, ids_with_current_media_type};

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

pub(crate) fn clean(field: &str, v: Option<String>, max: usize) -> ApiResult<String> {
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
pub(crate) struct NewRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) owner: &'a str,
    pub(crate) title: &'a str,
    pub(crate) number: &'a str,
    pub(crate) date: &'a str,
    pub(crate) doc_type: &'a str,
    pub(crate) form: &'a str,
    sha256: &'a str,
    pub(crate) size: i64,
    pub(crate) media_type: &'a str,
    pub(crate) filename: &'a str,
    pub(crate) now: i64,
}

/// Inserts a new document and its first version (its blob already durable).
pub(crate) async fn insert(tx: &mut sqlx::AnyConnection, r: &NewRow<'_>) -> Result<(), sqlx::Error> {
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
