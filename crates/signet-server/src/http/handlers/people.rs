//! Groups, absences and deputies.

use super::*;

/// `GET /api/v1/groups`.
pub async fn list_groups(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(ok(json!({"groups": crate::groups::list(&state.db).await?})))
}

/// A group.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    name: String,
    #[serde(default)]
    members: Vec<String>,
}

async fn check_members(state: &AppState, members: &[String]) -> ApiResult<()> {
    if members.len() > 1000 {
        return Err(ApiError::unprocessable("a group has at most 1000 members"));
    }
    for m in members {
        users::require(&state.db, m)
            .await
            .map_err(|_| ApiError::unprocessable(format!("no user {m}")))?;
    }
    Ok(())
}

/// `POST /api/v1/groups`.
pub async fn create_group(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<GroupBody>,
) -> ApiResult<Response> {
    check_members(&state, &b.members).await?;
    if crate::groups::resolve(&state.db, b.name.trim()).await?.is_some() {
        return Err(ApiError::conflict(format!("a group called {:?} exists", b.name.trim())));
    }
    log(
        &state,
        &c.user.id,
        "group.create",
        &b.name,
        json!({"members": b.members}),
    )
    .await?;
    let g = crate::groups::create(&state.db, &b.name).await?;
    crate::groups::set_members(&state.db, &g.id, &b.members).await?;
    let mut resp = Json(json!({"group": crate::groups::require(&state.db, &g.id).await?})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// Members.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    members: Vec<String>,
}

/// `PUT /api/v1/groups/{id}/members`.
pub async fn set_group_members(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<MembersBody>,
) -> ApiResult<Response> {
    crate::groups::require(&state.db, &id).await?;
    check_members(&state, &b.members).await?;
    log(&state, &c.user.id, "group.members", &id, json!({"members": b.members})).await?;
    crate::groups::set_members(&state.db, &id, &b.members).await?;
    Ok(ok(json!({"group": crate::groups::require(&state.db, &id).await?})))
}

/// An absence: from and until (RFC 3339 times, or dates: from the start of `from` to the end
/// of `until`), and the deputy.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceBody {
    deputy_id: String,
    from: String,
    until: String,
}

fn time_of(s: &str, end_of_day: bool) -> ApiResult<i64> {
    if let Ok(t) = signet_pki::time::parse(s) {
        return Ok(t);
    }
    let day = signet_pki::time::parse(&format!("{s}T00:00:00Z"))
        .map_err(|_| ApiError::unprocessable(format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time")))?;
    Ok(if end_of_day { day + 86_400 } else { day })
}

async fn set_absence(state: &AppState, by: &Caller, user: &str, b: &AbsenceBody) -> ApiResult<Response> {
    let deputy = users::require(&state.db, &b.deputy_id)
        .await
        .map_err(|_| ApiError::unprocessable(format!("no user {} to stand in", b.deputy_id)))?;
    if deputy.disabled {
        return Err(ApiError::unprocessable("the deputy's account is disabled"));
    }
    let (from, until) = (time_of(&b.from, false)?, time_of(&b.until, true)?);
    crate::absences::check(&state.db, user, &b.deputy_id, from, until).await?;
    log(
        state,
        &by.user.id,
        "absence.set",
        user,
        json!({"deputy": b.deputy_id, "from": from, "until": until}),
    )
    .await?;
    let a = crate::absences::set(&state.db, user, &b.deputy_id, from, until, &by.user.id).await?;
    let mut resp = Json(json!({"absence": a})).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `GET /api/v1/me/absences`.
pub async fn my_absences(State(state): State<AppState>, Extension(c): Extension<Caller>) -> ApiResult<Response> {
    Ok(ok(
        json!({"absences": crate::absences::of(&state.db, &c.user.id, state.now()).await?}),
    ))
}

/// `POST /api/v1/me/absences`.
pub async fn set_my_absence(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<AbsenceBody>,
) -> ApiResult<Response> {
    set_absence(&state, &c, &c.user.id, &b).await
}

/// `POST /api/v1/users/{id}/absences`.
pub async fn set_user_absence(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(b): Json<AbsenceBody>,
) -> ApiResult<Response> {
    users::require(&state.db, &id).await?;
    set_absence(&state, &c, &id, &b).await
}

/// `DELETE /api/v1/me/absences/{id}`.
pub async fn cancel_my_absence(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    match crate::absences::get(&state.db, &id).await? {
        Some(a) if a.user_id == c.user.id => {}
        _ => return Err(ApiError::not_found(format!("no absence {id}"))),
    }
    log(&state, &c.user.id, "absence.cancel", &id, json!({})).await?;
    crate::absences::cancel(&state.db, &id).await?;
    Ok(ok(json!({"status": "cancelled"})))
}
