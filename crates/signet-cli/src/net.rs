//! The CLI's outbound HTTP: one client for URLs the user named (`--tsa`, `--server`, an OCSP
//! `--url`) and one under the fetch policy for URLs found in certificates, both built once
//! from the global `--ca-bundle` (or `SIGNET_CA_BUNDLE`) and `--allow-private-fetch`; and the
//! revocation fetcher with the on-disk cache. Every fetch is printed to stderr with its outcome.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use signet_net::{ClientOptions, FetchPolicy, HttpClient, NetFetcher};

use crate::exit::{CliError, CliResult};

/// Settings from the command line.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Extra CA certificates for https.
    pub ca_bundle: Option<PathBuf>,
    /// Let certificate URLs reach loopback/private/link-local addresses.
    pub allow_private_fetch: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();
static USER_CLIENT: OnceLock<Result<HttpClient, String>> = OnceLock::new();
static FETCH_CLIENT: OnceLock<Result<HttpClient, String>> = OnceLock::new();

/// Records the settings (once, from `main`).
pub fn configure(s: Settings) {
    let _ = SETTINGS.set(s);
}

fn settings() -> Settings {
    SETTINGS.get().cloned().unwrap_or_default()
}

fn build(policy: Option<FetchPolicy>) -> Result<HttpClient, String> {
    let s = settings();
    let mut opts = ClientOptions {
        policy,
        ..Default::default()
    };
    if let Some(p) = &s.ca_bundle {
        opts = opts.with_ca_bundle_file(p).map_err(|e| e.to_string())?;
    }
    HttpClient::new(&opts).map_err(|e| e.to_string())
}

/// The client for URLs the user gave.
pub fn user_client() -> CliResult<&'static HttpClient> {
    USER_CLIENT
        .get_or_init(|| build(None))
        .as_ref()
        .map_err(|e| CliError::input(e.clone()))
}

/// The client for URLs from certificates (the fetch policy applies).
pub fn fetch_client() -> CliResult<&'static HttpClient> {
    FETCH_CLIENT
        .get_or_init(|| {
            build(Some(FetchPolicy {
                allow_private: settings().allow_private_fetch,
            }))
        })
        .as_ref()
        .map_err(|e| CliError::input(e.clone()))
}

/// A revocation fetcher for CRLs and/or OCSP, with the user's disk cache; events to stderr.
pub fn fetcher(crls: bool, ocsp: bool) -> CliResult<Arc<NetFetcher>> {
    let log: signet_net::revocation::FetchLog = Arc::new(|e| eprintln!("signet: {e}"));
    Ok(Arc::new(
        NetFetcher::new(fetch_client()?.clone(), crls, ocsp, log)
            .with_disk_cache(signet_net::cache::DiskCache::default_for_user()),
    ))
}

/// A time-stamp token for `data` from the TSA at `url` (the Stamper the signers take).
pub fn stamp(url: &str, hash: signet_crypto::HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, String> {
    let client = user_client().map_err(|e| e.message)?;
    signet_net::tsa::stamp(client, url, hash, data).map_err(|e| e.to_string())
}

/// A time-stamp token for a digest (document timestamps).
pub fn stamp_digest(url: &str, hash: signet_crypto::HashAlgorithm, digest: &[u8]) -> Result<Vec<u8>, String> {
    let client = user_client().map_err(|e| e.message)?;
    signet_net::tsa::stamp_digest(client, url, hash, digest).map_err(|e| e.to_string())
}
