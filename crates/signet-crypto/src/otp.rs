//! One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238) on aws-lc-rs HMAC, plus the base32
//! alphabet authenticator apps use for secrets (RFC 4648 §6, no padding).

use aws_lc_rs::hmac;

/// The HMAC behind a one-time password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtpAlgorithm {
    /// HMAC-SHA-1 (what every authenticator app supports; RFC 4226).
    Sha1,
    /// HMAC-SHA-256 (RFC 6238).
    Sha256,
    /// HMAC-SHA-512 (RFC 6238).
    Sha512,
}

impl OtpAlgorithm {
    /// The name used in `otpauth://` URIs.
    pub fn uri_name(self) -> &'static str {
        match self {
            OtpAlgorithm::Sha1 => "SHA1",
            OtpAlgorithm::Sha256 => "SHA256",
            OtpAlgorithm::Sha512 => "SHA512",
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            OtpAlgorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            OtpAlgorithm::Sha256 => hmac::HMAC_SHA256,
            OtpAlgorithm::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

/// HOTP value (RFC 4226 §5.3) of `counter`, `digits` long (6–9).
pub fn hotp(alg: OtpAlgorithm, secret: &[u8], counter: u64, digits: u32) -> u32 {
    let key = hmac::Key::new(alg.hmac(), secret);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let bin = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    bin % 10u32.pow(digits.clamp(6, 9))
}

/// The TOTP time step (RFC 6238 §4.2) of Unix time `now` with period `step` seconds (T0 = 0).
pub fn time_step(now: i64, step: u64) -> u64 {
    u64::try_from(now).unwrap_or(0) / step.max(1)
}

/// TOTP value at Unix time `now` (RFC 6238 §4.2, T0 = 0).
pub fn totp(alg: OtpAlgorithm, secret: &[u8], now: i64, step: u64, digits: u32) -> u32 {
    hotp(alg, secret, time_step(now, step), digits)
}

/// Formats a code with leading zeros.
pub fn format_code(code: u32, digits: u32) -> String {
    format!("{code:0width$}", width = digits as usize)
}

/// Compares a code typed by a person with the expected value in constant time. Spaces are
/// ignored; anything but digits of the right length never matches.
pub fn code_matches(typed: &str, expected: u32, digits: u32) -> bool {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != digits as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let want = format_code(expected, digits);
    aws_lc_rs::constant_time::verify_slices_are_equal(typed.as_bytes(), want.as_bytes()).is_ok()
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 (RFC 4648 §6) without padding, as `otpauth://` secrets are written.
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(B32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(B32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive, padding and spaces ignored); `None` on other characters.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        if c == b'=' || c == b' ' {
            continue;
        }
        let v = B32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4226 Appendix D: secret "12345678901234567890", counters 0..9.
    #[test]
    fn rfc4226_appendix_d() {
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, w) in want.iter().enumerate() {
            assert_eq!(hotp(OtpAlgorithm::Sha1, b"12345678901234567890", counter as u64, 6), *w);
        }
    }

    /// RFC 6238 Appendix B: 8 digits, 30 s steps, seeds of 20/32/64 bytes.
    #[test]
    fn rfc6238_appendix_b() {
        let s1 = b"12345678901234567890".to_vec();
        let s256 = b"12345678901234567890123456789012".to_vec();
        let s512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
        let rows: [(i64, u32, u32, u32); 6] = [
            (59, 94287082, 46119246, 90693936),
            (1111111109, 7081804, 68084774, 25091201),
            (1111111111, 14050471, 67062674, 99943326),
            (1234567890, 89005924, 91819424, 93441116),
            (2000000000, 69279037, 90698825, 38618901),
            (20000000000, 65353130, 77737706, 47863826),
        ];
        for (t, sha1, sha256, sha512) in rows {
            assert_eq!(totp(OtpAlgorithm::Sha1, &s1, t, 30, 8), sha1, "SHA1 at {t}");
            assert_eq!(totp(OtpAlgorithm::Sha256, &s256, t, 30, 8), sha256, "SHA256 at {t}");
            assert_eq!(totp(OtpAlgorithm::Sha512, &s512, t, 30, 8), sha512, "SHA512 at {t}");
        }
        assert_eq!(format_code(7081804, 8), "07081804");
    }

    #[test]
    fn codes_compare_strictly() {
        assert!(code_matches("007 081", 7081, 6));
        assert!(!code_matches("7081", 7081, 6));
        assert!(!code_matches("00708a", 7081, 6));
        assert!(!code_matches("0070810", 7081, 6));
    }

    #[test]
    fn base32_round_trips_rfc4648_vectors() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert!(base32_decode("MZ1").is_none());
        let secret = [7u8; 20];
        assert_eq!(base32_decode(&base32_encode(&secret)).unwrap(), secret);
    }
}
