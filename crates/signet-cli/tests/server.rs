//! `signet serve` as a process: zero-configuration start, the CLI signing through it
//! (`signet --server … sign`), `signet audit verify` before and after tampering, and two server
//! processes on one PostgreSQL accepting a TOTP code exactly once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

mod common;

/// Plain requests to the server under test, through Signet's own client.
mod http_client {
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

use common::Env;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a long enough new password";

/// A running `signet serve`; killed (SIGTERM, then waited for) when dropped.
struct Node {
    child: Child,
    url: String,
    admin_password: Option<String>,
}

impl Node {
    /// Starts a node; `bootstrap` says whether this start is the first on its database (then
    /// the banner ends with the administrator's one-time password).
    fn start(env: &Env, args: &[&str], extra_env: &[(&str, &str)], bootstrap: bool) -> Node {
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

    fn call(
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

    fn post(&self, path: &str, auth: Option<&str>, body: Value) -> (u16, Value) {
        let (s, v, _) = self.call(
            "POST",
            path,
            auth,
            Some("application/json"),
            body.to_string().as_bytes(),
        );
        (s, v)
    }

    fn stop(mut self) {
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
fn session_token(n: &Node, user: &str, password: &str) -> String {
    session_token_with(n, user, password, false).0
}

/// As [`session_token`]; with `enrol`, the session first enrols an authenticator (a token
/// cannot: changes to one's own account need a session or an admin-scoped token) and the
/// secret comes back too. Administrators' tokens get every scope.
fn session_token_with(n: &Node, user: &str, password: &str, enrol: bool) -> (String, Option<Vec<u8>>) {
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
fn signer(n: &Node, admin: &str, username: &str) -> (String, Vec<u8>) {
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
fn code(secret: &[u8], steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let c = signet_crypto::otp::totp(signet_crypto::otp::OtpAlgorithm::Sha1, secret, now + 30 * steps, 30, 6);
    signet_crypto::otp::format_code(c, 6)
}

fn org_key(n: &Node, token: &str) -> String {
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

#[test]
fn zero_config_server_signs_for_the_cli_and_its_audit_log_verifies() {
    let env = Env::new();
    let node = Node::start(&env, &[], &[], true);
    let otp = node
        .admin_password
        .clone()
        .expect("first start prints the administrator's one-time password");
    assert!(
        env.path("signet-data/signet.db").exists(),
        "SQLite database in ./signet-data"
    );
    let admin = session_token(&node, "admin", &otp);
    let (alice, secret) = signer(&node, &admin, "alice");
    let key = org_key(&node, &alice);

    let pdf = common::pdf::raw_pdf(&[common::pdf::CATALOG, common::pdf::PAGES, common::pdf::PAGE], b"");
    std::fs::write(env.path("leave.pdf"), &pdf).unwrap();
    std::fs::write(env.path("other.pdf"), &pdf).unwrap();
    let code_now = code(&secret, 1);
    let o = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "--server",
            &node.url,
            "sign",
            "leave.pdf",
            "--key-id",
            &key,
            "--totp",
            &code_now,
            "--reason",
            "Approved",
            "--doc-type",
            "leave",
        ])
        .env("SIGNET_TOKEN", &alice)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, _, ca) = node.call("GET", "/api/v1/ca/certificate", None, None, &[]);
    std::fs::write(env.path("server-ca.pem"), &ca).unwrap();
    env.ok(&["verify", "leave-signed.pdf", "--trust", "server-ca.pem"]);
    let o = Command::new("pyhanko")
        .args([
            "sign",
            "validate",
            "--trust-replace",
            "--trust",
            "server-ca.pem",
            "leave-signed.pdf",
        ])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let verdict = String::from_utf8_lossy(&o.stdout);
    assert!(
        verdict.contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED"),
        "{verdict}"
    );
    // The same code again: refused, exit 2 with the server's reason, nothing written.
    let o = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "--server",
            &node.url,
            "sign",
            "other.pdf",
            "--key-id",
            &key,
            "--totp",
            &code_now,
            "-o",
            "again.pdf",
        ])
        .env("SIGNET_TOKEN", &alice)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("already used"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!env.path("again.pdf").exists());

    node.stop();
    // Console recovery: a new one-time password for the administrator, audited.
    let out = env.ok(&["user", "reset-password", "admin", "--data-dir", "signet-data"]);
    let fresh = out.lines().next().unwrap().rsplit(' ').next().unwrap().to_string();
    assert_eq!(fresh.len(), 20, "{out}");
    let node = Node::start(&env, &[], &[], false);
    session_token(&node, "admin", &fresh);
    node.stop();
    let out = env.ok(&["audit", "verify", "--data-dir", "signet-data"]);
    assert!(out.contains("audit log intact"), "{out}");
    // Tamper with one entry in the database behind the server's back.
    let py = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_log SET actor='mallory' WHERE seq=4\"); c.commit()";
    let o = Command::new("python3")
        .args(["-c", py, &env.p("signet-data/signet.db")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = env.signet(&["audit", "verify", "--data-dir", "signet-data"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("TAMPERED at entry 4"), "{out}");
}

#[test]
fn two_nodes_on_one_postgres_accept_a_code_exactly_once() {
    let Ok(pg) = std::env::var("SIGNET_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("SIGNET_TEST_REQUIRE_POSTGRES").is_err(),
            "PostgreSQL required"
        );
        return;
    };
    let env = Env::new();
    let mut b = [0u8; 6];
    signet_crypto::random_bytes(&mut b).unwrap();
    let db = format!("signet_test_nodes_{}", hex::encode(b));
    let o = Command::new("psql")
        .args([&pg, "-qc", &format!("CREATE DATABASE {db}")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let url = format!("{}/{db}", pg.rsplit_once('/').unwrap().0);
    let kek = "ab".repeat(32);
    std::fs::create_dir_all(env.path("shared-blobs")).unwrap();
    let common = ["--database-url", &url, "--blob-dir", "shared-blobs"];
    let a = Node::start(
        &env,
        &[&common[..], &["--data-dir", "node-a"]].concat(),
        &[("SIGNET_KEK", &kek)],
        true,
    );
    let admin_otp = a
        .admin_password
        .clone()
        .expect("the first node creates the administrator");
    let bn = Node::start(
        &env,
        &[&common[..], &["--data-dir", "node-b"]].concat(),
        &[("SIGNET_KEK", &kek)],
        false,
    );
    assert!(
        bn.admin_password.is_none(),
        "the second node joins, it does not bootstrap again"
    );

    let admin = session_token(&a, "admin", &admin_otp);
    let (alice, secret) = signer(&a, &admin, "alice");
    let key = org_key(&bn, &alice);
    let pdf = signet_pdf::build::classic_pdf(
        "1.7",
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
        ],
        b"",
    );
    let mut docs = Vec::new();
    for (i, node) in [&a, &bn, &a, &bn, &a, &bn].iter().enumerate() {
        let (s, v, _) = node.call(
            "POST",
            &format!("/api/v1/documents?title=Doc{i}"),
            Some(&alice),
            Some("application/pdf"),
            &pdf,
        );
        assert_eq!(s, 201, "{v}");
        docs.push(v["document"]["id"].as_str().unwrap().to_string());
    }
    // The same code, six requests at once, three to each node.
    let c = code(&secret, 1);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(docs.len()));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let node = if i % 2 == 0 { &a } else { &bn };
                let barrier = barrier.clone();
                let (alice, key, c) = (&alice, &key, &c);
                s.spawn(move || {
                    barrier.wait();
                    node.post(
                        &format!("/api/v1/documents/{d}/sign"),
                        Some(alice),
                        json!({"key_id": key, "totp_code": c}),
                    )
                    .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    // The others are refused as replays (403), or throttled (429) once replays pile up.
    assert!(statuses.iter().all(|s| [200, 403, 429].contains(s)), "{statuses:?}");
    // The signed version is readable from the other node (shared blobs and database).
    let (_, list, _) = bn.call("GET", "/api/v1/documents", Some(&alice), None, &[]);
    let signed = list["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["current_version"] == 2)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _, body) = a.call(
        "GET",
        &format!("/api/v1/documents/{signed}/content"),
        Some(&alice),
        None,
        &[],
    );
    assert_eq!(s, 200);
    assert!(body.starts_with(&pdf));
    a.stop();
    bn.stop();
    // Both nodes wrote to one audit chain: no gaps, nothing out of order.
    let out = env.ok(&["audit", "verify", "--database-url", &url]);
    assert!(out.contains("audit log intact"), "{out}");
}

/// Removes what legitimately differs between two validations of the same file a few seconds
/// apart (the validation time, and time-relative wording built from it).
fn without_validation_time(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("validation_time");
                for x in m.values_mut() {
                    walk(x);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// One validation path: `signet verify --format json` and the server's `POST /api/v1/verify`
/// give the same report, field for field, on a corpus — our server's PAdES B-T, the same file
/// tampered, a PDF signed by pyHanko, an attached CMS from `openssl cms -sign`, a garbage-free
/// but unsigned PDF, and after the signing key is revoked on the server.
#[test]
fn the_cli_and_the_server_report_the_same_on_a_corpus() {
    let env = Env::new();
    let node = Node::start(&env, &[], &[], true);
    let admin = session_token(&node, "admin", node.admin_password.as_deref().unwrap());
    let (alice, secret) = signer(&node, &admin, "alice");
    let key = org_key(&node, &alice);
    let pdf = common::pdf::raw_pdf(&[common::pdf::CATALOG, common::pdf::PAGES, common::pdf::PAGE], b"");
    std::fs::write(env.path("c.pdf"), &pdf).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "--server",
            &node.url,
            "sign",
            "c.pdf",
            "--key-id",
            &key,
            "--totp",
            &code(&secret, 1),
        ])
        .env("SIGNET_TOKEN", &alice)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, _, ca) = node.call("GET", "/api/v1/ca/certificate", None, None, &[]);
    std::fs::write(env.path("server-ca.pem"), &ca).unwrap();
    // The corpus.
    let signed = std::fs::read(env.path("c-signed.pdf")).unwrap();
    let mut tampered = signed.clone();
    let at = tampered.windows(9).position(|w| w == b"/MediaBox").unwrap();
    tampered[at + 11] = b'1';
    std::fs::write(env.path("tampered.pdf"), &tampered).unwrap();
    common::pdf::setup(&env);
    common::pdf::plain_key(&env, "bob");
    common::pdf::ok_cmd(
        &env,
        "python3",
        &[
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/pyhanko_pdf.py"),
            "sign",
            "c.pdf",
            "pyhanko.pdf",
            "bob.pem",
            "bob.crt",
            "Sig1",
        ],
    );
    env.write("memo.txt", b"purchase request 7\n");
    env.openssl_ok(&[
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-in",
        "memo.txt",
        "-signer",
        "bob.crt",
        "-inkey",
        "bob.pem",
        "-outform",
        "DER",
        "-out",
        "memo.p7m",
    ]);
    let corpus = ["c-signed.pdf", "tampered.pdf", "pyhanko.pdf", "memo.p7m", "c.pdf"];
    let compare = |when: &str| {
        let (_, _, crl) = node.call("GET", "/crl/ca.crl", None, None, &[]);
        std::fs::write(env.path("server.crl"), &crl).unwrap();
        for f in corpus {
            let o = env.signet(&[
                "verify",
                f,
                "--trust",
                "server-ca.pem",
                "--crl",
                "server.crl",
                "--format",
                "json",
            ]);
            let cli: Value = serde_json::from_slice(&o.stdout)
                .unwrap_or_else(|_| panic!("{f}: {}", String::from_utf8_lossy(&o.stderr)));
            let body = std::fs::read(env.path(f)).unwrap();
            let (s, server, _) = node.call(
                "POST",
                "/api/v1/verify",
                Some(&alice),
                Some("application/octet-stream"),
                &body,
            );
            assert_eq!(s, 200, "{f}: {server}");
            assert_eq!(
                without_validation_time(cli.clone()),
                without_validation_time(server.clone()),
                "{when}: {f}: the CLI and the server disagree"
            );
            assert!(cli["signatures"].is_array(), "{f}: {cli}");
        }
    };
    compare("before revocation");
    // After the organisation key's certificate is revoked on the server, both see it.
    let (s, v) = node.post(
        &format!("/api/v1/keys/{key}/revoke"),
        Some(&admin),
        json!({"reason": "key-compromise"}),
    );
    assert_eq!(s, 200, "{v}");
    std::thread::sleep(Duration::from_millis(1100));
    compare("after revocation");
    // Both see the revocation: after the signature's time-stamp, so noted, not failed.
    let o = env.signet(&[
        "verify",
        "c-signed.pdf",
        "--trust",
        "server-ca.pem",
        "--crl",
        "server.crl",
        "--format",
        "json",
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("after the validation time"), "{text}");
}
