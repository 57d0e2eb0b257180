//! Signet's signing server: users and roles, TOTP step-up, the organisation key and personal
//! keys, documents and their versions, signatures (PAdES, CAdES), a hash-chained audit log, and
//! the HTTP API over all of it.
//!
//! One module per domain noun (`users`, `auth`, `totp`, `keys`, `documents`, `signing`, `audit`),
//! storage in `db` and `blobs`, thin handlers in `http`. Format work is delegated to
//! `signet-pdf` and `signet-cms`; this crate owns the database, the files and the network.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod blobs;
pub mod certificates;
pub mod config;
pub mod db;
pub mod documents;
pub mod error;
pub mod http;
pub mod kek;
pub mod keys;
pub mod leases;
pub mod ltv_renewal;
pub mod metrics;
pub mod net;
pub mod private_fs;
pub mod revocation;
pub mod sealing;
pub mod settings;
pub mod signing;
pub mod state;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod users;
pub mod validation;
pub mod work;

use std::sync::Arc;

use zeroize::Zeroizing;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use state::AppState;

use crate::keys::KeyKind;
use crate::users::{NewUser, Role};

/// Credentials created on first start, to print once.
pub struct Bootstrap {
    /// The administrator's username.
    pub username: String,
    /// Their one-time password.
    pub password: Zeroizing<String>,
    /// SHA-256 fingerprint of the audit seal certificate, to pin outside the server.
    pub seal_fingerprint: String,
    /// The organisation key's id and who may use it for what.
    pub organisation_key: (String, String),
}

/// A started (not yet listening) server.
pub struct Prepared {
    /// The state to serve.
    pub state: AppState,
    /// Set when this start created the administrator.
    pub bootstrap: Option<Bootstrap>,
    /// Where the key-encryption key came from.
    pub kek_source: kek::KekSource,
}

/// Opens everything: data directory, key-encryption key, database (migrated), blob store; on
/// first start creates the organisation CA, the organisation key, the audit seal key and an
/// administrator with a one-time password.
pub async fn prepare(config: Config) -> Result<Prepared, String> {
    private_fs::create_dir(&config.data_dir)
        .map_err(|e| format!("cannot create the data directory {}: {e}", config.data_dir.display()))?;
    if config.database_url.is_none() {
        // The embedded database: created the owner's alone (its journal files take its mode).
        private_fs::ensure_private_file(&config.data_dir.join("signet.db"), true)
            .map_err(|e| format!("cannot create the database file: {e}"))?;
    }
    let trusted_proxies = config
        .trusted_proxies
        .iter()
        .map(|p| http::client::Cidr::parse(p).map_err(|e| format!("trusted_proxies: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let db = db::Db::connect(&config.database_url()).await?;
    db.migrate().await?;
    let (kek, kek_source) = kek::load(&config, &db).await?;
    let audit = state::AuditLog::start(&db).await?;
    let blobs = blobs::BlobStore::open(config.blob_dir())
        .map_err(|e| format!("cannot open the blob directory {}: {e}", config.blob_dir().display()))?;
    let state = AppState(Arc::new(state::Inner {
        db,
        audit,
        blobs,
        kek,
        config,
        metrics: metrics::Metrics::default(),
        clock: state::Clock::default(),
        anonymous: Default::default(),
        sources: Default::default(),
        work: Default::default(),
        trusted_proxies,
        signers: Default::default(),
    }));
    let bootstrap = bootstrap(&state)
        .await
        .map_err(|e| format!("first-start setup failed: {}", e.detail))?;
    Ok(Prepared {
        state,
        bootstrap,
        kek_source,
    })
}

async fn bootstrap(state: &AppState) -> ApiResult<Option<Bootstrap>> {
    let db = &state.db;
    let mut lock_conn = db.pool.acquire().await?;
    if db.backend == db::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock(70013)")
            .execute(&mut *lock_conn)
            .await?;
    }
    let result = async {
        kek::check(db, &state.kek).await?;
        let org = state.config.organisation.clone();
        if keys::of_kind(db, KeyKind::Ca).await?.is_none() {
            keys::create_ca(state).await?;
        }
        if keys::of_kind(db, KeyKind::Organisation).await?.is_none() {
            let subject = signet_pki::name::SubjectSpec {
                common_name: org.clone(),
                organization: Some(org.clone()),
                ..Default::default()
            };
            keys::create_certified(
                state,
                KeyKind::Organisation,
                None,
                &format!("{org} (organisation key)"),
                subject,
                "signer,approver,admin",
                signet_crypto::KeyAlgorithm::EcdsaP256,
            )
            .await?;
        }
        if keys::of_kind(db, KeyKind::Seal).await?.is_none() {
            let subject = signet_pki::name::SubjectSpec {
                common_name: format!("{org} audit seal"),
                organization: Some(org.clone()),
                ..Default::default()
            };
            keys::create_certified(
                state,
                KeyKind::Seal,
                None,
                "Audit log seal",
                subject,
                "",
                signet_crypto::KeyAlgorithm::EcdsaP256,
            )
            .await?;
        }
        if keys::of_kind(db, KeyKind::Tsa).await?.is_none() {
            let subject = signet_pki::name::SubjectSpec {
                common_name: format!("{org} TSA"),
                organization: Some(org.clone()),
                ..Default::default()
            };
            keys::create_certified(
                state,
                KeyKind::Tsa,
                None,
                "Time-stamping authority",
                subject,
                "",
                signet_crypto::KeyAlgorithm::EcdsaP256,
            )
            .await?;
        }
        revocation::backfill(state).await?;
        if users::any_admin(db).await? {
            return Ok(None);
        }
        let password = users::random_password()?;
        let u = users::create(
            db,
            &NewUser {
                username: "admin",
                display_name: "Administrator",
                email: None,
                roles: &[Role::Admin],
                password: Some(&password),
            },
        )
        .await?;
        state
            .audit
            .append(&audit::Event {
                actor: "system",
                action: "user.create",
                target: &u.id,
                outcome: "ok",
                details: serde_json::json!({"username": "admin", "roles": ["admin"], "reason": "first start"}),
            })
            .await?;
        let seal_fingerprint = keys::newest_enabled(db, KeyKind::Seal)
            .await?
            .map(|k| k.fingerprint)
            .unwrap_or_default();
        let organisation_key = keys::of_kind(db, KeyKind::Organisation)
            .await?
            .map(|k| (k.id.clone(), k.usable_by))
            .unwrap_or_default();
        Ok(Some(Bootstrap {
            username: u.username,
            password,
            seal_fingerprint,
            organisation_key,
        }))
    }
    .await;
    if db.backend == db::Backend::Postgres {
        let _ = sqlx::query("SELECT pg_advisory_unlock(70013)")
            .execute(&mut *lock_conn)
            .await;
    }
    result
}

/// Checks the audit log's chain and seals with the seal keys in the database (now, and no
/// unsealed entry older than the default `audit_max_unsealed_secs`).
pub async fn verify_audit_log(db: &db::Db) -> ApiResult<audit::Verification> {
    sealing::verify_log(
        db,
        &sealing::SealTrust::Database,
        signet_pki::time::now(),
        Config::default().audit_max_unsealed_secs,
    )
    .await
}

/// Connections waiting to be accepted at most (the listen backlog; the kernel caps it at
/// `net.core.somaxconn`). The standard library's 128 turns a burst of a few hundred clients
/// into dropped handshakes and connection resets.
pub const LISTEN_BACKLOG: u32 = 4096;

/// A listening socket on `addr` with a backlog of [`LISTEN_BACKLOG`].
pub async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other(format!("{addr} names no address"))))
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets requests in progress
/// finish (at most 30 s).
///
/// Each connection must send its request headers within `header_read_timeout_secs` (a client
/// dripping them is cut off); at most `max_connections` are open at once (more wait in the
/// listen backlog). Alongside: the audit sealer, the flush of anonymous failure counts every
/// minute, and the archive renewal job.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let sealer = tokio::spawn(sealing::sealing_task(state.clone(), rx.clone()));
    let tally = tokio::spawn(flush_anonymous(state.clone(), rx));
    let renewal = (state.config.ltv_renewal_every_secs > 0).then(|| {
        tokio::spawn(ltv_renewal::schedule(
            state.clone(),
            state.config.ltv_renewal_every_secs,
            state.config.ltv_renewal_window_days,
        ))
    });
    let app = http::router(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(state.config.max_connections));
    let header_timeout = std::time::Duration::from_secs(state.config.header_read_timeout_secs);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let Ok(slot) = connections.clone().acquire_owned().await else {
            break;
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, do not spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(router.clone(), req.map(axum::body::Body::new))
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
            tracing::warn!("requests still in progress after 30 s were cut off");
        }
    }
    let _ = tx.send(true);
    let _ = sealer.await;
    let _ = tally.await;
    if let Some(r) = renewal {
        r.abort();
    }
    Ok(())
}

/// Writes the anonymous failure counts to the audit log every minute and at shutdown.
async fn flush_anonymous(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => break,
        }
        if let Err(e) = state.anonymous.flush(&state.audit).await {
            tracing::warn!("could not write anonymous failure counts: {}", e.detail);
        }
    }
    if let Err(e) = state.anonymous.flush(&state.audit).await {
        tracing::warn!("could not write anonymous failure counts: {}", e.detail);
    }
}

/// Recovery from the server's console (`signet user reset-password`): a new one-time password
/// for `username`, all lock-outs cleared, audited as done by `console`. For the administrator who
/// forgot their password or locked themselves out.
pub async fn reset_account(db: &db::Db, username: &str) -> ApiResult<Zeroizing<String>> {
    let id = users::id_of(db, username)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {username:?}")))?;
    let log = state::AuditLog::start(db).await.map_err(ApiError::unavailable)?;
    log.append(&audit::Event {
        actor: "console",
        action: "password.reset",
        target: &id,
        outcome: "ok",
        details: serde_json::json!({"username": username, "via": "signet user reset-password"}),
    })
    .await?;
    let password = users::random_password()?;
    users::set_password(db, &id, &password, true).await?;
    users::unlock(db, &id).await?;
    tokens::revoke_all_of(db, &id).await?;
    Ok(password)
}
