//! Document types: each with a form (typed fields), a number series, whether documents are made
//! from the form or uploaded (contracts), and the route they take. Four are built in — leave
//! application, payment request, purchase request, contract — and administrators add more.

pub mod builtin;
pub use signet_forms::form;
pub mod numbering;
pub mod render;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::workflows::route::Route;
use form::Field;

/// How a document of a type comes to be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Rendered from the filled-in form.
    #[default]
    Form,
    /// An uploaded PDF (a contract), with the form's values beside it.
    Upload,
}

/// A document type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocType {
    /// Id (`[a-z][a-z0-9-]*`), also the document's `type`.
    pub id: String,
    /// Name ("Leave application").
    pub name: String,
    /// Name in Russian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_ru: Option<String>,
    /// Prefix of its numbers (`LV` → `LV-2026-00001`).
    pub prefix: String,
    /// Made from the form or uploaded.
    #[serde(default)]
    pub source: Source,
    /// The form.
    pub fields: Vec<Field>,
    /// The route its documents take.
    pub route: Route,
    /// When a route ends with the organisation's seal, put the evidence of the simple
    /// signatures into the PDF first (embedded files, and a page listing the signatures), so
    /// the sealed file carries its own proof. Only while the PDF holds no signature yet (adding
    /// pages would change what an earlier signature covers).
    #[serde(default = "yes")]
    pub attach_evidence: bool,
    /// Built in (cannot be deleted; may be changed).
    #[serde(default)]
    pub built_in: bool,
    /// No new documents of this type.
    #[serde(default)]
    pub disabled: bool,
}

fn yes() -> bool {
    true
}

/// Checks a type's definition: id, names, prefix, form and route.
pub fn check(t: &DocType) -> ApiResult<()> {
    let ok_id = (1..=40).contains(&t.id.len())
        && t.id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && t.id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok_id {
        return Err(ApiError::unprocessable(
            "a type id has 1 to 40 of a-z, 0-9 and -, starting with a letter",
        ));
    }
    if t.name.trim().is_empty() || t.name.chars().count() > 200 {
        return Err(ApiError::unprocessable("a type's name has 1 to 200 characters"));
    }
    if !(1..=8).contains(&t.prefix.len()) || !t.prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        return Err(ApiError::unprocessable("a number prefix has 1 to 8 of A-Z and 0-9"));
    }
    form::check_definition(&t.fields).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    crate::workflows::route::check(&t.route, &t.fields, &|r| crate::users::Role::parse(r).is_some())
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    Ok(())
}

fn from_row(r: &sqlx::any::AnyRow) -> ApiResult<DocType> {
    let def: String = r.try_get(0)?;
    let mut t: DocType = serde_json::from_str(&def).map_err(ApiError::internal)?;
    t.built_in = r.try_get::<i64, _>(1)? != 0;
    t.disabled = r.try_get::<i64, _>(2)? != 0;
    Ok(t)
}

/// A type by id.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<DocType>> {
    let r = sqlx::query("SELECT definition, built_in, disabled FROM doc_types WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    r.as_ref().map(from_row).transpose()
}

/// A type by id, or 404.
pub async fn require(db: &Db, id: &str) -> ApiResult<DocType> {
    get(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no document type {id:?}")))
}

/// Every type, by id.
pub async fn list(db: &Db) -> ApiResult<Vec<DocType>> {
    let rows = sqlx::query("SELECT definition, built_in, disabled FROM doc_types ORDER BY id")
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Stores a new type (409 if the id is taken).
pub async fn create(db: &Db, t: &DocType) -> ApiResult<()> {
    check(t)?;
    let now = signet_pki::time::now();
    let r = sqlx::query("INSERT INTO doc_types (id, definition, built_in, disabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING")
        .bind(&t.id)
        .bind(serde_json::to_string(t).map_err(ApiError::internal)?)
        .bind(i64::from(t.built_in))
        .bind(i64::from(t.disabled))
        .bind(now)
        .execute(&db.writer)
        .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict(format!("a document type {:?} exists", t.id)));
    }
    Ok(())
}

/// Replaces a type's definition (documents already started keep the route they started with).
pub async fn update(db: &Db, t: &DocType) -> ApiResult<()> {
    check(t)?;
    let r = sqlx::query("UPDATE doc_types SET definition = $1, disabled = $2, updated_at = $3 WHERE id = $4")
        .bind(serde_json::to_string(t).map_err(ApiError::internal)?)
        .bind(i64::from(t.disabled))
        .bind(signet_pki::time::now())
        .bind(&t.id)
        .execute(&db.writer)
        .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::not_found(format!("no document type {:?}", t.id)));
    }
    Ok(())
}

/// Creates the built-in types that do not exist yet (first start, and upgrades).
pub async fn ensure_builtins(db: &Db) -> ApiResult<()> {
    for t in builtin::all() {
        if get(db, &t.id).await?.is_none() {
            match create(db, &t).await {
                Ok(()) => {}
                // Another node made it at the same time.
                Err(e) if e.status == axum::http::StatusCode::CONFLICT => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// `values` checked against type `t`'s form and normalised; people (named by id or username)
/// must be active users and become their ids.
pub async fn checked_values(
    state: &crate::state::AppState,
    t: &DocType,
    values: &serde_json::Value,
) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    let mut out = form::check_values(&t.fields, values).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    for f in t.fields.iter().filter(|f| f.kind == form::FieldType::Person) {
        let Some(serde_json::Value::String(who)) = out.get(&f.name).cloned() else {
            continue;
        };
        let user = match crate::users::get(&state.db, &who).await? {
            Some(u) => Some(u),
            None => match crate::users::id_of(&state.db, &who).await? {
                Some(id) => crate::users::get(&state.db, &id).await?,
                None => None,
            },
        };
        match user {
            Some(u) if !u.disabled => {
                out.insert(f.name.clone(), serde_json::Value::String(u.id));
            }
            _ => {
                return Err(ApiError::unprocessable(format!("{}: no active user {who:?}", f.label)));
            }
        }
    }
    Ok(out)
}
