//! Groups of users (finance, HR, legal): a route's step can name a group, and any member acts.

use serde::Serialize;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// A group.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// Id.
    pub id: String,
    /// Name (unique).
    pub name: String,
    /// Members' user ids.
    pub members: Vec<String>,
}

/// Creates a group called `name`.
pub async fn create(db: &Db, name: &str) -> ApiResult<Group> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable("a group's name has 1 to 100 characters"));
    }
    let id = crate::users::new_id()?;
    let r = sqlx::query("INSERT INTO user_groups (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(&id)
        .bind(name)
        .bind(signet_pki::time::now())
        .execute(&db.writer)
        .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict(format!("a group called {name:?} exists")));
    }
    Ok(Group {
        id,
        name: name.to_string(),
        members: Vec::new(),
    })
}

/// A group by id.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<Group>> {
    let row: Option<(String, String)> = sqlx::query_as("SELECT id, name FROM user_groups WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    let Some((id, name)) = row else { return Ok(None) };
    let members = members(db, &id).await?;
    Ok(Some(Group { id, name, members }))
}

/// A group by id, or 404.
pub async fn require(db: &Db, id: &str) -> ApiResult<Group> {
    get(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no group {id}")))
}

/// Every group, by name.
pub async fn list(db: &Db) -> ApiResult<Vec<Group>> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM user_groups ORDER BY name")
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::new();
    for (id, name) in rows {
        let members = members(db, &id).await?;
        out.push(Group { id, name, members });
    }
    Ok(out)
}

/// The user ids in group `id`.
pub async fn members(db: &Db, id: &str) -> ApiResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id")
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// Sets the members of group `id`.
pub async fn set_members(db: &Db, id: &str, users: &[String]) -> ApiResult<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM group_members WHERE group_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for u in users {
        sqlx::query("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(u)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether `user` is in group `id`.
pub async fn is_member(db: &Db, id: &str, user: &str) -> ApiResult<bool> {
    let r: Option<(String,)> = sqlx::query_as("SELECT user_id FROM group_members WHERE group_id = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .fetch_optional(&db.pool)
        .await?;
    Ok(r.is_some())
}

/// A group by id, or else by name (routes may name groups either way).
pub async fn resolve(db: &Db, id_or_name: &str) -> ApiResult<Option<Group>> {
    if let Some(g) = get(db, id_or_name).await? {
        return Ok(Some(g));
    }
    let r: Option<(String,)> = sqlx::query_as("SELECT id FROM user_groups WHERE name = $1")
        .bind(id_or_name)
        .fetch_optional(&db.pool)
        .await?;
    match r {
        Some((id,)) => get(db, &id).await,
        None => Ok(None),
    }
}

/// The groups `user` is in.
pub async fn of_user(db: &Db, user: &str) -> ApiResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT group_id FROM group_members WHERE user_id = $1")
        .bind(user)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.into_iter().map(|(g,)| g).collect())
}
