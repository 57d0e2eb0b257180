//! Leases for scheduled jobs: the node whose conditional UPDATE takes a lease runs the job, so
//! of several nodes asking at once exactly one does (once per cluster).

use crate::error::ApiResult;
use crate::state::AppState;

/// A lease held by this node until released or expired.
pub struct Lease<'a> {
    state: &'a AppState,
    name: &'static str,
    holder: String,
}

impl<'a> Lease<'a> {
    /// Takes lease `name` for at most `secs` seconds if it is free or expired; `None` if another
    /// node holds it.
    pub async fn take(state: &'a AppState, name: &'static str, secs: i64) -> ApiResult<Option<Lease<'a>>> {
        let holder = crate::users::new_id()?;
        let now = state.now();
        sqlx::query("INSERT INTO leases (name, holder, until) VALUES ($1, '', 0) ON CONFLICT DO NOTHING")
            .bind(name)
            .execute(&state.db.writer)
            .await?;
        let r = sqlx::query("UPDATE leases SET holder = $1, until = $2 WHERE name = $3 AND until < $4")
            .bind(&holder)
            .bind(now + secs)
            .bind(name)
            .bind(now)
            .execute(&state.db.writer)
            .await?;
        Ok((r.rows_affected() == 1).then_some(Lease { state, name, holder }))
    }

    /// Releases the lease (if this node still holds it).
    pub async fn release(self) -> ApiResult<()> {
        sqlx::query("UPDATE leases SET until = 0 WHERE name = $1 AND holder = $2")
            .bind(self.name)
            .bind(&self.holder)
            .execute(&self.state.db.writer)
            .await?;
        Ok(())
    }
}
