//! The changes a workflow goes through, each committed in one transaction with its audit entry
//! (an [`crate::audit::Attachment`]): started; a step approved, rejected, returned for changes
//! or reminded; resubmitted. Each is conditional on the state it expects — a step decided twice
//! at the same instant, on one node or two, is decided once, and the other gets a conflict —
//! and writes the events it causes to the notification outbox in the same transaction.

use serde_json::{Value, json};

use super::store::{self, NewStep, Workflow};
use crate::error::ApiError;
use crate::notifications::{self, Recipient};

/// A change of a workflow.
#[derive(Clone, Debug)]
pub enum Transition {
    /// A workflow starts (or, with `round > 1`, starts again after being returned).
    Start {
        /// The workflow (for a new one; `None` when a returned one starts a new round).
        new: Option<Box<Workflow>>,
        /// Its id.
        workflow_id: String,
        /// The round.
        round: i64,
        /// The steps of that round.
        steps: Vec<NewStep>,
        /// The stage that waits first.
        first_stage: i64,
        /// New form values of the document (JSON), written with the start.
        form: Option<String>,
        /// Now (the server's clock).
        now: i64,
    },
    /// A step is decided.
    Decide {
        /// The workflow.
        workflow_id: String,
        /// The step.
        step_id: String,
        /// `approve`, `reject` or `return`.
        decision: &'static str,
        /// Who.
        actor: String,
        /// For whom, as their deputy.
        acting_for: Option<String>,
        /// Why (rejections and returns).
        comment: String,
        /// A simple signature's sealed evidence.
        evidence_id: Option<String>,
        /// The document version a signature made.
        version: Option<i64>,
        /// Now.
        now: i64,
    },
    /// An overdue step's reminder.
    Remind {
        /// The workflow.
        workflow_id: String,
        /// The step.
        step_id: String,
        /// Now.
        now: i64,
    },
}

fn conflict(what: &str) -> ApiError {
    ApiError::conflict(what.to_string())
}

type Written = Result<Result<i64, ApiError>, sqlx::Error>;

impl Transition {
    /// Carries the change out in the audit writer's transaction.
    pub async fn write(&self, conn: &mut sqlx::AnyConnection) -> Written {
        match self {
            Transition::Start {
                new,
                workflow_id,
                round,
                steps,
                first_stage,
                form,
                now,
            } => {
                match new {
                    Some(w) => {
                        // One open approval per document: checked here, where the writer's
                        // transaction (one writer on SQLite, an advisory lock on PostgreSQL)
                        // orders every start.
                        let (open,): (i64,) = sqlx::query_as(
                            "SELECT COUNT(*) FROM workflows WHERE document_id = $1 AND state IN ('in_progress', 'returned')",
                        )
                        .bind(&w.document_id)
                        .fetch_one(&mut *conn)
                        .await?;
                        if open > 0 {
                            return Ok(Err(conflict("the document is already in an approval")));
                        }
                        store::insert_workflow(conn, w).await?
                    }
                    None => {
                        let r = sqlx::query("UPDATE workflows SET state = 'in_progress', round = $1, stage = $2, updated_at = $3, finished_at = NULL WHERE id = $4 AND state = 'returned'")
                            .bind(round)
                            .bind(first_stage)
                            .bind(now)
                            .bind(workflow_id)
                            .execute(&mut *conn)
                            .await?;
                        if r.rows_affected() != 1 {
                            return Ok(Err(conflict("the workflow is not waiting for changes")));
                        }
                    }
                }
                if let Some(form) = form {
                    let (document_id,): (String,) = sqlx::query_as("SELECT document_id FROM workflows WHERE id = $1")
                        .bind(workflow_id)
                        .fetch_one(&mut *conn)
                        .await?;
                    crate::documents::write_form(conn, &document_id, form).await?;
                }
                let ids = store::insert_steps(conn, workflow_id, *round, steps, *first_stage, *now).await?;
                let mut payload = summary(conn, workflow_id).await?;
                notifications::enqueue(conn, "workflow.started", payload.clone(), &[], *now).await?;
                for (s, id) in steps.iter().zip(&ids) {
                    if s.stage == *first_stage && s.assignee_kind != "system" {
                        payload["step"] = json!({"id": id, "name": s.name, "signature": s.signature});
                        notifications::enqueue(
                            conn,
                            "step.waiting",
                            payload.clone(),
                            &[Recipient::StepAssignees(id.clone())],
                            *now,
                        )
                        .await?;
                    }
                }
                Ok(Ok(*round))
            }
            Transition::Decide {
                workflow_id,
                step_id,
                decision,
                actor,
                acting_for,
                comment,
                evidence_id,
                version,
                now,
            } => {
                // An approval follows the actor's claim; a rejection or return a waiting step.
                let (from, to) = match *decision {
                    "approve" => ("signing", "approved"),
                    "reject" => ("waiting", "rejected"),
                    _ => ("waiting", "returned"),
                };
                // Checks first (nothing is written before a conflict): the workflow is in
                // progress; a rejection or return waits while someone signs a step of it (their
                // signature would land on a document no longer being approved).
                let open: Option<(i64, i64, String)> = sqlx::query_as(
                    "SELECT round, stage, author_id FROM workflows WHERE id = $1 AND state = 'in_progress'",
                )
                .bind(workflow_id)
                .fetch_optional(&mut *conn)
                .await?;
                let Some((round, stage, author)) = open else {
                    return Ok(Err(conflict("the workflow is not in progress")));
                };
                if *decision != "approve" {
                    let (signing,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM workflow_steps WHERE workflow_id = $1 AND round = $2 AND state = 'signing' AND claimed_until >= $3",
                    )
                    .bind(workflow_id)
                    .bind(round)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await?;
                    if signing > 0 {
                        return Ok(Err(conflict(
                            "someone is signing a step of this document right now; try again in a minute",
                        )));
                    }
                }
                let claimed_by_actor = if from == "signing" { actor.as_str() } else { "" };
                let r = sqlx::query("UPDATE workflow_steps SET state = $1, decision = $2, acted_by = $3, acting_for = $4, acted_at = $5, comment = $6, evidence_id = $7, version = $8, claimed_until = 0 WHERE id = $9 AND workflow_id = $10 AND state = $11 AND ($12 = '' OR claimed_by = $12)")
                    .bind(to)
                    .bind(decision)
                    .bind(actor)
                    .bind(acting_for)
                    .bind(now)
                    .bind(comment)
                    .bind(evidence_id)
                    .bind(version)
                    .bind(step_id)
                    .bind(workflow_id)
                    .bind(from)
                    .bind(claimed_by_actor)
                    .execute(&mut *conn)
                    .await?;
                if r.rows_affected() != 1 {
                    return Ok(Err(conflict(
                        "this step was decided meanwhile (by someone else, or twice)",
                    )));
                }
                sqlx::query("UPDATE workflows SET updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(workflow_id)
                    .execute(&mut *conn)
                    .await?;
                let mut payload = summary(conn, workflow_id).await?;
                payload["step"] = step_summary(conn, step_id).await?;
                let author = Recipient::User(author);
                match *decision {
                    "approve" => {
                        notifications::enqueue(conn, "step.approved", payload.clone(), &[], *now).await?;
                        advance(conn, workflow_id, round, stage, *now, payload, author).await
                    }
                    d => {
                        let (state, kind) = if d == "reject" {
                            ("rejected", "workflow.rejected")
                        } else {
                            ("returned", "workflow.returned")
                        };
                        sqlx::query("UPDATE workflow_steps SET state = 'skipped' WHERE workflow_id = $1 AND round = $2 AND state IN ('waiting', 'pending', 'signing')")
                            .bind(workflow_id)
                            .bind(round)
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("UPDATE workflows SET state = $1, finished_at = $2 WHERE id = $3")
                            .bind(state)
                            .bind(now)
                            .bind(workflow_id)
                            .execute(&mut *conn)
                            .await?;
                        notifications::enqueue(conn, &format!("step.{state}"), payload.clone(), &[], *now).await?;
                        payload["workflow"]["state"] = json!(state);
                        notifications::enqueue(conn, kind, payload, &[author], *now).await?;
                        Ok(Ok(stage))
                    }
                }
            }
            Transition::Remind {
                workflow_id,
                step_id,
                now,
            } => {
                let r = sqlx::query("UPDATE workflow_steps SET reminded_at = $1 WHERE id = $2 AND state = 'waiting' AND reminded_at IS NULL AND due_at IS NOT NULL AND due_at <= $1")
                    .bind(now)
                    .bind(step_id)
                    .execute(&mut *conn)
                    .await?;
                if r.rows_affected() != 1 {
                    return Ok(Err(conflict("no reminder is due")));
                }
                let mut payload = summary(conn, workflow_id).await?;
                payload["step"] = step_summary(conn, step_id).await?;
                notifications::enqueue(
                    conn,
                    "step.overdue",
                    payload,
                    &[Recipient::StepAssignees(step_id.clone())],
                    *now,
                )
                .await?;
                Ok(Ok(0))
            }
        }
    }
}

/// After an approval: when every step of the stage is approved, the next stage with pending
/// steps starts waiting; when none is left, the workflow is approved.
async fn advance(
    conn: &mut sqlx::AnyConnection,
    workflow_id: &str,
    round: i64,
    stage: i64,
    now: i64,
    mut payload: Value,
    author: Recipient,
) -> Written {
    let (open,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM workflow_steps WHERE workflow_id = $1 AND round = $2 AND stage = $3 AND state <> 'approved'",
    )
    .bind(workflow_id)
    .bind(round)
    .bind(stage)
    .fetch_one(&mut *conn)
    .await?;
    if open > 0 {
        return Ok(Ok(stage));
    }
    let next: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT MIN(stage) FROM workflow_steps WHERE workflow_id = $1 AND round = $2 AND stage > $3 AND state = 'pending'",
    )
    .bind(workflow_id)
    .bind(round)
    .bind(stage)
    .fetch_optional(&mut *conn)
    .await?;
    match next.and_then(|r| r.0) {
        Some(n) => {
            sqlx::query("UPDATE workflow_steps SET state = 'waiting', waiting_since = $1, due_at = CASE WHEN due_hours IS NULL THEN NULL ELSE $1 + due_hours * 3600 END WHERE workflow_id = $2 AND round = $3 AND stage = $4 AND state = 'pending'")
                .bind(now)
                .bind(workflow_id)
                .bind(round)
                .bind(n)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE workflows SET stage = $1 WHERE id = $2")
                .bind(n)
                .bind(workflow_id)
                .execute(&mut *conn)
                .await?;
            let waiting: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT id, name, signature, assignee_kind FROM workflow_steps WHERE workflow_id = $1 AND round = $2 AND stage = $3",
            )
            .bind(workflow_id)
            .bind(round)
            .bind(n)
            .fetch_all(&mut *conn)
            .await?;
            for (id, name, signature, kind) in waiting {
                if kind == "system" {
                    continue;
                }
                payload["step"] = json!({"id": id, "name": name, "signature": signature});
                notifications::enqueue(
                    conn,
                    "step.waiting",
                    payload.clone(),
                    &[Recipient::StepAssignees(id)],
                    now,
                )
                .await?;
            }
            Ok(Ok(n))
        }
        None => {
            sqlx::query("UPDATE workflows SET state = 'approved', finished_at = $1 WHERE id = $2")
                .bind(now)
                .bind(workflow_id)
                .execute(&mut *conn)
                .await?;
            payload["workflow"]["state"] = json!("approved");
            notifications::enqueue(conn, "workflow.approved", payload, &[author], now).await?;
            Ok(Ok(stage))
        }
    }
}

/// What events say about a workflow and its document.
async fn summary(conn: &mut sqlx::AnyConnection, workflow_id: &str) -> Result<Value, sqlx::Error> {
    let (state, doc_type, document_id, title, number): (String, String, String, String, String) = sqlx::query_as(
        "SELECT w.state, w.doc_type, d.id, d.title, d.number FROM workflows w JOIN documents d ON d.id = w.document_id WHERE w.id = $1",
    )
    .bind(workflow_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(json!({
        "workflow": {"id": workflow_id, "state": state, "doc_type": doc_type},
        "document": {"id": document_id, "title": title, "number": number},
    }))
}

async fn step_summary(conn: &mut sqlx::AnyConnection, step_id: &str) -> Result<Value, sqlx::Error> {
    let (name, state, acted_by, acting_for, comment, signature): (
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT name, state, acted_by, acting_for, comment, signature FROM workflow_steps WHERE id = $1",
    )
    .bind(step_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(
        json!({"id": step_id, "name": name, "state": state, "acted_by": acted_by, "acting_for": acting_for, "comment": comment, "signature": signature}),
    )
}
