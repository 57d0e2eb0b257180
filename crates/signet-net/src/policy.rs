//! The fetch policy for URLs Signet did not get from its user: distribution points and OCSP
//! responders named inside certificates. Such a URL is attacker-chosen whenever the
//! certificate is, so it is fetched only when path validation needs it (see
//! `signet_pki::context`), only over http or https, never with control characters, and never
//! to a loopback, private, link-local or otherwise non-public address unless the operator
//! allowed that (`--allow-private-fetch`, the server's `allow_private_fetch`).
//!
//! Names are checked after resolution, by the resolver the connection itself uses, so a name
//! that resolves to a private address is refused too and cannot be re-pointed between the
//! check and the connection. Such requests use no proxy (a proxy would resolve names itself).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::NetError;

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// What may be fetched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Also loopback, private and link-local targets.
    pub allow_private: bool,
}

/// Checks a URL's text before anything is sent: http or https, no control characters or
/// spaces, a host, not too long, and (unless private targets are allowed) no IP literal of a
/// non-public address.
pub fn check_url(url: &str, policy: FetchPolicy) -> Result<reqwest::Url, NetError> {
    if url.len() > MAX_URL_LEN {
        return Err(NetError::InvalidUrl(format!(
            "a URL of {} characters (at most {MAX_URL_LEN})",
            url.len()
        )));
    }
    if let Some(c) = url.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(NetError::InvalidUrl(format!(
            "{:?} contains a control or space character (U+{:04X})",
            printable(url),
            c as u32
        )));
    }
    let u = reqwest::Url::parse(url).map_err(|e| NetError::InvalidUrl(format!("{url:?}: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(NetError::InvalidUrl(format!(
            "{url:?}: only http:// and https:// URLs are fetched"
        )));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(NetError::InvalidUrl(format!(
            "{url:?}: URLs with credentials are not fetched"
        )));
    }
    let host = u
        .host()
        .ok_or_else(|| NetError::InvalidUrl(format!("{url:?} names no host")))?;
    if !policy.allow_private {
        let ip = match host {
            url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
            url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = ip
            && !is_public(ip)
        {
            return Err(NetError::Refused(format!(
                "{url}: {ip} is a loopback, private or link-local address (allow it with --allow-private-fetch)"
            )));
        }
    }
    Ok(u)
}

/// A URL as it may be shown: control characters escaped.
pub fn printable(url: &str) -> String {
    url.chars().flat_map(char::escape_debug).take(300).collect()
}

/// Whether an address is an ordinary public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(a),
        },
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space (RFC 6598)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking
        || o[0] >= 240) // reserved
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    !(a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 (may reach private IPv4)
        || a.to_ipv4().is_some_and(|v4| !is_public_v4(v4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "93.184.216.34", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn refuses_bad_urls() {
        let strict = FetchPolicy::default();
        for (url, want) in [
            ("http://ca.example/a.crl\r\nX-Injected: 1", "control"),
            ("http://ca.example/a b.crl", "control or space"),
            ("ldap://ca.example/cn=CA", "only http"),
            ("file:///etc/passwd", "only http"),
            ("http://127.0.0.1:8080/crl", "loopback"),
            ("http://[::1]/crl", "loopback"),
            ("http://169.254.169.254/latest", "loopback, private or link-local"),
            ("http://user:pw@ca.example/", "credentials"),
        ] {
            let e = check_url(url, strict).unwrap_err().to_string();
            assert!(e.contains(want), "{url}: {e}");
        }
        assert!(check_url("http://ca.example/root.crl", strict).is_ok());
        assert!(check_url("https://ca.example/root.crl", strict).is_ok());
        assert!(check_url("http://127.0.0.1:8080/crl", FetchPolicy { allow_private: true }).is_ok());
        let long = format!("http://ca.example/{}", "a".repeat(3000));
        assert!(check_url(&long, strict).is_err());
    }
}
