//! Keys and their certificates: list, create, import, policy, unlock, revoke.

use super::*;

/// Revocation body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// RFC 5280 reason name (`keyCompromise`, `superseded`, …).
    reason: Option<String>,
}

/// `POST /api/v1/keys/{id}/revoke`.
pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<RevokeBody>,
) -> ApiResult<Response> {
    let k = keys::require(&state.db, &id).await?;
    // Someone else's key (or the organisation's): administrators only, with admin authority.
    if k.owner_id.as_deref() != Some(c.user.id.as_str()) && !c.acts_as_admin() {
        return Err(if c.user.has(Role::Admin) {
            ApiError::forbidden("revoking a key that is not yours needs a session or an admin-scoped token")
        } else {
            ApiError::not_found(format!("no key {id}"))
        });
    }
    let reason = match &b.reason {
        None => None,
        Some(r) => Some(signet_pki::crl::reason_from_name(r).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "unknown reason {r:?} (e.g. keyCompromise, superseded, cessationOfOperation)"
            ))
        })?),
    };
    crate::revocation::revoke(&state, &c.user.id, &id, reason).await?;
    Ok(ok(
        json!({"status": "revoked", "key": keys::get(&state.db, &id).await?}),
    ))
}

/// `GET /api/v1/keys`.
pub async fn list_keys(State(state): State<AppState>, Extension(c): Extension<Caller>) -> ApiResult<Response> {
    Ok(ok(json!({"keys": keys::list_for(&state.db, &c.user).await?})))
}

/// Key generation body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    label: Option<String>,
    title: Option<String>,
    organizational_unit: Option<String>,
    /// `ecdsa-p256` (default), `ecdsa-p384`, `rsa-2048`, `rsa-3072` or `rsa-4096`.
    algorithm: Option<String>,
    /// A fresh code from the caller's authenticator (a new key is a new way to sign as them).
    totp_code: Option<String>,
}

/// `POST /api/v1/keys`.
pub async fn create_key(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<NewKeyBody>,
) -> ApiResult<Response> {
    let label = b.label.unwrap_or_else(|| format!("{} (personal)", c.user.display_name));
    if label.chars().count() > 200 {
        return Err(ApiError::unprocessable("a label has at most 200 characters"));
    }
    if !c.user.has(Role::Service) {
        let code = b.totp_code.as_deref().ok_or_else(|| {
            ApiError::forbidden("a one-time code from your authenticator app is required to create a key (totp_code)")
        })?;
        crate::totp::step_up(&state, &c.user, code, "key.create", &c.user.id, None).await?;
    }
    log(&state, &c.user.id, "key.create", &c.user.id, json!({"label": label})).await?;
    let subject = signet_pki::name::SubjectSpec {
        common_name: c.user.display_name.clone(),
        organization: Some(state.config.organisation.clone()),
        organizational_unit: b.organizational_unit,
        title: b.title,
        country: None,
        email: c.user.email.clone(),
    };
    let algorithm = match b.algorithm.as_deref() {
        None => signet_crypto::KeyAlgorithm::EcdsaP256,
        Some(a) => signet_crypto::KeyAlgorithm::from_name(a).map_err(|e| ApiError::unprocessable(e.to_string()))?,
    };
    let k = keys::create_certified(&state, KeyKind::Personal, Some(&c.user), &label, subject, "", algorithm).await?;
    let mut resp = Json(json!({"key": k})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// PKCS#12 import body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    label: String,
    pkcs12_base64: String,
    password: zeroize::Zeroizing<String>,
}

/// `POST /api/v1/keys/import`.
pub async fn import_key(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<ImportBody>,
) -> ApiResult<Response> {
    use base64::Engine;
    let p12 = base64::engine::general_purpose::STANDARD
        .decode(b.pkcs12_base64.trim())
        .map_err(|_| ApiError::unprocessable("pkcs12_base64 is not base64"))?;
    log(&state, &c.user.id, "key.import", &c.user.id, json!({"label": b.label})).await?;
    let k = keys::import_pkcs12(&state, &c.user, &b.label, &p12, b.password.as_bytes()).await?;
    let mut resp = Json(json!({"key": k})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// Key policy body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    allowed_roles: Vec<String>,
    allowed_doc_types: Vec<String>,
    #[serde(default)]
    allowed_services: Vec<String>,
    /// `B-T`, `B-LT` or `B-LTA` (unchanged when absent).
    signature_level: Option<String>,
}

/// `PUT /api/v1/keys/{id}/policy`.
pub async fn set_key_policy(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<PolicyBody>,
) -> ApiResult<Response> {
    let k = keys::require(&state.db, &id).await?;
    if k.kind != KeyKind::Organisation {
        return Err(ApiError::unprocessable(
            "only organisation keys have a policy; personal keys serve their owner",
        ));
    }
    for s in &b.allowed_services {
        let u = users::get(&state.db, s).await?;
        if !u.is_some_and(|u| u.has(Role::Service)) {
            return Err(ApiError::unprocessable(format!("{s} is not a service account")));
        }
    }
    let level = b.signature_level.clone().unwrap_or_else(|| k.signature_level.clone());
    let policy = keys::Policy {
        roles: &b.allowed_roles,
        doc_types: &b.allowed_doc_types,
        services: &b.allowed_services,
        signature_level: &level,
    };
    keys::check_policy(&policy)?;
    log(&state, &c.user.id, "key.policy", &id, json!({"allowed_roles": b.allowed_roles, "allowed_doc_types": b.allowed_doc_types, "allowed_services": b.allowed_services, "signature_level": level})).await?;
    keys::set_policy(&state.db, &id, &policy).await?;
    Ok(ok(json!({"key": keys::get(&state.db, &id).await?})))
}

/// `POST /api/v1/keys/{id}/unlock`.
pub async fn unlock_key(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    keys::require(&state.db, &id).await?;
    log(&state, &c.user.id, "key.unlock", &id, json!({})).await?;
    keys::clear_lock(&state.db, &id).await?;
    Ok(ok(json!({"status": "unlocked"})))
}
