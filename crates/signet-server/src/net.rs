//! The server's outbound HTTP clients (an external TSA; revocation fetching for `/verify`),
//! built from the configuration on first use and kept for the life of the process: a blocking
//! reqwest client must not be dropped on an async worker, so these never are. Call from
//! blocking code (`spawn_blocking`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use signet_net::{FetchPolicy, HttpClient, NetFetcher};

use crate::config::Config;

type Key = (Option<bool>, Option<PathBuf>);

static CLIENTS: OnceLock<Mutex<HashMap<Key, HttpClient>>> = OnceLock::new();
static FETCHERS: OnceLock<Mutex<HashMap<Key, Arc<NetFetcher>>>> = OnceLock::new();

fn client(config: &Config, policy: Option<FetchPolicy>) -> Result<HttpClient, String> {
    let key = (policy.map(|p| p.allow_private), config.ca_bundle.clone());
    let map = CLIENTS.get_or_init(Mutex::default);
    if let Some(c) = map.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(c);
    }
    let mut opts = config.client_options()?;
    opts.policy = policy;
    let c = HttpClient::new(&opts).map_err(|e| e.to_string())?;
    if let Ok(mut m) = map.lock() {
        m.entry(key).or_insert_with(|| c.clone());
    }
    Ok(c)
}

/// The client for URLs the operator configured (an external TSA).
pub fn user_client(config: &Config) -> Result<HttpClient, String> {
    client(config, None)
}

/// The client webhooks are delivered with: the fetch policy applies (no loopback, private or
/// link-local targets unless `webhook_allow_private`).
pub fn webhook_client(config: &Config) -> Result<HttpClient, String> {
    client(
        config,
        Some(FetchPolicy {
            allow_private: config.webhook_allow_private,
        }),
    )
}

/// The revocation fetcher for `/verify` (CRLs and OCSP under the fetch policy; fetches logged).
pub fn fetcher(config: &Config) -> Result<Arc<NetFetcher>, String> {
    let policy = FetchPolicy {
        allow_private: config.allow_private_fetch,
    };
    let key = (Some(policy.allow_private), config.ca_bundle.clone());
    let map = FETCHERS.get_or_init(Mutex::default);
    if let Some(f) = map.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(f);
    }
    let log: signet_net::revocation::FetchLog = Arc::new(|e| tracing::info!(target: "signet::fetch", "{e}"));
    let f = Arc::new(NetFetcher::new(client(config, Some(policy))?, true, true, log));
    if let Ok(mut m) = map.lock() {
        m.entry(key).or_insert_with(|| f.clone());
    }
    Ok(f)
}
