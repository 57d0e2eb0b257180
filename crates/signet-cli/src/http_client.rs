//! A minimal blocking HTTP/1.1 client (`http://` URLs) with timeouts and a bounded answer, for
//! the TSA client and for talking to a Signet server (`signet --server URL …`).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// An HTTP answer.
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header lines as (lower-case name, value).
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Sends one request (`Connection: close`) and reads the answer, at most `max_reply` bytes.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
    max_reply: u64,
) -> Result<Response, String> {
    let rest = match url.strip_prefix("http://") {
        Some(r) => r,
        None if url.starts_with("https://") => {
            return Err(
                "https URLs are not supported yet; use the http:// endpoint (or a TLS-terminating proxy on loopback)"
                    .into(),
            );
        }
        None => return Err(format!("{url:?}: the URL must start with http://")),
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
    let mut s =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    // Head and body go out in two writes: without this, Nagle's algorithm and delayed ACKs
    // add ~40 ms to every request on a kept-alive connection.
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    exchange(
        &mut s, authority, method, path, headers, body, false, timeout, max_reply,
    )
}

/// Connects to `host:port` with the timeouts set (for [`exchange`] on a kept-alive connection).
pub fn connect(hostport: &str, timeout: Duration) -> Result<TcpStream, String> {
    let addr = hostport
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {hostport}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {hostport}"))?;
    let s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("cannot connect to {hostport}: {e}"))?;
    s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    // Head and body go out in two writes: without this, Nagle's algorithm and delayed ACKs
    // add ~40 ms to every request on a kept-alive connection.
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(s)
}

/// Sends one request on an open connection and reads exactly one answer; with `keep_alive` the
/// connection stays usable for the next request.
#[allow(clippy::too_many_arguments)]
pub fn exchange(
    s: &mut TcpStream,
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
    timeout: Duration,
    max_reply: u64,
) -> Result<Response, String> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: {}\r\nUser-Agent: signet/{}\r\n",
        body.len(),
        if keep_alive { "keep-alive" } else { "close" },
        env!("CARGO_PKG_VERSION")
    );
    for (k, v) in headers {
        if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
            return Err("header values must not contain line breaks".into());
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(body))
        .map_err(|e| format!("cannot send the request: {e}"))?;
    // Read the head, then exactly Content-Length bytes (servers may keep the connection open
    // despite `Connection: close`), or a chunked body to its last chunk, or up to EOF.
    let mut reply = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let read_more = |s: &mut TcpStream, reply: &mut Vec<u8>, buf: &mut [u8]| -> Result<usize, String> {
        let n = s
            .read(buf)
            .map_err(|e| format!("no answer within {} s: {e}", timeout.as_secs()))?;
        reply.extend_from_slice(&buf[..n]);
        if reply.len() as u64 > max_reply {
            return Err(format!("the answer is larger than {max_reply} bytes"));
        }
        Ok(n)
    };
    let split = loop {
        if let Some(p) = reply.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if read_more(s, &mut reply, &mut buf)? == 0 {
            return Err("not an HTTP answer".into());
        }
    };
    let header_text = String::from_utf8_lossy(&reply[..split]).to_string();
    let mut lines = header_text.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP status line: {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let start = split + 4;
    loop {
        let have = reply.len() - start;
        let done = if chunked {
            dechunk(&reply[start..]).is_some()
        } else {
            length.is_some_and(|l| have >= l)
        };
        if done || read_more(s, &mut reply, &mut buf)? == 0 {
            break;
        }
    }
    let mut body = reply[start..].to_vec();
    if chunked {
        body = dechunk(&body).ok_or("malformed chunked answer")?;
    } else if let Some(l) = length {
        if body.len() < l {
            return Err("the answer ended before its Content-Length".into());
        }
        body.truncate(l);
    }
    Ok(Response { status, headers, body })
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
        let t = Duration::from_secs(1);
        assert!(
            request("GET", "https://x.example/", &[], b"", t, 10)
                .err()
                .unwrap()
                .contains("https")
        );
        assert!(
            request("GET", "ftp://x", &[], b"", t, 10)
                .err()
                .unwrap()
                .contains("http://")
        );
        assert!(request("GET", "http://127.0.0.1:1/", &[("a", "b\r\nc")], b"", t, 10).is_err());
    }
}
