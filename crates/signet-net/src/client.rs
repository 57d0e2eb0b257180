//! The blocking HTTP client every outbound request of Signet goes through: reqwest on rustls
//! (aws-lc-rs, the one crypto stack), http and https, the system's trust store plus an optional
//! CA bundle, connect and total timeouts, a bound on the answer's size (checked against
//! Content-Length before reading, and while reading), a bounded number of redirects, and the
//! `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` environment honoured.
//!
//! A client built with a [`FetchPolicy`] that refuses private targets resolves names through a
//! resolver that drops non-public addresses, re-checks every redirect and uses no proxy, so a
//! URL taken from a certificate cannot reach the loopback interface or the local network.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::NetError;
use crate::policy::{self, FetchPolicy};

/// How a client behaves.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Extra trust anchors for https (PEM or DER certificates), on top of the system's.
    pub ca_bundle: Vec<Vec<u8>>,
    /// Longest wait for a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Longest a whole request may take, unless a call sets its own.
    pub timeout: Duration,
    /// Most redirects followed.
    pub max_redirects: usize,
    /// `Some`: URLs are checked with [`policy::check_url`] and names resolved only to
    /// addresses the policy allows. `None`: the user named the URL (`--tsa`, `--server`).
    pub policy: Option<FetchPolicy>,
}

impl ClientOptions {
    /// Adds the certificates of a PEM or DER file to the trust anchors for https.
    pub fn with_ca_bundle_file(mut self, path: &std::path::Path) -> Result<Self, NetError> {
        let data = std::fs::read(path)
            .map_err(|e| NetError::Config(format!("cannot read the CA bundle {}: {e}", path.display())))?;
        self.ca_bundle.push(data);
        Ok(self)
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            ca_bundle: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_redirects: 5,
            policy: None,
        }
    }
}

/// An HTTP answer with a status below 400 (redirects followed).
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// The Content-Type, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// An answer whatever its status (for APIs whose errors carry a body).
#[derive(Debug)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// The Content-Type, if any.
    pub content_type: Option<String>,
    /// Header lines as (lower-case name, value), in the order received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of a header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One request.
pub struct Request<'a> {
    /// GET, POST, PUT, DELETE…
    pub method: &'a str,
    /// Where.
    pub url: &'a str,
    /// Header lines (name, value).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// Largest answer accepted.
    pub max_bytes: u64,
    /// A timeout for this call instead of the client's.
    pub timeout: Option<Duration>,
}

/// A configured client; cheap to share (`Clone` shares the connection pool).
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::blocking::Client,
    policy: Option<FetchPolicy>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("policy", &self.policy).finish()
    }
}

/// A resolver that only hands out addresses the policy allows.
struct PolicyResolver;

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs.iter().copied().filter(|a| policy::is_public(a.ip())).collect();
            if allowed.is_empty() {
                let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
                return Err(Box::new(Refused(format!(
                    "{host} resolves to {} (loopback, private or link-local; allow it with --allow-private-fetch)",
                    if shown.is_empty() {
                        "nothing".into()
                    } else {
                        shown.join(", ")
                    }
                ))) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Box<dyn Iterator<Item = SocketAddr> + Send>)
        })
    }
}

/// The resolver's refusal (found again in the error chain).
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl HttpClient {
    /// Builds a client.
    pub fn new(opts: &ClientOptions) -> Result<Self, NetError> {
        let mut roots = Vec::new();
        for bundle in &opts.ca_bundle {
            if bundle.windows(11).any(|w| w == b"-----BEGIN ") {
                let certs = reqwest::Certificate::from_pem_bundle(bundle)
                    .map_err(|e| NetError::Config(format!("the CA bundle is not PEM certificates: {e}")))?;
                if certs.is_empty() {
                    return Err(NetError::Config("the CA bundle holds no certificate".into()));
                }
                roots.extend(certs);
            } else {
                roots.push(
                    reqwest::Certificate::from_der(bundle)
                        .map_err(|e| NetError::Config(format!("the CA bundle is not a certificate: {e}")))?,
                );
            }
        }
        let max = opts.max_redirects;
        let redirect_policy = opts.policy;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                return attempt.error(RedirectError(format!("more than {max} redirects")));
            }
            if let Some(p) = redirect_policy
                && let Err(e) = policy::check_url(attempt.url().as_str(), p)
            {
                return attempt.error(RedirectError(format!("redirected to a refused URL: {e}")));
            }
            if !matches!(attempt.url().scheme(), "http" | "https") {
                return attempt.error(RedirectError("redirected to a URL that is not http or https".into()));
            }
            attempt.follow()
        });
        let mut b = reqwest::blocking::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .redirect(redirect)
            .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(roots);
        if opts.policy.is_some_and(|p| !p.allow_private) {
            // Names are checked where they are resolved; a proxy would resolve them out of our
            // sight (and reach its own network), so these requests go direct.
            b = b.dns_resolver(Arc::new(PolicyResolver)).no_proxy();
        }
        let inner = b
            .build()
            .map_err(|e| NetError::Config(format!("cannot set up the HTTP client: {}", chain(&e))))?;
        Ok(HttpClient {
            inner,
            policy: opts.policy,
        })
    }

    /// GET, expecting a status below 400.
    pub fn get(&self, url: &str, accept: &str, max_bytes: u64) -> Result<Response, NetError> {
        self.ok(Request {
            method: "GET",
            url,
            headers: &[("Accept", accept)],
            body: Vec::new(),
            max_bytes,
            timeout: None,
        })
    }

    /// POST `body` as `content_type`, expecting a status below 400.
    pub fn post(&self, url: &str, content_type: &str, body: Vec<u8>, max_bytes: u64) -> Result<Response, NetError> {
        self.ok(Request {
            method: "POST",
            url,
            headers: &[("Content-Type", content_type)],
            body,
            max_bytes,
            timeout: None,
        })
    }

    /// Sends a request; an answer with status 400 or above is [`NetError::Status`].
    pub fn ok(&self, req: Request<'_>) -> Result<Response, NetError> {
        let url = req.url.to_string();
        let r = self.send(req)?;
        if r.status >= 400 {
            return Err(NetError::Status { url, status: r.status });
        }
        Ok(Response {
            status: r.status,
            content_type: r.content_type,
            body: r.body,
        })
    }

    /// Sends a request and reads the answer whatever its status.
    pub fn send(&self, req: Request<'_>) -> Result<RawResponse, NetError> {
        let url = match self.policy {
            Some(p) => policy::check_url(req.url, p)?,
            None => {
                // A URL the user gave: still only http(s), and nothing that breaks a request line.
                policy::check_url(req.url, FetchPolicy { allow_private: true })?
            }
        };
        let shown = url.to_string();
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| NetError::InvalidUrl(format!("{:?} is not an HTTP method", req.method)))?;
        let mut rb = self.inner.request(method, url);
        for (k, v) in req.headers {
            if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
                return Err(NetError::InvalidUrl(
                    "header values must not contain line breaks".into(),
                ));
            }
            rb = rb.header(*k, *v);
        }
        if let Some(t) = req.timeout {
            rb = rb.timeout(t);
        }
        if !req.body.is_empty() || req.method != "GET" {
            rb = rb.body(req.body);
        }
        let resp = rb.send().map_err(|e| classify(&shown, &e))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
            .collect();
        if let Some(len) = resp.content_length()
            && len > req.max_bytes
        {
            return Err(NetError::TooLarge {
                url: shown,
                limit: req.max_bytes,
            });
        }
        let mut body = Vec::new();
        resp.take(req.max_bytes + 1)
            .read_to_end(&mut body)
            .map_err(|e| NetError::Transfer(format!("{shown}: {}", chain(&e))))?;
        if body.len() as u64 > req.max_bytes {
            return Err(NetError::TooLarge {
                url: shown,
                limit: req.max_bytes,
            });
        }
        Ok(RawResponse {
            status,
            content_type,
            headers,
            body,
        })
    }
}

#[derive(Debug)]
struct RedirectError(String);

impl std::fmt::Display for RedirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedirectError {}

/// An error and its causes, joined: reqwest's own message is only the outermost layer.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn find<'e, T: std::error::Error + 'static>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if let Some(t) = x.downcast_ref::<T>() {
            return Some(t);
        }
        cur = x.source();
    }
    None
}

fn classify(url: &str, e: &reqwest::Error) -> NetError {
    if let Some(r) = find::<Refused>(e) {
        return NetError::Refused(format!("{url}: {}", r.0));
    }
    if let Some(r) = find::<RedirectError>(e) {
        return NetError::Redirect(format!("{url}: {}", r.0));
    }
    let text = chain(e);
    if e.is_timeout() {
        return NetError::Timeout(url.to_string());
    }
    if text.contains("invalid peer certificate") || text.contains("certificate") && text.contains("TLS") {
        let hint = if text.contains("NotValidForName") || text.contains("not valid for") {
            "the server's certificate is not valid for this host name"
        } else if text.contains("UnknownIssuer") || text.contains("unknown issuer") {
            "the server's certificate is not issued by a trusted CA (add the CA with --ca-bundle)"
        } else {
            "the server's certificate was not accepted"
        };
        return NetError::Tls(format!("{url}: {hint} ({text})"));
    }
    if e.is_connect() {
        return NetError::Connect(format!("{url}: {text}"));
    }
    NetError::Transfer(format!("{url}: {text}"))
}
