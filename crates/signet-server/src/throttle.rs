//! Per-source throttling: failed logins and bad credentials counted per client address and
//! minute, in this node's memory. Each attempt claims its place before any password is hashed
//! (one check-and-count under a lock), and a successful login gives it back; a source over the
//! limit is answered 429 until the minute ends. IPv6 clients count per /64 (one host can hold
//! a whole /64). The per-account limits are the database's and hold across nodes; this one
//! shields each node's CPU from one noisy address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::error::ApiError;

/// Sources tracked at most in one minute; further new sources are not tracked until the next
/// minute (no count is ever forgotten to make room).
const MAX_SOURCES: usize = 100_000;

/// The key a client address counts under: an IPv4 address, or an IPv6 address's /64.
pub fn source_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_string(),
    }
}

/// Attempt counts per source for the current minute.
#[derive(Default)]
pub struct Sources {
    counts: Mutex<HashMap<String, (i64, u32)>>,
}

impl Sources {
    /// Claims an attempt for `address`: refused (429) when its source already made `limit`
    /// this minute, else counted.
    pub fn claim(&self, address: &str, limit: u32, now: i64) -> Result<(), ApiError> {
        let minute = now.div_euclid(60);
        let key = source_key(address);
        let Ok(mut m) = self.counts.lock() else { return Ok(()) };
        if !m.contains_key(&key) && m.len() >= MAX_SOURCES {
            m.retain(|_, (at, _)| *at == minute);
            if m.len() >= MAX_SOURCES {
                return Ok(());
            }
        }
        let e = m.entry(key).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        if e.1 >= limit {
            return Err(ApiError::too_many(
                "too many failed attempts from your address; wait a minute before trying again",
                u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60),
            ));
        }
        e.1 += 1;
        Ok(())
    }

    /// Gives back an attempt that succeeded.
    pub fn refund(&self, address: &str, now: i64) {
        let minute = now.div_euclid(60);
        if let Ok(mut m) = self.counts.lock()
            && let Some(e) = m.get_mut(&source_key(address))
            && e.0 == minute
        {
            e.1 = e.1.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_over_the_limit_waits_for_the_next_minute() {
        let s = Sources::default();
        let t = 6_000_000;
        for _ in 0..3 {
            assert!(s.claim("192.0.2.1", 3, t).is_ok());
        }
        let e = s.claim("192.0.2.1", 3, t + 10).unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.retry_after, Some(50));
        assert!(s.claim("192.0.2.2", 3, t).is_ok(), "another source is not affected");
        assert!(s.claim("192.0.2.1", 3, t + 60).is_ok(), "a new minute");
        // A success gives its attempt back.
        s.refund("192.0.2.1", t + 60);
        for _ in 0..3 {
            assert!(s.claim("192.0.2.1", 3, t + 61).is_ok());
        }
        assert!(s.claim("192.0.2.1", 3, t + 61).is_err());
    }

    #[test]
    fn an_ipv6_host_counts_per_64() {
        let s = Sources::default();
        let t = 6_000_000;
        assert!(s.claim("2001:db8:1:2::1", 2, t).is_ok());
        assert!(s.claim("2001:db8:1:2:ffff::9", 2, t).is_ok());
        assert!(s.claim("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 2, t).is_err(), "same /64");
        assert!(s.claim("2001:db8:1:3::1", 2, t).is_ok(), "another /64");
        assert_eq!(source_key("::ffff:192.0.2.7"), "192.0.2.7");
    }
}
