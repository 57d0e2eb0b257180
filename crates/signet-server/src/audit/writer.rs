//! The audit log's writer: one task per process commits queued entries together (group
//! commit), each with the write attached to it, if any, in the same transaction — the entry
//! exists if and only if what it records does.
//!
//! The writer knows nothing of what is attached: the domain that owns the attached rows (the
//! documents, for a signed version) implements [`Attachment`]. The queue is bounded, so a
//! flood of requests waits for the log instead of growing memory without end.

use std::future::Future;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::chain::{Chain, Entry, GENESIS, Record};
use super::{Event, client_details};
use crate::db::{Backend, Db};
use crate::error::{ApiError, ApiResult};

/// A write committed in the same transaction as its audit entry (a signed document's new
/// version): the entry exists if and only if the write does.
pub trait Attachment: Send + Sync + Sized + 'static {
    /// Writes inside the writer's transaction, at time `at`; returns the number of what was
    /// written (recorded as `version` in the entry's details). `Ok(Err(_))`: a conflict found
    /// before anything was written; this item fails alone and gets no entry.
    fn write(
        &self,
        conn: &mut sqlx::AnyConnection,
        at: i64,
        backend: Backend,
    ) -> impl Future<Output = Result<Result<i64, ApiError>, sqlx::Error>> + Send;

    /// The number [`Attachment::write`] is expected to return, used by the one-statement path.
    fn expected_number(&self) -> i64;

    /// PostgreSQL: a batch's attachments as the leading common table expressions of one
    /// statement (parameters `$1…$n`), or `None` when this batch must go the transactional
    /// way. The statement must fail as a whole — SQLSTATE [`CONFLICT_SQLSTATE`] or a unique
    /// violation — if any item conflicts.
    fn one_statement(items: &[&Self], at: i64) -> Option<BatchStatement>;
}

/// Part of a one-statement batch contributed by its attachments.
#[derive(Debug, Default)]
pub struct BatchStatement {
    /// Common table expressions, each followed by `, ` (may be empty).
    pub ctes: String,
    /// Their parameters, `$1` first.
    pub params: Vec<Param>,
    /// An SQL expression of type bigint, evaluated after the CTEs, that fails the statement on
    /// a conflict (`"0"` when there is nothing to check).
    pub guard: String,
}

/// A statement parameter.
#[derive(Clone, Debug)]
pub enum Param {
    /// Text.
    Text(String),
    /// A number.
    Int(i64),
}

/// The SQLSTATE a one-statement batch fails with when an attachment conflicts
/// (`invalid_text_representation`, raised on purpose by casting a word to a number).
pub const CONFLICT_SQLSTATE: &str = "22P02";

/// Nothing attached (entries only).
impl Attachment for () {
    async fn write(
        &self,
        _: &mut sqlx::AnyConnection,
        _: i64,
        _: Backend,
    ) -> Result<Result<i64, ApiError>, sqlx::Error> {
        Ok(Ok(0))
    }
    fn expected_number(&self) -> i64 {
        0
    }
    fn one_statement(_: &[&Self], _: i64) -> Option<BatchStatement> {
        Some(BatchStatement {
            guard: "0".into(),
            ..Default::default()
        })
    }
}

/// An event waiting in the queue, with the channel its sequence number (or the failure) goes
/// back on.
struct Pending<A> {
    record: Record,
    attached: Option<A>,
    reply: oneshot::Sender<ApiResult<(i64, Option<i64>)>>,
}

/// Entries waiting for the writer at most; more callers wait for room (back-pressure).
pub const QUEUE_CAPACITY: usize = 4096;

/// Most entries committed together.
const MAX_BATCH: usize = 256;

/// The audit log: where entries are appended (cheap to clone).
pub struct Log<A> {
    queue: mpsc::Sender<Pending<A>>,
}

impl<A> Clone for Log<A> {
    fn clone(&self) -> Self {
        Log {
            queue: self.queue.clone(),
        }
    }
}

impl<A> std::fmt::Debug for Log<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log").finish_non_exhaustive()
    }
}

impl<A: Attachment> Log<A> {
    /// Starts the writer task on a connection of its own to `db`'s database.
    pub async fn start(db: &Db) -> Result<Log<A>, String> {
        let pool = db.dedicated_writer().await?;
        let backend = db.backend;
        let (queue, rx) = mpsc::channel::<Pending<A>>(QUEUE_CAPACITY);
        tokio::spawn(run(pool, backend, rx));
        Ok(Log { queue })
    }

    /// Appends an event and returns its sequence number once it is committed (durably: the
    /// database's own commit). Concurrent appends are committed together. An error means the
    /// entry is not in the log: the caller must not go on.
    pub async fn append(&self, ev: &Event<'_>) -> ApiResult<i64> {
        self.enqueue(ev, None).await.map(|(seq, _)| seq)
    }

    /// Appends an event and `attached` in the same transaction; returns (seq, the number the
    /// attachment wrote, also added to the entry's details as `version`).
    pub async fn append_with(&self, ev: &Event<'_>, attached: A) -> ApiResult<(i64, i64)> {
        let (seq, n) = self.enqueue(ev, Some(attached)).await?;
        Ok((
            seq,
            n.ok_or_else(|| ApiError::internal("no number from the attached write"))?,
        ))
    }

    async fn enqueue(&self, ev: &Event<'_>, attached: Option<A>) -> ApiResult<(i64, Option<i64>)> {
        let stopped = || ApiError::unavailable("the audit log writer has stopped; nothing was done");
        let (reply, answer) = oneshot::channel();
        let mut details = ev.details.clone();
        client_details(&mut details);
        let record = Record {
            actor: ev.actor.to_string(),
            action: ev.action.to_string(),
            target: ev.target.to_string(),
            outcome: ev.outcome.to_string(),
            details,
        };
        self.queue
            .send(Pending {
                record,
                attached,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer task: takes what is queued, commits it in batches.
async fn run<A: Attachment>(pool: sqlx::AnyPool, backend: Backend, mut rx: mpsc::Receiver<Pending<A>>) {
    // The log's tail as this writer last committed it: the next batch chains on to it without
    // reading it back. If anything else appended meanwhile, the primary key on seq refuses the
    // insert and the batch is retried on the tail read from the database.
    let mut tail: Option<(i64, String)> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
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
                // Another node (or process) appended since our last batch, or raced us for the
                // same seq: retry on the tail read afresh.
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
                for (p, r) in batch.drain(..).zip(per_item) {
                    let _ = p.reply.send(r);
                }
            }
            Err(e) => {
                for p in batch.drain(..) {
                    let _ = p.reply.send(Err(ApiError {
                        status: e.status,
                        title: e.title,
                        detail: e.detail.clone(),
                        retry_after: e.retry_after,
                        audited: e.audited,
                    }));
                }
            }
        }
    }
}

/// What one queued item ends in.
type ItemResult = ApiResult<(i64, Option<i64>)>;

/// A batch's results and the log's new tail.
type Written = (Vec<ItemResult>, Option<(i64, String)>);

/// Writes a batch in one transaction, chained on to `tail` (seq and hash of the newest entry)
/// when the caller knows it, else on the tail read from the database. An item whose attachment
/// conflicts fails alone (it has written nothing when the conflict is found, and gets no
/// entry). The outer error is a database failure that fails the whole batch.
async fn write_batch<A: Attachment>(
    pool: &sqlx::AnyPool,
    backend: Backend,
    batch: &[Pending<A>],
    mut tail: Option<(i64, String)>,
) -> Result<Written, sqlx::Error> {
    // PostgreSQL with the tail known: the whole batch is one statement, which commits on its
    // own — one round trip. It fails as a whole on another node's append in between (seq
    // collides) or on a conflicting attachment; then the batch goes the transactional way
    // below, on the tail read afresh, where each item fails alone.
    if backend == Backend::Postgres
        && let Some(known) = tail.take()
    {
        match write_in_one_statement(pool, batch, known).await {
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
        let mut number = None;
        if let Some(a) = &p.attached {
            // A conflict is found before this item writes anything, so the rest of the batch
            // goes on without it.
            match a.write(&mut tx, chain.at, backend).await? {
                Ok(n) => number = Some(n),
                Err(conflict) => {
                    out.push(Err(conflict));
                    continue;
                }
            }
        }
        out.push(Ok((chain.push(&p.record, number), number)));
    }
    insert_entries(&mut tx, &chain.entries).await?;
    tx.commit().await?;
    Ok((out, Some(chain.tail())))
}

/// PostgreSQL: a batch as one statement — the attachments' common table expressions, then the
/// entries inserted from a JSON array — which commits on its own. Attachments take the numbers
/// they expect; a number taken meanwhile or a conflict fails the statement whole.
/// `Ok(None)`: the batch is not for this path.
async fn write_in_one_statement<A: Attachment>(
    pool: &sqlx::AnyPool,
    batch: &[Pending<A>],
    tail: (i64, String),
) -> Result<Option<Written>, sqlx::Error> {
    let attached: Vec<&A> = batch.iter().filter_map(|p| p.attached.as_ref()).collect();
    let at = signet_pki::time::now();
    let Some(part) = A::one_statement(&attached, at) else {
        return Ok(None);
    };
    let mut chain = Chain::new(tail, at);
    let mut out = Vec::with_capacity(batch.len());
    for p in batch {
        let number = p.attached.as_ref().map(Attachment::expected_number);
        out.push(Ok((chain.push(&p.record, number), number)));
    }
    let entries = serde_json::to_string(&chain.entries).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let sql = format!(
        "WITH {}aud AS (INSERT INTO audit_log (seq, at, actor, action, target, outcome, details, prev_hash, hash) \
         SELECT seq, at, actor, action, target, outcome, details, prev_hash, hash FROM json_to_recordset(${}::json) \
         AS a(seq bigint, at bigint, actor text, action text, target text, outcome text, details text, \
         prev_hash text, hash text) RETURNING 1) \
         SELECT ({}) + (SELECT count(*) FROM aud)",
        part.ctes,
        part.params.len() + 1,
        part.guard
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for p in part.params {
        q = match p {
            Param::Text(s) => q.bind(s),
            Param::Int(n) => q.bind(n),
        };
    }
    q.bind(entries).execute(pool).await?;
    Ok(Some((out, Some(chain.tail()))))
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
            sql.push('(');
            for k in 1..=9 {
                if k > 1 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", b + k));
            }
            sql.push(')');
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
