//! Who is on the other end: the client's address (the peer, or behind a trusted reverse proxy
//! the address it forwarded) and user agent, for throttling and the audit log.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};

use crate::audit::Client;

/// An address range: an address and a prefix length (`10.0.0.0/8`, `::1`, `192.0.2.7`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a range does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an IP address or CIDR range")]
pub struct BadCidr(String);

impl Cidr {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub fn parse(s: &str) -> Result<Cidr, BadCidr> {
        let bad = || BadCidr(s.to_string());
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(a.to_bits()), u128::from(b.to_bits()), 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits(), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        if shift >= 128 {
            return true;
        }
        (a >> shift) == (b >> shift)
    }
}

/// An address as proxies write it in `X-Forwarded-For`: bare, with a port, or bracketed IPv6.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    if let Ok(ip) = e.parse() {
        return Some(ip);
    }
    if let Some(rest) = e.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    e.rsplit_once(':').and_then(|(ip, port)| {
        port.parse::<u16>().ok()?;
        ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    })
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then `X-Forwarded-For`
/// is read from the right, hop by hop, while the hops are trusted proxies: the first hop that
/// is not is the client. An entry that is not an address stops the walk at the last trusted
/// hop (anything left of it is the client's to write). `None` when the connection's peer is
/// unknown (in-process tests).
pub fn address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut last_trusted = peer;
    for e in entries.iter().rev() {
        match forwarded_ip(e) {
            Some(ip) if is_trusted(ip) => last_trusted = ip,
            Some(ip) => return Some(ip),
            None => break,
        }
    }
    Some(last_trusted)
}

/// The address of a client whose connection's peer is not known (requests made in process).
pub const UNKNOWN: &str = "unknown";

/// The client of a request (address as text, [`UNKNOWN`] without one; user agent cut to 200
/// characters).
pub fn of<B>(req: &Request<B>, trusted: &[Cidr]) -> Client {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let address = address(peer, req.headers(), trusted)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| UNKNOWN.into());
    let user_agent = req
        .headers()
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    Client { address, user_agent }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.1.2.3")) && !c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.0.0.1")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        assert!(!Cidr::parse("0.0.0.0/0").unwrap().contains(ip("::2")));
        for bad in ["", "10.0.0.0/33", "host", "1.2.3.4/x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies = [Cidr::parse("127.0.0.1").unwrap(), Cidr::parse("10.0.0.0/8").unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "198.51.100.1, 203.0.113.5, 10.0.0.2".parse().unwrap(),
        );
        // From a trusted proxy: the right-most untrusted hop (the left-most could be forged).
        assert_eq!(address(Some(ip("127.0.0.1")), &h, &proxies), Some(ip("203.0.113.5")));
        // From anyone else: the header is theirs to forge, and ignored.
        assert_eq!(address(Some(ip("192.0.2.1")), &h, &proxies), Some(ip("192.0.2.1")));
        assert_eq!(
            address(Some(ip("127.0.0.1")), &HeaderMap::new(), &proxies),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(address(None, &h, &proxies), None);
        // Ports and brackets are read; an entry that is no address stops the walk there, so
        // what a client wrote left of it is never taken for its address.
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 198.51.100.9:4711, 10.0.0.2".parse().unwrap(),
        );
        assert_eq!(address(Some(ip("127.0.0.1")), &h, &proxies), Some(ip("198.51.100.9")));
        h.insert("x-forwarded-for", "6.6.6.6, unknown, 10.0.0.2".parse().unwrap());
        assert_eq!(address(Some(ip("127.0.0.1")), &h, &proxies), Some(ip("10.0.0.2")));
        h.insert("x-forwarded-for", "[2001:db8::7]:443".parse().unwrap());
        assert_eq!(address(Some(ip("127.0.0.1")), &h, &proxies), Some(ip("2001:db8::7")));
    }
}
