//! The audit log: read, verify, seal.

use super::*;

/// Audit paging.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/audit`.
pub async fn read_audit(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    log(&state, &c.user.id, "audit.read", "", json!({"after": q.after})).await?;
    Ok(ok(
        json!({"entries": audit::list(&state.db, q.after.unwrap_or(0), q.limit.unwrap_or(100)).await?}),
    ))
}

/// `GET /api/v1/audit/verify`.
pub async fn verify_audit(State(state): State<AppState>) -> ApiResult<Response> {
    let trust = crate::sealing::SealTrust::from_files(&state.config.audit_seal_certs).map_err(ApiError::unavailable)?;
    let v = crate::sealing::verify_log(
        &state.db,
        &trust,
        signet_pki::time::now(),
        state.config.audit_max_unsealed_secs,
        Some(state.config.audit_max_unsealed_secs),
    )
    .await?;
    Ok(Json(v).into_response())
}

/// `POST /api/v1/audit/seal`.
pub async fn seal_audit(State(state): State<AppState>, Extension(c): Extension<Caller>) -> ApiResult<Response> {
    log(&state, &c.user.id, "audit.seal", "", json!({})).await?;
    let s = crate::sealing::seal(&state, true).await?;
    Ok(ok(json!({"sealed_through": s})))
}
