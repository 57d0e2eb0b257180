//! RFC 3161 client: a time-stamp request POSTed to a TSA over HTTP/1.1 (`http://` URLs), with
//! connect and read timeouts and a bounded answer; the reply is checked by
//! `signet_cms::timestamp::token_from_response` (status, imprint, nonce, TSA certificate).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
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
    let mut nonce = [0u8; 8];
    signet_crypto::random_bytes(&mut nonce).map_err(|e| e.to_string())?;
    nonce[0] = (nonce[0] & 0x7f) | 0x01; // a positive INTEGER without a leading zero
    let req = signet_cms::timestamp::request(hash, &imprint, &nonce).map_err(|e| e.to_string())?;
    let reply = post(url, "application/timestamp-query", &req).map_err(|e| format!("TSA {url}: {e}"))?;
    signet_cms::timestamp::token_from_response(&reply, hash, &imprint, &nonce, signet_pki::time::now())
        .map_err(|e| format!("TSA {url}: {e}"))
}

/// A minimal HTTP/1.1 POST; returns the body of a 200 answer.
fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let rest = match url.strip_prefix("http://") {
        Some(r) => r,
        None if url.starts_with("https://") => {
            return Err("https TSA URLs are not supported yet; use the TSA's http:// endpoint".into());
        }
        None => return Err("the TSA URL must start with http://".into()),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let hostport = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = hostport
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {authority}"))?;
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("cannot connect: {e}"))?;
    s.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: signet\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(body))
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut reply = Vec::new();
    s.take(MAX_REPLY + 1)
        .read_to_end(&mut reply)
        .map_err(|e| format!("no answer within {} s: {e}", TIMEOUT.as_secs()))?;
    if reply.len() as u64 > MAX_REPLY {
        return Err("the answer is larger than 1 MiB".into());
    }
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("not an HTTP answer")?;
    let header = String::from_utf8_lossy(&reply[..split]).to_string();
    let mut body = reply[split + 4..].to_vec();
    let status = header.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("HTTP status {status:?}"));
    }
    let chunked = header.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or("malformed chunked answer")?;
    }
    Ok(body)
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(), b"abcde");
        assert!(dechunk(b"zz\r\n").is_none());
    }

    #[test]
    fn unsupported_urls_are_clear_errors() {
        assert!(post("https://tsa.example/", "x", b"").unwrap_err().contains("https"));
        assert!(post("ftp://x", "x", b"").unwrap_err().contains("http://"));
    }
}
