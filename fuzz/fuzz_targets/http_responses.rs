//! What a remote server answers never panics or hangs the client: the bytes are served raw by a
//! loopback listener (status line, headers, chunked or sized bodies, truncation, garbage) to
//! Signet's HTTP client with its size bound, and the body, if any, goes where a fetched answer
//! goes — the OCSP response check, the CRL parser and the TSA reply check.
#![no_main]
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

/// A loopback listener that answers every connection with the current input, then closes.
fn server() -> (String, Arc<Mutex<Vec<u8>>>) {
    static SERVER: OnceLock<(String, Arc<Mutex<Vec<u8>>>)> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let url = format!("http://{}/r", l.local_addr().expect("addr"));
            let current = Arc::new(Mutex::new(Vec::new()));
            let served = current.clone();
            std::thread::spawn(move || {
                for s in l.incoming().flatten() {
                    let mut s = s;
                    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                    let mut head = Vec::new();
                    let mut b = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut b) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&b[..n]),
                        }
                    }
                    let answer = served.lock().map(|a| a.clone()).unwrap_or_default();
                    let _ = s.write_all(&answer);
                }
            });
            (url, current)
        })
        .clone()
}

fn client() -> &'static signet_net::HttpClient {
    static CLIENT: OnceLock<signet_net::HttpClient> = OnceLock::new();
    CLIENT.get_or_init(|| signet_net::HttpClient::new(&signet_net::ClientOptions::default()).expect("client"))
}

fuzz_target!(|data: &[u8]| {
    let (url, current) = server();
    if let Ok(mut c) = current.lock() {
        *c = data.to_vec();
    }
    let r = client().send(signet_net::Request {
        method: "GET",
        url: &url,
        headers: &[("Accept", "application/ocsp-response")],
        body: Vec::new(),
        max_bytes: 64 * 1024,
        timeout: Some(Duration::from_secs(2)),
    });
    let Ok(r) = r else { return };
    let _ = r.header("content-type");
    let _ = signet_pki::Crl::from_der(&r.body);
    let _ = signet_pki::ocsp::Response::from_der(&r.body);
    let _ = signet_cms::timestamp::token_from_response(
        &r.body,
        signet_crypto::HashAlgorithm::Sha256,
        &[0u8; 32],
        &[1, 2, 3],
        1_800_000_000,
    );
});
