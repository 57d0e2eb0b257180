//! The database: SQLite (embedded, the default) or PostgreSQL (several nodes), behind one
//! `sqlx::AnyPool`, with versioned migrations for both.
//!
//! Queries use `$1…` placeholders, which both backends accept; values are TEXT, BIGINT and
//! BLOB/BYTEA only (times are Unix seconds, flags 0/1).

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::ApiError;

/// Which database engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file in the data directory.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The connection pool and its backend (Debug shows no connection options: they hold the
/// database password).
#[derive(Clone)]
pub struct Db {
    /// The pool for reads.
    pub pool: AnyPool,
    /// The pool for writes: on SQLite a single connection, so that writers queue in the server
    /// (first come, first served) instead of sleeping in SQLite's busy handler; on PostgreSQL
    /// the same pool as `pool`.
    pub writer: AnyPool,
    /// The backend.
    pub backend: Backend,
    /// How to connect again (for connections of their own, see [`Db::dedicated_writer`]).
    options: AnyConnectOptions,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// A migration: version and its SQL (statements separated by `;`), written for SQLite; the only
/// difference PostgreSQL needs, `BLOB` → `BYTEA`, is made when it is applied.
struct Migration {
    version: i64,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/0002_revocation.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/0003_signature_level.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/0004_token_scopes.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/0005_approvals.sql"),
    },
];

/// The SQL of a migration for `backend`.
fn for_backend(sql: &str, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => sql.to_string(),
        Backend::Postgres => sql.replace(" BLOB", " BYTEA"),
    }
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Db, String> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(format!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://…"
            ));
        };
        let opts = AnyConnectOptions::from_str(url).map_err(|e| format!("database URL: {e}"))?;
        let pool = Self::pool_options(backend, if backend == Backend::Sqlite { 8 } else { 16 })
            .connect_with(opts.clone())
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?;
        // SQLite: one writer connection for every write (no busy waiting). PostgreSQL: writes
        // go through the pool.
        let writer = match backend {
            Backend::Sqlite => Self::pool_options(backend, 1)
                .connect_with(opts.clone())
                .await
                .map_err(|e| format!("cannot open the database: {e}"))?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Db {
            pool,
            writer,
            backend,
            options: opts,
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), ApiError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A pool for one writer task of its own (the audit log's): on SQLite the one writer
    /// connection every write shares; on PostgreSQL a connection of its own, so the task never
    /// queues behind request handlers for one and keeps its prepared statements warm.
    pub async fn dedicated_writer(&self) -> Result<AnyPool, String> {
        match self.backend {
            Backend::Sqlite => Ok(self.writer.clone()),
            Backend::Postgres => Self::pool_options(self.backend, 1)
                .connect_with(self.options.clone())
                .await
                .map_err(|e| format!("cannot open the database: {e}")),
        }
    }

    fn pool_options(backend: Backend, max: u32) -> AnyPoolOptions {
        let mut pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL for readers beside the writer; FULL so that a committed audit entry
                    // or version switch survives power loss; wait for the writer lock.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        }
        pool
    }

    /// Applies the migrations not applied yet (PostgreSQL: under an advisory lock, so several
    /// nodes starting at once migrate once).
    pub async fn migrate(&self) -> Result<(), String> {
        let mut conn = self.writer.acquire().await.map_err(|e| e.to_string())?;
        if self.backend == Backend::Postgres {
            conn.execute("SELECT pg_advisory_lock(70011)")
                .await
                .map_err(|e| e.to_string())?;
        }
        let result = async {
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .await?;
            for m in MIGRATIONS {
                let done: Option<(i64,)> = sqlx::query_as("SELECT version FROM schema_version WHERE version = $1")
                    .bind(m.version)
                    .fetch_optional(&mut *conn)
                    .await?;
                if done.is_some() {
                    continue;
                }
                let sql = for_backend(m.sql, self.backend);
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    tx.execute(sqlx::AssertSqlSafe(stmt.to_string())).await?;
                }
                sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)")
                    .bind(m.version)
                    .bind(signet_pki::time::now())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
        if self.backend == Backend::Postgres {
            let _ = conn.execute("SELECT pg_advisory_unlock(70011)").await;
        }
        result.map_err(|e| format!("migration failed: {e}"))
    }

    /// Begins a write transaction (SQLite: `BEGIN IMMEDIATE`, so that two writers never deadlock
    /// on a lock upgrade).
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, ApiError> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_schema_for_both_backends() {
        for m in MIGRATIONS {
            let pg = for_backend(m.sql, Backend::Postgres);
            assert!(!pg.contains(" BLOB"), "migration {}", m.version);
            assert_eq!(for_backend(m.sql, Backend::Sqlite), m.sql);
        }
        assert!(for_backend(MIGRATIONS[0].sql, Backend::Postgres).contains("totp_secret BYTEA"));
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }
}
