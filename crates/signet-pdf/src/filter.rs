//! Stream filters the reader itself needs (ISO 32000-1 §7.4): none and FlateDecode, with PNG
//! predictors (§7.4.4.4), under a size limit so that a deflate bomb is an error, not an
//! allocation.

use std::io::Read;

use lopdf::{Dictionary, Object};

/// Decodes `content` as `dict`'s /Filter and /DecodeParms say; at most `limit` bytes out.
pub fn decode(dict: &Dictionary, content: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let filters: Vec<&[u8]> = match dict.get(b"Filter") {
        Err(_) => Vec::new(),
        Ok(Object::Name(n)) => vec![n.as_slice()],
        Ok(Object::Array(a)) => a
            .iter()
            .map(|f| f.as_name().map_err(|_| "a /Filter entry is not a name".to_string()))
            .collect::<Result<_, _>>()?,
        Ok(_) => return Err("/Filter is neither a name nor an array".into()),
    };
    let data = match filters.as_slice() {
        [] => {
            if content.len() > limit {
                return Err(format!("stream larger than {limit} bytes"));
            }
            return Ok(content.to_vec());
        }
        [b"FlateDecode"] => inflate(content, limit)?,
        [other] => return Err(format!("unsupported filter /{}", String::from_utf8_lossy(other))),
        _ => return Err("chained filters are not supported here".into()),
    };
    let parms = dict.get(b"DecodeParms").ok().and_then(|p| match p {
        Object::Dictionary(d) => Some(d),
        Object::Array(a) => a.first().and_then(|d| d.as_dict().ok()),
        _ => None,
    });
    let int = |key: &[u8], default: i64| {
        parms
            .and_then(|p| p.get(key).ok())
            .and_then(|v| v.as_i64().ok())
            .unwrap_or(default)
    };
    match int(b"Predictor", 1) {
        1 => Ok(data),
        p if p >= 10 => {
            let colors = int(b"Colors", 1).clamp(1, 32) as usize;
            let bits = int(b"BitsPerComponent", 8).clamp(1, 16) as usize;
            let columns = int(b"Columns", 1).clamp(1, 1 << 20) as usize;
            let row = (colors * bits * columns).div_ceil(8);
            let bpp = (colors * bits).div_ceil(8).max(1);
            unpredict_png(&data, row, bpp)
        }
        _ => Err("TIFF predictors are not supported here".into()),
    }
}

fn inflate(content: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(content)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("does not inflate: {e}"))?;
    if out.len() > limit {
        return Err(format!("inflates beyond {limit} bytes"));
    }
    Ok(out)
}

/// Reverses PNG row predictors: each row is a type byte and `row` bytes.
fn unpredict_png(data: &[u8], row: usize, bpp: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    let mut cur = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        if chunk.len() != row + 1 {
            return Err("rows do not fit /Columns".into());
        }
        let (kind, input) = (chunk[0], &chunk[1..]);
        for i in 0..row {
            let left = if i >= bpp { cur[i - bpp] } else { 0 };
            let up = prev[i];
            let up_left = if i >= bpp { prev[i - bpp] } else { 0 };
            cur[i] = match kind {
                0 => input[i],
                1 => input[i].wrapping_add(left),
                2 => input[i].wrapping_add(up),
                3 => input[i].wrapping_add(((left as u16 + up as u16) / 2) as u8),
                4 => {
                    let pa = (up as i16 - up_left as i16).abs();
                    let pb = (left as i16 - up_left as i16).abs();
                    let pc = (left as i16 + up as i16 - 2 * up_left as i16).abs();
                    let pred = if pa <= pb && pa <= pc {
                        left
                    } else if pb <= pc {
                        up
                    } else {
                        up_left
                    };
                    input[i].wrapping_add(pred)
                }
                _ => return Err(format!("unknown PNG predictor type {kind}")),
            };
        }
        out.extend_from_slice(&cur);
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn flate(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn flate_and_limits() {
        let mut d = Dictionary::new();
        d.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        let z = flate(&vec![0u8; 1 << 20]);
        assert_eq!(decode(&d, &z, 1 << 20).unwrap().len(), 1 << 20);
        assert!(decode(&d, &z, 1000).unwrap_err().contains("beyond"));
        assert!(decode(&d, b"not zlib", 1000).is_err());
        d.set("Filter", Object::Name(b"LZWDecode".to_vec()));
        assert!(decode(&d, &z, 1 << 20).unwrap_err().contains("LZWDecode"));
    }

    #[test]
    fn png_sub_and_up_rows() {
        // Two rows of 3 bytes, bpp 1: "Sub" then "Up".
        let raw = [1, 5, 1, 1, 2, 1, 1, 1];
        assert_eq!(unpredict_png(&raw, 3, 1).unwrap(), vec![5, 6, 7, 6, 7, 8]);
        assert!(unpredict_png(&raw[..7], 3, 1).is_err());
    }
}
