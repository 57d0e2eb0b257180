//! What anyone may cause without logging in — failures that name no account (a login for an
//! unknown user, a forged or expired credential) and time-stamps from the public TSA — is not
//! written one entry each (anyone could fill the log that way) but counted per client
//! address, action, outcome and minute, and written as one entry per count when the minute is
//! flushed.

use std::collections::HashMap;
use std::sync::Mutex;

use super::writer::{Attachment, Log};
use super::{Client, Event, current_client};
use crate::error::ApiResult;

/// Distinct (source, action) pairs kept at most between flushes; the rest are counted under
/// the source `other`.
const MAX_KEYS: usize = 10_000;

/// Counts of anonymous failures since the last flush.
#[derive(Default)]
pub struct Tally {
    counts: Mutex<HashMap<(String, &'static str, &'static str), Count>>,
}

#[derive(Default)]
struct Count {
    n: u64,
    first: i64,
    last: i64,
    user_agent: String,
}

impl Tally {
    /// Counts one failure (outcome `denied`) of `action` by the current request's client (see
    /// [`super::with_client`]).
    pub fn count(&self, action: &'static str, now: i64) {
        self.count_outcome(action, "denied", now);
    }

    /// Counts one `action` with `outcome` by the current request's client.
    pub fn count_outcome(&self, action: &'static str, outcome: &'static str, now: i64) {
        let client = current_client().unwrap_or_else(|| Client {
            address: "unknown".into(),
            user_agent: String::new(),
        });
        let Ok(mut m) = self.counts.lock() else { return };
        let key = if m.len() >= MAX_KEYS && !m.contains_key(&(client.address.clone(), action, outcome)) {
            ("other".to_string(), action, outcome)
        } else {
            (client.address, action, outcome)
        };
        let c = m.entry(key).or_insert_with(|| Count {
            first: now,
            user_agent: client.user_agent,
            ..Default::default()
        });
        c.n += 1;
        c.last = now;
    }

    /// Writes one entry per (source, action) counted since the last flush, and starts over.
    pub async fn flush<A: Attachment>(&self, log: &Log<A>) -> ApiResult<()> {
        let counts = match self.counts.lock() {
            Ok(mut m) => std::mem::take(&mut *m),
            Err(_) => return Ok(()),
        };
        let mut keys: Vec<_> = counts.into_iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let mut pending = keys.into_iter();
        while let Some(((source, action, outcome), c)) = pending.next() {
            let written = log
                .append(&Event {
                    actor: "-",
                    action,
                    target: "",
                    outcome,
                    details: serde_json::json!({
                        "count": c.n, "first": c.first, "last": c.last,
                        "client": {"address": source, "user_agent": c.user_agent},
                        "aggregated": true,
                    }),
                })
                .await;
            if let Err(e) = written {
                // Nothing is lost: what was not written is counted again, for the next flush.
                if let Ok(mut m) = self.counts.lock() {
                    for ((s, a, o), c) in std::iter::once(((source, action, outcome), c)).chain(pending) {
                        let e = m.entry((s, a, o)).or_default();
                        e.n += c.n;
                        e.first = if e.first == 0 { c.first } else { e.first.min(c.first) };
                        e.last = e.last.max(c.last);
                        if e.user_agent.is_empty() {
                            e.user_agent = c.user_agent;
                        }
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }
}
