//! Test harness: a fresh server (in process, the real router and database) per test and
//! backend: SQLite always, PostgreSQL when `SIGNET_TEST_POSTGRES_URL` names a server (the test
//! command starts one and sets it; `SIGNET_TEST_REQUIRE_POSTGRES=1` makes its absence a failure).
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use signet_server::{AppState, Config};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

/// Which database a test runs on.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

/// The backends to run every API test on.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    match std::env::var("SIGNET_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => v.push(Backend::Postgres(u)),
        _ => assert!(
            std::env::var("SIGNET_TEST_REQUIRE_POSTGRES").is_err(),
            "SIGNET_TEST_REQUIRE_POSTGRES is set but SIGNET_TEST_POSTGRES_URL is not"
        ),
    }
    v
}

/// Creates a fresh PostgreSQL database on the server `admin_url` points at; returns its URL.
pub async fn fresh_pg_database(admin_url: &str) -> String {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let mut b = [0u8; 8];
    signet_crypto::random_bytes(&mut b).unwrap();
    let name = format!("signet_test_{}", hex::encode(b));
    let pool = sqlx::AnyPool::connect(admin_url).await.unwrap();
    pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    pool.close().await;
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// Credentials for a request.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Session { cookie: String, csrf: String },
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&self.body)}))
    }
    pub fn detail(&self) -> String {
        self.json()["detail"].as_str().unwrap_or("").to_string()
    }
    pub fn is_problem(&self) -> bool {
        self.headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
    }
}

pub struct T {
    pub state: AppState,
    pub app: Router,
    pub dir: tempfile::TempDir,
    pub admin: Auth,
    pub admin_id: String,
    pub backend: Backend,
}

impl T {
    pub async fn new(backend: &Backend) -> T {
        Self::with(backend, |_| {}).await
    }

    pub async fn with(backend: &Backend, tweak: impl FnOnce(&mut Config)) -> T {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        if let Backend::Postgres(u) = backend {
            c.database_url = Some(fresh_pg_database(u).await);
        }
        tweak(&mut c);
        let p = signet_server::prepare(c).await.unwrap();
        let b = p.bootstrap.expect("first start creates the administrator");
        let app = signet_server::http::router(p.state.clone());
        let mut t = T {
            state: p.state,
            app,
            dir,
            admin: Auth::None,
            admin_id: String::new(),
            backend: backend.clone(),
        };
        let (admin, id) = t.first_login("admin", &b.password).await;
        t.admin = admin;
        t.admin_id = id;
        t
    }

    pub async fn req(&self, method: &str, path: &str, auth: &Auth, content_type: Option<&str>, body: Vec<u8>) -> Resp {
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => b = b.header("authorization", format!("Bearer {t}")),
            Auth::Session { cookie, csrf } => {
                b = b
                    .header("cookie", format!("signet_session={cookie}"))
                    .header("x-csrf-token", csrf)
            }
        }
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        let resp = self
            .app
            .clone()
            .oneshot(b.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        Resp { status, headers, body }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Resp {
        self.req("GET", path, auth, None, Vec::new()).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> Resp {
        self.req(
            "POST",
            path,
            auth,
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    /// Logs in; returns the session credentials and the response.
    pub async fn login(&self, username: &str, password: &str) -> (Resp, Option<Auth>) {
        let r = self
            .post(
                "/api/v1/auth/login",
                &Auth::None,
                json!({"username": username, "password": password}),
            )
            .await;
        if r.status != StatusCode::OK {
            return (r, None);
        }
        let set = r.headers.get("set-cookie").unwrap().to_str().unwrap().to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
        let cookie = set.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
        let csrf = r.json()["csrf_token"].as_str().unwrap().to_string();
        (r, Some(Auth::Session { cookie, csrf }))
    }

    /// Logs in with a one-time password, changes it to PASSWORD, logs in again.
    pub async fn first_login(&self, username: &str, otp: &str) -> (Auth, String) {
        let (r, a) = self.login(username, otp).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let a = a.unwrap();
        let id = r.json()["user"]["id"].as_str().unwrap().to_string();
        assert_eq!(r.json()["user"]["must_change_password"], true);
        let c = self
            .post(
                "/api/v1/me/password",
                &a,
                json!({"current_password": otp, "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.detail());
        let (r, a) = self.login(username, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        (a.unwrap(), id)
    }

    /// Creates a user with `roles` and logs them in (persons) or gives them a token (service).
    pub async fn user(&self, username: &str, roles: &[&str]) -> (Auth, String) {
        let r = self
            .post(
                "/api/v1/users",
                &self.admin,
                json!({"username": username, "display_name": format!("{username} Example"), "email": format!("{username}@example.com"), "roles": roles}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let j = r.json();
        let id = j["user"]["id"].as_str().unwrap().to_string();
        match j["one_time_password"].as_str() {
            Some(otp) => (self.first_login(username, otp).await.0, id),
            None => {
                let t = self
                    .post(
                        &format!("/api/v1/users/{id}/tokens"),
                        &self.admin,
                        json!({"name": "ci"}),
                    )
                    .await;
                assert_eq!(t.status, StatusCode::OK, "{}", t.detail());
                (Auth::Bearer(t.json()["token"].as_str().unwrap().to_string()), id)
            }
        }
    }

    /// Enrols and confirms an authenticator; returns its secret.
    pub async fn enrol(&self, auth: &Auth) -> Vec<u8> {
        let e = self
            .post("/api/v1/me/totp/enrol", auth, json!({"password": PASSWORD}))
            .await;
        assert_eq!(e.status, StatusCode::OK, "{}", e.detail());
        let j = e.json();
        assert!(j["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
        assert!(j["qr_svg"].as_str().unwrap().contains("<svg"));
        let secret = signet_crypto::otp::base32_decode(j["secret_base32"].as_str().unwrap()).unwrap();
        let c = self
            .post("/api/v1/me/totp/confirm", auth, json!({"code": self.code(&secret)}))
            .await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.detail());
        assert_eq!(c.json()["recovery_codes"].as_array().unwrap().len(), 10);
        secret
    }

    /// A code for the next time step (the clock moves on 30 s so that every call gets a fresh one).
    pub fn code(&self, secret: &[u8]) -> String {
        self.state.clock.advance(30);
        signet_server::totp::code_at(secret, self.state.now())
    }

    /// Uploads a document.
    pub async fn upload(&self, auth: &Auth, title: &str, doc_type: &str, ct: &str, data: Vec<u8>) -> Resp {
        let path = format!(
            "/api/v1/documents?title={}&type={doc_type}&number=2026%2F1&date=2026-11-30",
            title.replace(' ', "%20")
        );
        self.req("POST", &path, auth, Some(ct), data).await
    }

    pub async fn org_key(&self) -> String {
        let r = self.get("/api/v1/keys", &self.admin).await;
        r.json()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == "organisation")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A second node on the same database, blob store and key-encryption key (PostgreSQL),
    /// with the same administrator session.
    pub async fn second_node(&self) -> T {
        let dir = tempfile::tempdir().unwrap();
        let mut c = self.state.config.clone();
        c.data_dir = dir.path().join("data");
        c.blob_dir = Some(self.state.config.blob_dir());
        c.kek_file = Some(self.state.config.data_dir.join("kek.hex"));
        let p = signet_server::prepare(c).await.unwrap();
        assert!(p.bootstrap.is_none(), "the second node joins, it does not bootstrap");
        let app = signet_server::http::router(p.state.clone());
        T {
            state: p.state,
            app,
            dir,
            admin: self.admin.clone(),
            admin_id: self.admin_id.clone(),
            backend: self.backend.clone(),
        }
    }

    /// Another server process on the same data (a restart): `state` from `prepare`, the same
    /// administrator session.
    pub async fn from_state(state: AppState, like: &T) -> T {
        // The same (test) time as the first process: codes used there stay used.
        state.clock.advance(like.state.now() - state.now());
        let app = signet_server::http::router(state.clone());
        T {
            state,
            app,
            dir: tempfile::tempdir().unwrap(),
            admin: like.admin.clone(),
            admin_id: like.admin_id.clone(),
            backend: like.backend.clone(),
        }
    }

    /// Runs SQL directly on the server's database (tamper tests).
    pub async fn sql(&self, q: &str) {
        sqlx::query(sqlx::AssertSqlSafe(q.to_string()))
            .execute(&self.state.db.pool)
            .await
            .unwrap();
    }
}

/// A one-page PDF with some text.
pub fn pdf(text: &str) -> Vec<u8> {
    use signet_pdf::build::{classic_pdf, stream};
    classic_pdf(
        "1.7",
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
            stream("", format!("BT /F1 18 Tf 72 760 Td ({text}) Tj ET").as_bytes()),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        ],
        b"",
    )
}

/// pyHanko's verdict on a signed PDF, with `ca_pem` as the only trust root.
pub fn pyhanko_validate(dir: &std::path::Path, pdf: &[u8], ca_pem: &str) -> String {
    let f = dir.join("pyhanko-input.pdf");
    let ca = dir.join("pyhanko-ca.pem");
    std::fs::write(&f, pdf).unwrap();
    std::fs::write(&ca, ca_pem).unwrap();
    let o = std::process::Command::new("pyhanko")
        .args(["sign", "validate", "--trust-replace", "--trust"])
        .arg(&ca)
        .arg(&f)
        .output()
        .expect("pyhanko must be installed (scripts/test.sh installs it)");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "pyHanko failed: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The server of `t` listening on a loopback port (the real accept loop, timeouts and limits);
/// stops when dropped.
pub struct Live {
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Live {
    pub async fn start(t: &T) -> Live {
        let listener = signet_server::listen("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(signet_server::serve(listener, t.state.clone(), async move {
            let _ = rx.await;
        }));
        Live {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// One HTTP/1.1 request on a fresh connection; returns the status (0 when the connection
    /// ended without an answer).
    pub async fn status(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
        self.request(method, path, headers, body).await.0
    }

    /// One HTTP/1.1 request on a fresh connection; returns the status (0 when the connection
    /// ended without an answer) and the body.
    pub async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = match tokio::net::TcpStream::connect(self.addr).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("connect: {e}");
                return (0, String::new());
            }
        };
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        if s.write_all(req.as_bytes()).await.is_err() || s.write_all(body).await.is_err() {
            return (0, String::new());
        }
        let mut out = Vec::new();
        if let Err(e) = s.read_to_end(&mut out).await {
            eprintln!("read: {e} after {} bytes", out.len());
        }
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Audit entries whose action is one of `actions`.
pub async fn audit_count(t: &T, actions: &[&str]) -> i64 {
    let list = actions.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ({list})"
    )))
    .fetch_one(&t.state.db.pool)
    .await
    .unwrap();
    n
}

/// Validates `content` (and a detached `signature`) against the organisation CA.
pub fn validate(content: &[u8], signature: Option<&[u8]>, ca_pem: &str) -> signet_pki::ValidationReport {
    let ca = signet_pki::Certificate::parse_many(ca_pem.as_bytes())
        .unwrap()
        .remove(0);
    let ctx = signet_pki::ValidationContext::new(vec![ca], signet_pki::time::now());
    signet_validate::validate(
        signet_validate::Input {
            content: signet_validate::Content::Bytes(content),
            signature,
        },
        &ctx,
    )
    .unwrap()
}

/// Audit entries of `action` with `outcome` (`ok`, `started`, `denied`, …).
pub async fn audit_outcomes(t: &T, action: &str, outcome: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2")
        .bind(action)
        .bind(outcome)
        .fetch_one(&t.state.db.pool)
        .await
        .unwrap();
    n
}

/// Approval helpers: people with roles, authenticators and a manager.
pub struct Person {
    pub auth: Auth,
    pub id: String,
    pub secret: Vec<u8>,
}

impl T {
    /// A person with `roles`, an enrolled authenticator, and (optionally) a manager.
    pub async fn person(&self, username: &str, roles: &[&str], manager: Option<&str>) -> Person {
        let (auth, id) = self.user(username, roles).await;
        let secret = self.enrol(&auth).await;
        if let Some(m) = manager {
            let r = self
                .req(
                    "PATCH",
                    &format!("/api/v1/users/{id}"),
                    &self.admin,
                    Some("application/json"),
                    json!({"manager_id": m}).to_string().into_bytes(),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        }
        Person { auth, id, secret }
    }

    /// Approves a step with a simple signature (password and a fresh code).
    pub async fn approve_ses(&self, p: &Person, workflow: &str, step: &str) -> Resp {
        self.post(
            &format!("/api/v1/workflows/{workflow}/steps/{step}/approve"),
            &p.auth,
            json!({"password": PASSWORD, "totp_code": self.code(&p.secret)}),
        )
        .await
    }

    /// The organisation CA (PEM).
    pub async fn ca_pem(&self) -> String {
        String::from_utf8(self.get("/api/v1/ca/certificate", &Auth::None).await.body).unwrap()
    }
}

/// The waiting step of a workflow (JSON) named `name`.
pub fn waiting_step(w: &Value, name: &str) -> String {
    w["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name && s["state"] == "waiting")
        .unwrap_or_else(|| panic!("no waiting step {name:?} in {w}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}
