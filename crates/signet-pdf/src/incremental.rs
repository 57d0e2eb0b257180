//! Incremental updates (ISO 32000-1 §7.5.6): new and changed objects appended after the
//! untouched original bytes, a cross-reference section in the original's style with `/Prev`, and
//! a trailer carrying over `/Root`, `/Info` and `/ID`.

use std::collections::BTreeMap;
use std::io::Write;

use lopdf::{Dictionary, Object, ObjectId, StringFormat};

use crate::PdfError;
use crate::document::{PdfDocument, XrefStyle};
use crate::source::{Source, hash_and_copy};

/// Objects to append, and how to write the cross-reference section.
pub struct IncrementalUpdate {
    style: XrefStyle,
    prev: usize,
    next_id: u32,
    carried: Dictionary,
    objects: BTreeMap<u32, (u16, Vec<u8>)>,
}

/// The rendered update.
pub struct Rendered {
    /// Bytes to append to the original.
    pub bytes: Vec<u8>,
    /// Absolute file offset of each written object.
    pub offsets: BTreeMap<u32, usize>,
}

/// Serialises one object as PDF syntax.
pub fn serialize(obj: &Object) -> Result<Vec<u8>, PdfError> {
    let mut v = Vec::new();
    lopdf::Writer::write_object(&mut v, obj).map_err(|e| PdfError::Write(e.to_string()))?;
    Ok(v)
}

impl IncrementalUpdate {
    /// Starts an update on top of the document's newest revision.
    pub fn new(doc: &PdfDocument) -> Self {
        let mut carried = Dictionary::new();
        for key in [&b"Root"[..], b"Info", b"ID"] {
            if let Ok(v) = doc.trailer().get(key) {
                carried.set(key, v.clone());
            }
        }
        IncrementalUpdate {
            style: doc.xref_style,
            prev: doc.startxref,
            next_id: doc.next_object_number(),
            carried,
            objects: BTreeMap::new(),
        }
    }

    /// A fresh object number.
    pub fn allocate(&mut self) -> ObjectId {
        let id = self.next_id;
        self.next_id += 1;
        (id, 0)
    }

    /// Adds or replaces an object.
    pub fn set_object(&mut self, id: ObjectId, obj: &Object) -> Result<(), PdfError> {
        self.objects.insert(id.0, (id.1, serialize(obj)?));
        Ok(())
    }

    /// Adds an object given as raw PDF syntax (for placeholders that are patched later).
    pub fn set_raw(&mut self, id: ObjectId, body: Vec<u8>) {
        self.objects.insert(id.0, (id.1, body));
    }

    /// Writes the original `src`, then this update after it, to `out`; returns the bytes
    /// written.
    pub fn write_after(&mut self, src: &dyn Source, out: &mut dyn Write) -> Result<u64, PdfError> {
        let mut last = [0u8; 1];
        src.read_at(src.len().saturating_sub(1), &mut last)
            .map_err(|e| PdfError::Read(e.to_string()))?;
        let rendered = self.render(src.len() as usize, matches!(last[0], b'\n' | b'\r'))?;
        let mut sink = signet_crypto::digest::Hasher::new(signet_crypto::HashAlgorithm::Sha256);
        hash_and_copy(src, &mut sink, Some(&mut *out)).map_err(|e| PdfError::Write(e.to_string()))?;
        out.write_all(&rendered.bytes)
            .map_err(|e| PdfError::Write(e.to_string()))?;
        out.flush().map_err(|e| PdfError::Write(e.to_string()))?;
        Ok(src.len() + rendered.bytes.len() as u64)
    }

    /// Renders the update to append after an original of `base` bytes; `ends_with_eol` says
    /// whether its last byte is an end-of-line (else one is written first).
    pub fn render(&mut self, base: usize, ends_with_eol: bool) -> Result<Rendered, PdfError> {
        let mut out = Vec::new();
        if !ends_with_eol {
            out.push(b'\n');
        }
        let mut offsets = BTreeMap::new();
        for (id, (generation, body)) in &self.objects {
            offsets.insert(*id, base + out.len());
            out.extend_from_slice(format!("{id} {generation} obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let mut entries: Vec<(u32, u16, usize)> =
            self.objects.iter().map(|(id, (g, _))| (*id, *g, offsets[id])).collect();
        match self.style {
            XrefStyle::Table => {
                let xref_offset = base + out.len();
                out.extend_from_slice(b"xref\n");
                for run in runs(&entries) {
                    out.extend_from_slice(format!("{} {}\n", run[0].0, run.len()).as_bytes());
                    for (_, g, off) in run {
                        out.extend_from_slice(format!("{off:010} {g:05} n \n").as_bytes());
                    }
                }
                let mut trailer = self.carried.clone();
                trailer.set("Size", Object::Integer(self.next_id as i64));
                trailer.set("Prev", Object::Integer(self.prev as i64));
                out.extend_from_slice(b"trailer\n");
                out.extend_from_slice(&serialize(&Object::Dictionary(trailer))?);
                out.extend_from_slice(format!("\nstartxref\n{xref_offset}\n%%EOF\n").as_bytes());
            }
            XrefStyle::Stream => {
                let (xref_id, _) = self.allocate();
                let xref_offset = base + out.len();
                entries.push((xref_id, 0, xref_offset));
                entries.sort();
                let width = offset_width(xref_offset);
                let mut data = Vec::new();
                let mut index = Vec::new();
                for run in runs(&entries) {
                    index.push(Object::Integer(run[0].0 as i64));
                    index.push(Object::Integer(run.len() as i64));
                    for (_, g, off) in run {
                        data.push(1u8);
                        data.extend_from_slice(&(*off as u64).to_be_bytes()[8 - width..]);
                        data.extend_from_slice(&g.to_be_bytes());
                    }
                }
                let mut dict = self.carried.clone();
                dict.set("Type", Object::Name(b"XRef".to_vec()));
                dict.set("Size", Object::Integer(self.next_id as i64));
                dict.set(
                    "W",
                    Object::Array(vec![
                        Object::Integer(1),
                        Object::Integer(width as i64),
                        Object::Integer(2),
                    ]),
                );
                dict.set("Index", Object::Array(index));
                dict.set("Prev", Object::Integer(self.prev as i64));
                dict.set("Length", Object::Integer(data.len() as i64));
                out.extend_from_slice(format!("{xref_id} 0 obj\n").as_bytes());
                out.extend_from_slice(&serialize(&Object::Dictionary(dict))?);
                out.extend_from_slice(b"\nstream\n");
                out.extend_from_slice(&data);
                out.extend_from_slice(b"\nendstream\nendobj\n");
                out.extend_from_slice(format!("startxref\n{xref_offset}\n%%EOF\n").as_bytes());
                offsets.insert(xref_id, xref_offset);
            }
        }
        Ok(Rendered { bytes: out, offsets })
    }
}

fn offset_width(max: usize) -> usize {
    let bytes = (usize::BITS - max.leading_zeros()).div_ceil(8) as usize;
    bytes.clamp(4, 8)
}

/// Groups sorted entries into runs of consecutive object numbers.
fn runs(entries: &[(u32, u16, usize)]) -> Vec<&[(u32, u16, usize)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=entries.len() {
        if i == entries.len() || entries[i].0 != entries[i - 1].0 + 1 {
            out.push(&entries[start..i]);
            start = i;
        }
    }
    out
}

/// A literal or hex string object helper.
pub fn hex_string(bytes: Vec<u8>) -> Object {
    Object::String(bytes, StringFormat::Hexadecimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_on_gaps() {
        let e = [(3, 0, 0), (4, 0, 0), (7, 0, 0), (8, 0, 0), (9, 0, 0)];
        let r = runs(&e);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].len(), 3);
    }

    #[test]
    fn offset_width_grows_with_the_file() {
        assert_eq!(offset_width(1000), 4);
        assert_eq!(offset_width(5_000_000_000), 5);
    }
}
