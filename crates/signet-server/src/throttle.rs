//! Per-source throttling: failed logins and bad credentials counted per client address and
//! minute, in this node's memory. A source over the limit is answered 429 until the minute
//! ends, before any password is hashed. (The per-account limits are the database's and hold
//! across nodes; this one shields each node's CPU from one noisy address.)

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::ApiError;

/// Sources tracked at most; beyond that the oldest minute's are forgotten first.
const MAX_SOURCES: usize = 100_000;

/// Failure counts per source for the current minute.
#[derive(Default)]
pub struct Sources {
    counts: Mutex<HashMap<String, (i64, u32)>>,
}

impl Sources {
    /// Refuses `source` (429) if it failed `limit` times this minute.
    pub fn check(&self, source: &str, limit: u32, now: i64) -> Result<(), ApiError> {
        let minute = now.div_euclid(60);
        let over = self
            .counts
            .lock()
            .map(|m| m.get(source).is_some_and(|(m, n)| *m == minute && *n >= limit))
            .unwrap_or(false);
        if over {
            return Err(ApiError::too_many(
                "too many failed attempts from your address; wait a minute before trying again",
                u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60),
            ));
        }
        Ok(())
    }

    /// Counts a failure of `source`; returns its count this minute.
    pub fn fail(&self, source: &str, now: i64) -> u32 {
        let minute = now.div_euclid(60);
        let Ok(mut m) = self.counts.lock() else { return 0 };
        if m.len() >= MAX_SOURCES && !m.contains_key(source) {
            m.retain(|_, (at, _)| *at == minute);
            if m.len() >= MAX_SOURCES {
                m.clear();
            }
        }
        let e = m.entry(source.to_string()).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        e.1 = e.1.saturating_add(1);
        e.1
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
            assert!(s.check("192.0.2.1", 3, t).is_ok());
            s.fail("192.0.2.1", t);
        }
        let e = s.check("192.0.2.1", 3, t + 10).unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.retry_after, Some(50));
        assert!(s.check("192.0.2.2", 3, t).is_ok(), "another source is not affected");
        assert!(s.check("192.0.2.1", 3, t + 60).is_ok(), "a new minute");
        assert_eq!(s.fail("192.0.2.1", t + 60), 1);
    }
}
