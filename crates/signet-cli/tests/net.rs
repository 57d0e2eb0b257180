//! Outbound HTTP as a user meets it: https to a TSA, to CRL distribution points and to a Signet
//! server, all behind a TLS front we did not write (Python's `ssl`) with a test CA made by
//! OpenSSL; a wrong host name and an untrusted certificate refused with a clear message; the
//! fetch policy keeping URLs from certificates away from loopback unless allowed; bad TSAs.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::pdf::*;
use common::*;

use std::io::BufRead;

/// A TLS front on loopback for `backend`; killed when dropped.
struct Front {
    _child: Kill,
    url: String,
}

fn front(env: &Env, backend: &str, port: u16) -> Front {
    let mut child = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/tls_proxy.py"))
        .args([
            env.p("tls.crt"),
            env.p("tls.key"),
            backend.to_string(),
            port.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Front {
        _child: Kill(child),
        url: line.trim().to_string(),
    }
}

/// A TLS test CA (tls-ca.crt) and a server certificate for `localhost` only (tls.crt, tls.key).
fn tls_ca(env: &Env) {
    ok_cmd(
        env,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tls-ca.key",
            "-out",
            "tls-ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=TLS Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    ok_cmd(
        env,
        "openssl",
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tls.key",
            "-out",
            "tls.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    env.write(
        "tls.ext",
        b"subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
    );
    ok_cmd(
        env,
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            "tls-ca.crt",
            "-CAkey",
            "tls-ca.key",
            "-CAcreateserial",
            "-out",
            "tls.crt",
            "-days",
            "2",
            "-extfile",
            "tls.ext",
        ],
    );
}

fn signet_in(env: &Env, args: &[&str]) -> std::process::Output {
    env.signet_fetching(args, "cache")
}

/// A CA whose issuing certificate names `cdp` (and `ocsp`, if given), alice's certificate from
/// it, and `signed.pdf` signed by alice.
fn signed_under(env: &Env, cdp: &str, ocsp: Option<&str>) {
    let mut a = vec![
        "ca",
        "init",
        "--dir",
        "ca",
        "--name",
        "Fetch Root",
        "--issuing",
        "Fetch Issuing",
        "--crl-url",
        cdp,
        "--passphrase-file",
        "capw.txt",
    ];
    if let Some(o) = ocsp {
        a.extend_from_slice(&["--ocsp-url", o]);
    }
    env.ok(&a);
    new_signer(env, "alice", "ecdsa-p256", "alice example", &[]);
    env.write("clean.pdf", &raw_pdf(&[CATALOG, PAGES, PAGE], b""));
    env.ok(&[
        "sign",
        "clean.pdf",
        "-o",
        "signed.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
}

/// `--tsa https://…` through a TLS front with our CA bundle; an untrusted server certificate
/// and a wrong host name are refused and nothing is written; `--fetch-crls` over https finds a
/// revocation; `signet --server https://…` reaches a Signet server.
#[test]
fn https_to_tsa_distribution_points_and_server() {
    let env = Env::new();
    tls_ca(&env);
    let crl_port = free_port();
    let cdp = format!("https://localhost:{crl_port}/issuing.crl");
    env.ok(&[
        "ca",
        "init",
        "--dir",
        "ca",
        "--name",
        "TLS Root",
        "--issuing",
        "TLS Issuing",
        "--crl-url",
        &cdp,
        "--passphrase-file",
        "capw.txt",
    ]);
    new_signer(&env, "alice", "ecdsa-p256", "alice example", &[]);
    let tsa = start_tsa(&env);
    let tsa_front = front(&env, &tsa.url, 0);
    env.write("clean.pdf", &raw_pdf(&[CATALOG, PAGES, PAGE], b""));
    let sign = |out: &str, tsa_url: &str, extra: &[&str]| {
        let mut a = vec![
            "sign",
            "clean.pdf",
            "-o",
            out,
            "--key",
            "alice.key",
            "--cert",
            "alice.crt",
            "--tsa",
            tsa_url,
        ];
        a.extend_from_slice(extra);
        signet_in(&env, &a)
    };
    // Trusted through the CA bundle: B-T.
    let o = sign("bt.pdf", &tsa_front.url, &["--ca-bundle", "tls-ca.crt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = signet_in(
        &env,
        &["verify", "bt.pdf", "--trust", "ca/root.crt", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signatures"][0]["level"], "PAdES-B-T", "{v}");
    // Untrusted server certificate: a clear refusal, nothing written.
    let o = sign("untrusted.pdf", &tsa_front.url, &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("not issued by a trusted CA"), "{}", stderr(&o));
    assert!(!env.path("untrusted.pdf").exists());
    // The certificate names localhost; 127.0.0.1 is another name.
    let by_ip = tsa_front.url.replace("localhost", "127.0.0.1");
    let o = sign("wrong-name.pdf", &by_ip, &["--ca-bundle", "tls-ca.crt"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("not valid for this host name"), "{}", stderr(&o));
    assert!(!env.path("wrong-name.pdf").exists());

    // CRLs over https: alice revoked, published behind the TLS front.
    std::fs::create_dir_all(env.path("srv")).unwrap();
    env.ok(&[
        "cert",
        "revoke",
        "--ca",
        "ca",
        "alice.crt",
        "--reason",
        "key-compromise",
    ]);
    ca_crl(&env, "srv/issuing.crl", false);
    let dir_port = free_port();
    let _http = serve_dir(&env, "srv", dir_port);
    let _crl_front = front(&env, &format!("http://127.0.0.1:{dir_port}/"), crl_port);
    let o = signet_in(
        &env,
        &[
            "sign",
            "clean.pdf",
            "-o",
            "bb.pdf",
            "--key",
            "alice.key",
            "--cert",
            "alice.crt",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = signet_in(
        &env,
        &[
            "--ca-bundle",
            "tls-ca.crt",
            "--allow-private-fetch",
            "verify",
            "bb.pdf",
            "--trust",
            "ca/root.crt",
            "--fetch-crls",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(code(&o), 1, "{v}");
    assert!(v.to_string().contains("REVOKED"), "{v}");
    assert!(stderr(&o).contains(&format!("signet: CRL {cdp}")), "{}", stderr(&o));

    // A Signet server behind the TLS front: the CLI reaches it (and is told its token is bad).
    let api_port = free_port();
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["serve", "--data-dir"])
        .arg(env.path("server"))
        .args(["--listen", &format!("127.0.0.1:{api_port}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = serve.stdout.take().unwrap();
    let _serve = Kill(serve);
    let mut lines = std::io::BufReader::new(out).lines();
    while let Some(Ok(l)) = lines.next() {
        if l.contains("http://") {
            break;
        }
    }
    let api = front(&env, &format!("http://127.0.0.1:{api_port}/"), 0);
    let remote = |extra: &[&str]| {
        let mut a = vec!["--server", api.url.as_str()];
        a.extend_from_slice(extra);
        a.extend_from_slice(&["sign", "clean.pdf", "--key-id", "nope", "--totp", "123456"]);
        std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(&a)
            .current_dir(env.dir.path())
            .env("SIGNET_TOKEN", "sgt_not_a_real_token")
            .output()
            .unwrap()
    };
    let o = remote(&["--ca-bundle", "tls-ca.crt"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("server: 401"), "{}", stderr(&o));
    let o = remote(&[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("not issued by a trusted CA"), "{}", stderr(&o));
}

/// A listener that counts the connections it accepts (answering none).
fn counting_listener() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = n.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(s);
        }
    });
    (port, n)
}

/// URLs inside certificates are fetched only for certificates on a path being validated, and
/// never to loopback unless allowed: a signature whose chain is untrusted makes no request at
/// all; a trusted one makes none by default (a warning says why) and does with
/// `--allow-private-fetch`.
#[test]
fn certificate_urls_reach_loopback_only_when_allowed() {
    let env = Env::new();
    let (port, seen) = counting_listener();
    let cdp = format!("http://127.0.0.1:{port}/issuing.crl");
    let ocsp = format!("http://127.0.0.1:{port}/ocsp");
    signed_under(&env, &cdp, Some(&ocsp));
    // Another root: the signature's chain is untrusted, its URLs are never contacted.
    env.ok(&[
        "ca",
        "init",
        "--dir",
        "other",
        "--name",
        "Other Root",
        "--passphrase-file",
        "capw.txt",
    ]);
    let o = signet_in(
        &env,
        &[
            "--allow-private-fetch",
            "verify",
            "signed.pdf",
            "--trust",
            "other/root.crt",
            "--fetch-crls",
            "--fetch-ocsp",
        ],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 0, "{}", stderr(&o));
    // Trusted, but loopback is refused by default.
    let o = signet_in(
        &env,
        &[
            "verify",
            "signed.pdf",
            "--trust",
            "ca/root.crt",
            "--fetch-crls",
            "--fetch-ocsp",
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("not fetching CRL"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--allow-private-fetch"), "{}", stderr(&o));
    // Allowed: the listener is asked.
    let o = signet_in(
        &env,
        &[
            "--allow-private-fetch",
            "verify",
            "signed.pdf",
            "--trust",
            "ca/root.crt",
            "--fetch-crls",
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(seen.load(std::sync::atomic::Ordering::SeqCst) >= 1, "{}", stderr(&o));
}

/// A TSA that answers garbage, one that never answers, and a redirect loop: clear errors, and
/// nothing signed without the time proof that was asked for.
#[test]
fn bad_tsas_are_clear_errors_and_nothing_is_written() {
    let env = Env::new();
    setup(&env);
    env.write("clean.pdf", &raw_pdf(&[CATALOG, PAGES, PAGE], b""));
    // Garbage.
    let tsa = start_tsa_mode(&env, "garbage");
    let sign = |out: &str, url: &str| {
        signet_in(
            &env,
            &[
                "sign",
                "clean.pdf",
                "-o",
                out,
                "--key",
                "alice.key",
                "--cert",
                "alice.crt",
                "--tsa",
                url,
            ],
        )
    };
    let o = sign("g.pdf", &tsa.url);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("TimeStampResp"), "{}", stderr(&o));
    assert!(!env.path("g.pdf").exists());
    // Silence: accepts, never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/", silent.local_addr().unwrap().port());
    let held = std::thread::spawn(move || {
        let conns: Vec<_> = silent.incoming().take(1).collect();
        std::thread::sleep(std::time::Duration::from_secs(20));
        drop(conns);
    });
    let t0 = std::time::Instant::now();
    let o = sign("t.pdf", &url);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("no answer"), "{}", stderr(&o));
    assert!(t0.elapsed() < std::time::Duration::from_secs(40));
    assert!(!env.path("t.pdf").exists());
    drop(held);
    // A redirect loop.
    let looping = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = looping.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for s in looping.incoming().take(20) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                format!("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    let o = sign("r.pdf", &format!("http://127.0.0.1:{port}/"));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("redirect"), "{}", stderr(&o));
    assert!(!env.path("r.pdf").exists());
    // A URL with a line break never reaches a request line.
    let o = sign("crlf.pdf", "http://127.0.0.1:1/\r\nX-Injected: 1");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("control"), "{}", stderr(&o));
}

/// A distribution point that answers with a 2 GiB CRL: refused from its Content-Length before
/// anything is read, with a clear warning; validation goes on without it.
#[test]
fn a_two_gib_crl_is_refused_unread() {
    let env = Env::new();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for s in l.incoming().take(5) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: 2147483648\r\n\r\n",
            );
            let _ = s.write_all(&[0u8; 65536]);
        }
    });
    let cdp = format!("http://127.0.0.1:{port}/huge.crl");
    signed_under(&env, &cdp, None);
    let t0 = std::time::Instant::now();
    let o = signet_in(
        &env,
        &[
            "--allow-private-fetch",
            "verify",
            "signed.pdf",
            "--trust",
            "ca/root.crt",
            "--fetch-crls",
        ],
    );
    assert!(t0.elapsed() < std::time::Duration::from_secs(30));
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than"), "{}", stderr(&o));
}
