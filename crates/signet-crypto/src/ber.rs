//! BER to DER normalisation for third-party inputs (CMS from `openssl cms -sign -stream`,
//! PKCS#12 from other tools).
//!
//! Indefinite lengths become definite, constructed OCTET/BIT STRINGs are flattened, lengths are
//! re-encoded minimally. SET OF order is kept as received: callers that verify signatures over
//! a structure (CMS signed attributes) must use the original bytes, never this re-encoding.

use thiserror::Error;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Why an input is not valid BER.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BerError {
    /// The input ended inside an element.
    #[error("truncated ASN.1 data")]
    Truncated,
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("ASN.1 nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// Something that is not BER.
    #[error("malformed ASN.1: {0}")]
    Malformed(&'static str),
}

/// Re-encodes one BER element (and everything inside it) as DER. Trailing bytes are an error.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut out = Vec::with_capacity(input.len());
    let used = normalize(input, 0, &mut out)?;
    if used != input.len() {
        return Err(BerError::Malformed("trailing data after the outer element"));
    }
    Ok(out)
}

struct Header {
    tag: Vec<u8>,
    constructed: bool,
    len: Option<usize>,
    header_len: usize,
}

fn read_header(input: &[u8]) -> Result<Header, BerError> {
    let first = *input.first().ok_or(BerError::Truncated)?;
    let constructed = first & 0x20 != 0;
    let mut i = 1;
    if first & 0x1f == 0x1f {
        loop {
            let b = *input.get(i).ok_or(BerError::Truncated)?;
            i += 1;
            if i > 6 {
                return Err(BerError::Malformed("tag number too large"));
            }
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let tag = input[..i].to_vec();
    let lb = *input.get(i).ok_or(BerError::Truncated)?;
    i += 1;
    let len = if lb == 0x80 {
        if !constructed {
            return Err(BerError::Malformed("indefinite length on a primitive element"));
        }
        None
    } else if lb & 0x80 == 0 {
        Some(lb as usize)
    } else {
        let n = (lb & 0x7f) as usize;
        if n > 4 {
            return Err(BerError::Malformed("length field longer than 4 bytes"));
        }
        let mut l = 0usize;
        for _ in 0..n {
            l = (l << 8) | *input.get(i).ok_or(BerError::Truncated)? as usize;
            i += 1;
        }
        Some(l)
    };
    if let Some(l) = len
        && input.len() - i < l
    {
        return Err(BerError::Truncated);
    }
    Ok(Header {
        tag,
        constructed,
        len,
        header_len: i,
    })
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Normalises the element at the start of `input`, appends its DER to `out`, returns bytes used.
fn normalize(input: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize, BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    let h = read_header(input)?;
    let body_start = h.header_len;
    if !h.constructed {
        let l = h.len.ok_or(BerError::Malformed("primitive without length"))?;
        out.extend_from_slice(&h.tag);
        push_len(out, l);
        out.extend_from_slice(&input[body_start..body_start + l]);
        return Ok(body_start + l);
    }
    // Constructed: normalise children into a buffer.
    let string_tag = matches!(h.tag.as_slice(), [0x24] | [0x23]); // constructed OCTET / BIT STRING
    let mut children = Vec::new();
    let mut pos = body_start;
    loop {
        match h.len {
            Some(l) if pos >= body_start + l => {
                if pos != body_start + l {
                    return Err(BerError::Malformed("child overruns its parent"));
                }
                break;
            }
            None if input.get(pos..pos + 2) == Some(&[0, 0]) => {
                pos += 2;
                break;
            }
            _ => {}
        }
        if pos >= input.len() {
            return Err(BerError::Truncated);
        }
        let limit = match h.len {
            Some(l) => body_start + l,
            None => input.len(),
        };
        let used = normalize(&input[pos..limit], depth + 1, &mut children)?;
        pos += used;
    }
    if string_tag {
        // Flatten: concatenate the contents of the primitive segments.
        let bit_string = h.tag == [0x23];
        let mut flat = Vec::new();
        let mut unused = 0u8;
        let mut p = 0;
        while p < children.len() {
            let ch = read_header(&children[p..])?;
            let l = ch.len.ok_or(BerError::Malformed("string segment without length"))?;
            let content = &children[p + ch.header_len..p + ch.header_len + l];
            if bit_string {
                // Each BIT STRING segment starts with its unused-bits count; only the last counts.
                let (&u, rest) = content
                    .split_first()
                    .ok_or(BerError::Malformed("empty BIT STRING segment"))?;
                unused = u;
                flat.extend_from_slice(rest);
            } else {
                flat.extend_from_slice(content);
            }
            p += ch.header_len + l;
        }
        if bit_string {
            flat.insert(0, unused);
        }
        out.push(h.tag[0] & !0x20);
        push_len(out, flat.len());
        out.extend_from_slice(&flat);
    } else {
        out.extend_from_slice(&h.tag);
        push_len(out, children.len());
        out.extend_from_slice(&children);
    }
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_sequence_becomes_definite() {
        let ber = [0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00];
        assert_eq!(to_der(&ber).unwrap(), vec![0x30, 0x03, 0x02, 0x01, 0x05]);
    }

    #[test]
    fn constructed_octet_string_is_flattened() {
        let ber = [0x24, 0x80, 0x04, 0x02, 0xaa, 0xbb, 0x04, 0x01, 0xcc, 0x00, 0x00];
        assert_eq!(to_der(&ber).unwrap(), vec![0x04, 0x03, 0xaa, 0xbb, 0xcc]);
    }

    #[test]
    fn non_minimal_length_is_fixed() {
        let ber = [0x04, 0x81, 0x01, 0x07];
        assert_eq!(to_der(&ber).unwrap(), vec![0x04, 0x01, 0x07]);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut v = Vec::new();
        for _ in 0..100_000 {
            v.extend_from_slice(&[0x30, 0x80]);
        }
        assert_eq!(to_der(&v), Err(BerError::TooDeep));
    }

    #[test]
    fn truncation_is_reported() {
        assert_eq!(to_der(&[0x30, 0x05, 0x02]), Err(BerError::Truncated));
        assert_eq!(to_der(&[0x30, 0x80, 0x02, 0x01, 0x05]), Err(BerError::Truncated));
    }
}
