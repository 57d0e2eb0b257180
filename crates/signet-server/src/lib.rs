//! Signet's signing server: users and roles, TOTP step-up, the organisation key and personal
//! keys, documents and their versions, signatures (PAdES, CAdES), a hash-chained audit log, and
//! the HTTP API over all of it.
//!
//! One module per domain noun (`users`, `auth`, `totp`, `keys`, `documents`, `signing`, `audit`),
//! storage in `db` and `blobs`, thin handlers in `http`. Format work is delegated to
//! `signet-pdf` and `signet-cms`; this crate owns the database, the files and the network.
#![forbid(unsafe_code)]

pub mod absences;
pub mod audit;
pub mod auth;
pub mod blobs;
pub mod certificates;
pub mod changes;
pub mod config;
pub mod db;
pub mod doc_types;
pub mod documents;
pub mod error;
pub mod evidence;
pub mod groups;
pub mod http;
pub mod kek;
pub mod keys;
pub mod leases;
pub mod ltv_renewal;
pub mod metrics;
pub mod net;
pub mod notifications;
pub mod private_fs;
pub mod revocation;
pub mod sealing;
pub mod serve;
pub mod settings;
pub mod signing;
pub mod state;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod users;
pub mod validation;
pub mod work;
pub mod workflows;

use std::sync::Arc;

use zeroize::Zeroizing;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use serve::{LISTEN_BACKLOG, listen, serve};
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
    /// Set when this start replaced a seal certificate of an earlier version (not for audit
    /// seals only) with one that is: the new fingerprint, to pin.
    pub seal_replaced: Option<String>,
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
        password_work: Default::default(),
        trusted_proxies,
        signers: Default::default(),
    }));
    let (bootstrap, seal_replaced) = bootstrap(&state)
        .await
        .map_err(|e| format!("first-start setup failed: {}", e.detail))?;
    Ok(Prepared {
        state,
        bootstrap,
        kek_source,
        seal_replaced,
    })
}

/// First-start setup (and upgrades of what earlier versions set up), under an advisory lock on
/// PostgreSQL so that nodes starting together do it once.
async fn bootstrap(state: &AppState) -> ApiResult<(Option<Bootstrap>, Option<String>)> {
    let db = &state.db;
    let mut lock_conn = db.pool.acquire().await?;
    if db.backend == db::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock(70013)")
            .execute(&mut *lock_conn)
            .await?;
    }
    let result = async {
        kek::check(db, &state.kek).await?;
        let unbounded = tokens::unexpiring(db).await?;
        if unbounded > 0 {
            state
                .audit
                .append(&audit::Event {
                    actor: "system",
                    action: "token.expiry",
                    target: "",
                    outcome: "ok",
                    details: serde_json::json!({"tokens": unbounded, "expires_in_days": tokens::DEFAULT_TTL_DAYS, "reason": "tokens made before expiries existed"}),
                })
                .await?;
            tokens::bound_unexpiring(db, signet_pki::time::now()).await?;
            tracing::warn!("{unbounded} API token(s) without an expiry now expire in {} days", tokens::DEFAULT_TTL_DAYS);
        }
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
            sealing::create_seal_key(state).await?;
        }
        if keys::of_kind(db, KeyKind::Evidence).await?.is_none() {
            crate::evidence::create_seal_key(state).await?;
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
        doc_types::ensure_builtins(db).await?;
        let seal_replaced = sealing::ensure_seal_certificate(state).await?;
        if users::any_admin(db).await? {
            return Ok((None, seal_replaced));
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
        Ok((
            Some(Bootstrap {
            username: u.username,
            password,
            seal_fingerprint,
            organisation_key,
        }),
            seal_replaced,
        ))
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
        None,
    )
    .await
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
