//! What happens on the clock: reminders for overdue steps and seals that are due.

use serde_json::json;

use super::run_system_steps;
use super::store;
use super::transition::Transition;
use crate::audit::Event;
use crate::changes::Change;
use crate::error::ApiResult;
use crate::state::AppState;

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
