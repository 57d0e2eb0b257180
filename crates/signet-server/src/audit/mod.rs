//! The tamper-evident audit log.
//!
//! Entries are numbered without gaps (`seq`) and hash-chained ([`chain`]); a writer task
//! commits them in batches, each with the write attached to it ([`writer`]); the server signs
//! the tail every so often ([`seal`]); [`verify`] walks it all. Callers append *before* the
//! action takes effect; if the append fails, the action does not happen.
//!
//! Every entry made while serving a request carries the client's address and user agent
//! ([`with_client`]).

pub mod anonymous;
pub mod chain;
pub mod seal;
pub mod verify;
pub mod writer;

use sqlx::Row;

pub use anonymous::Tally;
pub use chain::{Entry, GENESIS, entry_hash};
pub use seal::{Due, Seal, list_seals, newest, seal_if_due, seal_message, seal_message_v1, tail};
pub use verify::{SealKey, SealKeyLookup, Verification, VerifyOptions, verify};
pub use writer::{Attachment, BatchStatement, CONFLICT_SQLSTATE, Log, Param};

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// What is being recorded.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    /// Who: a user id, `-` for anonymous, `system` for the server.
    pub actor: &'a str,
    /// What, as `noun.verb` (e.g. `signature.create`, `login.failure`).
    pub action: &'a str,
    /// On what (document, key or user id; may be empty).
    pub target: &'a str,
    /// `ok`, `denied`, `failed` or `started`.
    pub outcome: &'a str,
    /// Facts (JSON object).
    pub details: serde_json::Value,
}

/// Who is on the other end of the request being served.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address (behind a trusted proxy: the one it forwarded).
    pub address: String,
    /// Its `User-Agent` header (at most 200 characters).
    pub user_agent: String,
}

tokio::task_local! {
    static CLIENT: Client;
}

/// Runs `f` with `client` as the client of every entry it appends.
pub async fn with_client<F: std::future::Future>(client: Client, f: F) -> F::Output {
    CLIENT.scope(client, f).await
}

/// The client of the request being served, if any.
pub fn current_client() -> Option<Client> {
    CLIENT.try_with(Client::clone).ok()
}

/// Adds the current client, if any, to an entry's details (an object) as `client`.
fn client_details(details: &mut serde_json::Value) {
    if let (Some(c), Some(o)) = (current_client(), details.as_object_mut())
        && !o.contains_key("client")
    {
        o.insert(
            "client".into(),
            serde_json::json!({"address": c.address, "user_agent": c.user_agent}),
        );
    }
}

fn row_entry(r: &sqlx::any::AnyRow) -> Result<Entry, sqlx::Error> {
    Ok(Entry {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        target: r.try_get(4)?,
        outcome: r.try_get(5)?,
        details: r.try_get(6)?,
        prev_hash: r.try_get(7)?,
        hash: r.try_get(8)?,
    })
}

/// Entries after `after`, at most `limit`, oldest first.
pub async fn list(db: &Db, after: i64, limit: i64) -> ApiResult<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, target, outcome, details, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit.clamp(1, 1000))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(row_entry)
        .collect::<Result<_, _>>()
        .map_err(ApiError::from)
}
