//! Fetching CRLs from certificates' distribution points (`http://` only), with an on-disk cache
//! and freshness rules: a cached CRL is reused while its nextUpdate lies ahead (one without
//! nextUpdate for an hour at most); otherwise it is fetched again. The cache lives in
//! `$SIGNET_CACHE_DIR`, else `$XDG_CACHE_HOME/signet/crl`, else `~/.cache/signet/crl`.
//! Failures are warnings: validation then reports the missing revocation data.

use std::time::Duration;

use signet_pki::{Certificate, Crl};

const TIMEOUT: Duration = Duration::from_secs(15);
const MAX_CRL: u64 = 32 << 20;
/// How long a CRL without nextUpdate is reused.
const NO_NEXT_UPDATE_TTL: u64 = 3600;

/// A cached CRL for `url` that is still fresh at `now`.
fn cached(url: &str, now: i64) -> Option<Crl> {
    let path = crate::fetch_cache::file("crl", url.as_bytes());
    let data = std::fs::read(&path).ok()?;
    let crl = Crl::parse_many(&data).ok()?.into_iter().next()?;
    let fresh = match crl.next_update() {
        Some(n) => now < n,
        None => std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() < NO_NEXT_UPDATE_TTL),
    };
    fresh.then_some(crl)
}

/// Fetches one CRL (or takes it from the cache). `Err` explains what went wrong.
pub fn fetch(url: &str, now: i64) -> Result<(Crl, bool), String> {
    if let Some(c) = cached(url, now) {
        return Ok((c, true));
    }
    let r = crate::http_client::request("GET", url, &[("Accept", "application/pkix-crl")], b"", TIMEOUT, MAX_CRL)?;
    if r.status != 200 {
        return Err(format!("{url}: HTTP status {}", r.status));
    }
    let crl = Crl::parse_many(&r.body)
        .map_err(|e| format!("{url}: not a CRL: {e}"))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{url}: no CRL in the answer"))?;
    if crl.next_update().is_some_and(|n| n <= now) {
        return Err(format!("{url}: the CRL's nextUpdate has passed (stale CRL served)"));
    }
    crate::fetch_cache::store("crl", url.as_bytes(), crl.der(), &format!("the CRL from {url}"));
    Ok((crl, false))
}

/// The CRLs at the distribution points of `certs` (each URL once). Problems are printed as
/// warnings and skipped.
pub fn for_certificates(certs: &[Certificate], now: i64) -> Vec<Crl> {
    let mut urls: Vec<String> = Vec::new();
    for c in certs {
        for u in c.crl_urls().unwrap_or_default() {
            if !urls.contains(&u) {
                urls.push(u);
            }
        }
    }
    let mut out = Vec::new();
    for u in urls {
        if !u.starts_with("http://") {
            eprintln!("signet: warning: skipping the CRL at {u} (only http:// distribution points are fetched)");
            continue;
        }
        match fetch(&u, now) {
            Ok((crl, from_cache)) => {
                eprintln!("signet: CRL {u}{}", if from_cache { " (cached)" } else { "" });
                out.push(crl);
            }
            Err(e) => eprintln!("signet: warning: {e}"),
        }
    }
    out
}
