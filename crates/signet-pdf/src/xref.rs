//! Cross-reference sections, one per revision (ISO 32000-1 §7.5.4 tables, §7.5.8 streams),
//! walked from the last `startxref` through `/Prev` (and `/XRefStm` for hybrid files), each
//! revision kept separately — unlike lopdf, which merges them. Part of Signet's own reader (see
//! [`crate::syntax`]); not yet used by the signer.
//!
//! Bounded: at most [`MAX_SECTIONS`] sections, cycles in `/Prev` are errors, inflated xref
//! streams are capped at [`MAX_XREF_STREAM`] bytes, classic entries must be exactly 20 bytes.

use std::collections::{BTreeMap, HashSet};

use lopdf::{Dictionary, Object};

use crate::document::XrefStyle;
use crate::source::{Source, parse_windowed, window};
use crate::syntax::{Parser, SyntaxError};

/// Most cross-reference sections followed.
pub const MAX_SECTIONS: usize = 10_000;
/// Largest inflated cross-reference stream.
pub const MAX_XREF_STREAM: usize = 64 * 1024 * 1024;

/// One cross-reference entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A free entry.
    Free {
        /// Next free object number.
        next: u32,
        /// Generation to use when reused.
        generation: u16,
    },
    /// An object at a byte offset.
    InUse {
        /// Offset of `N G obj`.
        offset: usize,
        /// Generation number.
        generation: u16,
    },
    /// An object inside an object stream.
    Compressed {
        /// The object stream's number.
        stream: u32,
        /// Index inside the stream.
        index: u32,
    },
}

/// One revision's cross-reference section.
#[derive(Clone, Debug)]
pub struct Section {
    /// Where the section starts (what `startxref` or `/Prev` pointed at).
    pub offset: usize,
    /// Table or stream.
    pub style: XrefStyle,
    /// Entries this section defines (a hybrid file's `/XRefStm` entries included).
    pub entries: BTreeMap<u32, Entry>,
    /// The trailer (or the stream dictionary).
    pub trailer: Dictionary,
}

fn err<T>(offset: usize, what: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        offset,
        what: what.into(),
    })
}

/// Parses the section at `offset`.
pub fn parse_section(data: &[u8], offset: usize) -> Result<Section, SyntaxError> {
    if offset >= data.len() {
        return err(offset, "cross-reference offset beyond the end of the file");
    }
    if data[offset..].starts_with(b"xref") {
        parse_table(data, offset)
    } else {
        parse_stream(data, offset)
    }
}

fn parse_table(data: &[u8], offset: usize) -> Result<Section, SyntaxError> {
    let mut p = Parser::new(data, offset + 4);
    let mut entries = BTreeMap::new();
    loop {
        p.skip_ws();
        if p.eat_keyword(b"trailer") {
            break;
        }
        let at = p.position();
        let (Object::Integer(start), Object::Integer(count)) = (p.object()?, p.object()?) else {
            return err(at, "bad cross-reference subsection header");
        };
        if start < 0 || count < 0 || start.saturating_add(count) > u32::MAX as i64 {
            return err(at, "cross-reference subsection out of range");
        }
        // After the header: one end-of-line, then exactly 20-byte entries.
        let mut pos = p.position();
        while pos < data.len() && (data[pos] == b' ' || data[pos] == b'\r' || data[pos] == b'\n') {
            pos += 1;
        }
        for i in 0..count as usize {
            let e = data.get(pos..pos + 20).ok_or(SyntaxError {
                offset: pos,
                what: "truncated cross-reference entry".into(),
            })?;
            let num = |r: std::ops::Range<usize>| -> Option<u64> { std::str::from_utf8(&e[r]).ok()?.parse().ok() };
            let (Some(a), Some(g)) = (num(0..10), num(11..16)) else {
                return err(pos, "malformed cross-reference entry");
            };
            if e[10] != b' ' || e[16] != b' ' || !matches!(&e[18..20], b" \n" | b" \r" | b"\r\n") {
                return err(pos, "cross-reference entry is not exactly 20 bytes");
            }
            let generation = u16::try_from(g).map_err(|_| SyntaxError {
                offset: pos,
                what: "generation out of range".into(),
            })?;
            let entry = match e[17] {
                b'n' => Entry::InUse {
                    offset: a as usize,
                    generation,
                },
                b'f' => Entry::Free {
                    next: a as u32,
                    generation,
                },
                _ => return err(pos + 17, "cross-reference entry type must be n or f"),
            };
            entries.insert(start as u32 + i as u32, entry);
            pos += 20;
        }
        p = Parser::new(data, pos);
    }
    let trailer = match p.object()? {
        Object::Dictionary(d) => d,
        _ => return err(p.position(), "the trailer is not a dictionary"),
    };
    Ok(Section {
        offset,
        style: XrefStyle::Table,
        entries,
        trailer,
    })
}

fn parse_stream(data: &[u8], offset: usize) -> Result<Section, SyntaxError> {
    let (_, obj) = Parser::new(data, offset).indirect_object(None, &|_| None)?;
    let Object::Stream(s) = obj else {
        return err(offset, "cross-reference stream expected");
    };
    if s.dict.get(b"Type").ok().and_then(|t| t.as_name().ok()) != Some(b"XRef") {
        return err(offset, "the object at startxref is not a cross-reference stream");
    }
    let raw = crate::filter::decode(&s.dict, &s.content, MAX_XREF_STREAM).map_err(|what| SyntaxError {
        offset,
        what: format!("cross-reference stream: {what}"),
    })?;
    let w: Vec<usize> = match s.dict.get(b"W") {
        Ok(Object::Array(a)) if a.len() == 3 => a
            .iter()
            .map(|v| v.as_i64().ok().filter(|x| (0..=8).contains(x)).map(|x| x as usize))
            .collect::<Option<_>>()
            .ok_or(SyntaxError {
                offset,
                what: "bad /W".into(),
            })?,
        _ => return err(offset, "cross-reference stream without /W [a b c]"),
    };
    let size = s
        .dict
        .get(b"Size")
        .ok()
        .and_then(|v| v.as_i64().ok())
        .unwrap_or(0)
        .max(0);
    let index: Vec<i64> = match s.dict.get(b"Index") {
        Ok(Object::Array(a)) => a
            .iter()
            .map(|v| v.as_i64().ok())
            .collect::<Option<_>>()
            .ok_or(SyntaxError {
                offset,
                what: "bad /Index".into(),
            })?,
        _ => vec![0, size],
    };
    if !index.len().is_multiple_of(2) {
        return err(offset, "odd /Index");
    }
    let row = w.iter().sum::<usize>();
    if row == 0 {
        return err(offset, "empty /W");
    }
    let field = |b: &[u8]| b.iter().fold(0u64, |acc, x| (acc << 8) | *x as u64);
    let mut entries = BTreeMap::new();
    let mut pos = 0usize;
    for pair in index.chunks(2) {
        let (start, count) = (pair[0], pair[1]);
        if start < 0 || count < 0 || start.saturating_add(count) > u32::MAX as i64 {
            return err(offset, "/Index out of range");
        }
        for i in 0..count as u64 {
            let r = raw.get(pos..pos + row).ok_or(SyntaxError {
                offset,
                what: "cross-reference stream shorter than /Index says".into(),
            })?;
            let kind = if w[0] == 0 { 1 } else { field(&r[..w[0]]) };
            let f2 = field(&r[w[0]..w[0] + w[1]]);
            let f3 = field(&r[w[0] + w[1]..]);
            let entry = match kind {
                0 => Entry::Free {
                    next: f2 as u32,
                    generation: f3 as u16,
                },
                1 => Entry::InUse {
                    offset: f2 as usize,
                    generation: f3 as u16,
                },
                2 => Entry::Compressed {
                    stream: f2 as u32,
                    index: f3 as u32,
                },
                _ => {
                    pos += row;
                    continue; // unknown types are to be ignored (§7.5.8.3)
                }
            };
            entries.insert(start as u32 + i as u32, entry);
            pos += row;
        }
    }
    Ok(Section {
        offset,
        style: XrefStyle::Stream,
        entries,
        trailer: s.dict,
    })
}

/// Largest cross-reference section (table or stream object) read from a source.
pub const MAX_SECTION_BYTES: usize = 256 * 1024 * 1024;

/// Reads the section at `offset` of `src` through a growing window.
pub fn read_section(src: &dyn Source, offset: u64) -> Result<Section, SyntaxError> {
    if offset >= src.len() {
        return err(offset as usize, "cross-reference offset beyond the end of the file");
    }
    let mut sec = parse_windowed(src, offset, MAX_SECTION_BYTES, |w| parse_section(w, 0))?;
    sec.offset = offset as usize;
    Ok(sec)
}

/// The offset after the last `startxref` keyword, read from the source's tail.
pub fn last_startxref(src: &dyn Source) -> Option<u64> {
    let tail_start = src.len().saturating_sub(2048);
    let tail = window(src, tail_start, 2048).ok()?;
    let pos = memchr::memmem::rfind(&tail, b"startxref")?;
    let rest = &tail[pos + 9..];
    let digits: String = rest
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// Every revision's section, newest first, following `/Prev` from `startxref`.
pub fn revisions(src: &dyn Source) -> Result<Vec<Section>, SyntaxError> {
    let start = last_startxref(src).ok_or(SyntaxError {
        offset: src.len() as usize,
        what: "no startxref at the end of the file (truncated?)".into(),
    })?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(start);
    while let Some(off) = next {
        if !seen.insert(off) {
            return err(off as usize, "the /Prev chain loops back on itself");
        }
        if out.len() >= MAX_SECTIONS {
            return err(off as usize, "too many cross-reference sections");
        }
        let mut sec = read_section(src, off)?;
        // Hybrid file: the table's /XRefStm adds entries for objects in object streams.
        if sec.style == XrefStyle::Table
            && let Ok(Object::Integer(x)) = sec.trailer.get(b"XRefStm")
        {
            let x = u64::try_from(*x).map_err(|_| SyntaxError {
                offset: off as usize,
                what: "/XRefStm is not an offset".into(),
            })?;
            if seen.insert(x) {
                let extra = read_section(src, x)?;
                if extra.style != XrefStyle::Stream {
                    return err(x as usize, "/XRefStm does not point at a cross-reference stream");
                }
                for (k, v) in extra.entries {
                    sec.entries.entry(k).or_insert(v);
                }
            }
        }
        next = match sec.trailer.get(b"Prev") {
            Ok(Object::Integer(p)) if *p >= 0 => Some(*p as u64),
            Ok(_) => return err(off as usize, "/Prev is not an offset"),
            Err(_) => None,
        };
        out.push(sec);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{classic_pdf, stream};

    fn sample() -> Vec<u8> {
        classic_pdf(
            "1.4",
            &[
                b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>".to_vec(),
                stream("", b"0 0 m 1 1 l S"),
            ],
            b"",
        )
    }

    #[test]
    fn classic_table_entries_point_at_their_objects() {
        let pdf = sample();
        let revs = revisions(&pdf).unwrap();
        assert_eq!(revs.len(), 1);
        assert_eq!(revs[0].style, XrefStyle::Table);
        for n in 1..=4u32 {
            let Entry::InUse { offset, .. } = revs[0].entries[&n] else {
                panic!()
            };
            let (id, _) = Parser::new(&pdf, offset)
                .indirect_object(Some((n, 0)), &|_| None)
                .unwrap();
            assert_eq!(id, (n, 0));
        }
        assert!(matches!(revs[0].entries[&0], Entry::Free { generation: 65535, .. }));
    }

    #[test]
    fn incremental_updates_are_separate_revisions() {
        let pdf = sample();
        // Append an update redefining object 1, with /Prev.
        let first = last_startxref(&pdf).unwrap() as usize;
        let mut two = pdf.clone();
        let obj_at = two.len();
        two.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Lang (en) >>\nendobj\n");
        let x = two.len();
        two.extend_from_slice(format!("xref\n1 1\n{obj_at:010} 00000 n \ntrailer\n<< /Size 5 /Root 1 0 R /Prev {first} >>\nstartxref\n{x}\n%%EOF\n").as_bytes());
        let revs = revisions(&two).unwrap();
        assert_eq!(revs.len(), 2);
        assert_eq!(revs[0].entries.len(), 1);
        assert_eq!(
            revs[0].entries[&1],
            Entry::InUse {
                offset: obj_at,
                generation: 0
            }
        );
        assert_eq!(revs[1].entries.len(), 5);
    }

    #[test]
    fn prev_loops_and_bad_offsets_are_errors() {
        let pdf = sample();
        let x = last_startxref(&pdf).unwrap() as usize;
        let looped = String::from_utf8_lossy(&pdf).replace("/Root 1 0 R >>", &format!("/Root 1 0 R /Prev {x} >>"));
        assert!(revisions(&looped.as_bytes()).unwrap_err().what.contains("loops"));
        let mut bad = pdf.clone();
        let n = bad.len();
        bad.truncate(n - 12);
        bad.extend_from_slice(b"99999999\n%%EOF\n");
        assert!(revisions(&bad).is_err());
    }

    #[test]
    fn compressed_xref_streams_with_png_predictor() {
        use std::io::Write;
        // Two entries, W [1 2 1], rows predicted with "Up" (2).
        let rows: [[u8; 4]; 2] = [[1, 0, 15, 0], [2, 0, 7, 3]];
        let mut raw = Vec::new();
        let mut prev = [0u8; 4];
        for r in rows {
            raw.push(2);
            for i in 0..4 {
                raw.push(r[i].wrapping_sub(prev[i]));
            }
            prev = r;
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).unwrap();
        let body = z.finish().unwrap();
        let mut data = b"%PDF-1.5\n".to_vec();
        let off = data.len();
        data.extend_from_slice(format!("9 0 obj\n<< /Type /XRef /Size 3 /Index [1 2] /W [1 2 1] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >> /Length {} >>\nstream\n", body.len()).as_bytes());
        data.extend_from_slice(&body);
        data.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{off}\n%%EOF\n").as_bytes());
        let revs = revisions(&data).unwrap();
        assert_eq!(revs[0].style, XrefStyle::Stream);
        assert_eq!(
            revs[0].entries[&1],
            Entry::InUse {
                offset: 15,
                generation: 0
            }
        );
        assert_eq!(revs[0].entries[&2], Entry::Compressed { stream: 7, index: 3 });
    }
}
