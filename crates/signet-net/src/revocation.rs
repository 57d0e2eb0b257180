//! Revocation data from the network: CRLs from a certificate's distribution points and OCSP
//! answers from the responder in its Authority Information Access, under the fetch policy.
//!
//! [`NetFetcher`] is the [`RevocationFetcher`] path validation pulls from, and what
//! `sign --level B-LT` and `ltv add` use to gather long-term validation data. Fetched data is
//! remembered in memory until its nextUpdate and a failure for five minutes (bounded), so a
//! batch fetches each URL once and a long-running server refetches when due; with a
//! [`DiskCache`], a CRL is
//! reused while its nextUpdate lies ahead (one without nextUpdate for an hour), and an OCSP
//! answer while its nextUpdate lies ahead and it still verifies (one without nextUpdate is
//! never reused: it speaks only for the moment it was made). Every fetch is reported to the
//! caller's log with its outcome.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signet_pki::ocsp::Response;
use signet_pki::{Certificate, Crl, Fetched, RevocationFetcher};

use crate::cache::DiskCache;
use crate::{HttpClient, NetError, Request};

/// Largest CRL fetched.
pub const MAX_CRL: u64 = 32 << 20;
/// Largest OCSP response fetched.
pub const MAX_OCSP: u64 = 1 << 20;
/// How long one fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How long a cached CRL without nextUpdate is reused.
const NO_NEXT_UPDATE_TTL: u64 = 3600;

/// What happened to one fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Fetched and usable.
    Fetched,
    /// Taken from the disk cache.
    Cached,
    /// Not attempted: the policy refuses the URL.
    Refused(String),
    /// Attempted and failed.
    Failed(String),
}

/// One fetch, for the log.
#[derive(Clone, Debug)]
pub struct FetchEvent {
    /// "CRL" or "OCSP".
    pub kind: &'static str,
    /// The URL (control characters escaped).
    pub url: String,
    /// The certificate asked about.
    pub subject: String,
    /// The outcome.
    pub outcome: FetchOutcome,
}

impl std::fmt::Display for FetchEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            "OCSP" => format!("OCSP {} for {}", self.url, self.subject),
            k => format!("{k} {}", self.url),
        };
        match &self.outcome {
            FetchOutcome::Fetched => write!(f, "{what}"),
            FetchOutcome::Cached => write!(f, "{what} (cached)"),
            FetchOutcome::Refused(why) => write!(f, "warning: not fetching {what}: {why}"),
            FetchOutcome::Failed(why) => write!(f, "warning: {what}: {why}"),
        }
    }
}

/// Where fetch events go.
pub type FetchLog = Arc<dyn Fn(&FetchEvent) + Send + Sync>;

/// Fetches CRLs and OCSP answers.
pub struct NetFetcher {
    client: HttpClient,
    crls: bool,
    ocsp: bool,
    disk: Option<DiskCache>,
    log: FetchLog,
    crl_memo: Mutex<HashMap<String, Memo<Crl>>>,
    ocsp_memo: Mutex<HashMap<Vec<u8>, Memo<Response>>>,
}

/// A remembered outcome and until when it may be reused: data until its nextUpdate, a
/// failure for a few minutes (a server's fetcher lives as long as the process).
#[derive(Clone)]
struct Memo<T> {
    value: Option<T>,
    until: i64,
}

/// How long a failed fetch is remembered, and data without nextUpdate reused.
const MEMO_SECS: i64 = 300;
/// Most remembered outcomes per kind; beyond it the memory is cleared.
const MEMO_MAX: usize = 4096;

fn recall<K: std::hash::Hash + Eq, T: Clone>(m: &Mutex<HashMap<K, Memo<T>>>, k: &K, now: i64) -> Option<Option<T>> {
    let m = m.lock().ok()?;
    m.get(k).filter(|e| now < e.until).map(|e| e.value.clone())
}

fn remember<K: std::hash::Hash + Eq, T>(m: &Mutex<HashMap<K, Memo<T>>>, k: K, value: Option<T>, until: i64) {
    if let Ok(mut m) = m.lock() {
        if m.len() >= MEMO_MAX {
            m.clear();
        }
        m.insert(k, Memo { value, until });
    }
}

impl NetFetcher {
    /// A fetcher on `client` (built with the fetch policy) that asks for CRLs and/or OCSP.
    pub fn new(client: HttpClient, crls: bool, ocsp: bool, log: FetchLog) -> Self {
        NetFetcher {
            client,
            crls,
            ocsp,
            disk: None,
            log,
            crl_memo: Mutex::default(),
            ocsp_memo: Mutex::default(),
        }
    }

    /// Also keeps fetched data on disk and reuses it while fresh.
    pub fn with_disk_cache(mut self, cache: DiskCache) -> Self {
        self.disk = Some(cache);
        self
    }

    fn event(&self, kind: &'static str, url: &str, cert: &Certificate, outcome: FetchOutcome) {
        (self.log)(&FetchEvent {
            kind,
            url: crate::policy::printable(url),
            subject: cert.display_name(),
            outcome,
        });
    }

    /// The CRLs at `cert`'s distribution points (each URL once per run).
    pub fn crls_for(&self, cert: &Certificate) -> Vec<Crl> {
        let mut out = Vec::new();
        for url in cert.crl_urls().unwrap_or_default() {
            if let Some(c) = self.crl(&url, cert) {
                out.push(c);
            }
        }
        out
    }

    fn crl(&self, url: &str, cert: &Certificate) -> Option<Crl> {
        let now = signet_pki::time::now();
        if let Some(hit) = recall(&self.crl_memo, &url.to_string(), now) {
            return hit;
        }
        let got = if let Some(c) = self.cached_crl(url, now) {
            self.event("CRL", url, cert, FetchOutcome::Cached);
            Some(c)
        } else {
            match self.fetch_crl(url, now) {
                Ok(c) => {
                    self.event("CRL", url, cert, FetchOutcome::Fetched);
                    if let Some(d) = &self.disk {
                        let _ = d.store("crl", url.as_bytes(), c.der());
                    }
                    Some(c)
                }
                Err(e) => {
                    self.event("CRL", url, cert, outcome_of(e));
                    None
                }
            }
        };
        let until = match &got {
            Some(c) => c.next_update().unwrap_or(now + MEMO_SECS),
            None => now + MEMO_SECS,
        };
        remember(&self.crl_memo, url.to_string(), got.clone(), until);
        got
    }

    fn cached_crl(&self, url: &str, now: i64) -> Option<Crl> {
        let (data, path) = self.disk.as_ref()?.load("crl", url.as_bytes())?;
        let crl = Crl::parse_many(&data).ok()?.into_iter().next()?;
        let fresh = match crl.next_update() {
            Some(n) => now < n,
            None => DiskCache::age_secs(&path).is_some_and(|a| a < NO_NEXT_UPDATE_TTL),
        };
        fresh.then_some(crl)
    }

    fn fetch_crl(&self, url: &str, now: i64) -> Result<Crl, NetError> {
        let r = self.client.ok(Request {
            method: "GET",
            url,
            headers: &[("Accept", "application/pkix-crl")],
            body: Vec::new(),
            max_bytes: MAX_CRL,
            timeout: Some(TIMEOUT),
        })?;
        let crl = Crl::parse_many(&r.body)
            .map_err(|e| NetError::Transfer(format!("{url}: not a CRL: {e}")))?
            .into_iter()
            .next()
            .ok_or_else(|| NetError::Transfer(format!("{url}: no CRL in the answer")))?;
        if crl.next_update().is_some_and(|n| n <= now) {
            return Err(NetError::Transfer(format!(
                "{url}: the CRL's nextUpdate has passed (a stale CRL was served)"
            )));
        }
        Ok(crl)
    }

    /// An OCSP answer about `cert` (issued by `issuer`) from the first responder it names.
    pub fn ocsp_for(&self, cert: &Certificate, issuer: &Certificate) -> Option<Response> {
        if cert.is_self_issued() {
            return None;
        }
        let url = cert.ocsp_urls().unwrap_or_default().into_iter().next()?;
        let key = [url.as_bytes(), b"\0", cert.der()].concat();
        let now = signet_pki::time::now();
        if let Some(hit) = recall(&self.ocsp_memo, &key, now) {
            return hit;
        }
        let got = if let Some(r) = self.cached_ocsp(&key, cert, issuer, now) {
            self.event("OCSP", &url, cert, FetchOutcome::Cached);
            Some(r)
        } else {
            match ask_ocsp(&self.client, &url, cert, issuer, now) {
                Ok((_, r, der)) => {
                    self.event("OCSP", &url, cert, FetchOutcome::Fetched);
                    if let Some(d) = &self.disk {
                        let _ = d.store("ocsp", &key, &der);
                    }
                    Some(r)
                }
                Err(e) => {
                    self.event("OCSP", &url, cert, outcome_of(e));
                    None
                }
            }
        };
        let until = got
            .as_ref()
            .and_then(|r| r.single_for(cert, issuer))
            .and_then(|a| a.next_update)
            .unwrap_or(now + MEMO_SECS);
        remember(&self.ocsp_memo, key, got.clone(), until);
        got
    }

    fn cached_ocsp(&self, key: &[u8], cert: &Certificate, issuer: &Certificate, now: i64) -> Option<Response> {
        let (der, _) = self.disk.as_ref()?.load("ocsp", key)?;
        let a = signet_pki::ocsp::verify_response(&der, cert, issuer, None, now).ok()?;
        a.next_update?;
        Response::from_der(&der).ok()
    }
}

/// Asks the OCSP responder at `url` about `cert` (issued by `issuer`) with a fresh nonce: the
/// verified answer, the response and its bytes.
pub fn ask_ocsp(
    client: &HttpClient,
    url: &str,
    cert: &Certificate,
    issuer: &Certificate,
    now: i64,
) -> Result<(signet_pki::ocsp::Answer, Response, Vec<u8>), NetError> {
    let mut nonce = [0u8; 16];
    signet_crypto::random_bytes(&mut nonce).map_err(|e| NetError::Config(e.to_string()))?;
    let req = signet_pki::ocsp::request(cert, issuer, &nonce).map_err(|e| NetError::Config(e.to_string()))?;
    let r = client.ok(Request {
        method: "POST",
        url,
        headers: &[
            ("Content-Type", "application/ocsp-request"),
            ("Accept", "application/ocsp-response"),
        ],
        body: req,
        max_bytes: MAX_OCSP,
        timeout: Some(TIMEOUT),
    })?;
    let a = signet_pki::ocsp::verify_response(&r.body, cert, issuer, Some(&nonce), now)
        .map_err(|e| NetError::Transfer(format!("OCSP responder {url}: {e}")))?;
    let resp = Response::from_der(&r.body).map_err(|e| NetError::Transfer(format!("OCSP responder {url}: {e}")))?;
    Ok((a, resp, r.body))
}

fn outcome_of(e: NetError) -> FetchOutcome {
    match e {
        NetError::Refused(m) => FetchOutcome::Refused(m),
        NetError::InvalidUrl(m) => FetchOutcome::Refused(m),
        e => FetchOutcome::Failed(e.to_string()),
    }
}

impl RevocationFetcher for NetFetcher {
    fn fetch(&self, cert: &Certificate, issuer: &Certificate) -> Fetched {
        let mut f = Fetched::default();
        if self.ocsp {
            f.ocsps.extend(self.ocsp_for(cert, issuer));
        }
        if self.crls {
            f.crls.extend(self.crls_for(cert));
        }
        f
    }
}
