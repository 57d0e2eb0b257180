//! Absences and deputies: while a person is away, the steps waiting for them are for their
//! deputy (and, if the deputy is away too, the deputy's deputy). What the deputy signs says
//! "as deputy of" the person. An absence whose deputies would lead back to the person is
//! refused.

use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// An absence.
#[derive(Clone, Debug, Serialize)]
pub struct Absence {
    /// Id.
    pub id: String,
    /// Who is away.
    pub user_id: String,
    /// Who acts for them.
    pub deputy_id: String,
    /// From (Unix time).
    pub starts_at: i64,
    /// Until (Unix time, exclusive).
    pub ends_at: i64,
    /// Who set it.
    pub created_by: String,
}

/// Longest deputy chain followed.
const MAX_CHAIN: usize = 16;

fn row(r: &sqlx::any::AnyRow) -> Result<Absence, sqlx::Error> {
    Ok(Absence {
        id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        deputy_id: r.try_get(2)?,
        starts_at: r.try_get(3)?,
        ends_at: r.try_get(4)?,
        created_by: r.try_get(5)?,
    })
}

const COLUMNS: &str = "id, user_id, deputy_id, starts_at, ends_at, created_by";

/// The absences of `user` that are not cancelled and end after `now`, soonest first.
pub async fn of(db: &Db, user: &str, now: i64) -> ApiResult<Vec<Absence>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM absences WHERE user_id = $1 AND cancelled = 0 AND ends_at > $2 ORDER BY starts_at"
    )))
    .bind(user)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(row).collect::<Result<_, _>>().map_err(ApiError::from)
}

/// Who acts for `user` at `at`, if they are away then.
async fn deputy_at(db: &Db, user: &str, at: i64) -> ApiResult<Option<String>> {
    let r: Option<(String,)> = sqlx::query_as(
        "SELECT deputy_id FROM absences WHERE user_id = $1 AND cancelled = 0 AND starts_at <= $2 AND ends_at > $2 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user)
    .bind(at)
    .fetch_optional(&db.pool)
    .await?;
    Ok(r.map(|(d,)| d))
}

/// Who acts for `user` at `at`: `user` when present, else their deputy, followed while the
/// deputies are away too. A chain that comes back (which setting absences refuses) or runs
/// too long ends at the last person found.
pub async fn acting_for(db: &Db, user: &str, at: i64) -> ApiResult<String> {
    let mut cur = user.to_string();
    let mut seen = vec![cur.clone()];
    for _ in 0..MAX_CHAIN {
        match deputy_at(db, &cur, at).await? {
            Some(d) if !seen.contains(&d) => {
                seen.push(d.clone());
                cur = d;
            }
            _ => break,
        }
    }
    Ok(cur)
}

/// Whether `actor` may act for `user` at `at`: they are the user, or the deputy the user's
/// absence (followed through deputies who are away) leads to.
pub async fn may_act_for(db: &Db, actor: &str, user: &str, at: i64) -> ApiResult<bool> {
    Ok(actor == user || acting_for(db, user, at).await? == actor)
}

/// Sets an absence of `user` from `starts_at` to `ends_at` with `deputy` acting for them. Refused
/// when the deputy is the user, when the times are wrong, or when, somewhere in that period,
/// the deputies' own absences would lead back to the user (a loop).
pub async fn set(db: &Db, user: &str, deputy: &str, starts_at: i64, ends_at: i64, by: &str) -> ApiResult<Absence> {
    check(db, user, deputy, starts_at, ends_at).await?;
    let a = Absence {
        id: crate::users::new_id()?,
        user_id: user.to_string(),
        deputy_id: deputy.to_string(),
        starts_at,
        ends_at,
        created_by: by.to_string(),
    };
    insert(db, &a).await?;
    Ok(a)
}

/// Whether `user` may be away from `starts_at` to `ends_at` with `deputy` standing in: someone
/// else, at most a year, and no deputy loop.
pub async fn check(db: &Db, user: &str, deputy: &str, starts_at: i64, ends_at: i64) -> ApiResult<()> {
    if deputy == user {
        return Err(ApiError::unprocessable("a deputy is someone else"));
    }
    if ends_at <= starts_at || ends_at - starts_at > 366 * 86_400 {
        return Err(ApiError::unprocessable(
            "an absence ends after it starts, and lasts at most a year",
        ));
    }
    // A loop: following deputies from the deputy, at any time within this absence when they
    // are away, comes back to the user.
    let mut frontier = vec![deputy.to_string()];
    let mut seen = vec![user.to_string()];
    for _ in 0..MAX_CHAIN {
        let mut next = Vec::new();
        for d in &frontier {
            if seen.contains(d) {
                continue;
            }
            seen.push(d.clone());
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT deputy_id FROM absences WHERE user_id = $1 AND cancelled = 0 AND starts_at < $3 AND ends_at > $2",
            )
            .bind(d)
            .bind(starts_at)
            .bind(ends_at)
            .fetch_all(&db.pool)
            .await?;
            for (n,) in rows {
                if n == user {
                    return Err(ApiError::unprocessable(format!(
                        "a deputy loop: during that absence the deputies' own absences lead back to the absent person (through {d})"
                    )));
                }
                next.push(n);
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(())
}

async fn insert(db: &Db, a: &Absence) -> ApiResult<()> {
    sqlx::query("INSERT INTO absences (id, user_id, deputy_id, starts_at, ends_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&a.id)
        .bind(&a.user_id)
        .bind(&a.deputy_id)
        .bind(a.starts_at)
        .bind(a.ends_at)
        .bind(&a.created_by)
        .bind(signet_pki::time::now())
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// An absence by id.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<Absence>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM absences WHERE id = $1 AND cancelled = 0"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    r.as_ref().map(row).transpose().map_err(ApiError::from)
}

/// Cancels an absence.
pub async fn cancel(db: &Db, id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE absences SET cancelled = 1 WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The people `deputy` acts for at `at` (directly or through deputies who are away).
pub async fn represented_by(db: &Db, deputy: &str, at: i64) -> ApiResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT user_id FROM absences WHERE cancelled = 0 AND starts_at <= $1 AND ends_at > $1",
    )
    .bind(at)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for (u,) in rows {
        if u != deputy && acting_for(db, &u, at).await? == deputy {
            out.push(u);
        }
    }
    Ok(out)
}
