//! The tamper-evident audit log.
//!
//! Entries are numbered without gaps (`seq`) and hash-chained: each entry's hash covers its
//! content and the previous entry's hash. Every `audit_seal_every` entries the server signs
//! (seq, hash) with its seal key, so rewriting the chain from some point on is caught at the
//! next seal. Callers append *before* the action takes effect; if the append fails, the action
//! does not happen.

use serde::Serialize;
use sqlx::Row;

use crate::db::{Backend, Db};
use crate::error::{ApiError, ApiResult};

/// Hash of "nothing before the first entry".
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

/// The message an audit seal signs.
pub fn seal_message(seq: i64, hash: &str) -> Vec<u8> {
    format!("signet-audit-seal-v1\n{seq}\n{hash}\n").into_bytes()
}

/// An event waiting in the group-commit queue, with the channel its sequence number (or the
/// failure) goes back on.
pub struct Pending {
    actor: String,
    action: String,
    target: String,
    outcome: String,
    details: serde_json::Value,
    version: Option<crate::documents::NewVersion>,
    reply: tokio::sync::oneshot::Sender<ApiResult<(i64, Option<i64>)>>,
}

/// The queue in front of the audit writer.
pub type Queue = tokio::sync::mpsc::UnboundedSender<Pending>;

/// Most entries committed together.
const MAX_BATCH: usize = 256;

/// Appends an event and returns its sequence number once it is committed (durably: the
/// database's own commit). Concurrent appends are committed together by one writer task (group
/// commit), one transaction and one flush for the lot. An error means the entry is not in the
/// log: the caller must not go on.
pub async fn append(db: &Db, ev: &Event<'_>) -> ApiResult<i64> {
    enqueue(db, ev, None).await.map(|(seq, _)| seq)
}

/// Appends an event and adds a document version in the same transaction: the version exists if
/// and only if its entry does. The entry's details get the version number. Returns
/// (seq, version).
pub async fn append_with_version(db: &Db, ev: &Event<'_>, v: crate::documents::NewVersion) -> ApiResult<(i64, i64)> {
    let (seq, version) = enqueue(db, ev, Some(v)).await?;
    Ok((seq, version.ok_or_else(|| ApiError::internal("no version number"))?))
}

async fn enqueue(
    db: &Db,
    ev: &Event<'_>,
    version: Option<crate::documents::NewVersion>,
) -> ApiResult<(i64, Option<i64>)> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    db.audit
        .send(Pending {
            actor: ev.actor.to_string(),
            action: ev.action.to_string(),
            target: ev.target.to_string(),
            outcome: ev.outcome.to_string(),
            details: ev.details.clone(),
            version,
            reply,
        })
        .map_err(|_| ApiError::unavailable("the audit log writer has stopped; nothing was done"))?;
    answer
        .await
        .map_err(|_| ApiError::unavailable("the audit log writer has stopped; nothing was done"))?
}

/// Starts the writer task for `pool` (the database's write pool); returns its queue.
pub fn start_writer(pool: sqlx::AnyPool, backend: Backend) -> Queue {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Pending>();
    tokio::spawn(async move {
        // The log's tail as this writer last committed it: the next batch chains on to it
        // without reading it back. If anything else appended meanwhile, the primary key on seq
        // refuses the insert and the batch is retried on the tail read from the database.
        let mut tail: Option<(i64, String)> = None;
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            let mut result = Err(ApiError::unavailable(
                "the audit log is busy; nothing was done, try again",
            ));
            for _attempt in 0..20 {
                match write_batch(&pool, backend, &batch, tail.take()).await {
                    Ok((per_item, new_tail)) => {
                        result = Ok(per_item);
                        tail = new_tail;
                        break;
                    }
                    // Another node (or process) appended since our last batch, or raced us for
                    // the same seq: retry on the tail read afresh.
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => continue,
                    Err(e) => {
                        tracing::error!("audit log write failed: {e}");
                        result = Err(ApiError::unavailable(
                            "the audit log cannot be written, so the action was not carried out",
                        ));
                        break;
                    }
                }
            }
            match result {
                Ok(per_item) => {
                    for (p, r) in batch.into_iter().zip(per_item) {
                        let _ = p.reply.send(r);
                    }
                }
                Err(e) => {
                    for p in batch {
                        let _ = p.reply.send(Err(ApiError {
                            status: e.status,
                            title: e.title,
                            detail: e.detail.clone(),
                            retry_after: e.retry_after,
                        }));
                    }
                }
            }
        }
    });
    tx
}

/// What one queued item ends in.
type ItemResult = ApiResult<(i64, Option<i64>)>;

/// Writes a batch in one transaction, chained on to `tail` (seq and hash of the newest entry)
/// when the caller knows it, else on the tail read from the database. An item whose version
/// conflicts fails alone (it has written nothing when the conflict is found, and gets no
/// entry). The outer error is a database failure that fails the whole batch. Returns the
/// per-item results and the new tail.
async fn write_batch(
    pool: &sqlx::AnyPool,
    backend: Backend,
    batch: &[Pending],
    mut tail: Option<(i64, String)>,
) -> Result<(Vec<ItemResult>, Option<(i64, String)>), sqlx::Error> {
    // PostgreSQL with the tail known: the whole batch is one statement, which commits on its
    // own — one round trip. It fails as a whole on another node's append in between (seq
    // collides), on a version conflict or on a version number taken meanwhile; then the batch
    // goes the transactional way below, on the tail read afresh, where each item fails alone.
    if backend == Backend::Postgres
        && let Some(known) = tail.take()
    {
        match write_batch_in_one_statement(pool, batch, known).await {
            Ok(Some(done)) => return Ok(done),
            Ok(None) => {}
            Err(sqlx::Error::Database(d))
                if d.is_unique_violation() || d.code().as_deref() == Some(CONFLICT_SQLSTATE) => {}
            Err(e) => return Err(e),
        }
    }
    // Otherwise one transaction; on PostgreSQL it starts holding the log's advisory lock (one
    // round trip for both), so the tail read next is the newest even with several nodes writing.
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin_with("BEGIN; SELECT pg_advisory_xact_lock(70012)").await?,
    };
    let tail = match tail {
        Some(t) => t,
        None => {
            let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
            match last {
                Some(r) => (r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?),
                None => (0, GENESIS.to_string()),
            }
        }
    };
    let mut chain = Chain::new(tail, signet_pki::time::now());
    let mut out = Vec::with_capacity(batch.len());
    for p in batch {
        let mut version = None;
        if let Some(v) = &p.version {
            // A conflict is found before this item writes anything, so the rest of the batch
            // goes on without it.
            match crate::documents::write_version(&mut tx, v, chain.at, backend).await? {
                Ok(n) => version = Some(n),
                Err(conflict) => {
                    out.push(Err(conflict));
                    continue;
                }
            }
        }
        out.push(Ok((chain.push(p, version), version)));
    }
    insert_entries(&mut tx, &chain.entries).await?;
    tx.commit().await?;
    Ok((out, Some(chain.tail())))
}

/// The SQLSTATE the one-statement batch fails with when a version it switches to is stale
/// (`invalid_text_representation`, raised on purpose by casting "version conflict" to a number).
const CONFLICT_SQLSTATE: &str = "22P02";

/// PostgreSQL: a batch (entries, the versions some of them add, the signature rows) as one
/// statement of data-modifying CTEs. Rows to insert are passed as two JSON arrays; each switch
/// of a document's current version is an UPDATE by primary key of its own (a join against the
/// JSON rows would be planned as a scan of all documents), so the statement's text depends only
/// on how many switches the batch holds and is prepared once per count. A statement is atomic:
/// if any switch finds the current version moved, a cast fails on purpose and nothing is
/// written; versions take the numbers their callers computed, and a number taken meanwhile
/// fails the statement on the primary key. `Ok(None)`: the batch is not for this path (it
/// switches one document twice).
async fn write_batch_in_one_statement(
    pool: &sqlx::AnyPool,
    batch: &[Pending],
    tail: (i64, String),
) -> Result<Option<(Vec<ItemResult>, Option<(i64, String)>)>, sqlx::Error> {
    let switches: Vec<&crate::documents::NewVersion> = batch
        .iter()
        .filter_map(|p| p.version.as_ref())
        .filter(|v| v.make_current)
        .collect();
    for (i, v) in switches.iter().enumerate() {
        if switches[..i].iter().any(|w| w.document_id == v.document_id) {
            return Ok(None);
        }
    }
    let mut sql = String::from(
        "WITH v AS (SELECT * FROM json_to_recordset($1::json) AS x(document_id text, version bigint, kind text, \
         blob_sha256 text, size bigint, media_type text, filename text, created_by text, created_at bigint, \
         signature_id text, key_id text, format text)), ",
    );
    for i in 0..switches.len() {
        let b = 3 + 3 * i;
        sql.push_str(&format!(
            "u{i} AS (UPDATE documents SET current_version = ${b} WHERE id = ${} AND current_version = ${} RETURNING 1), ",
            b + 1,
            b + 2
        ));
    }
    sql.push_str(
        "ins AS (INSERT INTO document_versions (document_id, version, kind, blob_sha256, size, media_type, filename, \
         created_by, created_at) SELECT document_id, version, kind, blob_sha256, size, media_type, filename, \
         created_by, created_at FROM v RETURNING 1), \
         sig AS (INSERT INTO signatures (id, document_id, version, key_id, user_id, format, created_at) \
         SELECT signature_id, document_id, version, key_id, created_by, format, created_at FROM v \
         WHERE signature_id IS NOT NULL RETURNING 1), \
         aud AS (INSERT INTO audit_log (seq, at, actor, action, target, outcome, details, prev_hash, hash) \
         SELECT seq, at, actor, action, target, outcome, details, prev_hash, hash FROM json_to_recordset($2::json) \
         AS a(seq bigint, at bigint, actor text, action text, target text, outcome text, details text, \
         prev_hash text, hash text) RETURNING 1) \
         SELECT CAST(CASE WHEN 0",
    );
    for i in 0..switches.len() {
        sql.push_str(&format!(" + (SELECT count(*) FROM u{i})"));
    }
    sql.push_str(&format!(
        " = {} THEN '0' ELSE 'version conflict' END AS bigint) + (SELECT count(*) FROM aud) \
         + (SELECT count(*) FROM ins) + (SELECT count(*) FROM sig)",
        switches.len()
    ));
    let mut chain = Chain::new(tail, signet_pki::time::now());
    let mut versions = Vec::new();
    let mut out = Vec::with_capacity(batch.len());
    for p in batch {
        let version = p.version.as_ref().map(|v| v.next_version);
        if let Some(v) = &p.version {
            let (signature_id, key_id, format) = match &v.signature {
                Some((s, k, f)) => (Some(s), Some(k), Some(f)),
                None => (None, None, None),
            };
            versions.push(serde_json::json!({
                "document_id": v.document_id, "version": v.next_version, "kind": v.kind,
                "blob_sha256": v.sha256, "size": v.size, "media_type": v.media_type,
                "filename": v.filename, "created_by": v.created_by, "created_at": chain.at,
                "signature_id": signature_id, "key_id": key_id, "format": format,
            }));
        }
        out.push(Ok((chain.push(p, version), version)));
    }
    let entries = serde_json::to_string(&chain.entries).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(serde_json::Value::Array(versions).to_string())
        .bind(entries);
    for v in &switches {
        q = q
            .bind(v.next_version)
            .bind(v.document_id.clone())
            .bind(v.expected_current);
    }
    q.execute(pool).await?;
    Ok(Some((out, Some(chain.tail()))))
}

/// A batch's entries, chained on to the log's tail as they are added.
struct Chain {
    /// Time of every entry in the batch.
    at: i64,
    entries: Vec<Entry>,
    seq: i64,
    hash: String,
}

impl Chain {
    fn new((seq, hash): (i64, String), at: i64) -> Self {
        Chain {
            at,
            entries: Vec::new(),
            seq,
            hash,
        }
    }

    /// Adds `p`'s entry (its details get the number of the version it adds, if any); returns
    /// its seq.
    fn push(&mut self, p: &Pending, version: Option<i64>) -> i64 {
        let mut details = p.details.clone();
        if let (Some(n), Some(o)) = (version, details.as_object_mut()) {
            o.insert("version".into(), serde_json::json!(n));
        }
        let e = chained(
            p,
            details.to_string(),
            self.seq,
            std::mem::take(&mut self.hash),
            self.at,
        );
        self.seq = e.seq;
        self.hash = e.hash.clone();
        self.entries.push(e);
        self.seq
    }

    /// The seq and hash of the newest entry.
    fn tail(&self) -> (i64, String) {
        (self.seq, self.hash.clone())
    }
}

/// The entry for `p` after (`prev_seq`, `prev_hash`), with its hash.
fn chained(p: &Pending, details: String, prev_seq: i64, prev_hash: String, at: i64) -> Entry {
    let mut e = Entry {
        seq: prev_seq + 1,
        at,
        actor: p.actor.clone(),
        action: p.action.clone(),
        target: p.target.clone(),
        outcome: p.outcome.clone(),
        details,
        prev_hash,
        hash: String::new(),
    };
    e.hash = entry_hash(&e);
    e
}

/// Most entries in one INSERT statement.
const INSERT_CHUNK: usize = 100;

/// Inserts `entries` in as few statements as possible (one round trip per [`INSERT_CHUNK`]).
async fn insert_entries(conn: &mut sqlx::AnyConnection, entries: &[Entry]) -> Result<(), sqlx::Error> {
    for chunk in entries.chunks(INSERT_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO audit_log (seq, at, actor, action, target, outcome, details, prev_hash, hash) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 9;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.seq)
                .bind(e.at)
                .bind(e.actor.clone())
                .bind(e.action.clone())
                .bind(e.target.clone())
                .bind(e.outcome.clone())
                .bind(e.details.clone())
                .bind(e.prev_hash.clone())
                .bind(e.hash.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
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

/// Signs the current tail of the log with `signer` if `every` entries have passed since the last
/// seal (or always, with `force`). Returns the sealed seq, if a seal was written.
pub async fn seal_if_due(
    db: &Db,
    signer: &dyn signet_crypto::Signer,
    key_id: &str,
    every: i64,
    force: bool,
) -> ApiResult<Option<i64>> {
    let tail = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    let Some(tail) = tail else { return Ok(None) };
    let (seq, hash): (i64, String) = (tail.try_get(0)?, tail.try_get(1)?);
    let last_seal: Option<(i64,)> = sqlx::query_as("SELECT seq FROM audit_seals ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    let last = last_seal.map(|r| r.0).unwrap_or(0);
    if seq <= last || (!force && seq - last < every) {
        return Ok(None);
    }
    let sig = signer.sign(&seal_message(seq, &hash)).map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO audit_seals (seq, at, hash, signature, key_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(seq)
    .bind(signet_pki::time::now())
    .bind(&hash)
    .bind(sig)
    .bind(key_id)
    .execute(&db.writer)
    .await?;
    Ok(Some(seq))
}

/// The outcome of checking the whole log.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// Entries read.
    pub entries: i64,
    /// Seals checked.
    pub seals: i64,
    /// Last sealed seq.
    pub last_sealed: i64,
    /// The first problem: (seq, what is wrong). `None` when the log is intact.
    pub first_problem: Option<(i64, String)>,
}

/// Finds a seal key's SubjectPublicKeyInfo and signature algorithm by key id.
pub type SealKeyLookup<'a> = &'a (dyn Fn(&str) -> Option<(Vec<u8>, signet_crypto::SignatureAlgorithm)> + Sync);

/// Walks the whole chain and every seal. `seal_key` maps a seal's key id to the SubjectPublicKeyInfo
/// and algorithm its signature must verify with.
pub async fn verify(db: &Db, seal_key: SealKeyLookup<'_>) -> ApiResult<Verification> {
    let mut v = Verification {
        entries: 0,
        seals: 0,
        last_sealed: 0,
        first_problem: None,
    };
    let seals = sqlx::query("SELECT seq, hash, signature, key_id FROM audit_seals ORDER BY seq")
        .fetch_all(&db.pool)
        .await?;
    let mut seal_list = Vec::new();
    for s in &seals {
        let seq: i64 = s.try_get(0)?;
        let hash: String = s.try_get(1)?;
        let sig: Vec<u8> = s.try_get(2)?;
        let key_id: String = s.try_get(3)?;
        let ok = seal_key(&key_id).is_some_and(|(spki, alg)| {
            signet_crypto::verify::verify_signature(
                &spki,
                alg,
                &seal_message(seq, &hash),
                &sig,
                &signet_crypto::AlgorithmPolicy::default(),
            )
            .is_ok()
        });
        if !ok && v.first_problem.is_none() {
            v.first_problem = Some((seq, format!("the seal at entry {seq} has an invalid signature")));
        }
        v.seals += 1;
        v.last_sealed = v.last_sealed.max(seq);
        seal_list.push((seq, hash));
    }
    let mut prev_hash = GENESIS.to_string();
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
    Ok(v)
}
