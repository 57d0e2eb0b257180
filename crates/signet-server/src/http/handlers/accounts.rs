//! Accounts, for administrators: list, create, update, reset, unlock.

use super::*;

/// `GET /api/v1/users`.
pub async fn list_users(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(ok(json!({"users": users::list(&state.db).await?})))
}

/// User creation body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    username: String,
    display_name: String,
    email: Option<String>,
    roles: Vec<String>,
}

/// `POST /api/v1/users`.
pub async fn create_user(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<NewUserBody>,
) -> ApiResult<Response> {
    if b.username.trim().eq_ignore_ascii_case(users::SYSTEM_USERNAME) {
        return Err(ApiError::unprocessable(format!(
            "{:?} is the server's own account's name",
            users::SYSTEM_USERNAME
        )));
    }
    let roles = users::parse_roles(&b.roles.join(","))?;
    let service = roles.contains(&Role::Service);
    let password = if service { None } else { Some(users::random_password()?) };
    log(
        &state,
        &c.user.id,
        "user.create",
        &b.username,
        json!({"roles": b.roles}),
    )
    .await?;
    let u = users::create(
        &state.db,
        &NewUser {
            username: &b.username,
            display_name: &b.display_name,
            email: b.email.as_deref(),
            roles: &roles,
            password: password.as_deref().map(|s| s.as_str()),
        },
    )
    .await?;
    let mut resp =
        Json(json!({"user": u, "one_time_password": password.as_deref().map(|s| s.as_str())})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// User update body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    roles: Option<Vec<String>>,
    disabled: Option<bool>,
    /// The user's manager (a user id), or `""` for none.
    manager_id: Option<String>,
}

/// `PATCH /api/v1/users/{id}`.
pub async fn update_user(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<UpdateUserBody>,
) -> ApiResult<Response> {
    let target = users::require_managed(&state.db, &id).await?;
    let roles = b.roles.as_ref().map(|r| users::parse_roles(&r.join(","))).transpose()?;
    if id == c.user.id && (b.disabled == Some(true) || roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin))) {
        return Err(ApiError::conflict(
            "administrators cannot disable themselves or drop their own admin role",
        ));
    }
    if let Some(r) = &roles
        && (r.contains(&Role::Service) != target.has(Role::Service))
    {
        return Err(ApiError::unprocessable(
            "a person cannot become a service account or the other way round",
        ));
    }
    let manager = b.manager_id.as_deref().map(|m| Some(m).filter(|m| !m.is_empty()));
    if let Some(m) = manager {
        users::check_manager(&state.db, &id, m).await?;
    }
    log(
        &state,
        &c.user.id,
        "user.update",
        &id,
        json!({"roles": b.roles, "disabled": b.disabled, "manager_id": b.manager_id}),
    )
    .await?;
    users::update(&state.db, &id, roles.as_deref(), b.disabled).await?;
    if let Some(m) = manager {
        users::set_manager(&state.db, &id, m).await?;
    }
    Ok(ok(json!({"user": users::get(&state.db, &id).await?})))
}

/// `POST /api/v1/users/{id}/password-reset`.
pub async fn reset_password(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let u = users::require_managed(&state.db, &id).await?;
    if u.has(Role::Service) {
        return Err(ApiError::unprocessable(
            "service accounts have no password; create an API token",
        ));
    }
    let p = users::random_password()?;
    log(
        &state,
        &c.user.id,
        "password.reset",
        &id,
        json!({"api_tokens": "revoked"}),
    )
    .await?;
    users::set_password(&state.db, &id, &p, true).await?;
    crate::tokens::revoke_all_of(&state.db, &id).await?;
    Ok(ok(json!({"one_time_password": p.as_str()})))
}

/// `POST /api/v1/users/{id}/unlock`.
pub async fn unlock_user(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    users::require_managed(&state.db, &id).await?;
    log(&state, &c.user.id, "user.unlock", &id, json!({})).await?;
    users::unlock(&state.db, &id).await?;
    Ok(ok(json!({"status": "unlocked"})))
}

/// `POST /api/v1/users/{id}/totp-reset`.
pub async fn reset_totp(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    users::require_managed(&state.db, &id).await?;
    log(&state, &c.user.id, "totp.reset", &id, json!({})).await?;
    totp::reset(&state, &id).await?;
    Ok(ok(json!({"status": "authenticator removed"})))
}
