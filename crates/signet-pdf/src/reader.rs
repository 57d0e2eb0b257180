//! Signet's PDF reader: objects fetched on demand from a [`Source`] through the merged
//! cross-reference sections of every revision (newest wins), with stream data left in the file
//! until asked for. Memory is bounded by the objects actually used, not by the file's size, so a
//! 1 GiB document is signed with a few MiB.
//!
//! Strict: an entry must point at the object it names (`N G obj` at the offset, the number in an
//! object stream's header), a stream must end with `endstream` at its /Length, and nothing is
//! repaired. A reference to a free or missing object is the null object (§7.3.10).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use lopdf::{Dictionary, Object, ObjectId, Stream};

use crate::source::{Source, parse_windowed, window};
use crate::syntax::{Parser, SyntaxError};
use crate::xref::{Entry, Section, revisions};

/// Largest window read for one object's dictionary (stream data excluded).
pub const MAX_OBJECT_BYTES: usize = 16 * 1024 * 1024;
/// Largest decoded object stream.
pub const MAX_OBJECT_STREAM: usize = 64 * 1024 * 1024;
/// Most bytes all object streams of one file may inflate to, counting every time one is
/// decoded again after it left the cache: a file whose objects alternate between more object
/// streams than the cache holds cannot make the reader inflate 64 MiB over and over.
pub const MAX_OBJECT_STREAM_WORK: usize = 512 * 1024 * 1024;
/// How deep indirect /Length references may chain.
const MAX_LENGTH_DEPTH: usize = 4;
/// Decoded object streams kept at once.
const OBJSTM_CACHE: usize = 4;

/// An object as read: streams carry their dictionary only, and where their data is.
#[derive(Debug)]
pub struct Fetched {
    /// The object (a stream's `content` is empty).
    pub object: Object,
    /// For a stream: absolute offset and length of its (encoded) data.
    pub data: Option<(u64, usize)>,
    /// For an uncompressed non-stream object: where it lies, header to `endobj`.
    pub span: Option<(u64, u64)>,
}

struct ObjStm {
    number: u32,
    data: Vec<u8>,
    first: usize,
    offsets: Vec<(u32, usize)>,
}

/// A PDF opened for reading.
pub struct Reader<'s> {
    src: &'s dyn Source,
    sections: Vec<Section>,
    xref: BTreeMap<u32, Entry>,
    cache: RefCell<BTreeMap<u32, Rc<Fetched>>>,
    objstms: RefCell<Vec<Rc<ObjStm>>>,
    depth: Cell<usize>,
    /// Bytes object streams were inflated to so far (shared with the revision views).
    inflated: Rc<Cell<usize>>,
}

fn err<T>(offset: u64, what: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        offset: offset as usize,
        what: what.into(),
    })
}

impl<'s> Reader<'s> {
    /// Reads the cross-reference sections of `src`.
    pub fn open(src: &'s dyn Source) -> Result<Self, SyntaxError> {
        Ok(Self::from_sections(src, revisions(src)?))
    }

    fn from_sections(src: &'s dyn Source, sections: Vec<Section>) -> Self {
        let mut xref = BTreeMap::new();
        for sec in sections.iter().rev() {
            for (k, v) in &sec.entries {
                xref.insert(*k, *v);
            }
        }
        Reader {
            src,
            sections,
            xref,
            cache: RefCell::new(BTreeMap::new()),
            objstms: RefCell::new(Vec::new()),
            depth: Cell::new(0),
            inflated: Rc::new(Cell::new(0)),
        }
    }

    /// The document as it was after an earlier revision: `newest` indexes [`Self::sections`]
    /// (0 is the newest), and the view holds that section and every older one.
    pub fn as_of(&self, newest: usize) -> Option<Reader<'s>> {
        let secs = self.sections.get(newest..).filter(|s| !s.is_empty())?;
        let mut view = Self::from_sections(self.src, secs.to_vec());
        // The views of one file share its budget for inflating object streams.
        view.inflated = self.inflated.clone();
        Some(view)
    }

    /// The cross-reference entry for an object number in this view.
    pub fn entry(&self, num: u32) -> Option<Entry> {
        self.xref.get(&num).copied()
    }

    /// The source.
    pub fn source(&self) -> &'s dyn Source {
        self.src
    }

    /// Cross-reference sections, newest first.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The newest trailer.
    pub fn trailer(&self) -> &Dictionary {
        // `revisions` never returns an empty list.
        &self.sections[0].trailer
    }

    /// Numbers of the objects in use, ascending.
    pub fn object_numbers(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .xref
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Free { .. }))
            .map(|(k, _)| *k)
            .collect();
        v.sort_unstable();
        v
    }

    /// The highest object number in any cross-reference section.
    pub fn max_object_number(&self) -> u32 {
        self.xref.keys().copied().max().unwrap_or(0)
    }

    /// The generation the cross-reference gives an object number (0 for compressed objects).
    pub fn generation(&self, num: u32) -> Option<u16> {
        match self.xref.get(&num)? {
            Entry::InUse { generation, .. } => Some(*generation),
            Entry::Compressed { .. } => Some(0),
            Entry::Free { .. } => None,
        }
    }

    /// Fetches an object; free, missing or wrong-generation references give the null object.
    pub fn fetch(&self, id: ObjectId) -> Result<Rc<Fetched>, SyntaxError> {
        if let Some(f) = self.cache.borrow().get(&id.0) {
            if self.generation(id.0) == Some(id.1) {
                return Ok(f.clone());
            }
            return Ok(null());
        }
        let fetched = match self.xref.get(&id.0) {
            Some(Entry::InUse { offset, generation }) if *generation == id.1 => {
                let d = self.depth.get();
                if d >= MAX_LENGTH_DEPTH {
                    return err(*offset as u64, "indirect stream /Length references nest too deeply");
                }
                self.depth.set(d + 1);
                let r = self.parse_at(id, *offset as u64);
                self.depth.set(d);
                r?
            }
            Some(Entry::Compressed { stream, index }) if id.1 == 0 => self.compressed_object(id.0, *stream, *index)?,
            _ => return Ok(null()),
        };
        let f = Rc::new(fetched);
        self.cache.borrow_mut().insert(id.0, f.clone());
        Ok(f)
    }

    /// Where an uncompressed object lies in the file: from its `N G obj` header to just after
    /// `endobj` (`None` for objects in object streams, free or missing ones).
    pub fn span(&self, id: ObjectId) -> Result<Option<(u64, u64)>, SyntaxError> {
        match self.xref.get(&id.0) {
            Some(Entry::InUse { generation, .. }) if *generation == id.1 => Ok(self.fetch(id)?.span),
            _ => Ok(None),
        }
    }

    /// The object, resolved if `o` is a reference (one level).
    pub fn resolve(&self, o: &Object) -> Result<Object, SyntaxError> {
        match o {
            Object::Reference(r) => Ok(self.fetch(*r)?.object.clone()),
            other => Ok(other.clone()),
        }
    }

    /// A dictionary (direct, or the object a reference names; a stream's dictionary counts).
    pub fn dict(&self, o: &Object) -> Option<Dictionary> {
        match self.resolve(o).ok()? {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(s.dict),
            _ => None,
        }
    }

    /// An array (direct or referenced).
    pub fn array(&self, o: &Object) -> Option<Vec<Object>> {
        match self.resolve(o).ok()? {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A stream's encoded data (at most `limit` bytes, else an error).
    pub fn raw_stream(&self, id: ObjectId, limit: usize) -> Result<Vec<u8>, SyntaxError> {
        let f = self.fetch(id)?;
        let Some((off, len)) = f.data else {
            return err(0, format!("object {} {} is not a stream", id.0, id.1));
        };
        if len > limit {
            return err(off, format!("stream {} is larger than {limit} bytes", id.0));
        }
        window(self.src, off, len).map_err(|e| SyntaxError {
            offset: off as usize,
            what: format!("cannot read stream data: {e}"),
        })
    }

    /// A stream's decoded data (FlateDecode or unfiltered; at most `limit` bytes).
    pub fn decoded_stream(&self, id: ObjectId, limit: usize) -> Result<Vec<u8>, SyntaxError> {
        let raw = self.raw_stream(id, limit)?;
        let f = self.fetch(id)?;
        let Object::Stream(s) = &f.object else {
            return err(0, "not a stream");
        };
        crate::filter::decode(&s.dict, &raw, limit).map_err(|what| SyntaxError {
            offset: f.data.map(|d| d.0 as usize).unwrap_or(0),
            what: format!("stream {}: {what}", id.0),
        })
    }

    fn parse_at(&self, id: ObjectId, offset: u64) -> Result<Fetched, SyntaxError> {
        let length_of = |r: ObjectId| -> Option<i64> { self.fetch(r).ok()?.object.as_i64().ok() };
        let (obj, span, end) = parse_windowed(self.src, offset, MAX_OBJECT_BYTES, |w| {
            let mut p = Parser::new(w, 0);
            let (_, obj, span) = p.indirect_head(Some(id), &length_of)?;
            if span.is_none() {
                p.object_end()?;
            }
            Ok((obj, span, p.position()))
        })?;
        let (Object::Dictionary(dict), Some(span)) = (&obj, span) else {
            return Ok(Fetched {
                object: obj,
                data: None,
                span: Some((offset, offset + end as u64)),
            });
        };
        let start = offset + span.start as u64;
        let end = start
            .checked_add(span.len as u64)
            .filter(|e| *e <= self.src.len())
            .ok_or(SyntaxError {
                offset: start as usize,
                what: format!("stream /Length {} runs past the end of the file", span.len),
            })?;
        let tail = window(self.src, end, 256).map_err(|e| SyntaxError {
            offset: end as usize,
            what: format!("cannot read: {e}"),
        })?;
        Parser::new(&tail, 0).stream_end().map_err(|mut e| {
            e.offset += end as usize;
            e
        })?;
        Ok(Fetched {
            object: Object::Stream(Stream::new(dict.clone(), Vec::new()).with_compression(false)),
            data: Some((start, span.len)),
            span: None,
        })
    }

    fn compressed_object(&self, num: u32, stream: u32, index: u32) -> Result<Fetched, SyntaxError> {
        let ostm = self.object_stream(stream)?;
        let Some(&(n, off)) = ostm.offsets.get(index as usize) else {
            return err(
                0,
                format!("object {num}: index {index} is beyond object stream {stream}"),
            );
        };
        if n != num {
            return err(
                0,
                format!("object stream {stream} holds object {n} at index {index}, not {num}"),
            );
        }
        let at = ostm.first.checked_add(off).filter(|a| *a <= ostm.data.len());
        let Some(at) = at else {
            return err(0, format!("object {num} lies outside object stream {stream}"));
        };
        let object = Parser::new(&ostm.data, at).object().map_err(|e| SyntaxError {
            offset: e.offset,
            what: format!("in object stream {stream}: {}", e.what),
        })?;
        Ok(Fetched {
            object,
            data: None,
            span: None,
        })
    }

    fn object_stream(&self, number: u32) -> Result<Rc<ObjStm>, SyntaxError> {
        if let Some(o) = self.objstms.borrow().iter().find(|o| o.number == number) {
            return Ok(o.clone());
        }
        let generation = match self.xref.get(&number) {
            Some(Entry::InUse { generation, .. }) => *generation,
            _ => return err(0, format!("object stream {number} is not a plain object in the file")),
        };
        let f = self.fetch((number, generation))?;
        let Object::Stream(s) = &f.object else {
            return err(0, format!("object {number} is not an object stream"));
        };
        if s.dict.get(b"Type").ok().and_then(|t| t.as_name().ok()) != Some(b"ObjStm") {
            return err(0, format!("object {number} is not an object stream"));
        }
        let int = |k: &[u8]| s.dict.get(k).ok().and_then(|v| v.as_i64().ok()).filter(|v| *v >= 0);
        let (Some(n), Some(first)) = (int(b"N"), int(b"First")) else {
            return err(0, format!("object stream {number} without /N and /First"));
        };
        let left = MAX_OBJECT_STREAM_WORK.saturating_sub(self.inflated.get());
        if left == 0 {
            return err(
                0,
                "the object streams inflate to more than 512 MiB in all (a decompression bomb?)",
            );
        }
        let data = match self.decoded_stream((number, generation), MAX_OBJECT_STREAM.min(left)) {
            Ok(d) => d,
            Err(e) if left < MAX_OBJECT_STREAM && e.what.contains("inflates beyond") => {
                self.inflated.set(MAX_OBJECT_STREAM_WORK);
                return err(
                    0,
                    "the object streams inflate to more than 512 MiB in all (a decompression bomb?)",
                );
            }
            Err(e) => return Err(e),
        };
        self.inflated.set(self.inflated.get() + data.len());
        // Every header entry takes at least four bytes ("1 0 "), so /N is bounded by /First.
        if n as usize > data.len() || first as usize > data.len() || n as usize > first as usize / 4 + 1 {
            return err(0, format!("object stream {number}: /N or /First out of range"));
        }
        let mut p = Parser::new(&data[..first as usize], 0);
        let mut offsets = Vec::with_capacity(n as usize);
        for _ in 0..n {
            match (p.object(), p.object()) {
                (Ok(Object::Integer(a)), Ok(Object::Integer(b))) if a >= 0 && b >= 0 && a <= u32::MAX as i64 => {
                    offsets.push((a as u32, b as usize))
                }
                _ => return err(0, format!("object stream {number}: bad header")),
            }
        }
        let o = Rc::new(ObjStm {
            number,
            data,
            first: first as usize,
            offsets,
        });
        let mut cache = self.objstms.borrow_mut();
        if cache.len() >= OBJSTM_CACHE {
            cache.remove(0);
        }
        cache.push(o.clone());
        Ok(o)
    }
}

fn null() -> Rc<Fetched> {
    Rc::new(Fetched {
        object: Object::Null,
        data: None,
        span: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{classic_pdf, stream};

    #[test]
    fn objects_streams_and_references() {
        let pdf = classic_pdf(
            "1.4",
            &[
                b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>".to_vec(),
                stream("", b"0 0 m 1 1 l S"),
            ],
            b"",
        );
        let r = Reader::open(&pdf).unwrap();
        let root = r.trailer().get(b"Root").unwrap().clone();
        let cat = r.dict(&root).unwrap();
        assert_eq!(cat.get(b"Type").unwrap().as_name().unwrap(), b"Catalog");
        assert_eq!(r.decoded_stream((4, 0), 1000).unwrap(), b"0 0 m 1 1 l S");
        assert!(matches!(r.fetch((99, 0)).unwrap().object, Object::Null));
        assert!(matches!(r.fetch((1, 5)).unwrap().object, Object::Null));
        assert_eq!(r.object_numbers(), vec![1, 2, 3, 4]);
    }

    use std::io::Write;

    /// Six object streams of 60 MiB each (a few KiB compressed) holding 30 objects each, to be
    /// fetched alternating between the streams, so each fetch misses the four-entry cache and
    /// inflates its stream again.
    fn thrashing_pdf() -> Vec<u8> {
        let mut out = b"%PDF-1.5\n".to_vec();
        let mut offsets = std::collections::BTreeMap::new();
        let mut obj = |out: &mut Vec<u8>, n: u32, body: &[u8]| {
            offsets.insert(n, out.len());
            out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        };
        obj(&mut out, 1, b"<< /Type /Catalog /Pages 2 0 R >>");
        obj(&mut out, 2, b"<< /Type /Pages /Kids [] /Count 0 >>");
        let pad = vec![b' '; 1 << 20];
        for i in 0..6u32 {
            let mut header = String::new();
            let mut body = String::new();
            for k in 0..30u32 {
                header.push_str(&format!("{} {} ", 100 + i * 30 + k, body.len()));
                body.push_str("<< /A 1 >> ");
            }
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(header.as_bytes()).unwrap();
            z.write_all(body.as_bytes()).unwrap();
            for _ in 0..60 {
                z.write_all(&pad).unwrap();
            }
            let data = z.finish().unwrap();
            let mut s = format!(
                "<< /Type /ObjStm /N 30 /First {} /Filter /FlateDecode /Length {} >>\nstream\n",
                header.len(),
                data.len()
            )
            .into_bytes();
            s.extend_from_slice(&data);
            s.extend_from_slice(b"\nendstream");
            obj(&mut out, 10 + i, &s);
        }
        let xref_at = out.len();
        let size = 100 + 6 * 30 + 1;
        let xref_num = size - 1;
        let mut rows = Vec::new();
        for n in 0..size {
            if (100..xref_num).contains(&n) {
                let (i, k) = ((n - 100) / 30, (n - 100) % 30);
                rows.extend_from_slice(&[2, 0, 0, 0, (10 + i) as u8, k as u8]);
            } else if n == xref_num {
                rows.push(1);
                rows.extend_from_slice(&(xref_at as u32).to_be_bytes());
                rows.push(0);
            } else if let Some(o) = offsets.get(&n) {
                rows.push(1);
                rows.extend_from_slice(&(*o as u32).to_be_bytes());
                rows.push(0);
            } else {
                rows.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            }
        }
        let mut s = format!(
            "{xref_num} 0 obj\n<< /Type /XRef /Size {size} /W [1 4 1] /Root 1 0 R /Length {} >>\nstream\n",
            rows.len()
        )
        .into_bytes();
        s.extend_from_slice(&rows);
        s.extend_from_slice(b"\nendstream\nendobj\n");
        out.extend_from_slice(&s);
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        out
    }

    #[test]
    fn object_streams_cannot_be_inflated_again_and_again() {
        let pdf = thrashing_pdf();
        let src: &[u8] = &pdf;
        let r = Reader::open(&src).unwrap();
        let mut fetched = 0;
        let mut refused = None;
        for round in 0..30u32 {
            for i in 0..6u32 {
                match r.fetch((100 + i * 30 + round, 0)) {
                    Ok(_) => fetched += 1,
                    Err(e) => {
                        refused = Some((round, e.what));
                        break;
                    }
                }
            }
            if refused.is_some() {
                break;
            }
        }
        let (_, why) = refused.expect("the reader inflated 180 × 60 MiB without stopping");
        assert!(why.contains("512 MiB"), "{why}");
        assert!(fetched <= 9, "{fetched} fetches before the budget stopped it");
    }
}
