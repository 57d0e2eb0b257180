//! The RFC 3161 client: a TimeStampReq with a fresh nonce POSTed to the TSA, the reply checked
//! by `signet_cms::timestamp::token_from_response` (status, imprint, nonce, TSA certificate)
//! before the token is used. Any TSA URL the user names is used as given (https or http).

use std::time::Duration;

use signet_crypto::HashAlgorithm;

use crate::{HttpClient, NetError, Request};

/// How long to wait for a TSA's answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// Largest reply accepted.
pub const MAX_REPLY: u64 = 1 << 20;

/// Why no token was had.
#[derive(Debug, thiserror::Error)]
pub enum TsaError {
    /// The request could not be made or sent.
    #[error("TSA {url}: {source}")]
    Net {
        /// The TSA.
        url: String,
        /// The cause.
        source: NetError,
    },
    /// The answer is not a usable token.
    #[error("TSA {url}: {reason}")]
    Reply {
        /// The TSA.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Gets a time-stamp token for `data` (a signature value) from the TSA at `url`.
pub fn stamp(client: &HttpClient, url: &str, hash: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, TsaError> {
    stamp_digest(client, url, hash, &signet_crypto::digest::hash(hash, data))
}

/// Gets a time-stamp token for an already computed `hash` digest (a document timestamp).
pub fn stamp_digest(client: &HttpClient, url: &str, hash: HashAlgorithm, imprint: &[u8]) -> Result<Vec<u8>, TsaError> {
    let reply_err = |reason: String| TsaError::Reply {
        url: url.to_string(),
        reason,
    };
    let nonce = signet_cms::timestamp::random_positive::<8>().map_err(|e| reply_err(e.to_string()))?;
    let req = signet_cms::timestamp::request(hash, imprint, &nonce).map_err(|e| reply_err(e.to_string()))?;
    let r = client
        .ok(Request {
            method: "POST",
            url,
            headers: &[("Content-Type", "application/timestamp-query")],
            body: req,
            max_bytes: MAX_REPLY,
            timeout: Some(TIMEOUT),
        })
        .map_err(|source| TsaError::Net {
            url: url.to_string(),
            source,
        })?;
    signet_cms::timestamp::token_from_response(&r.body, hash, imprint, &nonce, signet_pki::time::now())
        .map_err(reply_err)
}
