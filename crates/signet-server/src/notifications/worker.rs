//! Delivering the outbox: due deliveries are claimed one by one (a conditional update, so of
//! several nodes exactly one sends each), sent, and marked delivered — or retried with back-off
//! (base × 2^attempts, at most an hour), and marked failed after the last attempt. Replaying a
//! delivery makes it due again.

use serde::Serialize;
use sqlx::Row;

use super::Recipient;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Attempts before a delivery is given up (replay starts it again).
pub const MAX_ATTEMPTS: i64 = 12;

/// A delivery as its log shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// Id.
    pub id: String,
    /// The event.
    pub event_id: String,
    /// Its kind.
    pub kind: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// The webhook's id, or the e-mail's recipient.
    pub target: String,
    /// `pending`, `delivered`, `failed` (given up after [`MAX_ATTEMPTS`]) or `skipped` (e-mail
    /// without an SMTP server).
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt at.
    pub next_at: i64,
    /// Last HTTP status (webhooks).
    pub last_status: Option<i64>,
    /// Last error.
    pub last_error: String,
    /// Delivered at.
    pub delivered_at: Option<i64>,
}

const COLUMNS: &str = "d.id, d.event_id, e.kind, d.channel, d.target, d.state, d.attempts, d.next_at, d.last_status, d.last_error, d.delivered_at";

fn row(r: &sqlx::any::AnyRow) -> Result<Delivery, sqlx::Error> {
    Ok(Delivery {
        id: r.try_get(0)?,
        event_id: r.try_get(1)?,
        kind: r.try_get(2)?,
        channel: r.try_get(3)?,
        target: r.try_get(4)?,
        state: r.try_get(5)?,
        attempts: r.try_get(6)?,
        next_at: r.try_get(7)?,
        last_status: r.try_get(8)?,
        last_error: r.try_get(9)?,
        delivered_at: r.try_get(10)?,
    })
}

/// The deliveries of a webhook (or, with `None`, all), newest first.
pub async fn log(state: &AppState, target: Option<&str>, limit: i64) -> ApiResult<Vec<Delivery>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE ($1 = '' OR d.target = $1) ORDER BY d.created_at DESC, d.id LIMIT $2"
    )))
    .bind(target.unwrap_or(""))
    .bind(limit.clamp(1, 1000))
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter().map(row).collect::<Result<_, _>>().map_err(ApiError::from)
}

/// Makes a delivery due again (it keeps its log).
pub async fn replay(state: &AppState, id: &str) -> ApiResult<()> {
    let r = sqlx::query(
        "UPDATE deliveries SET state = 'pending', next_at = $1, claimed_until = 0, attempts = 0 WHERE id = $2",
    )
    .bind(state.now())
    .bind(id)
    .execute(&state.db.writer)
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::not_found(format!("no delivery {id}")));
    }
    Ok(())
}

/// Delivers what is due; returns how many deliveries it attempted.
pub async fn run_once(state: &AppState) -> ApiResult<usize> {
    let now = state.now();
    if state.config.smtp_host.is_none() {
        // No e-mail without an SMTP server: said once in the log, not retried.
        sqlx::query("UPDATE deliveries SET state = 'skipped', last_error = 'no SMTP server is configured (smtp_host)' WHERE channel = 'email' AND state = 'pending'")
            .execute(&state.db.writer)
            .await?;
    }
    let due: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM deliveries WHERE state = 'pending' AND next_at <= $1 AND claimed_until < $1 ORDER BY next_at, id LIMIT 50",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    let mut attempted = 0;
    for (id,) in due {
        let claimed = sqlx::query(
            "UPDATE deliveries SET claimed_until = $1 WHERE id = $2 AND state = 'pending' AND claimed_until < $3",
        )
        .bind(now + 120)
        .bind(&id)
        .bind(now)
        .execute(&state.db.writer)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        attempted += 1;
        let outcome = deliver(state, &id).await;
        finish(state, &id, outcome).await?;
    }
    Ok(attempted)
}

/// What one attempt came to: delivered, or the status and error of a failure.
type Outcome = Result<Option<i64>, (Option<i64>, String)>;

async fn deliver(state: &AppState, id: &str) -> Outcome {
    let r = sqlx::query(
        "SELECT d.channel, d.target, e.kind, e.payload, e.id FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = $1",
    )
    .bind(id)
    .fetch_one(&state.db.pool)
    .await
    .map_err(|e| (None, e.to_string()))?;
    let get = |i: usize| r.try_get::<String, _>(i).map_err(|e| (None, e.to_string()));
    let (channel, target, kind, payload, event_id) = (get(0)?, get(1)?, get(2)?, get(3)?, get(4)?);
    match channel.as_str() {
        "webhook" => post_webhook(state, id, &target, &kind, &event_id, payload).await,
        "email" => send_email(state, &target, &kind, &payload).await.map(|()| None),
        other => Err((None, format!("unknown channel {other}"))),
    }
}

async fn post_webhook(
    state: &AppState,
    delivery: &str,
    hook: &str,
    kind: &str,
    event_id: &str,
    payload: String,
) -> Outcome {
    let (hook, secret) = super::webhooks::with_secret(state, hook)
        .await
        .map_err(|e| (None, e.detail))?
        .ok_or((None, "the webhook was deleted".to_string()))?;
    if hook.disabled {
        return Err((None, "the webhook is disabled".into()));
    }
    let at = signet_pki::time::now();
    let sig = super::webhooks::signature(&secret, at, payload.as_bytes());
    let config = state.config.clone();
    let (kind, event_id, delivery) = (kind.to_string(), event_id.to_string(), delivery.to_string());
    tokio::task::spawn_blocking(move || {
        let client = crate::net::webhook_client(&config).map_err(|e| (None, e))?;
        let r = client
            .send(signet_net::Request {
                method: "POST",
                url: &hook.url,
                headers: &[
                    ("Content-Type", "application/json"),
                    ("X-Signet-Event", &kind),
                    ("X-Signet-Event-Id", &event_id),
                    ("X-Signet-Delivery", &delivery),
                    ("X-Signet-Signature", &sig),
                ],
                body: payload.into_bytes(),
                max_bytes: 64 * 1024,
                timeout: Some(std::time::Duration::from_secs(15)),
            })
            .map_err(|e| (None, e.to_string()))?;
        let status = i64::from(r.status);
        if (200..300).contains(&r.status) {
            Ok(Some(status))
        } else {
            Err((Some(status), format!("the receiver answered {}", r.status)))
        }
    })
    .await
    .map_err(|e| (None, e.to_string()))?
}

async fn send_email(state: &AppState, target: &str, kind: &str, payload: &str) -> Result<(), (Option<i64>, String)> {
    let recipient = Recipient::decode(target).ok_or((None, format!("bad recipient {target}")))?;
    let addresses = addresses(state, &recipient).await.map_err(|e| (None, e.detail))?;
    if addresses.is_empty() {
        // Nobody to write to (no e-mail on file): nothing to retry.
        return Ok(());
    }
    let payload: serde_json::Value = serde_json::from_str(payload).map_err(|e| (None, e.to_string()))?;
    let (subject, body) = super::email::compose(kind, &payload, &state.config.public_url());
    let config = state.config.clone();
    tokio::task::spawn_blocking(move || {
        for a in addresses {
            super::email::send(&config, &a, &subject, &body).map_err(|e| (None, e.to_string()))?;
        }
        Ok(())
    })
    .await
    .map_err(|e| (None, e.to_string()))?
}

/// The e-mail addresses a recipient stands for now.
async fn addresses(state: &AppState, r: &Recipient) -> ApiResult<Vec<String>> {
    let now = state.now();
    let users = match r {
        Recipient::User(u) => vec![u.clone()],
        Recipient::StepAssignees(step) => crate::workflows::who_may_act(state, step, now).await?,
    };
    let mut out = Vec::new();
    for u in users {
        if let Some(user) = crate::users::get(&state.db, &u).await?
            && let Some(e) = user.email.filter(|e| !e.is_empty())
            && !user.disabled
            && !out.contains(&e)
        {
            out.push(e);
        }
    }
    Ok(out)
}

async fn finish(state: &AppState, id: &str, outcome: Outcome) -> ApiResult<()> {
    let now = state.now();
    match outcome {
        Ok(status) => {
            sqlx::query("UPDATE deliveries SET state = 'delivered', delivered_at = $1, attempts = attempts + 1, last_status = $2, last_error = '', claimed_until = 0 WHERE id = $3")
                .bind(now)
                .bind(status)
                .bind(id)
                .execute(&state.db.writer)
                .await?;
        }
        Err((status, error)) => {
            let (attempts,): (i64,) = sqlx::query_as("SELECT attempts FROM deliveries WHERE id = $1")
                .bind(id)
                .fetch_one(&state.db.pool)
                .await?;
            let base = state.config.notification_retry_base_secs.max(1);
            let delay = base.saturating_mul(1i64 << attempts.clamp(0, 20)).min(3600);
            let failed = attempts + 1 >= MAX_ATTEMPTS;
            tracing::warn!(target: "signet::notify", "delivery {id} failed (attempt {}): {error}", attempts + 1);
            sqlx::query("UPDATE deliveries SET attempts = attempts + 1, next_at = $1, claimed_until = 0, last_status = $2, last_error = $3, state = $4 WHERE id = $5")
                .bind(now + delay)
                .bind(status)
                .bind(error.chars().take(500).collect::<String>())
                .bind(if failed { "failed" } else { "pending" })
                .bind(id)
                .execute(&state.db.writer)
                .await?;
        }
    }
    Ok(())
}

/// Delivers every second until `shutdown`.
pub async fn schedule(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = run_once(&state).await {
            tracing::warn!(target: "signet::notify", "delivering notifications failed: {}", e.detail);
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(state.config.notification_poll_ms)) => {}
            _ = shutdown.changed() => break,
        }
    }
}
