//! Server configuration: defaults, then a TOML file, then `SIGNET_*` environment variables,
//! then command-line flags (each later source wins).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `signet serve` can be told (Debug never shows the KEK).
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory for the SQLite database, blobs and the key-encryption key (created if absent).
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: String,
    /// `sqlite://…` or `postgres://…`; default: `signet.db` in the data directory.
    pub database_url: Option<String>,
    /// Where document blobs live (shared storage for several nodes); default: `blobs/` in the
    /// data directory.
    pub blob_dir: Option<PathBuf>,
    /// File holding the key-encryption key (64 hex digits); default: `kek.hex` in the data
    /// directory, generated on first start. `SIGNET_KEK` (hex) takes precedence.
    pub kek_file: Option<PathBuf>,
    /// The URL users reach the server at: printed, `https://` turns on Secure cookies and HSTS,
    /// and certificates the CA issues name its CRL, OCSP and caIssuers locations under it.
    pub public_url: Option<String>,
    /// Name of the organisation (subject of the CA and the organisation certificate).
    pub organisation: String,
    /// Largest accepted upload, bytes.
    pub max_upload_bytes: usize,
    /// Session lifetime, seconds.
    pub session_ttl_secs: i64,
    /// Failed one-time codes before an account is locked (at most 100).
    pub totp_max_failures: i64,
    /// Failed one-time codes allowed before back-off delays start.
    pub totp_backoff_after: i64,
    /// Longest back-off delay, seconds.
    pub totp_backoff_max_secs: i64,
    /// Failed passwords before login is throttled.
    pub login_max_failures: i64,
    /// Seal the audit log every this many entries.
    pub audit_seal_every: i64,
    /// Seal the audit log when its last seal is this many seconds old and entries came after
    /// it (and at shutdown), so a quiet server leaves nothing unsealed for long.
    pub audit_seal_interval_secs: i64,
    /// Checking the log, entries unsealed for longer than this are a problem (seals removed).
    pub audit_max_unsealed_secs: i64,
    /// Seal certificates (PEM files, kept outside the database) that `/api/v1/audit/verify`
    /// trusts instead of the seal keys the database lists.
    pub audit_seal_certs: Vec<PathBuf>,
    /// Fetch revocation data (CRLs and OCSP) named in certificates of paths being validated
    /// when a verification has none (`/verify`, `/documents/{id}/verify`).
    pub fetch_revocation: bool,
    /// Let those fetches reach loopback, private and link-local addresses.
    pub allow_private_fetch: bool,
    /// Extra CA certificates (PEM file) trusted for outbound https (an external TSA,
    /// distribution points).
    pub ca_bundle: Option<PathBuf>,
    /// An external RFC 3161 TSA for the signatures' time-stamps; default: the server's own
    /// TSA, in-process.
    pub tsa_url: Option<String>,
    /// How often the archive renewal runs (seconds; 0 turns it off).
    pub ltv_renewal_every_secs: u64,
    /// Stored B-LTA documents get a fresh document timestamp when the newest one's TSA
    /// certificate expires within this many days.
    pub ltv_renewal_window_days: i64,
    /// A client must send its request headers within this many seconds, or the connection
    /// is closed (slow-header clients).
    pub header_read_timeout_secs: u64,
    /// A request is answered within this many seconds or ends in 408 (slow bodies, stuck work).
    pub request_timeout_secs: u64,
    /// A small body (JSON, `/tsa`, `/ocsp`) must arrive within this many seconds, or 408; it is
    /// read before the request takes a place among those in progress.
    pub body_read_timeout_secs: u64,
    /// Most connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Most connections one client address (an IPv6 /64) holds at once; more are closed at
    /// once (trusted proxies are not limited).
    pub max_connections_per_source: usize,
    /// Most requests in progress at once; more are refused at once with 503 and Retry-After
    /// (health checks and metrics are always answered).
    pub max_concurrent_requests: usize,
    /// Failed logins and bad credentials from one client address per minute before that
    /// address is answered 429 until the minute is over.
    pub source_max_failures_per_minute: u32,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client;
    /// from anyone else the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// A file holding a passphrase the KEK is derived from (Argon2id), instead of a KEK file.
    pub kek_passphrase_file: Option<PathBuf>,
    /// Let webhooks reach loopback, private and link-local addresses (a CRM on the LAN).
    pub webhook_allow_private: bool,
    /// How often the notification outbox is looked at, milliseconds.
    pub notification_poll_ms: u64,
    /// A failed delivery is tried again after this many seconds × 2^attempts (at most an hour).
    pub notification_retry_base_secs: i64,
    /// How often overdue steps are looked for (reminders), seconds.
    pub reminder_every_secs: u64,
    /// SMTP server for e-mail notifications (none: no e-mail).
    pub smtp_host: Option<String>,
    /// Its port.
    pub smtp_port: u16,
    /// `starttls` (default), `tls` or `none` (a relay on the same machine).
    pub smtp_tls: String,
    /// SMTP user.
    pub smtp_username: Option<String>,
    /// SMTP password (`SIGNET_SMTP_PASSWORD`; not printed).
    #[serde(skip)]
    pub smtp_password: Option<zeroize::Zeroizing<String>>,
    /// The sender of e-mail notifications.
    pub smtp_from: String,
    /// The hex KEK given in the environment (never in a file; not printed).
    #[serde(skip)]
    pub kek_hex: Option<String>,
    /// The KEK passphrase given in the environment (`SIGNET_KEK_PASSPHRASE`; not printed).
    #[serde(skip)]
    pub kek_passphrase: Option<zeroize::Zeroizing<String>>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("database_url", &self.database_url.as_deref().map(redact_password))
            .field("blob_dir", &self.blob_dir)
            .field("kek_file", &self.kek_file)
            .field("public_url", &self.public_url)
            .field("organisation", &self.organisation)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("session_ttl_secs", &self.session_ttl_secs)
            .field("totp_max_failures", &self.totp_max_failures)
            .field("totp_backoff_after", &self.totp_backoff_after)
            .field("totp_backoff_max_secs", &self.totp_backoff_max_secs)
            .field("login_max_failures", &self.login_max_failures)
            .field("audit_seal_every", &self.audit_seal_every)
            .field("audit_seal_interval_secs", &self.audit_seal_interval_secs)
            .field("audit_max_unsealed_secs", &self.audit_max_unsealed_secs)
            .field("audit_seal_certs", &self.audit_seal_certs)
            .field("fetch_revocation", &self.fetch_revocation)
            .field("allow_private_fetch", &self.allow_private_fetch)
            .field("ca_bundle", &self.ca_bundle)
            .field("tsa_url", &self.tsa_url)
            .field("ltv_renewal_every_secs", &self.ltv_renewal_every_secs)
            .field("ltv_renewal_window_days", &self.ltv_renewal_window_days)
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("body_read_timeout_secs", &self.body_read_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_source", &self.max_connections_per_source)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("source_max_failures_per_minute", &self.source_max_failures_per_minute)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("kek_passphrase_file", &self.kek_passphrase_file)
            .field("webhook_allow_private", &self.webhook_allow_private)
            .field("notification_poll_ms", &self.notification_poll_ms)
            .field("notification_retry_base_secs", &self.notification_retry_base_secs)
            .field("reminder_every_secs", &self.reminder_every_secs)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "[redacted]"))
            .field("smtp_from", &self.smtp_from)
            .field("kek_hex", &self.kek_hex.as_ref().map(|_| "[redacted]"))
            .field("kek_passphrase", &self.kek_passphrase.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// `scheme://user:password@host/…` with the password replaced (for Debug and logs).
pub fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}:[redacted]{}", &url[..s + 3 + c], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

fn bool_of(v: &str) -> Result<bool, String> {
    match v {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{v:?} is not true or false")),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("signet-data"),
            listen: "127.0.0.1:8080".into(),
            database_url: None,
            blob_dir: None,
            kek_file: None,
            public_url: None,
            organisation: "Signet Organisation".into(),
            max_upload_bytes: 64 * 1024 * 1024,
            session_ttl_secs: 8 * 3600,
            totp_max_failures: 10,
            totp_backoff_after: 3,
            totp_backoff_max_secs: 300,
            login_max_failures: 10,
            audit_seal_every: 100,
            audit_seal_interval_secs: 60,
            audit_max_unsealed_secs: 600,
            audit_seal_certs: Vec::new(),
            fetch_revocation: false,
            allow_private_fetch: false,
            ca_bundle: None,
            tsa_url: None,
            ltv_renewal_every_secs: 86_400,
            ltv_renewal_window_days: 90,
            header_read_timeout_secs: 15,
            request_timeout_secs: 300,
            body_read_timeout_secs: 10,
            max_connections: 1024,
            max_connections_per_source: 64,
            max_concurrent_requests: 256,
            source_max_failures_per_minute: 30,
            trusted_proxies: Vec::new(),
            kek_passphrase_file: None,
            webhook_allow_private: false,
            notification_poll_ms: 1000,
            notification_retry_base_secs: 5,
            reminder_every_secs: 60,
            smtp_host: None,
            smtp_port: 25,
            smtp_tls: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_from: "Signet <signet@localhost>".into(),
            kek_hex: None,
            kek_passphrase: None,
        }
    }
}

impl Config {
    /// Defaults overridden by `file` (if given) and by `SIGNET_*` variables in `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, String> {
        let mut c = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read configuration {}: {e}", p.display()))?;
                toml::from_str::<Config>(&text).map_err(|e| format!("configuration {}: {e}", p.display()))?
            }
            None => Config::default(),
        };
        for (k, v) in env {
            let Some(name) = k.strip_prefix("SIGNET_") else {
                continue;
            };
            c.set(&name.to_ascii_lowercase(), &v)
                .map_err(|e| format!("environment variable {k}: {e}"))?;
        }
        c.check()?;
        Ok(c)
    }

    /// Sets one option by its file name (`data_dir`, `listen`, …). Unknown names are ignored:
    /// other tools use the `SIGNET_` prefix too.
    pub fn set(&mut self, name: &str, v: &str) -> Result<(), String> {
        let int = |v: &str| v.parse::<i64>().map_err(|_| format!("{v:?} is not a whole number"));
        let positive = |v: &str| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{v:?} is not a positive whole number"))
        };
        match name {
            "data_dir" => self.data_dir = PathBuf::from(v),
            "listen" => self.listen = v.into(),
            "database_url" => self.database_url = Some(v.into()),
            "blob_dir" => self.blob_dir = Some(PathBuf::from(v)),
            "kek_file" => self.kek_file = Some(PathBuf::from(v)),
            "kek" => self.kek_hex = Some(v.into()),
            "kek_passphrase" => self.kek_passphrase = Some(zeroize::Zeroizing::new(v.into())),
            "kek_passphrase_file" => self.kek_passphrase_file = Some(PathBuf::from(v)),
            "webhook_allow_private" => self.webhook_allow_private = bool_of(v)?,
            "notification_poll_ms" => self.notification_poll_ms = positive(v)?,
            "notification_retry_base_secs" => self.notification_retry_base_secs = int(v)?,
            "reminder_every_secs" => self.reminder_every_secs = positive(v)?,
            "smtp_host" => self.smtp_host = Some(v.into()),
            "smtp_port" => self.smtp_port = u16::try_from(positive(v)?).map_err(|_| "not a port".to_string())?,
            "smtp_tls" => self.smtp_tls = v.into(),
            "smtp_username" => self.smtp_username = Some(v.into()),
            "smtp_password" => self.smtp_password = Some(zeroize::Zeroizing::new(v.into())),
            "smtp_from" => self.smtp_from = v.into(),
            "public_url" => self.public_url = Some(v.into()),
            "organisation" => self.organisation = v.into(),
            "max_upload_bytes" => {
                self.max_upload_bytes = usize::try_from(int(v)?).map_err(|_| "must not be negative".to_string())?
            }
            "session_ttl_secs" => self.session_ttl_secs = int(v)?,
            "totp_max_failures" => self.totp_max_failures = int(v)?,
            "totp_backoff_after" => self.totp_backoff_after = int(v)?,
            "totp_backoff_max_secs" => self.totp_backoff_max_secs = int(v)?,
            "login_max_failures" => self.login_max_failures = int(v)?,
            "audit_seal_every" => self.audit_seal_every = int(v)?,
            "audit_seal_interval_secs" => self.audit_seal_interval_secs = int(v)?,
            "audit_max_unsealed_secs" => self.audit_max_unsealed_secs = int(v)?,
            "audit_seal_certs" => {
                self.audit_seal_certs = v
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
                    .collect()
            }
            "fetch_revocation" => self.fetch_revocation = bool_of(v)?,
            "allow_private_fetch" => self.allow_private_fetch = bool_of(v)?,
            "ca_bundle" => self.ca_bundle = Some(PathBuf::from(v)),
            "tsa_url" => self.tsa_url = Some(v.into()),
            "ltv_renewal_every_secs" => {
                self.ltv_renewal_every_secs = u64::try_from(int(v)?).map_err(|_| "must not be negative".to_string())?
            }
            "ltv_renewal_window_days" => self.ltv_renewal_window_days = int(v)?,
            "header_read_timeout_secs" => self.header_read_timeout_secs = positive(v)?,
            "request_timeout_secs" => self.request_timeout_secs = positive(v)?,
            "body_read_timeout_secs" => self.body_read_timeout_secs = positive(v)?,
            "max_connections" => self.max_connections = usize::try_from(positive(v)?).unwrap_or(usize::MAX),
            "max_connections_per_source" => {
                self.max_connections_per_source = usize::try_from(positive(v)?).unwrap_or(usize::MAX)
            }
            "max_concurrent_requests" => {
                self.max_concurrent_requests = usize::try_from(positive(v)?).unwrap_or(usize::MAX)
            }
            "source_max_failures_per_minute" => {
                self.source_max_failures_per_minute = u32::try_from(positive(v)?).unwrap_or(u32::MAX)
            }
            "trusted_proxies" => {
                self.trusted_proxies = v
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect()
            }
            _ => {}
        }
        Ok(())
    }

    /// The outbound HTTP client options (trust, no fetch policy).
    pub fn client_options(&self) -> Result<signet_net::ClientOptions, String> {
        let o = signet_net::ClientOptions::default();
        match &self.ca_bundle {
            Some(p) => o.with_ca_bundle_file(p).map_err(|e| format!("ca_bundle: {e}")),
            None => Ok(o),
        }
    }

    /// Checks ranges.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.totp_max_failures) {
            return Err("totp_max_failures must be between 1 and 100".into());
        }
        if self.session_ttl_secs < 60 {
            return Err("session_ttl_secs must be at least 60".into());
        }
        if self.audit_seal_every < 1 || self.audit_seal_interval_secs < 1 {
            return Err("audit_seal_every and audit_seal_interval_secs must be at least 1".into());
        }
        if self.audit_max_unsealed_secs < self.audit_seal_interval_secs {
            return Err("audit_max_unsealed_secs must be at least audit_seal_interval_secs".into());
        }
        if self.max_upload_bytes < 1024 {
            return Err("max_upload_bytes must be at least 1024".into());
        }
        if !(1..=3600).contains(&self.header_read_timeout_secs)
            || !(1..=3600).contains(&self.body_read_timeout_secs)
            || !(1..=86_400).contains(&self.request_timeout_secs)
        {
            return Err(
                "header_read_timeout_secs and body_read_timeout_secs must be 1 to 3600, request_timeout_secs 1 to 86400".into(),
            );
        }
        if !(1..=1_000_000).contains(&self.max_connections)
            || !(1..=100_000).contains(&self.max_concurrent_requests)
            || !(1..=1_000_000).contains(&self.max_connections_per_source)
            || self.source_max_failures_per_minute == 0
        {
            return Err("max_connections (≤ 1,000,000), max_connections_per_source (≤ 1,000,000), max_concurrent_requests (≤ 100,000) and source_max_failures_per_minute must be at least 1".into());
        }
        if !["starttls", "tls", "none"].contains(&self.smtp_tls.as_str()) {
            return Err("smtp_tls is starttls, tls or none".into());
        }
        if !(1..=86_400).contains(&self.notification_retry_base_secs)
            || !(10..=60_000).contains(&self.notification_poll_ms)
        {
            return Err("notification_retry_base_secs is 1 to 86400, notification_poll_ms 10 to 60000".into());
        }
        for p in &self.trusted_proxies {
            crate::http::client::Cidr::parse(p).map_err(|e| format!("trusted_proxies: {e}"))?;
        }
        Ok(())
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("signet.db").display()))
    }

    /// The blob directory in effect.
    pub fn blob_dir(&self) -> PathBuf {
        self.blob_dir.clone().unwrap_or_else(|| self.data_dir.join("blobs"))
    }

    /// The URL printed for users.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let dir = std::env::temp_dir().join(format!("signet-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("signet.toml");
        std::fs::write(&f, "listen = \"0.0.0.0:9000\"\ntotp_max_failures = 5\n").unwrap();
        let c = Config::load(
            Some(&f),
            vec![
                ("SIGNET_TOTP_MAX_FAILURES".into(), "7".into()),
                ("HOME".into(), "/".into()),
            ],
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.totp_max_failures, 7);
        assert!(c.database_url().starts_with("sqlite://"));
        std::fs::write(&f, "listn = 1\n").unwrap();
        assert!(Config::load(Some(&f), vec![]).unwrap_err().contains("listn"));
        assert!(Config::load(None, vec![("SIGNET_TOTP_MAX_FAILURES".into(), "101".into())]).is_err());
        assert!(Config::load(None, vec![("SIGNET_SESSION_TTL_SECS".into(), "x".into())]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let kek = "ab".repeat(32);
        let c = Config {
            kek_hex: Some(kek.clone()),
            ..Config::default()
        };
        let dump = format!("{c:?}");
        assert!(!dump.contains(&kek), "{dump}");
        assert!(dump.contains("[redacted]"));
        let c = Config {
            database_url: Some("postgres://signet:pg-secret@db/signet".into()),
            ..Config::default()
        };
        let dump = format!("{c:?}");
        assert!(
            !dump.contains("pg-secret") && dump.contains("postgres://signet:[redacted]@db/signet"),
            "{dump}"
        );
        let o = crate::signing::SignOptions {
            key_id: "k".into(),
            totp_code: Some("492039".into()),
            reason: None,
            location: None,
            visible: None,
            certify: None,
        };
        assert!(!format!("{o:?}").contains("492039"));
        let cred = crate::auth::Credential::Session {
            csrf: "csrf-secret-value".into(),
        };
        assert!(!format!("{cred:?}").contains("csrf-secret-value"));
    }
}
