//! Times: X.509 `Time` to and from Unix seconds, RFC 3339 text.

use std::time::Duration;

use der::asn1::{GeneralizedTime, UtcTime};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_cert::time::Time;

use crate::PkiError;

/// Seconds since the Unix epoch, UTC.
pub type UnixTime = i64;

/// The current time.
pub fn now() -> UnixTime {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// An X.509 Time as Unix seconds.
pub fn from_x509(t: &Time) -> UnixTime {
    t.to_unix_duration().as_secs() as i64
}

/// Unix seconds as an X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
pub fn to_x509(secs: UnixTime) -> Result<Time, PkiError> {
    if secs < 0 {
        return Err(PkiError::Invalid("times before 1970 are not supported".into()));
    }
    let d = Duration::from_secs(secs as u64);
    const Y2050: i64 = 2_524_608_000;
    Ok(if secs < Y2050 {
        Time::UtcTime(UtcTime::from_unix_duration(d)?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(d)?)
    })
}

/// RFC 3339 text, e.g. `2026-11-29T10:00:00Z`.
pub fn format(secs: UnixTime) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("@{secs}"))
}

/// Parses RFC 3339 text (`2026-11-29T10:00:00Z`) or a plain date (`2026-11-29`, midnight UTC).
pub fn parse(s: &str) -> Result<UnixTime, PkiError> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let with_time = format!("{s}T00:00:00Z");
    OffsetDateTime::parse(&with_time, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| PkiError::Invalid(format!("{s:?} is not a date (use 2026-11-29 or 2026-11-29T10:00:00Z)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_and_generalized_round_trip() {
        for s in [0i64, 1_700_000_000, 2_524_608_000, 4_000_000_000] {
            assert_eq!(from_x509(&to_x509(s).unwrap()), s);
        }
        assert!(matches!(to_x509(2_524_608_000).unwrap(), Time::GeneralTime(_)));
    }

    #[test]
    fn parses_dates_and_timestamps() {
        assert_eq!(parse("1970-01-02").unwrap(), 86400);
        assert_eq!(parse("1970-01-01T00:01:00Z").unwrap(), 60);
        assert!(parse("yesterday").is_err());
    }
}
