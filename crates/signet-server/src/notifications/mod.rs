//! Notifications: what happens in workflows (a step waiting, approved, overdue, a document
//! approved or rejected) becomes an event in a persistent outbox, written in the same
//! transaction as the change it tells of, with one delivery per webhook subscribed to its kind
//! and per e-mail to send. A worker delivers them with retries and back-off ([`worker`]); a
//! failed delivery never holds up or loses a workflow, and can be replayed.

pub mod email;
pub mod webhooks;
pub mod worker;

use serde_json::Value;

/// Who an e-mail goes to, resolved to addresses when it is sent (so the addresses are current
/// and a deputy who took over meanwhile gets it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// One user.
    User(String),
    /// Whoever may act on a step: its user, or their deputy, or a group's members, or a
    /// role's holders.
    StepAssignees(String),
}

impl Recipient {
    /// As stored in a delivery's target.
    pub fn encode(&self) -> String {
        match self {
            Recipient::User(u) => format!("user:{u}"),
            Recipient::StepAssignees(s) => format!("step:{s}"),
        }
    }

    /// From a delivery's target.
    pub fn decode(s: &str) -> Option<Recipient> {
        if let Some(u) = s.strip_prefix("user:") {
            return Some(Recipient::User(u.to_string()));
        }
        s.strip_prefix("step:").map(|x| Recipient::StepAssignees(x.to_string()))
    }
}

/// Every kind of event, for subscriptions.
pub const EVENT_KINDS: &[&str] = &[
    "workflow.started",
    "step.waiting",
    "step.approved",
    "step.rejected",
    "step.returned",
    "step.overdue",
    "workflow.approved",
    "workflow.rejected",
    "workflow.returned",
];

/// Writes an event and its deliveries in the caller's transaction; returns the event's id.
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    kind: &str,
    mut payload: Value,
    emails: &[Recipient],
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = crate::users::new_id().map_err(|e| sqlx::Error::Protocol(e.detail))?;
    if let Some(o) = payload.as_object_mut() {
        o.insert("event_id".into(), Value::String(id.clone()));
        o.insert("kind".into(), Value::String(kind.to_string()));
        o.insert("at".into(), Value::from(now));
    }
    sqlx::query("INSERT INTO events (id, kind, payload, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(kind)
        .bind(payload.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let hooks: Vec<(String, String)> = sqlx::query_as("SELECT id, events FROM webhooks WHERE disabled = 0")
        .fetch_all(&mut *conn)
        .await?;
    let mut targets: Vec<(&str, String)> = hooks
        .into_iter()
        .filter(|(_, events)| events.split(',').any(|e| e == "*" || e == kind))
        .map(|(h, _)| ("webhook", h))
        .collect();
    targets.extend(emails.iter().map(|r| ("email", r.encode())));
    for (channel, target) in targets {
        let did = crate::users::new_id().map_err(|e| sqlx::Error::Protocol(e.detail))?;
        sqlx::query("INSERT INTO deliveries (id, event_id, channel, target, state, next_at, created_at) VALUES ($1, $2, $3, $4, 'pending', $5, $5)")
            .bind(did)
            .bind(&id)
            .bind(channel)
            .bind(target)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}
