//! Documents: list, upload, download, sign (one and batch), verify.

use super::*;

/// `GET /api/v1/documents`.
pub async fn list_documents(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(s): Query<documents::Search>,
) -> ApiResult<Response> {
    Ok(ok(json!({"documents": documents::list(&state, &c.user, &s).await?})))
}

/// The media type of an upload, from `Content-Type` (PDFs sniffed from octet-stream).
fn upload_media_type(headers: &HeaderMap, data: &[u8]) -> ApiResult<String> {
    let ct = media_type(headers).ok_or_else(|| {
        ApiError::unsupported_media("send the file as the body with its Content-Type (e.g. application/pdf)")
    })?;
    let (top, sub) = ct
        .split_once('/')
        .ok_or_else(|| ApiError::unsupported_media(format!("{ct:?} is not a media type")))?;
    if top.is_empty() || sub.is_empty() || ct.len() > 127 {
        return Err(ApiError::unsupported_media(format!("{ct:?} is not a media type")));
    }
    if top == "multipart" || ct == "application/json" || ct == "application/x-www-form-urlencoded" {
        return Err(ApiError::unsupported_media(format!(
            "{ct} is not accepted here: send the file itself as the body (metadata goes in the query string)"
        )));
    }
    // The one rule decides: a PDF is signed as a PDF whatever type it was sent as.
    if signet_validate::FileKind::detect(data) == signet_validate::FileKind::Pdf {
        return Ok(PDF.into());
    }
    Ok(ct)
}

/// `POST /api/v1/documents`.
pub async fn upload_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(meta): Query<Metadata>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let media = upload_media_type(&headers, &body)?;
    let d = documents::upload(&state, &c.user, meta, &media, &body).await?;
    let mut resp = Json(json!({"document": d})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `GET /api/v1/documents/{id}`.
pub async fn get_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(
        json!({"document": crate::workflows::readable_document(&state, &c.user, &id).await?}),
    ))
}

async fn download(state: &AppState, c: &Caller, id: &str, version: Option<i64>) -> ApiResult<Response> {
    let d = crate::workflows::readable_document(state, &c.user, id).await?;
    let v = match version {
        Some(n) => d.version(n)?,
        None => d.current()?,
    }
    .clone();
    log(
        state,
        &c.user.id,
        "document.download",
        id,
        json!({"version": v.version, "sha256": v.sha256}),
    )
    .await?;
    let data = documents::content(state, &v).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        v.filename
            .replace(|ch: char| !ch.is_ascii() || ch.is_ascii_control(), "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, v.media_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        data,
    )
        .into_response())
}

/// `GET /api/v1/documents/{id}/content`.
pub async fn download_current(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    download(&state, &c, &id, None).await
}

/// `GET /api/v1/documents/{id}/versions/{version}`.
pub async fn download_version(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path((id, version)): Path<(String, i64)>,
) -> ApiResult<Response> {
    download(&state, &c, &id, Some(version)).await
}

/// `POST /api/v1/documents/{id}/sign`.
pub async fn sign_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(o): Json<SignOptions>,
) -> ApiResult<Response> {
    Ok(Json(signing::sign(&state, &c.user, &id, &o).await?).into_response())
}

/// `POST /api/v1/signatures/batch`.
pub async fn sign_batch(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<BatchRequest>,
) -> ApiResult<Response> {
    Ok(ok(json!({"signed": signing::sign_batch(&state, &c.user, &b).await?})))
}

/// `POST /api/v1/documents/{id}/verify`.
pub async fn verify_document(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let d = crate::workflows::readable_document(&state, &c.user, &id).await?;
    let report = signing::verify(&state, &c.user, &d).await?;
    Ok(Json(report).into_response())
}

/// `POST /api/v1/verify`.
pub async fn verify_upload(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Response> {
    if body.is_empty() {
        return Err(ApiError::unprocessable(
            "send the signed PDF or the CMS signature as the body",
        ));
    }
    let sha = hex::encode(signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, &body));
    log(
        &state,
        &c.user.id,
        "document.verify",
        "upload",
        json!({"sha256": sha, "size": body.len()}),
    )
    .await?;
    let report = crate::validation::validate(&state, body.to_vec(), None).await?;
    Ok(Json(report).into_response())
}
