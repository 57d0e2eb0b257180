//! Approvals: a document of a type with a route goes from stage to stage; each step waits for
//! its person (or their deputy, while they are away), a group's member, a role's holder, or —
//! for a seal — the server; every decision is audited and committed with the events it causes
//! ([`transition`]); a simple signature leaves sealed evidence, an advanced one or a seal a
//! signed version of the document.

mod decide;
pub mod inbox;
pub use signet_forms::route;
mod schedule;
mod seal;
pub mod store;
pub mod transition;

pub use decide::{Approval, approve, decide, resubmit};
pub use schedule::{remind_due, schedule};
pub use seal::{run_system_steps, start_seal};

use serde_json::{Value, json};

use crate::audit::Event;
use crate::changes::Change;
use crate::documents::{self, Document};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyInfo, KeyKind};
use crate::state::AppState;
use crate::users::{self, Role, User};
use route::{Assignee, Route};
use store::{NewStep, Step, Workflow};
use transition::Transition;

/// How long a person's claim on a step lasts while they sign.
pub(super) const CLAIM_SECS: i64 = 300;

/// The steps a route makes for `values`, assignees resolved: the author, their manager, named
/// users (active), groups (with active members), roles, the system. Stages from route stage
/// `from` on, numbered as in the route. Four eyes: whoever approves a step other than the
/// author's own is someone else than the author.
async fn steps_for(
    state: &AppState,
    t: &Route,
    fields: &[crate::doc_types::form::Field],
    values: &serde_json::Map<String, Value>,
    author: &User,
    from: usize,
) -> ApiResult<Vec<NewStep>> {
    let stages = route::resolve(t, values, fields);
    let mut out = Vec::new();
    for (i, stage) in stages.iter().filter(|(i, _)| *i >= from) {
        for s in stage {
            let (kind, who) = match &s.assignee {
                Assignee::Author => ("author", author.id.clone()),
                Assignee::Manager => {
                    let m = author.manager_id.clone().ok_or_else(|| {
                        ApiError::unprocessable(format!(
                            "step {:?} is for the author's manager, and {} has none (an administrator sets it: PATCH /api/v1/users/{{id}} manager_id)",
                            s.name, author.display_name
                        ))
                    })?;
                    active(state, &m, &s.name).await?;
                    ("manager", m)
                }
                Assignee::User(u) => {
                    if *u == author.id {
                        return Err(ApiError::unprocessable(format!(
                            "step {:?} is for the author, who does not approve their own document (make it an author step)",
                            s.name
                        )));
                    }
                    active(state, u, &s.name).await?;
                    ("user", u.clone())
                }
                Assignee::Group(g) => {
                    let group = crate::groups::resolve(&state.db, g).await?.ok_or_else(|| {
                        ApiError::unprocessable(format!(
                            "step {:?} names the group {g:?}, which does not exist",
                            s.name
                        ))
                    })?;
                    let mut any = false;
                    for m in group.members.iter().filter(|m| **m != author.id) {
                        any |= users::get(&state.db, m).await?.is_some_and(|u| !u.disabled);
                    }
                    if !any {
                        return Err(ApiError::unprocessable(format!(
                            "step {:?} is for the group {:?}, which has no active member but the author",
                            s.name, group.name
                        )));
                    }
                    ("group", group.id)
                }
                Assignee::Role(r) => {
                    let role = Role::parse(r).ok_or_else(|| ApiError::unprocessable(format!("no role {r:?}")))?;
                    if !users::with_role(&state.db, role)
                        .await?
                        .iter()
                        .any(|u| u.id != author.id)
                    {
                        return Err(ApiError::unprocessable(format!(
                            "step {:?} is for role {r}, which nobody but the author holds",
                            s.name
                        )));
                    }
                    ("role", r.clone())
                }
                Assignee::System => ("system", String::new()),
            };
            out.push(NewStep {
                stage: *i as i64,
                name: s.name.clone(),
                assignee_kind: kind.into(),
                assignee: who,
                signature: s.signature.as_str().into(),
                key_id: s.key_id.clone(),
                due_hours: s.due_hours,
            });
        }
    }
    Ok(out)
}

async fn active(state: &AppState, id: &str, step: &str) -> ApiResult<()> {
    match users::get(&state.db, id).await? {
        Some(u) if !u.disabled => Ok(()),
        Some(_) => Err(ApiError::unprocessable(format!("step {step:?} is for a disabled user"))),
        None => Err(ApiError::unprocessable(format!(
            "step {step:?} names a user who does not exist ({id})"
        ))),
    }
}

/// Whether a document of type `t` with `values` by `author` could start its route now (valid
/// values; every step has someone to act), checked before anything is made or numbered.
pub async fn check_route(
    state: &AppState,
    author: &User,
    t: &crate::doc_types::DocType,
    values: &Value,
) -> ApiResult<()> {
    let v = crate::doc_types::checked_values(state, t, values).await?;
    if steps_for(state, &t.route, &t.fields, &v, author, 0).await?.is_empty() {
        return Err(ApiError::unprocessable("the route has no step for these values"));
    }
    Ok(())
}

/// Starts the route of `doc_id`'s type; a refusal is audited.
pub async fn start(state: &AppState, author: &User, doc_id: &str, values: Option<&Value>) -> ApiResult<Workflow> {
    let r = begin(state, author, doc_id, values).await;
    audit_refusal(state, author, "workflow.start", doc_id, r).await
}

/// Starts the route of `doc_id`'s type. The author owns the document; a document uploaded as a
/// type whose documents are uploads (a contract) gets its form's `values` now.
async fn begin(state: &AppState, author: &User, doc_id: &str, values: Option<&Value>) -> ApiResult<Workflow> {
    let doc = documents::get_visible(state, author, doc_id).await?;
    if doc.owner_id != author.id {
        return Err(ApiError::forbidden("only the document's author starts its approval"));
    }
    let t = crate::doc_types::get(&state.db, &doc.doc_type).await?.ok_or_else(|| {
        ApiError::unprocessable(format!(
            "the document's type {:?} has no route; upload it with the type of a route (GET /api/v1/document-types)",
            doc.doc_type
        ))
    })?;
    // New values for an uploaded document are written with the start (same transaction,
    // same audit entry), and only if no approval is open.
    let mut new_form = None;
    let values = match (t.source, values) {
        (crate::doc_types::Source::Upload, Some(v)) => {
            let v = crate::doc_types::checked_values(state, &t, v).await?;
            new_form = Some(Value::Object(v.clone()));
            v
        }
        (crate::doc_types::Source::Upload, None) => {
            crate::doc_types::checked_values(state, &t, &doc.form_values()).await?
        }
        (crate::doc_types::Source::Form, Some(_)) => {
            return Err(ApiError::unprocessable(
                "this document was made from its form; its values are part of it",
            ));
        }
        (crate::doc_types::Source::Form, None) => match doc.form_values() {
            Value::Object(m) => m,
            _ => return Err(ApiError::unprocessable("the document has no form values")),
        },
    };
    let steps = steps_for(state, &t.route, &t.fields, &values, author, 0).await?;
    if steps.is_empty() {
        return Err(ApiError::unprocessable("the route has no step for these values"));
    }
    let details = json!({"type": t.id, "steps": steps.len(), "form": new_form});
    open(state, author, &doc, &t.id, &t.route, steps, new_form, details).await
}

/// Opens a workflow for `doc` along `route` with its first `steps` (none may be open already;
/// checked again in the transaction) and, for an uploaded document, its new form values:
/// committed with its audit entry and its events; the server's own steps run at once.
#[allow(clippy::too_many_arguments)]
async fn open(
    state: &AppState,
    author: &User,
    doc: &Document,
    doc_type: &str,
    route: &Route,
    steps: Vec<NewStep>,
    form: Option<Value>,
    mut details: Value,
) -> ApiResult<Workflow> {
    if let Some(w) = store::of_document(&state.db, &doc.id).await?
        && matches!(w.state.as_str(), "in_progress" | "returned")
    {
        return Err(ApiError::conflict(format!(
            "the document is already in an approval ({})",
            w.id
        )));
    }
    let now = state.now();
    let id = users::new_id()?;
    let w = Workflow {
        id: id.clone(),
        document_id: doc.id.clone(),
        doc_type: doc_type.to_string(),
        author_id: author.id.clone(),
        state: "in_progress".into(),
        round: 1,
        stage: 0,
        route: serde_json::to_value(route).map_err(ApiError::internal)?,
        created_at: now,
        updated_at: now,
        finished_at: None,
        steps: Vec::new(),
    };
    details["workflow"] = json!(id);
    state
        .audit
        .append_with(
            &Event {
                actor: &author.id,
                action: "workflow.start",
                target: &doc.id,
                outcome: "ok",
                details,
            },
            Change::Workflow(Transition::Start {
                new: Some(Box::new(w)),
                workflow_id: id.clone(),
                round: 1,
                first_stage: steps.iter().map(|s| s.stage).min().unwrap_or(0),
                steps,
                form: form.map(|f| f.to_string()),
                now,
            }),
        )
        .await?;
    run_system_steps(state, &id).await;
    store::require(&state.db, &id).await
}

/// Whom `actor` acts for on `step` — `None` for themselves, `Some(user)` as that user's
/// deputy — or why they may not.
async fn acting_as(state: &AppState, actor: &User, w: &Workflow, step: &Step) -> ApiResult<Option<String>> {
    let now = state.now();
    let refused = || ApiError::forbidden(format!("the step {:?} is not yours to act on", step.name));
    // Four eyes: the author approves only their own step, not as a member of a group, a
    // holder of a role or anyone's deputy.
    if actor.id == w.author_id && step.assignee_kind != "author" {
        return Err(ApiError::forbidden(format!(
            "the step {:?} is for someone other than the document's author",
            step.name
        )));
    }
    match step.assignee_kind.as_str() {
        "author" | "manager" | "user" => {
            if actor.id == step.assignee {
                Ok(None)
            } else if crate::absences::may_act_for(&state.db, &actor.id, &step.assignee, now).await? {
                Ok(Some(step.assignee.clone()))
            } else {
                Err(refused())
            }
        }
        "group" => {
            let members = crate::groups::members(&state.db, &step.assignee).await?;
            if members.contains(&actor.id) {
                return Ok(None);
            }
            for m in &members {
                if crate::absences::may_act_for(&state.db, &actor.id, m, now).await? {
                    return Ok(Some(m.clone()));
                }
            }
            Err(refused())
        }
        "role" => match Role::parse(&step.assignee) {
            Some(r) if actor.has(r) => Ok(None),
            _ => Err(refused()),
        },
        _ => Err(ApiError::forbidden("the server does this step (a seal)")),
    }
}

/// A document `user` may read: theirs or visible to their role, or one whose approval waits
/// for them (also as a deputy) or that they acted on — an approver sees what they approve.
pub async fn readable_document(state: &AppState, user: &User, doc_id: &str) -> ApiResult<Document> {
    match documents::get_visible(state, user, doc_id).await {
        Ok(d) => Ok(d),
        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => {
            if let Some(w) = store::of_document(&state.db, doc_id).await?
                && involves(state, user, &w).await?
            {
                return documents::get(state, doc_id).await;
            }
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// Whether one of `w`'s steps waits for `user` (also as a deputy) or was acted on by them.
pub async fn involves(state: &AppState, user: &User, w: &Workflow) -> ApiResult<bool> {
    let now = state.now();
    for s in &w.steps {
        if s.acted_by.as_deref() == Some(user.id.as_str()) {
            return Ok(true);
        }
        if matches!(s.state.as_str(), "waiting" | "signing") && who_may_act(state, &s.id, now).await?.contains(&user.id)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Everyone who may act on step `step_id` at `now` (for notifications and inboxes).
pub async fn who_may_act(state: &AppState, step_id: &str, now: i64) -> ApiResult<Vec<String>> {
    let Some((workflow_id, step)) = store::step(&state.db, step_id).await? else {
        return Ok(Vec::new());
    };
    // Four eyes: not the author, but for their own step (a deputy who is the author leaves
    // the step with the absent person, who may still act on it).
    let author = store::author_of(&state.db, &workflow_id).await?.unwrap_or_default();
    let own = step.assignee_kind == "author";
    let mut out = Vec::new();
    match step.assignee_kind.as_str() {
        "author" | "manager" | "user" => {
            let who = crate::absences::acting_for(&state.db, &step.assignee, now).await?;
            out.push(if who == author && !own {
                step.assignee.clone()
            } else {
                who
            });
        }
        "group" => {
            for m in crate::groups::members(&state.db, &step.assignee).await? {
                if m == author {
                    continue;
                }
                let who = crate::absences::acting_for(&state.db, &m, now).await?;
                let who = if who == author { m } else { who };
                if !out.contains(&who) {
                    out.push(who);
                }
            }
        }
        "role" => {
            if let Some(r) = Role::parse(&step.assignee) {
                out.extend(
                    users::with_role(&state.db, r)
                        .await?
                        .into_iter()
                        .map(|u| u.id)
                        .filter(|u| *u != author),
                );
            }
        }
        _ => {}
    }
    Ok(out)
}

async fn load(state: &AppState, workflow_id: &str, step_id: &str) -> ApiResult<(Workflow, Step, Document)> {
    let w = store::require(&state.db, workflow_id).await?;
    let step = w
        .steps
        .iter()
        .find(|s| s.id == step_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("the workflow has no step {step_id}")))?;
    if w.state != "in_progress" {
        return Err(ApiError::conflict(format!(
            "the workflow is {}",
            w.state.replace('_', " ")
        )));
    }
    if step.state != "waiting" {
        return Err(ApiError::conflict(format!(
            "the step {:?} is {}, not waiting",
            step.name, step.state
        )));
    }
    let doc = documents::get(state, &w.document_id).await?;
    Ok((w, step, doc))
}

fn comment_of(c: Option<&str>, required: bool) -> ApiResult<String> {
    let c = c.unwrap_or("").trim();
    if required && c.is_empty() {
        return Err(ApiError::unprocessable("say why (comment)"));
    }
    if c.chars().count() > 2000 || c.chars().any(|x| x.is_control() && x != '\n') {
        return Err(ApiError::unprocessable("a comment has at most 2000 characters"));
    }
    Ok(c.to_string())
}

/// Who signs a step's organisation signature or seal: the step's key, the one asked for, or
/// the organisation key.
async fn organisation_key(state: &AppState, step: &Step, asked: Option<&str>) -> ApiResult<KeyInfo> {
    let key = match step.key_id.as_deref().or(asked) {
        Some(id) => keys::require(&state.db, id).await?,
        None => keys::newest_enabled(&state.db, KeyKind::Organisation)
            .await?
            .ok_or_else(|| ApiError::unavailable("there is no enabled organisation key"))?,
    };
    if key.kind != KeyKind::Organisation || key.disabled {
        return Err(ApiError::unprocessable(
            "the step's key is not an enabled organisation key",
        ));
    }
    Ok(key)
}

/// Writes a refused workflow action (a 4xx answer: not one's step, a step already decided, a
/// bad form, a wrong code) to the audit log before the refusal is answered.
async fn audit_refusal<T>(state: &AppState, actor: &User, action: &str, target: &str, r: ApiResult<T>) -> ApiResult<T> {
    if let Err(e) = &r
        && e.status.is_client_error()
    {
        state
            .audit
            .append(&Event {
                actor: &actor.id,
                action,
                target,
                outcome: "denied",
                details: json!({"status": e.status.as_u16(), "reason": e.detail}),
            })
            .await?;
    }
    r.map_err(|e| if e.status.is_client_error() { e.audited() } else { e })
}
