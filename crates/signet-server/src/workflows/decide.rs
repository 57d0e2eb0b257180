//! A person's decision on a step: approve with the signature the step takes, reject, return
//! for changes; and the author's resubmission.

use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::route::{Restart, Route, SignatureKind};
use super::store::{self, Step, Workflow};
use super::transition::Transition;
use super::{CLAIM_SECS, acting_as, audit_refusal, comment_of, load, organisation_key, run_system_steps, steps_for};
use crate::audit::Event;
use crate::changes::Change;
use crate::documents::{self, Document};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyInfo, KeyKind};
use crate::state::AppState;
use crate::users::{self, User};

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

/// Approves a step; a refusal is audited.
pub async fn approve(
    state: &AppState,
    actor: &User,
    workflow_id: &str,
    step_id: &str,
    a: &Approval,
) -> ApiResult<Workflow> {
    let r = approve_step(state, actor, workflow_id, step_id, a).await;
    audit_refusal(state, actor, "step.approve", workflow_id, r).await
}

/// Approves a step with the signature it takes: a simple signature (password and code; sealed
/// evidence), an advanced one with the actor's own key, or the organisation key (code). The
/// step is claimed while the signature is made, so two people approving at once sign once.
async fn approve_step(
    state: &AppState,
    actor: &User,
    workflow_id: &str,
    step_id: &str,
    a: &Approval,
) -> ApiResult<Workflow> {
    let (w, step, doc) = load(state, workflow_id, step_id).await?;
    let acting_for = acting_as(state, actor, &w, &step).await?;
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
pub(super) async fn decide_now(
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

/// Rejects or returns a step; a refusal is audited.
pub async fn decide(
    state: &AppState,
    actor: &User,
    workflow_id: &str,
    step_id: &str,
    decision: &'static str,
    comment: Option<&str>,
) -> ApiResult<Workflow> {
    let r = decide_step(state, actor, workflow_id, step_id, decision, comment).await;
    audit_refusal(
        state,
        actor,
        if decision == "reject" {
            "step.reject"
        } else {
            "step.return"
        },
        workflow_id,
        r,
    )
    .await
}

/// Rejects a step (the workflow ends rejected) or returns it for changes (the author may
/// resubmit); a comment says why.
async fn decide_step(
    state: &AppState,
    actor: &User,
    workflow_id: &str,
    step_id: &str,
    decision: &'static str,
    comment: Option<&str>,
) -> ApiResult<Workflow> {
    let (w, step, _) = load(state, workflow_id, step_id).await?;
    let acting_for = acting_as(state, actor, &w, &step).await?;
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

/// Resubmits a returned document; a refusal is audited.
pub async fn resubmit(
    state: &AppState,
    author: &User,
    workflow_id: &str,
    values: Option<&Value>,
) -> ApiResult<Workflow> {
    let r = resubmit_round(state, author, workflow_id, values).await;
    audit_refusal(state, author, "workflow.resubmit", workflow_id, r).await
}

/// Resubmits a document returned for changes: a form's new values render a new version (the
/// same number); the route starts again where the type says (from the start, or from the stage
/// that returned it).
async fn resubmit_round(
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
    let doc = documents::get(state, &w.document_id).await?;
    // New values: a document made from its form is rendered again (a new version, the same
    // number); an uploaded one keeps its file (the author uploads a new version for that) and
    // gets the values with the new round.
    let mut new_form = None;
    let values = match values {
        Some(v) => {
            let v = crate::doc_types::checked_values(state, &t, v).await?;
            if t.source == crate::doc_types::Source::Form {
                documents::revise(state, author, &doc, &t, &v).await?;
            } else {
                new_form = Some(Value::Object(v.clone()).to_string());
            }
            v
        }
        None => match doc.form_values() {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
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
                details: json!({"workflow": w.id, "round": round, "from_stage": first, "form": new_form}),
            },
            Change::Workflow(Transition::Start {
                new: None,
                workflow_id: w.id.clone(),
                round,
                steps,
                first_stage: first,
                form: new_form.clone(),
                now: state.now(),
            }),
        )
        .await?;
    run_system_steps(state, &w.id).await;
    store::require(&state.db, &w.id).await
}
