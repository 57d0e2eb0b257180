//! RFC 3161 client: a time-stamp request POSTed to a TSA over HTTP/1.1 (`http://` URLs,
//! [`crate::http_client`]), with connect and read timeouts and a bounded answer; the reply is checked by
//! `signet_cms::timestamp::token_from_response` (status, imprint, nonce, TSA certificate).

use std::time::Duration;

use signet_crypto::HashAlgorithm;

/// How long to wait for the TSA to connect and to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);
const MAX_REPLY: u64 = 1024 * 1024;

/// Gets a time-stamp token for `data` (a signature value) from the TSA at `url`.
pub fn stamp(url: &str, hash: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, String> {
    stamp_digest(url, hash, &signet_crypto::digest::hash(hash, data))
}

/// Gets a time-stamp token for an already computed `hash` digest (a document timestamp).
pub fn stamp_digest(url: &str, hash: HashAlgorithm, imprint: &[u8]) -> Result<Vec<u8>, String> {
    let imprint = imprint.to_vec();
    let nonce = signet_cms::timestamp::random_positive::<8>().map_err(|e| e.to_string())?;
    let req = signet_cms::timestamp::request(hash, &imprint, &nonce).map_err(|e| e.to_string())?;
    let reply = post(url, "application/timestamp-query", &req).map_err(|e| format!("TSA {url}: {e}"))?;
    signet_cms::timestamp::token_from_response(&reply, hash, &imprint, &nonce, signet_pki::time::now())
        .map_err(|e| format!("TSA {url}: {e}"))
}

/// POSTs to the TSA; returns the body of a 200 answer.
fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let r = crate::http_client::request("POST", url, &[("Content-Type", content_type)], body, TIMEOUT, MAX_REPLY)?;
    if r.status != 200 {
        return Err(format!("HTTP status {}", r.status));
    }
    Ok(r.body)
}
