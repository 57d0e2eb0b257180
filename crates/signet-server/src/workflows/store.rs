//! Workflows and their steps in the database.

use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// A workflow: one document's way along its route.
#[derive(Clone, Debug, Serialize)]
pub struct Workflow {
    /// Id.
    pub id: String,
    /// The document.
    pub document_id: String,
    /// Its type.
    pub doc_type: String,
    /// Who started it.
    pub author_id: String,
    /// `in_progress`, `approved`, `rejected` or `returned`.
    pub state: String,
    /// Round (a resubmission starts a new one).
    pub round: i64,
    /// The stage waiting now (of this round).
    pub stage: i64,
    /// The route it follows (as resolved when it started).
    pub route: serde_json::Value,
    /// Started.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Approved, rejected or returned at.
    pub finished_at: Option<i64>,
    /// Its steps (every round), in order.
    pub steps: Vec<Step>,
}

/// One step of one round.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// Id.
    pub id: String,
    /// Round.
    pub round: i64,
    /// Stage (steps of one stage run in parallel).
    pub stage: i64,
    /// Its name.
    pub name: String,
    /// `author`, `manager`, `user`, `group`, `role` or `system`.
    pub assignee_kind: String,
    /// The user id (author, manager, user), group or role.
    pub assignee: String,
    /// `ses`, `aes`, `organisation` or `seal`.
    pub signature: String,
    /// The key an organisation or seal signature uses.
    pub key_id: Option<String>,
    /// `pending`, `waiting`, `signing`, `approved`, `rejected`, `returned` or `skipped`.
    pub state: String,
    /// Waiting since.
    pub waiting_since: Option<i64>,
    /// Due by.
    pub due_at: Option<i64>,
    /// Reminded at.
    pub reminded_at: Option<i64>,
    /// Who acted.
    pub acted_by: Option<String>,
    /// For whom, as their deputy.
    pub acting_for: Option<String>,
    /// When.
    pub acted_at: Option<i64>,
    /// `approve`, `reject` or `return`.
    pub decision: Option<String>,
    /// The comment given.
    pub comment: String,
    /// The sealed evidence of a simple signature.
    pub evidence_id: Option<String>,
    /// The document version an advanced signature or seal made.
    pub version: Option<i64>,
}

/// A step to create.
#[derive(Clone, Debug)]
pub struct NewStep {
    /// Stage.
    pub stage: i64,
    /// Name.
    pub name: String,
    /// Kind of assignee.
    pub assignee_kind: String,
    /// Assignee.
    pub assignee: String,
    /// Signature.
    pub signature: String,
    /// Key.
    pub key_id: Option<String>,
    /// Hours to do it in.
    pub due_hours: Option<i64>,
}

const STEP_COLUMNS: &str = "id, round, stage, name, assignee_kind, assignee, signature, key_id, state, waiting_since, due_at, reminded_at, acted_by, acting_for, acted_at, decision, comment, evidence_id, version";
const WORKFLOW_COLUMNS: &str =
    "id, document_id, doc_type, author_id, state, round, stage, route, created_at, updated_at, finished_at";

fn step_row(r: &sqlx::any::AnyRow) -> Result<Step, sqlx::Error> {
    step_row_at(r, 0)
}

fn workflow_row(r: &sqlx::any::AnyRow) -> Result<Workflow, sqlx::Error> {
    let route: String = r.try_get(7)?;
    Ok(Workflow {
        id: r.try_get(0)?,
        document_id: r.try_get(1)?,
        doc_type: r.try_get(2)?,
        author_id: r.try_get(3)?,
        state: r.try_get(4)?,
        round: r.try_get(5)?,
        stage: r.try_get(6)?,
        route: serde_json::from_str(&route).unwrap_or(serde_json::Value::Null),
        created_at: r.try_get(8)?,
        updated_at: r.try_get(9)?,
        finished_at: r.try_get(10)?,
        steps: Vec::new(),
    })
}

/// Inserts steps of `round` (the first stage waiting at `now`, the rest pending).
pub async fn insert_steps(
    conn: &mut sqlx::AnyConnection,
    workflow_id: &str,
    round: i64,
    steps: &[NewStep],
    first_stage: i64,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut ids = Vec::new();
    for s in steps {
        let id = crate::users::new_id().map_err(|e| sqlx::Error::Protocol(e.detail))?;
        let waiting = s.stage == first_stage;
        sqlx::query("INSERT INTO workflow_steps (id, workflow_id, round, stage, name, assignee_kind, assignee, signature, key_id, state, waiting_since, due_hours, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
            .bind(&id)
            .bind(workflow_id)
            .bind(round)
            .bind(s.stage)
            .bind(&s.name)
            .bind(&s.assignee_kind)
            .bind(&s.assignee)
            .bind(&s.signature)
            .bind(&s.key_id)
            .bind(if waiting { "waiting" } else { "pending" })
            .bind(waiting.then_some(now))
            .bind(s.due_hours)
            .bind(if waiting { s.due_hours.map(|h| now + h * 3600) } else { None })
            .execute(&mut *conn)
            .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Inserts a workflow.
pub async fn insert_workflow(conn: &mut sqlx::AnyConnection, w: &Workflow) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO workflows (id, document_id, doc_type, author_id, state, round, stage, route, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)")
        .bind(&w.id)
        .bind(&w.document_id)
        .bind(&w.doc_type)
        .bind(&w.author_id)
        .bind(&w.state)
        .bind(w.round)
        .bind(w.stage)
        .bind(w.route.to_string())
        .bind(w.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A workflow with its steps.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<Workflow>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let mut w = workflow_row(&r)?;
    w.steps = steps_of(db, &w.id).await?;
    Ok(Some(w))
}

/// A workflow, or 404.
pub async fn require(db: &Db, id: &str) -> ApiResult<Workflow> {
    get(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no workflow {id}")))
}

/// The newest workflow of a document.
pub async fn of_document(db: &Db, document_id: &str) -> ApiResult<Option<Workflow>> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT id FROM workflows WHERE document_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1")
            .bind(document_id)
            .fetch_optional(&db.pool)
            .await?;
    match r {
        Some((id,)) => get(db, &id).await,
        None => Ok(None),
    }
}

/// A workflow's steps, in order.
pub async fn steps_of(db: &Db, workflow_id: &str) -> ApiResult<Vec<Step>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {STEP_COLUMNS} FROM workflow_steps WHERE workflow_id = $1 ORDER BY round, stage, name, id"
    )))
    .bind(workflow_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(step_row)
        .collect::<Result<_, _>>()
        .map_err(ApiError::from)
}

/// Steps in `state` (every workflow), with their workflows' ids.
pub async fn steps_in_state(db: &Db, state: &str) -> ApiResult<Vec<(String, Step)>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT workflow_id, {STEP_COLUMNS} FROM workflow_steps WHERE state = $1 ORDER BY waiting_since, id"
    )))
    .bind(state)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let wid: String = r.try_get(0)?;
        out.push((wid, step_row_at(r, 1)?));
    }
    Ok(out)
}

fn step_row_at(r: &sqlx::any::AnyRow, at: usize) -> Result<Step, sqlx::Error> {
    Ok(Step {
        id: r.try_get(at)?,
        round: r.try_get(at + 1)?,
        stage: r.try_get(at + 2)?,
        name: r.try_get(at + 3)?,
        assignee_kind: r.try_get(at + 4)?,
        assignee: r.try_get(at + 5)?,
        signature: r.try_get(at + 6)?,
        key_id: r.try_get(at + 7)?,
        state: r.try_get(at + 8)?,
        waiting_since: r.try_get(at + 9)?,
        due_at: r.try_get(at + 10)?,
        reminded_at: r.try_get(at + 11)?,
        acted_by: r.try_get(at + 12)?,
        acting_for: r.try_get(at + 13)?,
        acted_at: r.try_get(at + 14)?,
        decision: r.try_get(at + 15)?,
        comment: r.try_get(at + 16)?,
        evidence_id: r.try_get(at + 17)?,
        version: r.try_get(at + 18)?,
    })
}

/// Workflows started by `author`, newest first.
pub async fn started_by(db: &Db, author: &str, limit: i64) -> ApiResult<Vec<Workflow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE author_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    )))
    .bind(author)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(workflow_row)
        .collect::<Result<_, _>>()
        .map_err(ApiError::from)
}

/// Claims a waiting step for `actor` for `secs` (a claim left by a process that died expires).
pub async fn claim(db: &Db, step_id: &str, actor: &str, now: i64, secs: i64) -> ApiResult<bool> {
    let r = sqlx::query("UPDATE workflow_steps SET state = 'signing', claimed_by = $1, claimed_until = $2 WHERE id = $3 AND (state = 'waiting' OR (state = 'signing' AND claimed_until < $4))")
        .bind(actor)
        .bind(now + secs)
        .bind(step_id)
        .bind(now)
        .execute(&db.writer)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Gives a claimed step back (the signature failed).
pub async fn release(db: &Db, step_id: &str, actor: &str) -> ApiResult<()> {
    sqlx::query("UPDATE workflow_steps SET state = 'waiting', claimed_by = NULL, claimed_until = 0 WHERE id = $1 AND state = 'signing' AND claimed_by = $2")
        .bind(step_id)
        .bind(actor)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The evidence of a workflow's approved steps (every round).
pub async fn approved_evidence(db: &Db, workflow_id: &str) -> ApiResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT evidence_id FROM workflow_steps WHERE workflow_id = $1 AND state = 'approved' AND evidence_id IS NOT NULL",
    )
    .bind(workflow_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(e,)| e).collect())
}

/// The author of a workflow.
pub async fn author_of(db: &Db, workflow_id: &str) -> ApiResult<Option<String>> {
    let r: Option<(String,)> = sqlx::query_as("SELECT author_id FROM workflows WHERE id = $1")
        .bind(workflow_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(r.map(|(a,)| a))
}

/// One step by id, with its workflow's id.
pub async fn step(db: &Db, id: &str) -> ApiResult<Option<(String, Step)>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT workflow_id, {STEP_COLUMNS} FROM workflow_steps WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    match r {
        Some(r) => Ok(Some((r.try_get(0)?, step_row_at(&r, 1)?))),
        None => Ok(None),
    }
}

/// Steps `user` acted on, newest first, with their workflows' ids.
pub async fn acted_by(db: &Db, user: &str, limit: i64) -> ApiResult<Vec<(String, Step)>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT workflow_id, {STEP_COLUMNS} FROM workflow_steps WHERE acted_by = $1 ORDER BY acted_at DESC, id LIMIT $2"
    )))
    .bind(user)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push((r.try_get(0)?, step_row_at(r, 1)?));
    }
    Ok(out)
}

/// Workflows that have a waiting step the server does (seals), oldest first.
pub async fn with_waiting_system_steps(db: &Db) -> ApiResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT workflow_id FROM workflow_steps WHERE assignee_kind = 'system' AND state IN ('waiting', 'signing')",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(w,)| w).collect())
}
