//! PEM armour: finds every `-----BEGIN …-----` block in a text, and writes blocks.

use der::pem::LineEnding;

use crate::CryptoError;

/// Upper bound on a PEM input (keys, certificates, bundles).
pub const MAX_PEM_LEN: usize = 16 * 1024 * 1024;

/// One decoded PEM block.
#[derive(Debug, Clone)]
pub struct PemBlock {
    /// The label after BEGIN, e.g. `CERTIFICATE`.
    pub label: String,
    /// Decoded DER bytes.
    pub der: Vec<u8>,
    /// Whether the block carries RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, legacy OpenSSL encryption).
    pub has_headers: bool,
}

/// True if the bytes look like PEM rather than DER.
pub fn is_pem(data: &[u8]) -> bool {
    data.windows(11).take(4096).any(|w| w == b"-----BEGIN ")
}

/// Decodes every PEM block in `text`, in order. Text outside blocks is ignored.
pub fn parse_blocks(text: &[u8]) -> Result<Vec<PemBlock>, CryptoError> {
    if text.len() > MAX_PEM_LEN {
        return Err(CryptoError::KeyFormat("PEM input larger than 16 MiB".into()));
    }
    let text = std::str::from_utf8(text).map_err(|_| CryptoError::KeyFormat("PEM input is not UTF-8 text".into()))?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| CryptoError::KeyFormat("unterminated PEM BEGIN line".into()))?;
        let label = after[..label_end].to_string();
        let end_marker = format!("-----END {label}-----");
        let body_start = start + 11 + label_end + 5;
        let end = rest[body_start..]
            .find(&end_marker)
            .ok_or_else(|| CryptoError::KeyFormat(format!("PEM block {label} has no END line")))?;
        let body = &rest[body_start..body_start + end];
        let has_headers = body.contains(':');
        let b64: String = body
            .lines()
            .filter(|l| !l.contains(':'))
            .flat_map(|l| l.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let der =
            base64_decode(&b64).ok_or_else(|| CryptoError::KeyFormat(format!("PEM block {label}: bad base64")))?;
        out.push(PemBlock {
            label,
            der,
            has_headers,
        });
        rest = &rest[body_start + end + end_marker.len()..];
    }
    Ok(out)
}

/// Encodes DER as one PEM block with `\n` line endings.
pub fn encode(label: &str, der: &[u8]) -> Result<String, CryptoError> {
    der::pem::encode_string(label, LineEnding::LF, der).map_err(|e| CryptoError::KeyFormat(e.to_string()))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8]),
            2 => out.push((acc >> 16) as u8),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_several_blocks() {
        let a = encode("CERTIFICATE", &[1, 2, 3, 4, 5]).unwrap();
        let b = encode("X509 CRL", &[9; 100]).unwrap();
        let text = format!("junk\n{a}\nmore junk\n{b}");
        let blocks = parse_blocks(text.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].der, vec![1, 2, 3, 4, 5]);
        assert_eq!(blocks[1].label, "X509 CRL");
        assert_eq!(blocks[1].der, vec![9; 100]);
    }

    #[test]
    fn missing_end_is_an_error() {
        assert!(parse_blocks(b"-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
    }
}
