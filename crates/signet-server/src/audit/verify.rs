//! Checking the whole log: every entry's hash and link, no gaps, and every seal's signature
//! over the entry it names.

use serde::Serialize;
use sqlx::Row;

use super::chain::{GENESIS, entry_hash};
use super::list;
use super::seal::{seal_message, seal_message_v1};
use crate::db::Db;
use crate::error::ApiResult;

/// The outcome of checking the whole log.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// Entries read.
    pub entries: i64,
    /// Seals checked.
    pub seals: i64,
    /// Last sealed seq.
    pub last_sealed: i64,
    /// Whose keys the seals were checked against: `pinned` (certificates given from outside
    /// the database) or `database` (the seal keys the database lists — an insider with write
    /// access to it could replace them).
    pub seal_trust: &'static str,
    /// When the newest seal was made (signed in the seal; Unix time), if there is a seal.
    pub newest_seal_at: Option<i64>,
    /// The first problem: (seq, what is wrong). `None` when the log is intact.
    pub first_problem: Option<(i64, String)>,
}

/// A key a seal may verify with: SubjectPublicKeyInfo (DER) and signature algorithm.
pub type SealKey = (Vec<u8>, signet_crypto::SignatureAlgorithm);

/// The keys a seal made by key id `key_id` may verify with.
pub type SealKeyLookup<'a> = &'a (dyn Fn(&str) -> Vec<SealKey> + Sync);

/// How the check is made.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    /// Whether the seal keys are pinned (see [`Verification::seal_trust`]).
    pub pinned: bool,
    /// Now (Unix time).
    pub now: i64,
    /// Entries after the last seal older than this many seconds are a problem: a running
    /// server seals within its seal interval, so an old unsealed tail means seals were removed
    /// (or the server stopped abruptly: start it, it seals, and check again).
    pub max_unsealed_secs: i64,
    /// The newest seal must be at most this old (a running server seals at least every
    /// interval, with a heartbeat entry when idle): an older one means the tail was cut off
    /// with its seals. `None` for a log whose server is not running.
    pub max_seal_age_secs: Option<i64>,
}

/// Walks the whole chain and every seal. `seal_key` maps a seal's key id to the keys its
/// signature may verify with.
pub async fn verify(db: &Db, seal_key: SealKeyLookup<'_>, o: VerifyOptions) -> ApiResult<Verification> {
    let mut v = Verification {
        entries: 0,
        seals: 0,
        last_sealed: 0,
        seal_trust: if o.pinned { "pinned" } else { "database" },
        newest_seal_at: None,
        first_problem: None,
    };
    let seals = sqlx::query("SELECT seq, hash, signature, key_id, at FROM audit_seals ORDER BY seq")
        .fetch_all(&db.pool)
        .await?;
    let mut seal_list = Vec::new();
    for s in &seals {
        let seq: i64 = s.try_get(0)?;
        let hash: String = s.try_get(1)?;
        let sig: Vec<u8> = s.try_get(2)?;
        let key_id: String = s.try_get(3)?;
        let at: i64 = s.try_get(4)?;
        let keys = seal_key(&key_id);
        let verifies = |msg: &[u8]| {
            keys.iter().any(|(spki, alg)| {
                signet_crypto::verify::verify_signature(
                    spki,
                    *alg,
                    msg,
                    &sig,
                    &signet_crypto::AlgorithmPolicy::default(),
                )
                .is_ok()
            })
        };
        // A seal signs its time (v2); seals of earlier versions do not, and their time is only
        // what the row says.
        let ok = if verifies(&seal_message(seq, &hash, at)) {
            true
        } else {
            verifies(&seal_message_v1(seq, &hash))
        };
        if ok {
            v.newest_seal_at = Some(v.newest_seal_at.unwrap_or(0).max(at));
        }
        if !ok && v.first_problem.is_none() {
            v.first_problem = Some((
                seq,
                if o.pinned {
                    format!("the seal at entry {seq} is not by a pinned seal key (or its signature is invalid)")
                } else {
                    format!("the seal at entry {seq} has an invalid signature")
                },
            ));
        }
        v.seals += 1;
        v.last_sealed = v.last_sealed.max(seq);
        seal_list.push((seq, hash));
    }
    let mut prev_hash = GENESIS.to_string();
    let mut first_unsealed: Option<(i64, i64)> = None;
    let mut expected = 1i64;
    let mut after = 0i64;
    let mut seals_iter = seal_list.iter().peekable();
    'outer: loop {
        let batch = list(db, after, 1000).await?;
        if batch.is_empty() {
            break;
        }
        for e in &batch {
            after = e.seq;
            v.entries += 1;
            let problem = if e.seq != expected {
                Some((
                    expected,
                    format!("entry {expected} is missing (next entry is {})", e.seq),
                ))
            } else if e.prev_hash != prev_hash {
                Some((
                    e.seq,
                    format!(
                        "entry {} does not follow entry {} (chain broken: reordered or replaced)",
                        e.seq,
                        e.seq - 1
                    ),
                ))
            } else if entry_hash(e) != e.hash {
                Some((
                    e.seq,
                    format!("entry {} was modified (its content does not match its hash)", e.seq),
                ))
            } else {
                None
            };
            if let Some(p) = problem {
                if v.first_problem.as_ref().is_none_or(|(s, _)| p.0 < *s) {
                    v.first_problem = Some(p);
                }
                break 'outer;
            }
            while let Some((sseq, shash)) = seals_iter.peek() {
                if *sseq < e.seq {
                    seals_iter.next();
                } else if *sseq == e.seq {
                    if *shash != e.hash && v.first_problem.is_none() {
                        v.first_problem = Some((e.seq, format!("entry {} differs from what the seal signed", e.seq)));
                        break 'outer;
                    }
                    seals_iter.next();
                } else {
                    break;
                }
            }
            if e.seq > v.last_sealed && first_unsealed.is_none() {
                first_unsealed = Some((e.seq, e.at));
            }
            prev_hash = e.hash.clone();
            expected += 1;
        }
    }
    if v.first_problem.is_none() && v.last_sealed > expected - 1 {
        v.first_problem = Some((
            expected,
            format!(
                "the log ends at entry {} but a seal covers entry {} (entries were deleted)",
                expected - 1,
                v.last_sealed
            ),
        ));
    }
    if v.first_problem.is_none()
        && let Some((seq, at)) = first_unsealed
        && o.now - at > o.max_unsealed_secs
    {
        v.first_problem = Some((
            seq,
            format!(
                "entries {seq} to {} are not sealed, and entry {seq} is {} s old (seals removed? if the server stopped abruptly, start it and check again)",
                expected - 1,
                o.now - at
            ),
        ));
    }
    // (With no seal at all, the unsealed-tail check above speaks.)
    if v.first_problem.is_none()
        && let (Some(max), Some(at)) = (o.max_seal_age_secs, v.newest_seal_at)
        && o.now - at > max
    {
        v.first_problem = Some((
            v.last_sealed,
            format!(
                "the newest seal is {} s old, but a running server seals at least every few minutes: the log's tail was cut off with its seals",
                o.now - at
            ),
        ));
    }
    Ok(v)
}
