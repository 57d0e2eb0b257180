//! GeneralizedTime with fractional seconds, as RFC 3161 §2.4.2 allows for a TSTInfo's genTime
//! (and OCSP responders send): `YYYYMMDDHHMMSS[.f…]Z`. DER (X.690 §11.7) demands the `Z`, a
//! `.` as the decimal mark and no trailing zeros in the fraction (nor a bare `.`); anything else
//! is refused. `der`'s own `GeneralizedTime` accepts whole seconds only.

use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Tag, Writer};
use time::{Date, Month, PrimitiveDateTime, Time};

use crate::time::UnixTime;

/// Most fraction digits read (nanoseconds); longer fractions are refused.
pub const MAX_FRACTION_DIGITS: u8 = 9;

/// A GeneralizedTime with an optional fraction of a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PreciseTime {
    /// Whole seconds since the Unix epoch.
    pub secs: UnixTime,
    /// The fraction in nanoseconds.
    pub nanos: u32,
    /// How many fraction digits the encoding carries (0 for whole seconds).
    pub digits: u8,
}

impl PreciseTime {
    /// Whole seconds.
    pub fn from_secs(secs: UnixTime) -> Self {
        PreciseTime {
            secs,
            nanos: 0,
            digits: 0,
        }
    }

    /// `secs` plus `nanos`, encoded with at most `digits` fraction digits (0–9; the fraction
    /// is truncated to them and trailing zeros are dropped, as DER requires).
    pub fn with_precision(secs: UnixTime, nanos: u32, digits: u8) -> Self {
        let digits = digits.min(MAX_FRACTION_DIGITS);
        let unit = 10u32.pow(u32::from(MAX_FRACTION_DIGITS - digits));
        let mut nanos = (nanos % 1_000_000_000) / unit * unit;
        let mut d = digits;
        while d > 0 && (nanos / 10u32.pow(u32::from(MAX_FRACTION_DIGITS - d))).is_multiple_of(10) {
            d -= 1;
        }
        if d == 0 {
            nanos = 0;
        }
        PreciseTime { secs, nanos, digits: d }
    }

    /// RFC 3339 text with the fraction as encoded, e.g. `2026-12-07T10:00:00.123Z`.
    pub fn format(&self) -> String {
        let base = crate::time::format(self.secs);
        if self.digits == 0 {
            return base;
        }
        let frac = format!("{:09}", self.nanos);
        match base.strip_suffix('Z') {
            Some(b) => format!("{b}.{}Z", &frac[..usize::from(self.digits)]),
            None => base,
        }
    }

    /// The precision in words: "1 s", "1 ms", "100 µs".
    pub fn precision(&self) -> String {
        match self.digits {
            0 => "1 s".into(),
            1 => "100 ms".into(),
            2 => "10 ms".into(),
            3 => "1 ms".into(),
            4 => "100 µs".into(),
            5 => "10 µs".into(),
            6 => "1 µs".into(),
            d => format!("10^-{d} s"),
        }
    }

    fn text(&self) -> Result<String, der::Error> {
        let dt = time::OffsetDateTime::from_unix_timestamp(self.secs)
            .map_err(|_| der::Error::from(der::ErrorKind::DateTime))?;
        if !(0..=9999).contains(&dt.year()) {
            return Err(der::ErrorKind::DateTime.into());
        }
        let mut s = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        if self.digits > 0 {
            let frac = format!("{:09}", self.nanos);
            s.push('.');
            s.push_str(&frac[..usize::from(self.digits)]);
        }
        s.push('Z');
        Ok(s)
    }

    /// Parses the content octets of a DER GeneralizedTime.
    pub fn parse(b: &[u8]) -> Result<Self, String> {
        let digits = |r: std::ops::Range<usize>| -> Result<u32, String> {
            let s = b.get(r).ok_or("GeneralizedTime too short")?;
            if !s.iter().all(u8::is_ascii_digit) {
                return Err("GeneralizedTime has a non-digit where a digit belongs".into());
            }
            Ok(s.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
        };
        if b.last() != Some(&b'Z') {
            return Err("GeneralizedTime must end in Z (UTC) in DER".into());
        }
        let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
        let (hour, minute, second) = (digits(8..10)?, digits(10..12)?, digits(12..14)?);
        let rest = &b[14..b.len() - 1];
        let (nanos, n_digits) = match rest {
            [] => (0, 0),
            [b'.', frac @ ..] => {
                if frac.is_empty() || frac.len() > usize::from(MAX_FRACTION_DIGITS) {
                    return Err("GeneralizedTime fraction must have 1 to 9 digits".into());
                }
                if !frac.iter().all(u8::is_ascii_digit) {
                    return Err("GeneralizedTime fraction has a non-digit".into());
                }
                if frac.last() == Some(&b'0') {
                    return Err("GeneralizedTime fraction has trailing zeros (not DER)".into());
                }
                let v = frac.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
                let n = frac.len() as u8;
                (v * 10u32.pow(u32::from(MAX_FRACTION_DIGITS - n)), n)
            }
            _ => return Err("GeneralizedTime has unexpected characters after the seconds".into()),
        };
        let month = Month::try_from(month as u8).map_err(|_| "GeneralizedTime month out of range")?;
        let date =
            Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| "GeneralizedTime date out of range")?;
        if second > 59 {
            return Err("GeneralizedTime seconds out of range".into());
        }
        let t =
            Time::from_hms(hour as u8, minute as u8, second as u8).map_err(|_| "GeneralizedTime time out of range")?;
        let secs = PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp();
        Ok(PreciseTime {
            secs,
            nanos,
            digits: n_digits,
        })
    }
}

impl From<UnixTime> for PreciseTime {
    fn from(secs: UnixTime) -> Self {
        PreciseTime::from_secs(secs)
    }
}

/// The current time to the nanosecond, encoded with `digits` fraction digits.
pub fn now(digits: u8) -> PreciseTime {
    let t = time::OffsetDateTime::now_utc();
    PreciseTime::with_precision(t.unix_timestamp(), t.nanosecond(), digits)
}

impl FixedTag for PreciseTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for PreciseTime {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let len = usize::try_from(header.length()).map_err(|_| der::Error::from(der::ErrorKind::Overflow))?;
        if len > 32 {
            return Err(reader.error(der::ErrorKind::Length { tag: Self::TAG }));
        }
        let mut buf = [0u8; 32];
        let bytes = reader.read_into(&mut buf[..len])?;
        PreciseTime::parse(bytes).map_err(|_| der::Error::from(der::ErrorKind::DateTime))
    }
}

impl EncodeValue for PreciseTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.text()?.len())
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.text()?.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    fn der(text: &str) -> Vec<u8> {
        let mut v = vec![0x18, text.len() as u8];
        v.extend_from_slice(text.as_bytes());
        v
    }

    #[test]
    fn reads_whole_and_fractional_seconds() {
        let t = PreciseTime::from_der(&der("20261207101500Z")).unwrap();
        assert_eq!((t.nanos, t.digits), (0, 0));
        assert_eq!(crate::time::format(t.secs), "2026-12-07T10:15:00Z");
        let t = PreciseTime::from_der(&der("20261207101500.123Z")).unwrap();
        assert_eq!((t.nanos, t.digits), (123_000_000, 3));
        assert_eq!(t.format(), "2026-12-07T10:15:00.123Z");
        assert_eq!(t.precision(), "1 ms");
        let t = PreciseTime::from_der(&der("20261207101500.000001Z")).unwrap();
        assert_eq!((t.nanos, t.digits), (1_000, 6));
    }

    #[test]
    fn refuses_what_der_forbids() {
        for bad in [
            "20261207101500.120Z", // trailing zero
            "20261207101500.Z",    // bare decimal mark
            "20261207101500,5Z",   // comma
            "20261207101500",      // local time
            "20261207101500+0100", // offset
            "2026120710150Z",      // short
            "20261307101500Z",     // month 13
            "20261207101560Z",     // second 60
            "20261207101500.1234567890Z",
        ] {
            assert!(PreciseTime::from_der(&der(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodes_with_the_precision_asked_for() {
        let t = PreciseTime::with_precision(1_796_638_500, 123_456_789, 3);
        assert_eq!(t.to_der().unwrap(), der("20261207101500.123Z"));
        let t = PreciseTime::with_precision(1_796_638_500, 100_000_000, 3);
        assert_eq!(t.to_der().unwrap(), der("20261207101500.1Z"));
        let t = PreciseTime::with_precision(1_796_638_500, 400_000, 3);
        assert_eq!(t.to_der().unwrap(), der("20261207101500Z"));
        let back = PreciseTime::from_der(&PreciseTime::with_precision(5, 987_000_000, 6).to_der().unwrap()).unwrap();
        assert_eq!((back.secs, back.nanos, back.digits), (5, 987_000_000, 3));
    }
}
