//! The server's own steps: seals at the end of a route, and automatic sealing for a
//! business process.

use serde_json::json;

use super::route::{self, Assignee, Restart, Route, SignatureKind};
use super::store::{self, NewStep, Workflow};
use super::{CLAIM_SECS, audit_refusal, decide::decide_now, open, organisation_key};
use crate::documents;
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyKind};
use crate::state::AppState;
use crate::users::{self, Role, User};

/// Automatic sealing for a service account; a refusal is audited.
pub async fn start_seal(state: &AppState, caller: &User, doc_id: &str, key_id: &str) -> ApiResult<Workflow> {
    let r = seal_now(state, caller, doc_id, key_id).await;
    audit_refusal(state, caller, "workflow.seal", doc_id, r).await
}

/// Automatic signing: a service account has the server seal its document with an organisation
/// key its policy allows, as a one-step workflow (so the seal is audited like any other step,
/// and webhooks tell when it is done: `workflow.approved`). People sign with a code instead.
async fn seal_now(state: &AppState, caller: &User, doc_id: &str, key_id: &str) -> ApiResult<Workflow> {
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
    let steps = vec![NewStep {
        stage: 0,
        name: "Seal".into(),
        assignee_kind: "system".into(),
        assignee: String::new(),
        signature: "seal".into(),
        key_id: Some(key.id.clone()),
        due_hours: None,
    }];
    let details = json!({"seal": key.id});
    open(state, caller, &doc, &doc.doc_type, &route, steps, None, details).await
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
        keys::may_sign_type(&key, &w.doc_type)?;
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
