//! PDF dates (ISO 32000 §7.9.4) and text strings (§7.9.2: PDFDocEncoding or UTF-16BE).

use lopdf::{Object, StringFormat};

/// `D:YYYYMMDDHHmmSS+00'00'` for a Unix time (UTC).
pub fn pdf_date(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses a PDF date (ISO 32000-1 §7.9.4, `D:YYYYMMDDHHmmSSOHH'mm'`, trailing parts optional)
/// to a Unix time.
pub fn parse_pdf_date(s: &str) -> Option<i64> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let part = |from: usize, len: usize, default: u32| -> Option<u32> {
        match digits.get(from..from + len) {
            Some(d) => d.parse().ok(),
            None => Some(default),
        }
    };
    let year = part(0, 4, 0)? as i32;
    let month = time::Month::try_from(part(4, 2, 1)? as u8).ok()?;
    let date = time::Date::from_calendar_date(year, month, part(6, 2, 1)? as u8).ok()?;
    let t = time::Time::from_hms(part(8, 2, 0)? as u8, part(10, 2, 0)? as u8, part(12, 2, 0)? as u8).ok()?;
    let mut unix = time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp();
    let rest = &s[digits.len()..];
    if let Some(sign) = rest.chars().next().filter(|c| *c == '+' || *c == '-') {
        let off: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
        let h: i64 = off.get(0..2).and_then(|v| v.parse().ok()).unwrap_or(0);
        let m: i64 = off.get(2..4).and_then(|v| v.parse().ok()).unwrap_or(0);
        let secs = h * 3600 + m * 60;
        unix += if sign == '+' { -secs } else { secs };
    }
    Some(unix)
}

/// A text string object: literal ASCII when printable ASCII, else UTF-16BE with a BOM (hex).
pub fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut v = vec![0xfe, 0xff];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        Object::String(v, StringFormat::Hexadecimal)
    }
}

/// Decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or PDFDocEncoding ≈ Latin-1).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_parse_with_offsets() {
        assert_eq!(parse_pdf_date(&pdf_date(1_800_000_000)), Some(1_800_000_000));
        assert_eq!(parse_pdf_date("D:20260101120000+02'00'"), Some(1_767_261_600));
        assert_eq!(parse_pdf_date("D:2026"), Some(1_767_225_600));
        assert_eq!(parse_pdf_date("D:20261399"), None);
        assert_eq!(parse_pdf_date("junk"), None);
    }

    #[test]
    fn dates_are_utc_pdf_dates() {
        assert_eq!(pdf_date(0), "D:19700101000000+00'00'");
        assert_eq!(pdf_date(1_800_000_000), "D:20270115080000+00'00'");
    }

    #[test]
    fn non_ascii_text_round_trips_as_utf16() {
        for s in ["Plain", "Đorđe Petrović", "Наталья Иванова"] {
            let Object::String(b, _) = text_string(s) else { panic!() };
            assert_eq!(decode_text(&b), s);
        }
    }
}
