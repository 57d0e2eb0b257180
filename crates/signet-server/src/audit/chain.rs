//! The hash chain: an entry's hash covers its content and the previous entry's hash, so an
//! edit, a deletion or a reordering breaks every hash after it.

use serde::Serialize;

/// Hash of "nothing before the first entry".
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A stored entry.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Position in the log (1, 2, …).
    pub seq: i64,
    /// Unix time.
    pub at: i64,
    /// Actor.
    pub actor: String,
    /// Action.
    pub action: String,
    /// Target.
    pub target: String,
    /// Outcome.
    pub outcome: String,
    /// Details (JSON text).
    pub details: String,
    /// Previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The chain hash of an entry (its `hash` field is ignored): SHA-256 over a length-prefixed
/// encoding of every field and the previous hash, so no field can bleed into the next.
pub fn entry_hash(e: &Entry) -> String {
    let mut h = signet_crypto::digest::Hasher::new(signet_crypto::HashAlgorithm::Sha256);
    h.update(b"signet-audit-v1");
    for field in [
        e.seq.to_string().as_str(),
        e.at.to_string().as_str(),
        &e.actor,
        &e.action,
        &e.target,
        &e.outcome,
        &e.details,
        &e.prev_hash,
    ] {
        h.update(&(field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finish())
}

/// An event as the writer holds it (owned).
#[derive(Clone, Debug)]
pub struct Record {
    /// Actor.
    pub actor: String,
    /// Action.
    pub action: String,
    /// Target.
    pub target: String,
    /// Outcome.
    pub outcome: String,
    /// Details (a JSON object).
    pub details: serde_json::Value,
}

/// A batch's entries, chained on to the log's tail as they are added.
pub(crate) struct Chain {
    /// Time of every entry in the batch.
    pub(crate) at: i64,
    pub(crate) entries: Vec<Entry>,
    seq: i64,
    hash: String,
}

impl Chain {
    /// A chain continuing after `(seq, hash)`, its entries stamped `at`.
    pub(crate) fn new((seq, hash): (i64, String), at: i64) -> Self {
        Chain {
            at,
            entries: Vec::new(),
            seq,
            hash,
        }
    }

    /// Adds `r`'s entry (its details get `number`, the number of what its attachment wrote, as
    /// `version`); returns its seq.
    pub(crate) fn push(&mut self, r: &Record, number: Option<i64>) -> i64 {
        let mut details = r.details.clone();
        if let (Some(n), Some(o)) = (number, details.as_object_mut()) {
            o.insert("version".into(), serde_json::json!(n));
        }
        let mut e = Entry {
            seq: self.seq + 1,
            at: self.at,
            actor: r.actor.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            outcome: r.outcome.clone(),
            details: details.to_string(),
            prev_hash: std::mem::take(&mut self.hash),
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        self.seq = e.seq;
        self.hash = e.hash.clone();
        self.entries.push(e);
        self.seq
    }

    /// The seq and hash of the newest entry.
    pub(crate) fn tail(&self) -> (i64, String) {
        (self.seq, self.hash.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_entry_chains_on_to_the_one_before() {
        let r = Record {
            actor: "a".into(),
            action: "x.y".into(),
            target: "t".into(),
            outcome: "ok".into(),
            details: serde_json::json!({"k": 1}),
        };
        let mut c = Chain::new((0, GENESIS.into()), 100);
        assert_eq!(c.push(&r, None), 1);
        assert_eq!(c.push(&r, Some(3)), 2);
        let (first, second) = (&c.entries[0], &c.entries[1]);
        assert_eq!(first.prev_hash, GENESIS);
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(entry_hash(second), second.hash);
        assert!(second.details.contains("\"version\":3"));
        // Moving a byte from one field to the next changes the hash (length prefixes).
        let mut moved = first.clone();
        moved.actor = "ax".into();
        moved.action = ".y".into();
        assert_ne!(entry_hash(&moved), first.hash);
        assert_eq!(c.tail(), (2, second.hash.clone()));
    }
}
