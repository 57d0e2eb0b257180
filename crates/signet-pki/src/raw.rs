//! Byte-level views into DER without re-encoding.

use std::ops::Range;

/// Reads a DER header at `pos`; returns (header length, content length).
pub fn header(data: &[u8], pos: usize) -> Option<(usize, usize)> {
    let _tag = *data.get(pos)?;
    if data[pos] & 0x1f == 0x1f {
        return None; // high tag numbers do not occur where we use this
    }
    let lb = *data.get(pos + 1)? as usize;
    if lb < 0x80 {
        return Some((2, lb));
    }
    let n = lb & 0x7f;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | *data.get(pos + 2 + i)? as usize;
    }
    Some((2 + n, len))
}

/// The byte range of the whole element starting at `pos`.
pub fn element(data: &[u8], pos: usize) -> Option<Range<usize>> {
    let (h, l) = header(data, pos)?;
    let end = pos.checked_add(h)?.checked_add(l)?;
    (end <= data.len()).then_some(pos..end)
}

/// For `SEQUENCE { first, … }` (certificates, CRLs, CSRs, SignerInfos' parents): the range of
/// `first`, i.e. the signed part, exactly as received.
pub fn first_inner_element(data: &[u8]) -> Option<Range<usize>> {
    let (h, _) = header(data, 0)?;
    element(data, h)
}

/// The byte ranges of the elements inside the constructed element at the start of `data`
/// (stopping at the first that does not fit inside it).
pub fn children(data: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (Some(outer), Some((h, _))) = (element(data, 0), header(data, 0)) else {
        return out;
    };
    let mut pos = h;
    while pos < outer.end {
        match element(data, pos) {
            Some(r) if r.end <= outer.end => {
                pos = r.end;
                out.push(r);
            }
            _ => break,
        }
    }
    out
}

/// Encodes a DER length.
pub fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// One element: `tag`, the DER length of `content`, `content`.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// Wraps already-encoded elements in a SEQUENCE.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_first_child() {
        let d = [0x30, 0x06, 0x30, 0x01, 0x05, 0x02, 0x01, 0x01];
        assert_eq!(first_inner_element(&d), Some(2..5));
    }

    #[test]
    fn truncated_is_none() {
        assert_eq!(first_inner_element(&[0x30, 0x06, 0x30, 0x09]), None);
    }
}
