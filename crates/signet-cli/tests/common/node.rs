//! A `signet serve` process for tests, and the requests the tests make to it: logging in,
//! API tokens, people with authenticators.

/// Plain requests to the server under test, through Signet's own client.
pub mod http_client {
    pub fn request(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: std::time::Duration,
        max_bytes: u64,
    ) -> Result<signet_net::RawResponse, signet_net::NetError> {
        thread_local! {
            static CLIENT: signet_net::HttpClient =
                signet_net::HttpClient::new(&signet_net::ClientOptions::default()).expect("HTTP client");
        }
        CLIENT.with(|c| {
            c.send(signet_net::Request {
                method,
                url,
                headers,
                body: body.to_vec(),
                max_bytes,
                timeout: Some(timeout),
            })
        })
    }
}

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::Env;
use serde_json::{Value, json};

pub const NEW_PASSWORD: &str = "a long enough new password";

/// A running `signet serve`; killed (SIGTERM, then waited for) when dropped.
pub struct Node {
    pub child: Child,
    pub url: String,
    pub admin_password: Option<String>,
}

impl Node {
    /// Starts a node; `bootstrap` says whether this start is the first on its database (then
    /// the banner ends with the administrator's one-time password).
    pub fn start(env: &Env, args: &[&str], extra_env: &[(&str, &str)], bootstrap: bool) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(env.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut url = None;
        let mut admin_password = None;
        let mut line = String::new();
        while out.read_line(&mut line).unwrap() > 0 {
            let l = line.trim().to_string();
            line.clear();
            if let Some(u) = l.strip_prefix("Signet is running at ") {
                url = Some(u.to_string());
            }
            if let Some(p) = l.strip_prefix("one-time password:") {
                admin_password = Some(p.trim().to_string());
            }
            if (bootstrap && l.contains("change it at first login")) || (!bootstrap && l.starts_with("database:")) {
                break;
            }
        }
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Node {
            child,
            url: url.expect("the server prints its URL"),
            admin_password,
        }
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        ct: Option<&str>,
        body: &[u8],
    ) -> (u16, Value, Vec<u8>) {
        let bearer = auth.map(|t| format!("Bearer {t}"));
        let mut h = Vec::new();
        if let Some(b) = &bearer {
            h.push(("Authorization", b.as_str()));
        }
        if let Some(c) = ct {
            h.push(("Content-Type", c));
        }
        let r = http_client::request(
            method,
            &format!("{}{path}", self.url),
            &h,
            body,
            Duration::from_secs(60),
            1 << 28,
        )
        .unwrap();
        let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        (r.status, v, r.body)
    }

    pub fn post(&self, path: &str, auth: Option<&str>, body: Value) -> (u16, Value) {
        let (s, v, _) = self.call(
            "POST",
            path,
            auth,
            Some("application/json"),
            body.to_string().as_bytes(),
        );
        (s, v)
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Logs in with a password (session), then creates an API token for that account; returns it.
/// Uses a raw session only for the token request.
pub fn session_token(n: &Node, user: &str, password: &str) -> String {
    session_token_with(n, user, password, false).0
}

/// As [`session_token`]; with `enrol`, the session first enrols an authenticator (a token
/// cannot: changes to one's own account need a session or an admin-scoped token) and the
/// secret comes back too. Administrators' tokens get every scope.
pub fn session_token_with(n: &Node, user: &str, password: &str, enrol: bool) -> (String, Option<Vec<u8>>) {
    let body = json!({"username": user, "password": password}).to_string();
    let r = http_client::request(
        "POST",
        &format!("{}/api/v1/auth/login", n.url),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
        Duration::from_secs(30),
        1 << 20,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let csrf = v["csrf_token"].as_str().unwrap().to_string();
    let call = |path: &str, body: Value| {
        let b = body.to_string();
        let r = http_client::request(
            "POST",
            &format!("{}{path}", n.url),
            &[
                ("Content-Type", "application/json"),
                ("Cookie", &cookie),
                ("X-CSRF-Token", &csrf),
            ],
            b.as_bytes(),
            Duration::from_secs(30),
            1 << 20,
        )
        .unwrap();
        (
            r.status,
            serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null),
        )
    };
    if v["user"]["must_change_password"] == true {
        let (s, v) = call(
            "/api/v1/me/password",
            json!({"current_password": password, "new_password": NEW_PASSWORD}),
        );
        assert_eq!(s, 200, "{v}");
        return session_token_with(n, user, NEW_PASSWORD, enrol);
    }
    // The token first (the password alone is enough while no authenticator is enrolled).
    let admin = v["user"]["roles"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == "admin"));
    let scopes = if admin {
        json!(["read", "sign", "admin"])
    } else {
        json!(["read", "sign"])
    };
    let (s, t) = call(
        "/api/v1/me/tokens",
        json!({"name": "cli", "password": password, "scopes": scopes}),
    );
    assert_eq!(s, 200, "{t}");
    let mut secret = None;
    if enrol {
        let (s, e) = call("/api/v1/me/totp/enrol", json!({"password": password}));
        assert_eq!(s, 200, "{e}");
        let sec = signet_crypto::otp::base32_decode(e["secret_base32"].as_str().unwrap()).unwrap();
        let (s, c) = call("/api/v1/me/totp/confirm", json!({"code": code(&sec, 0)}));
        assert_eq!(s, 200, "{c}");
        secret = Some(sec);
    }
    (t["token"].as_str().unwrap().to_string(), secret)
}

/// Creates a signer (via the admin token), enrols TOTP; returns (token, secret).
pub fn signer(n: &Node, admin: &str, username: &str) -> (String, Vec<u8>) {
    let (s, u) = n.post(
        "/api/v1/users",
        Some(admin),
        json!({"username": username, "display_name": "Alice Example", "roles": ["signer"]}),
    );
    assert_eq!(s, 201, "{u}");
    let (token, secret) = session_token_with(n, username, u["one_time_password"].as_str().unwrap(), true);
    (token, secret.unwrap())
}

/// The TOTP code `steps` steps from now.
pub fn code(secret: &[u8], steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let c = signet_crypto::otp::totp(signet_crypto::otp::OtpAlgorithm::Sha1, secret, now + 30 * steps, 30, 6);
    signet_crypto::otp::format_code(c, 6)
}

pub fn org_key(n: &Node, token: &str) -> String {
    let (_, v, _) = n.call("GET", "/api/v1/keys", Some(token), None, &[]);
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "organisation")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}
