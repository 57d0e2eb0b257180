//! Asking certificates' OCSP responders (the Authority Information Access URL, `http://` only),
//! with an on-disk cache: a response is reused while its nextUpdate lies ahead and it still
//! verifies (one without nextUpdate is not reused). The cache lives next to the CRL cache
//! (`…/signet/ocsp`). Failures are warnings: validation then reports the missing data.

use std::time::Duration;

use signet_pki::Certificate;
use signet_pki::ocsp::{Answer, Response};

const TIMEOUT: Duration = Duration::from_secs(15);
const MAX_RESPONSE: u64 = 1 << 20;

/// Asks `url` about `cert` (issued by `issuer`) with a fresh nonce; the verified answer and the
/// response bytes.
pub fn ask(url: &str, cert: &Certificate, issuer: &Certificate, now: i64) -> Result<(Answer, Vec<u8>), String> {
    let mut nonce = [0u8; 16];
    signet_crypto::random_bytes(&mut nonce).map_err(|e| e.to_string())?;
    let req = signet_pki::ocsp::request(cert, issuer, &nonce).map_err(|e| e.to_string())?;
    let r = crate::http_client::request(
        "POST",
        url,
        &[
            ("Content-Type", "application/ocsp-request"),
            ("Accept", "application/ocsp-response"),
        ],
        &req,
        TIMEOUT,
        MAX_RESPONSE,
    )
    .map_err(|e| format!("OCSP responder {url}: {e}"))?;
    if r.status != 200 {
        return Err(format!("OCSP responder {url}: HTTP status {}", r.status));
    }
    let a = signet_pki::ocsp::verify_response(&r.body, cert, issuer, Some(&nonce), now)
        .map_err(|e| format!("OCSP responder {url}: {e}"))?;
    Ok((a, r.body))
}

fn cache_key(url: &str, cert: &Certificate) -> Vec<u8> {
    [url.as_bytes(), b"\0", cert.der()].concat()
}

/// A cached response for `cert` from `url` that still verifies and whose nextUpdate lies ahead.
/// A response without nextUpdate is never reused: it speaks only for the moment it was made
/// (pyHanko, for one, accepts it only then), and long-term validation data must postdate the
/// signature it supports.
fn cached(url: &str, cert: &Certificate, issuer: &Certificate, now: i64) -> Option<Response> {
    let der = std::fs::read(crate::fetch_cache::file("ocsp", &cache_key(url, cert))).ok()?;
    let a = signet_pki::ocsp::verify_response(&der, cert, issuer, None, now).ok()?;
    a.next_update?;
    Response::from_der(&der).ok()
}

/// OCSP responses for every certificate in `certs` that names a responder and whose issuer is
/// among `certs` or `anchors`. Problems are printed as warnings and skipped.
pub fn for_certificates(certs: &[Certificate], anchors: &[Certificate], now: i64) -> Vec<Response> {
    let all: Vec<Certificate> = certs.iter().chain(anchors).cloned().collect();
    let mut out: Vec<Response> = Vec::new();
    let mut done: Vec<&[u8]> = Vec::new();
    for cert in certs {
        if done.contains(&cert.der()) || cert.is_self_issued() {
            continue;
        }
        done.push(cert.der());
        let Some(url) = cert.ocsp_urls().unwrap_or_default().into_iter().next() else {
            continue;
        };
        if !url.starts_with("http://") {
            eprintln!("signet: warning: skipping the OCSP responder {url} (only http:// is asked)");
            continue;
        }
        let Some(issuer) = all.iter().find(|i| cert.is_issued_by(i, &Default::default())) else {
            eprintln!(
                "signet: warning: cannot ask {url} about {}: its issuer certificate is not at hand",
                cert.display_name()
            );
            continue;
        };
        if let Some(r) = cached(&url, cert, issuer, now) {
            eprintln!("signet: OCSP {url} for {} (cached)", cert.display_name());
            out.push(r);
            continue;
        }
        match ask(&url, cert, issuer, now).and_then(|(_, der)| Ok((Response::from_der(&der)?, der))) {
            Ok((r, der)) => {
                eprintln!("signet: OCSP {url} for {}", cert.display_name());
                crate::fetch_cache::store(
                    "ocsp",
                    &cache_key(&url, cert),
                    &der,
                    &format!("the OCSP response from {url}"),
                );
                out.push(r);
            }
            Err(e) => eprintln!("signet: warning: {e}"),
        }
    }
    out
}
