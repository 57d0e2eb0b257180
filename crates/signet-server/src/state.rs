//! What every request can reach: database, blobs, the key-encryption key, configuration and
//! metrics.

use std::sync::Arc;

use signet_crypto::envelope::Kek;

use crate::blobs::BlobStore;
use crate::config::Config;
use crate::db::Db;
use crate::metrics::Metrics;

/// The audit log, with signed document versions and workflow changes as what may be attached
/// to an entry.
pub type AuditLog = crate::audit::Log<crate::changes::Change>;

/// Shared server state (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// Database.
    pub db: Db,
    /// The audit log's writer.
    pub audit: AuditLog,
    /// Document blobs.
    pub blobs: BlobStore,
    /// Key-encryption key for private keys and TOTP secrets.
    pub kek: Kek,
    /// Configuration in effect.
    pub config: Config,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// The clock one-time codes are checked against.
    pub clock: Clock,
    /// Anonymous failures, counted per source and minute (see [`crate::audit::Tally`]).
    pub anonymous: crate::audit::Tally,
    /// Failed attempts per client address (see [`crate::throttle`]).
    pub sources: crate::throttle::Sources,
    /// Turns for heavy work (see [`crate::work`]).
    pub work: crate::work::Work,
    /// Turns for password hashing, apart (signing that waits on a slow TSA never starves logins).
    pub password_work: crate::work::Work,
    /// The trusted reverse proxies, parsed.
    pub trusted_proxies: Vec<crate::http::client::Cidr>,
    /// Signers of the server's keys, by key id (see [`crate::keys::signer`]): held behind the
    /// one `Signer` trait, so a key on a PKCS#11 token or a remote signer slots in unseen.
    pub signers: std::sync::Mutex<std::collections::HashMap<String, Arc<dyn signet_crypto::Signer>>>,
}

/// Wall-clock time with an adjustable offset: tests move it forward to reach the next TOTP
/// step without waiting 30 seconds. Always zero in a running server.
#[derive(Default)]
pub struct Clock {
    offset: std::sync::atomic::AtomicI64,
}

impl Clock {
    /// Unix time now (plus the offset).
    pub fn now(&self) -> i64 {
        signet_pki::time::now() + self.offset.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Moves the clock forward by `secs` (tests).
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, std::sync::atomic::Ordering::Relaxed);
    }
}

impl AppState {
    /// The time one-time codes are checked against.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
