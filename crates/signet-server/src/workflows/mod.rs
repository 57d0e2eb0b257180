//! Approvals: a document of a type with a route goes from stage to stage; each step waits for
//! its person (or their deputy, while they are away), a group's member, a role's holder, or —
//! for a seal — the server; every decision is audited and committed with the events it causes
//! ([`transition`]); a simple signature leaves sealed evidence, an advanced one or a seal a
//! signed version of the document.

pub mod inbox;
pub mod route;
pub mod store;
pub mod transition;

use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::audit::Event;
use crate::changes::Change;
use crate::documents::{self, Document};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyInfo, KeyKind};
use crate::state::AppState;
use crate::users::{self, Role, User};
use route::{Assignee, Restart, Route, SignatureKind};
use store::{NewStep, Step, Workflow};
use transition::Transition;

/// How long a person's claim on a step lasts while they sign.
const CLAIM_SECS: i64 = 300;

/// The steps a route makes for `values`, assignees resolved: the author, their manager, named
/// users (active), groups (with active members), roles, the system. Stages from `from` on.
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
    for (i, stage) in stages.iter().enumerate().skip(from) {
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
                    for m in &group.members {
                        any |= users::get(&state.db, m).await?.is_some_and(|u| !u.disabled);
                    }
                    if !any {
                        return Err(ApiError::unprocessable(format!(
                            "step {:?} is for the group {:?}, which has no active member",
                            s.name, group.name
                        )));
                    }
                    ("group", group.id)
                }
                Assignee::Role(r) => {
                    let role = Role::parse(r).ok_or_else(|| ApiError::unprocessable(format!("no role {r:?}")))?;
                    if users::with_role(&state.db, role).await?.is_empty() {
                        return Err(ApiError::unprocessable(format!(
                            "step {:?} is for role {r}, which nobody holds",
                            s.name
                        )));
                    }
                    ("role", r.clone())
                }
                Assignee::System => ("system", String::new()),
            };
            out.push(NewStep {
                stage: i as i64,
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

/// Starts the route of `doc_id`'s type. The author owns the document; a document uploaded as a
/// type whose documents are uploads (a contract) gets its form's `values` now.
pub async fn start(state: &AppState, author: &User, doc_id: &str, values: Option<&Value>) -> ApiResult<Workflow> {
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
    if let Some(w) = store::of_document(&state.db, &doc.id).await?
        && matches!(w.state.as_str(), "in_progress" | "returned")
    {
        return Err(ApiError::conflict(format!(
            "the document is already in an approval ({})",
            w.id
        )));
    }
    let values = match (t.source, values) {
        (crate::doc_types::Source::Upload, Some(v)) => {
            let v = crate::doc_types::checked_values(state, &t, v).await?;
            documents::set_form(state, &doc.id, &v).await?;
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
    let now = state.now();
    let id = users::new_id()?;
    let w = Workflow {
        id: id.clone(),
        document_id: doc.id.clone(),
        doc_type: t.id.clone(),
        author_id: author.id.clone(),
        state: "in_progress".into(),
        round: 1,
        stage: 0,
        route: serde_json::to_value(&t.route).map_err(ApiError::internal)?,
        created_at: now,
        updated_at: now,
        finished_at: None,
        steps: Vec::new(),
    };
    let n = steps.len();
    state
        .audit
        .append_with(
            &Event {
                actor: &author.id,
                action: "workflow.start",
                target: &doc.id,
                outcome: "ok",
                details: json!({"workflow": id, "type": t.id, "steps": n}),
            },
            Change::Workflow(Transition::Start {
                new: Some(Box::new(w)),
                workflow_id: id.clone(),
                round: 1,
                steps,
                first_stage: 0,
                now,
            }),
        )
        .await?;
    run_system_steps(state, &id).await;
    store::require(&state.db, &id).await
}

/// Automatic signing: a service account has the server seal its document with an organisation
/// key its policy allows, as a one-step workflow (so the seal is audited like any other step,
/// and webhooks tell when it is done: `workflow.approved`). People sign with a code instead.
pub async fn start_seal(state: &AppState, caller: &User, doc_id: &str, key_id: &str) -> ApiResult<Workflow> {
    if !caller.has(Role::Service) {
        return Err(ApiError::forbidden(
            "automatic sealing is for service accounts; people sign with a one-time code",
        ));
    }
    let doc = documents::get_visible(state, caller, doc_id).await?;
    let key = keys::require(&state.db, key_id).await?;
    if key.kind != KeyKind::Organisation {
        return Err(ApiError::unprocessable("a seal is made with an organisation key"));
    }
    keys::may_use(&key, caller, Some(&doc.doc_type))?;
    if let Some(w) = store::of_document(&state.db, &doc.id).await?
        && matches!(w.state.as_str(), "in_progress" | "returned")
    {
        return Err(ApiError::conflict(format!(
            "the document is already in an approval ({})",
            w.id
        )));
    }
    let route = Route {
        stages: vec![route::Stage {
            steps: vec![route::StepDef {
                name: "Seal".into(),
                assignee: Assignee::System,
                signature: SignatureKind::Seal,
                due_hours: None,
                when: None,
                key_id: Some(key.id.clone()),
            }],
            when: None,
        }],
        restart: Restart::Start,
    };
    let now = state.now();
    let id = users::new_id()?;
    let w = Workflow {
        id: id.clone(),
        document_id: doc.id.clone(),
        doc_type: doc.doc_type.clone(),
        author_id: caller.id.clone(),
        state: "in_progress".into(),
        round: 1,
        stage: 0,
        route: serde_json::to_value(&route).map_err(ApiError::internal)?,
        created_at: now,
        updated_at: now,
        finished_at: None,
        steps: Vec::new(),
    };
    let steps = vec![NewStep {
        stage: 0,
        name: "Seal".into(),
        assignee_kind: "system".into(),
        assignee: String::new(),
        signature: "seal".into(),
        key_id: Some(key.id.clone()),
        due_hours: None,
    }];
    state
        .audit
        .append_with(
            &Event {
                actor: &caller.id,
                action: "workflow.start",
                target: &doc.id,
                outcome: "ok",
                details: json!({"workflow": id, "seal": key.id}),
            },
            Change::Workflow(Transition::Start {
                new: Some(Box::new(w)),
                workflow_id: id.clone(),
                round: 1,
                steps,
                first_stage: 0,
                now,
            }),
        )
        .await?;
    run_system_steps(state, &id).await;
    store::require(&state.db, &id).await
}

/// Whom `actor` acts for on `step` — `None` for themselves, `Some(user)` as that user's
/// deputy — or why they may not.
async fn acting_as(state: &AppState, actor: &User, step: &Step) -> ApiResult<Option<String>> {
    let now = state.now();
    let refused = || ApiError::forbidden(format!("the step {:?} is not yours to act on", step.name));
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

/// Everyone who may act on step `step_id` at `now` (for notifications and inboxes).
pub async fn who_may_act(state: &AppState, step_id: &str, now: i64) -> ApiResult<Vec<String>> {
    let Some((_, step)) = store::step(&state.db, step_id).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    match step.assignee_kind.as_str() {
        "author" | "manager" | "user" => out.push(crate::absences::acting_for(&state.db, &step.assignee, now).await?),
        "group" => {
            for m in crate::groups::members(&state.db, &step.assignee).await? {
                let who = crate::absences::acting_for(&state.db, &m, now).await?;
                if !out.contains(&who) {
                    out.push(who);
                }
            }
        }
        "role" => {
            if let Some(r) = Role::parse(&step.assignee) {
                out.extend(users::with_role(&state.db, r).await?.into_iter().map(|u| u.id));
            }
        }
        _ => {}
    }
    Ok(out)
}

/// What approving a step takes.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The account's password (simple signatures).
    pub password: Option<Zeroizing<String>>,
    /// A fresh one-time code.
    pub totp_code: Option<String>,
    /// The key for an advanced signature (one's own) or an organisation signature.
    pub key_id: Option<String>,
    /// A comment.
    pub comment: Option<String>,
}

impl std::fmt::Debug for Approval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approval")
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("totp_code", &self.totp_code.as_ref().map(|_| "[redacted]"))
            .field("key_id", &self.key_id)
            .field("comment", &self.comment)
            .finish()
    }
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

/// Approves a step with the signature it takes: a simple signature (password and code; sealed
/// evidence), an advanced one with the actor's own key, or the organisation key (code). The
/// step is claimed while the signature is made, so two people approving at once sign once.
pub async fn approve(
    state: &AppState,
    actor: &User,
    workflow_id: &str,
    step_id: &str,
    a: &Approval,
) -> ApiResult<Workflow> {
    let (w, step, doc) = load(state, workflow_id, step_id).await?;
    let acting_for = acting_as(state, actor, &step).await?;
    let comment = comment_of(a.comment.as_deref(), false)?;
    let kind = SignatureKind::parse(&step.signature).ok_or_else(|| ApiError::internal("unknown signature kind"))?;
    let code = || {
        a.totp_code
            .as_deref()
            .ok_or_else(|| ApiError::forbidden("a one-time code from your authenticator app is required (totp_code)"))
    };
    // Authentication and the key, before anything is claimed.
    let key = match kind {
        SignatureKind::Ses => {
            let password = a.password.as_deref().ok_or_else(|| {
                ApiError::forbidden("a simple signature needs your password (password) and a code (totp_code)")
            })?;
            crate::auth::check_own_password(state, actor, password, "approval").await?;
            crate::totp::step_up(state, actor, code()?, "approval", &doc.id, None).await?;
            None
        }
        SignatureKind::Aes => {
            let id = a
                .key_id
                .as_deref()
                .ok_or_else(|| ApiError::unprocessable("an advanced signature names your key (key_id)"))?;
            let key = keys::require(&state.db, id).await?;
            if !matches!(key.kind, KeyKind::Personal | KeyKind::Imported) {
                return Err(ApiError::unprocessable(
                    "an advanced signature is made with your own key",
                ));
            }
            keys::may_use(&key, actor, Some(&doc.doc_type))?;
            crate::totp::step_up(state, actor, code()?, "approval", &doc.id, Some(id)).await?;
            Some(key)
        }
        SignatureKind::Organisation => {
            let key = organisation_key(state, &step, a.key_id.as_deref()).await?;
            keys::may_use(&key, actor, Some(&doc.doc_type))?;
            crate::totp::step_up(state, actor, code()?, "approval", &doc.id, Some(&key.id)).await?;
            Some(key)
        }
        SignatureKind::Seal => return Err(ApiError::forbidden("the server does this step (a seal)")),
    };
    let deputy_of = match &acting_for {
        Some(id) => Some(users::require(&state.db, id).await?),
        None => None,
    };
    state
        .audit
        .append(&Event {
            actor: &actor.id,
            action: "step.approve",
            target: &doc.id,
            outcome: "started",
            details: json!({"workflow": w.id, "step": step.id, "name": step.name, "signature": step.signature, "acting_for": acting_for}),
        })
        .await?;
    let now = state.now();
    if !store::claim(&state.db, &step.id, &actor.id, now, CLAIM_SECS).await? {
        return Err(ApiError::conflict("someone else is approving this step right now"));
    }
    let made = sign_step(state, actor, deputy_of.as_ref(), &w, &step, &doc, key.as_ref()).await;
    let (evidence_id, version) = match made {
        Ok(m) => m,
        Err(e) => {
            store::release(&state.db, &step.id, &actor.id).await?;
            return Err(e);
        }
    };
    decide_now(
        state,
        actor,
        &w,
        &step,
        "approve",
        acting_for,
        comment,
        evidence_id,
        version,
        now,
    )
    .await?;
    run_system_steps(state, &w.id).await;
    store::require(&state.db, &w.id).await
}

/// Makes a step's signature: evidence for a simple one, a signed version otherwise.
async fn sign_step(
    state: &AppState,
    actor: &User,
    deputy_of: Option<&User>,
    w: &Workflow,
    step: &Step,
    doc: &Document,
    key: Option<&KeyInfo>,
) -> ApiResult<(Option<String>, Option<i64>)> {
    match key {
        None => {
            let facts = signet_validate::evidence::StepFacts {
                workflow_id: w.id.clone(),
                step_id: step.id.clone(),
                name: step.name.clone(),
            };
            let id = crate::evidence::create(state, actor, deputy_of, doc, Some(facts), &["password", "totp"]).await?;
            Ok((Some(id), None))
        }
        Some(key) => {
            let reason = match deputy_of {
                Some(d) => format!(
                    "{}: approved by {} as deputy of {}",
                    step.name, actor.display_name, d.display_name
                ),
                None => format!("{}: approved", step.name),
            };
            let opts = crate::signing::SignOptions {
                key_id: key.id.clone(),
                totp_code: None,
                reason: Some(reason),
                location: None,
                visible: None,
                certify: None,
            };
            let signed = crate::signing::sign_authorized(state, actor, doc, key, &opts).await?;
            Ok((None, Some(signed.version)))
        }
    }
}

/// Commits a step's decision with its audit entry.
#[allow(clippy::too_many_arguments)]
async fn decide_now(
    state: &AppState,
    actor: &User,
    w: &Workflow,
    step: &Step,
    decision: &'static str,
    acting_for: Option<String>,
    comment: String,
    evidence_id: Option<String>,
    version: Option<i64>,
    now: i64,
) -> ApiResult<()> {
    state
        .audit
        .append_with(
            &Event {
                actor: &actor.id,
                action: match decision {
                    "approve" => "step.approve",
                    "reject" => "step.reject",
                    _ => "step.return",
                },
                target: &w.document_id,
                outcome: "ok",
                details: json!({"workflow": w.id, "step": step.id, "name": step.name, "acting_for": acting_for, "comment": comment, "evidence": evidence_id, "version": version}),
            },
            Change::Workflow(Transition::Decide {
                workflow_id: w.id.clone(),
                step_id: step.id.clone(),
                decision,
                actor: actor.id.clone(),
                acting_for,
                comment,
                evidence_id,
                version,
                now,
            }),
        )
        .await
        .map(|_| ())
}

/// Rejects a step (the workflow ends rejected) or returns it for changes (the author may
/// resubmit); a comment says why.
pub async fn decide(
    state: &AppState,
    actor: &User,
    workflow_id: &str,
    step_id: &str,
    decision: &'static str,
    comment: Option<&str>,
) -> ApiResult<Workflow> {
    let (w, step, _) = load(state, workflow_id, step_id).await?;
    let acting_for = acting_as(state, actor, &step).await?;
    let comment = comment_of(comment, true)?;
    decide_now(
        state,
        actor,
        &w,
        &step,
        decision,
        acting_for,
        comment,
        None,
        None,
        state.now(),
    )
    .await?;
    store::require(&state.db, &w.id).await
}

/// Resubmits a document returned for changes: a form's new values render a new version (the
/// same number); the route starts again where the type says (from the start, or from the stage
/// that returned it).
pub async fn resubmit(
    state: &AppState,
    author: &User,
    workflow_id: &str,
    values: Option<&Value>,
) -> ApiResult<Workflow> {
    let w = store::require(&state.db, workflow_id).await?;
    if w.author_id != author.id {
        return Err(ApiError::forbidden("only the author resubmits"));
    }
    if w.state != "returned" {
        return Err(ApiError::conflict("the workflow is not waiting for changes"));
    }
    let t = crate::doc_types::require(&state.db, &w.doc_type).await?;
    let route: Route = serde_json::from_value(w.route.clone()).map_err(ApiError::internal)?;
    let mut doc = documents::get(state, &w.document_id).await?;
    if let Some(v) = values {
        let v = crate::doc_types::checked_values(state, &t, v).await?;
        documents::revise(state, author, &doc, &t, &v).await?;
        doc = documents::get(state, &w.document_id).await?;
    }
    let values = match doc.form_values() {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let from = match route.restart {
        Restart::Start => 0,
        Restart::Current => usize::try_from(w.stage).unwrap_or(0),
    };
    let mut steps = steps_for(state, &route, &t.fields, &values, author, from).await?;
    if steps.is_empty() {
        steps = steps_for(state, &route, &t.fields, &values, author, 0).await?;
    }
    let first = steps.iter().map(|s| s.stage).min().unwrap_or(0);
    let round = w.round + 1;
    state
        .audit
        .append_with(
            &Event {
                actor: &author.id,
                action: "workflow.resubmit",
                target: &w.document_id,
                outcome: "ok",
                details: json!({"workflow": w.id, "round": round, "from_stage": first}),
            },
            Change::Workflow(Transition::Start {
                new: None,
                workflow_id: w.id.clone(),
                round,
                steps,
                first_stage: first,
                now: state.now(),
            }),
        )
        .await?;
    run_system_steps(state, &w.id).await;
    store::require(&state.db, &w.id).await
}

/// Makes the seals a workflow waits for (the server's own steps), stage after stage. A seal
/// that fails (no time-stamp, say) stays waiting and is tried again by the periodic job.
pub async fn run_system_steps(state: &AppState, workflow_id: &str) {
    for _ in 0..route::MAX_STAGES {
        match seal_waiting(state, workflow_id).await {
            Ok(true) => continue,
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(target: "signet::workflow", "sealing in workflow {workflow_id} failed: {}", e.detail);
                return;
            }
        }
    }
}

/// Seals the waiting system steps of one stage; `true` if one was sealed.
async fn seal_waiting(state: &AppState, workflow_id: &str) -> ApiResult<bool> {
    let w = store::require(&state.db, workflow_id).await?;
    if w.state != "in_progress" {
        return Ok(false);
    }
    let now = state.now();
    let Some(step) = w
        .steps
        .iter()
        .find(|s| s.assignee_kind == "system" && s.round == w.round && (s.state == "waiting" || s.state == "signing"))
        .cloned()
    else {
        return Ok(false);
    };
    let system = users::system_user(&state.db).await?;
    if !store::claim(&state.db, &step.id, &system.id, now, CLAIM_SECS).await? {
        return Ok(false);
    }
    let result = async {
        let mut doc = documents::get(state, &w.document_id).await?;
        // The evidence of the simple signatures goes into the PDF the seal covers.
        let attach = crate::doc_types::get(&state.db, &w.doc_type)
            .await?
            .is_some_and(|t| t.attach_evidence);
        if attach && crate::evidence::attach_to_pdf(state, &doc, &w.id, &system).await? {
            doc = documents::get(state, &w.document_id).await?;
        }
        let key = organisation_key(state, &step, None).await?;
        let opts = crate::signing::SignOptions {
            key_id: key.id.clone(),
            totp_code: None,
            reason: Some(format!("{}: sealed by {}", step.name, state.config.organisation)),
            location: None,
            visible: None,
            certify: None,
        };
        crate::signing::sign_authorized(state, &system, &doc, &key, &opts).await
    }
    .await;
    let signed = match result {
        Ok(s) => s,
        Err(e) => {
            store::release(&state.db, &step.id, &system.id).await?;
            return Err(e);
        }
    };
    decide_now(
        state,
        &system,
        &w,
        &step,
        "approve",
        None,
        String::new(),
        None,
        Some(signed.version),
        now,
    )
    .await?;
    Ok(true)
}

/// Sends the reminders that are due (steps past their deadline, once each); returns how many.
pub async fn remind_due(state: &AppState) -> ApiResult<usize> {
    let now = state.now();
    let mut n = 0;
    for (wid, step) in store::steps_in_state(&state.db, "waiting").await? {
        if step.reminded_at.is_some() || step.due_at.is_none_or(|d| d > now) {
            continue;
        }
        let r = state
            .audit
            .append_with(
                &Event {
                    actor: "system",
                    action: "step.remind",
                    target: &wid,
                    outcome: "ok",
                    details: json!({"workflow": wid, "step": step.id, "name": step.name, "due_at": step.due_at}),
                },
                Change::Workflow(Transition::Remind {
                    workflow_id: wid.clone(),
                    step_id: step.id.clone(),
                    now,
                }),
            )
            .await;
        match r {
            Ok(_) => n += 1,
            // Another node reminded first.
            Err(e) if e.status == axum::http::StatusCode::CONFLICT => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reminders and seals that are due, every `reminder_every_secs`, until `shutdown`.
pub async fn schedule(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = remind_due(&state).await {
            tracing::warn!(target: "signet::workflow", "reminders failed: {}", e.detail);
        }
        match store::with_waiting_system_steps(&state.db).await {
            Ok(ids) => {
                for id in ids {
                    run_system_steps(&state, &id).await;
                }
            }
            Err(e) => tracing::warn!(target: "signet::workflow", "looking for seals failed: {}", e.detail),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(state.config.reminder_every_secs)) => {}
            _ = shutdown.changed() => break,
        }
    }
}
