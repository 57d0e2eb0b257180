//! Approvals: document types, documents made from forms, workflows and their steps, the inbox,
//! sealed evidence.

use super::*;
use crate::doc_types::{self, DocType};
use crate::workflows::{self, Approval, inbox, store};

/// `GET /api/v1/document-types`.
pub async fn list_doc_types(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(ok(json!({"document_types": doc_types::list(&state.db).await?})))
}

/// `GET /api/v1/document-types/{id}`.
pub async fn get_doc_type(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok(json!({"document_type": doc_types::require(&state.db, &id).await?})))
}

/// `POST /api/v1/document-types`.
pub async fn create_doc_type(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(mut t): Json<DocType>,
) -> ApiResult<Response> {
    t.built_in = false;
    doc_types::check(&t)?;
    log(&state, &c.user.id, "doctype.create", &t.id, json!({"definition": t})).await?;
    doc_types::create(&state.db, &t).await?;
    let mut resp = Json(json!({"document_type": t})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `PUT /api/v1/document-types/{id}`.
pub async fn update_doc_type(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(mut t): Json<DocType>,
) -> ApiResult<Response> {
    let old = doc_types::require(&state.db, &id).await?;
    if t.id != id {
        return Err(ApiError::unprocessable("the id in the body is not the one in the path"));
    }
    t.built_in = old.built_in;
    doc_types::check(&t)?;
    log(&state, &c.user.id, "doctype.update", &id, json!({"definition": t})).await?;
    doc_types::update(&state.db, &t).await?;
    Ok(ok(json!({"document_type": t})))
}

/// A document from a form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormBody {
    /// The form's values.
    #[serde(default)]
    values: Value,
    /// A title (default: the type's name and the author's).
    title: Option<String>,
    /// Start the approval at once (default true).
    start: Option<bool>,
    /// The author's own first step at once: the password and a code (a simple signature).
    password: Option<zeroize::Zeroizing<String>>,
    /// With `password`.
    totp_code: Option<String>,
}

/// `POST /api/v1/document-types/{id}/documents`.
pub async fn create_from_form(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<FormBody>,
) -> ApiResult<Response> {
    let t = doc_types::require(&state.db, &id).await?;
    let start = b.start.unwrap_or(true);
    if start {
        workflows::check_route(&state, &c.user, &t, &b.values).await?;
    }
    let d = documents::create_from_form(&state, &c.user, &t, &b.values, b.title).await?;
    let mut workflow = None;
    if start {
        let mut w = workflows::start(&state, &c.user, &d.id, None).await?;
        // The author's own step (stage one, theirs) signed right away when they sent their
        // password and a code.
        if let (Some(_), Some(_)) = (&b.password, &b.totp_code)
            && let Some(step) = w
                .steps
                .iter()
                .find(|s| s.state == "waiting" && s.assignee_kind == "author" && s.assignee == c.user.id)
                .cloned()
        {
            let a = Approval {
                password: b.password.clone(),
                totp_code: b.totp_code.clone(),
                ..Default::default()
            };
            w = workflows::approve(&state, &c.user, &w.id, &step.id, &a).await?;
        }
        workflow = Some(w);
    }
    let d = documents::get(&state, &d.id).await?;
    let mut resp = Json(json!({"document": d, "workflow": workflow})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `POST /api/v1/documents/{id}/versions`.
pub async fn upload_version(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let d = documents::get_visible(&state, &c.user, &id).await?;
    if d.owner_id != c.user.id {
        return Err(ApiError::forbidden("only the document's author adds versions"));
    }
    if doc_types::get(&state.db, &d.doc_type)
        .await?
        .is_some_and(|t| t.source == doc_types::Source::Form)
    {
        return Err(ApiError::unprocessable(
            "this document is made from its form: change it by resubmitting new values, not a file",
        ));
    }
    if let Some(w) = store::of_document(&state.db, &id).await?
        && w.state == "in_progress"
    {
        return Err(ApiError::conflict(
            "the document is being approved: a new version comes when it is returned for changes",
        ));
    }
    let media = media_type(&headers).unwrap_or_default();
    let media = if signet_validate::FileKind::detect(&body) == signet_validate::FileKind::Pdf {
        PDF.to_string()
    } else {
        media
    };
    if media != d.current()?.media_type {
        return Err(ApiError::unprocessable(format!(
            "a new version is of the same kind as the document ({})",
            d.current()?.media_type
        )));
    }
    let n = documents::add_version(&state, &c.user, &d, &media, &body).await?;
    Ok(ok(
        json!({"version": n, "document": documents::get(&state, &id).await?}),
    ))
}

/// Starting an approval.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The form's values (an uploaded document's type's form).
    values: Option<Value>,
}

/// `POST /api/v1/documents/{id}/workflow`.
pub async fn start_workflow(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<StartBody>,
) -> ApiResult<Response> {
    let w = workflows::start(&state, &c.user, &id, b.values.as_ref()).await?;
    let mut resp = Json(json!({"workflow": w})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `GET /api/v1/documents/{id}/workflow`.
pub async fn document_workflow(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    workflows::readable_document(&state, &c.user, &id).await?;
    let w = store::of_document(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("the document has no approval"))?;
    Ok(ok(json!({"workflow": w})))
}

/// Sealing by the server.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealBody {
    /// The organisation key (the caller's policy must allow it).
    key_id: String,
}

/// `POST /api/v1/documents/{id}/seal`.
pub async fn seal_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<SealBody>,
) -> ApiResult<Response> {
    let w = workflows::start_seal(&state, &c.user, &id, &b.key_id).await?;
    let mut resp = Json(json!({"workflow": w})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// A workflow `user` may see: the document's, visible to them, or one of its steps is theirs.
async fn visible_workflow(state: &AppState, user: &crate::users::User, id: &str) -> ApiResult<store::Workflow> {
    let w = store::require(&state.db, id).await?;
    if documents::get_visible(state, user, &w.document_id).await.is_ok() || workflows::involves(state, user, &w).await?
    {
        return Ok(w);
    }
    Err(ApiError::not_found(format!("no workflow {id}")))
}

/// `GET /api/v1/workflows/{id}`.
pub async fn get_workflow(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let w = visible_workflow(&state, &c.user, &id).await?;
    let d = documents::get(&state, &w.document_id).await?;
    Ok(ok(json!({"workflow": w, "document": d})))
}

/// `POST /api/v1/workflows/{id}/steps/{step}/approve`.
pub async fn approve_step(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path((id, step)): Path<(String, String)>,
    Json(a): Json<Approval>,
) -> ApiResult<Response> {
    Ok(ok(
        json!({"workflow": workflows::approve(&state, &c.user, &id, &step, &a).await?}),
    ))
}

/// A decision's reason.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    comment: Option<String>,
}

/// `POST /api/v1/workflows/{id}/steps/{step}/reject`.
pub async fn reject_step(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path((id, step)): Path<(String, String)>,
    Json(b): Json<CommentBody>,
) -> ApiResult<Response> {
    Ok(ok(
        json!({"workflow": workflows::decide(&state, &c.user, &id, &step, "reject", b.comment.as_deref()).await?}),
    ))
}

/// `POST /api/v1/workflows/{id}/steps/{step}/return`.
pub async fn return_step(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path((id, step)): Path<(String, String)>,
    Json(b): Json<CommentBody>,
) -> ApiResult<Response> {
    Ok(ok(
        json!({"workflow": workflows::decide(&state, &c.user, &id, &step, "return", b.comment.as_deref()).await?}),
    ))
}

/// `POST /api/v1/workflows/{id}/resubmit`.
pub async fn resubmit(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<StartBody>,
) -> ApiResult<Response> {
    Ok(ok(
        json!({"workflow": workflows::resubmit(&state, &c.user, &id, b.values.as_ref()).await?}),
    ))
}

/// `GET /api/v1/inbox`.
pub async fn inbox(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(q): Query<inbox::Query>,
) -> ApiResult<Response> {
    Ok(ok(json!({"items": inbox::list(&state, &c.user, &q).await?})))
}

/// `GET /api/v1/inbox/counts`.
pub async fn inbox_counts(State(state): State<AppState>, Extension(c): Extension<Caller>) -> ApiResult<Response> {
    Ok(ok(json!({"counts": inbox::counts(&state, &c.user).await?})))
}

/// `GET /api/v1/documents/{id}/evidence`.
pub async fn document_evidence(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    workflows::readable_document(&state, &c.user, &id).await?;
    Ok(ok(
        json!({"evidence": crate::evidence::of_document(&state, &id).await?}),
    ))
}

/// `GET /api/v1/evidence/{id}`.
pub async fn download_evidence(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let e = crate::evidence::get(&state, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no evidence {id}")))?;
    workflows::readable_document(&state, &c.user, &e.document_id)
        .await
        .map_err(|_| ApiError::not_found(format!("no evidence {id}")))?;
    let data = crate::evidence::content(&state, &e).await?;
    let mut resp = binary("application/json", data);
    resp.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"evidence-{id}.json\"")).map_err(ApiError::internal)?,
    );
    Ok(resp)
}
