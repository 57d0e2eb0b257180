//! Documents made from a type's form: numbered, rendered to PDF and stored in one
//! transaction; revised when returned for changes; their values kept beside them.

use super::{Document, NewRow, PDF, VersionChange, add_current_version, clean, get_visible, insert, year_of};
use crate::audit::Event;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::User;

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
    let change = VersionChange {
        kind: "revised",
        data: pdf,
        media_type: super::PDF,
        filename: format!("{}.pdf", doc.number),
        action: "document.revise",
        details: serde_json::json!({"form": values}),
    };
    let n = add_current_version(state, user, doc, change).await?;
    set_form(state, &doc.id, values).await?;
    Ok(n)
}
