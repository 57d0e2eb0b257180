//! Outbound HTTP for Signet, for the CLI and the server alike.
//!
//! - [`client`]: the one HTTP client (reqwest on rustls with aws-lc-rs): http and https, the
//!   system trust store plus a CA bundle, timeouts, bounded answers and redirects, proxies
//!   from the environment;
//! - [`policy`]: what may be fetched when the URL comes from a certificate (no loopback,
//!   private or link-local targets unless allowed, only http/https, no control characters);
//! - [`tsa`]: the RFC 3161 client (request, nonce, the reply checked before it is used);
//! - [`revocation`]: a [`signet_pki::RevocationFetcher`] that gets CRLs and OCSP answers from
//!   the URLs in the certificates path validation asks about, with a memory cache for the
//!   run and an optional on-disk cache ([`cache`]) reused while the data is fresh.
//!
//! It is not a general web client: no cookies, no compression, answers held in memory up to a
//! limit the caller sets.
#![forbid(unsafe_code)]

pub mod cache;
pub mod client;
pub mod policy;
pub mod revocation;
pub mod tsa;

pub use client::{ClientOptions, HttpClient, RawResponse, Request, Response};
pub use policy::FetchPolicy;
pub use revocation::{FetchEvent, FetchOutcome, NetFetcher};

/// What can go wrong with an outbound request.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The URL cannot be used (scheme, syntax, control characters, length).
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The fetch policy refuses the target.
    #[error("refused by the fetch policy: {0}")]
    Refused(String),
    /// No connection could be made.
    #[error("cannot connect to {0}")]
    Connect(String),
    /// The TLS handshake failed (certificate not trusted, wrong host name…).
    #[error("TLS: {0}")]
    Tls(String),
    /// No complete answer in time.
    #[error("no answer from {0} in time")]
    Timeout(String),
    /// Too many redirects, or a redirect to a refused URL.
    #[error("redirect: {0}")]
    Redirect(String),
    /// The answer is larger than allowed.
    #[error("{url}: the answer is larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// An error status.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// The transfer broke off.
    #[error("transfer failed: {0}")]
    Transfer(String),
    /// The client cannot be set up (bad CA bundle…).
    #[error("{0}")]
    Config(String),
}
