//! Where PDF bytes come from: a slice in memory or a file read in windows, so that a document of
//! any size is parsed, hashed and copied with bounded memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use signet_crypto::digest::Hasher;

use crate::syntax::SyntaxError;

/// Chunk size for hashing and copying.
pub const CHUNK: usize = 256 * 1024;

/// Random access to the bytes of one PDF.
pub trait Source {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Whether the source is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` from `offset`; fails if the source ends first.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;

    /// All bytes, when they are already in memory (lets readers skip copying).
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }
}

impl Source for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl Source for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.as_slice().read_at(offset, buf)
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(self)
    }
}

/// A file read on demand.
pub struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    /// Opens `file`; its length is taken now (the file must not change while it is signed).
    pub fn new(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut f = &self.file;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// Reads up to `max` bytes from `offset` (fewer at the end of the source).
pub fn window(src: &dyn Source, offset: u64, max: usize) -> io::Result<Vec<u8>> {
    if offset > src.len() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let n = (src.len() - offset).min(max as u64) as usize;
    if let Some(all) = src.as_slice() {
        return Ok(all[offset as usize..offset as usize + n].to_vec());
    }
    let mut buf = vec![0u8; n];
    src.read_at(offset, &mut buf)?;
    Ok(buf)
}

/// Runs `parse` over a window starting at `offset`, growing the window (up to `cap` bytes) while
/// parsing fails and more of the source remains. Error offsets are made absolute.
pub fn parse_windowed<T>(
    src: &dyn Source,
    offset: u64,
    cap: usize,
    parse: impl Fn(&[u8]) -> Result<T, SyntaxError>,
) -> Result<T, SyntaxError> {
    let rebase = |mut e: SyntaxError| {
        e.offset = e.offset.saturating_add(offset as usize);
        e
    };
    if let Some(all) = src.as_slice() {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
        let end = start.saturating_add(cap).min(all.len());
        return parse(&all[start..end]).map_err(rebase);
    }
    let mut size = (4 * 1024).min(cap);
    loop {
        let w = window(src, offset, size).map_err(|e| SyntaxError {
            offset: offset as usize,
            what: format!("cannot read: {e}"),
        })?;
        let whole = offset + w.len() as u64 >= src.len();
        match parse(&w) {
            Ok(v) => return Ok(v),
            Err(_) if !whole && size < cap => size = size.saturating_mul(8).min(cap),
            Err(e) => return Err(rebase(e)),
        }
    }
}

/// Reads byte ranges of a source one after the other (a signature's signed bytes). As a
/// `BufRead` over a source already in memory it lends each range's bytes without copying them.
pub struct RangesReader<'a> {
    src: &'a dyn Source,
    ranges: Vec<(u64, u64)>,
    current: usize,
    pos: u64,
    /// For sources not in memory: bytes read ahead, and how many of them are consumed.
    buf: Vec<u8>,
    buf_pos: usize,
}

impl<'a> RangesReader<'a> {
    /// `ranges` are (offset, length) pairs, each within the source.
    pub fn new(src: &'a dyn Source, ranges: Vec<(u64, u64)>) -> Self {
        let pos = ranges.first().map(|r| r.0).unwrap_or(0);
        RangesReader {
            src,
            ranges,
            current: 0,
            pos,
            buf: Vec::new(),
            buf_pos: 0,
        }
    }

    /// The current range's end, moving on to the next range when this one is done; `None` at
    /// the end of the last range.
    fn range_end(&mut self) -> Option<u64> {
        while let Some(&(off, len)) = self.ranges.get(self.current) {
            let end = off + len;
            if self.pos < end {
                return Some(end);
            }
            self.current += 1;
            if let Some(next) = self.ranges.get(self.current) {
                self.pos = next.0;
            }
        }
        None
    }
}

impl io::BufRead for RangesReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.buf_pos < self.buf.len() {
            return Ok(&self.buf[self.buf_pos..]);
        }
        let Some(end) = self.range_end() else {
            return Ok(&[]);
        };
        if let Some(all) = self.src.as_slice() {
            let start = usize::try_from(self.pos).map_err(|_| io::ErrorKind::UnexpectedEof)?;
            let stop = usize::try_from(end).map_err(|_| io::ErrorKind::UnexpectedEof)?;
            return all.get(start..stop).ok_or_else(|| io::ErrorKind::UnexpectedEof.into());
        }
        let n = ((end - self.pos) as usize).min(CHUNK);
        self.buf_pos = 0;
        self.buf.resize(n, 0);
        if let Err(e) = self.src.read_at(self.pos, &mut self.buf) {
            // Nothing stale is lent as signed bytes after a failed read.
            self.buf.clear();
            return Err(e);
        }
        Ok(&self.buf)
    }

    fn consume(&mut self, amt: usize) {
        if self.buf_pos < self.buf.len() {
            self.buf_pos += amt;
        }
        self.pos += amt as u64;
    }
}

impl Read for RangesReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = io::BufRead::fill_buf(self)?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        io::BufRead::consume(self, n);
        Ok(n)
    }
}

/// Feeds `len` bytes from the start of `src` to `hasher` and, when given, to `out`, in chunks.
pub fn hash_and_copy(src: &dyn Source, hasher: &mut Hasher, mut out: Option<&mut dyn Write>) -> io::Result<()> {
    if let Some(all) = src.as_slice() {
        hasher.update(all);
        if let Some(w) = out {
            w.write_all(all)?;
        }
        return Ok(());
    }
    let mut buf = vec![0u8; CHUNK];
    let mut off = 0u64;
    while off < src.len() {
        let n = (src.len() - off).min(CHUNK as u64) as usize;
        src.read_at(off, &mut buf[..n])?;
        hasher.update(&buf[..n]);
        if let Some(w) = out.as_deref_mut() {
            w.write_all(&buf[..n])?;
        }
        off += n as u64;
    }
    Ok(())
}

/// A forward scan over a source through one reusable window.
pub struct Scan<'a> {
    src: &'a dyn Source,
    base: u64,
    buf: Vec<u8>,
}

impl<'a> Scan<'a> {
    /// A scan from the start of `src`.
    pub fn new(src: &'a dyn Source) -> Self {
        Scan {
            src,
            base: 0,
            buf: Vec::new(),
        }
    }

    /// Bytes from `pos`: at least `min` of them unless the source ends first.
    pub fn at(&mut self, pos: u64, min: usize) -> &[u8] {
        if let Some(all) = self.src.as_slice() {
            return all.get(pos as usize..).unwrap_or_default();
        }
        let end = self.base + self.buf.len() as u64;
        if pos < self.base || pos > end || (end - pos < min as u64 && end < self.src.len()) {
            self.base = pos;
            self.buf = window(self.src, pos, CHUNK.max(min)).unwrap_or_default();
        }
        &self.buf[(pos - self.base) as usize..]
    }

    /// The first match of `find` at or after `from`; windows overlap by `needle_len - 1`.
    pub fn find(&mut self, from: u64, needle_len: usize, find: impl Fn(&[u8]) -> Option<usize>) -> Option<u64> {
        let mut pos = from;
        loop {
            let w = self.at(pos, needle_len);
            if let Some(p) = find(w) {
                return Some(pos + p as u64);
            }
            let n = w.len() as u64;
            if pos + n >= self.src.len() || n < needle_len as u64 {
                return None;
            }
            pos += n + 1 - needle_len as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_and_files_read_the_same() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&data).unwrap();
        let fs = FileSource::new(f).unwrap();
        for src in [&fs as &dyn Source, &data] {
            assert_eq!(src.len(), 200_000);
            assert_eq!(window(src, 199_990, 100).unwrap(), &data[199_990..]);
            let mut b = [0u8; 4];
            assert!(src.read_at(199_998, &mut b).is_err());
        }
    }

    /// The signed ranges read the same from memory (lent in place) and from a file (through
    /// the buffer), by `read` and by `fill_buf`/`consume`; a failed read lends nothing stale.
    #[test]
    fn ranges_read_the_same_from_memory_and_from_a_file() {
        use std::io::{BufRead, Read};
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let ranges = vec![(0u64, 100_000u64), (150_000, 150_000)];
        let want: Vec<u8> = [&data[..100_000], &data[150_000..]].concat();
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&data).unwrap();
        let fs = FileSource::new(f).unwrap();
        for src in [&fs as &dyn Source, &data] {
            let mut got = Vec::new();
            RangesReader::new(src, ranges.clone()).read_to_end(&mut got).unwrap();
            assert!(got == want);
            let mut r = RangesReader::new(src, ranges.clone());
            let mut got = Vec::new();
            loop {
                let b = r.fill_buf().unwrap();
                if b.is_empty() {
                    break;
                }
                let take = b.len().min(7_777);
                got.extend_from_slice(&b[..take]);
                r.consume(take);
            }
            assert!(got == want);
        }
        // A range past the end: the read fails, and the next fill lends nothing old.
        let short = &data[..1000];
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(short).unwrap();
        let fs = FileSource::new(f).unwrap();
        for src in [&fs as &dyn Source, &short] {
            let mut r = RangesReader::new(src, vec![(0, 500), (900, 500)]);
            let mut b = [0u8; 500];
            r.read_exact(&mut b).unwrap();
            let first_fail = r.fill_buf().map(|b| b.len()).is_err();
            let again = r.fill_buf().map(|b| b.len());
            assert!(first_fail && again.is_err(), "{again:?}");
        }
    }

    #[test]
    fn windows_grow_until_the_parse_succeeds() {
        let mut data = vec![b' '; 100_000];
        data.extend_from_slice(b"end");
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&data).unwrap();
        let file = FileSource::new(f).unwrap();
        let src = &file;
        let found = parse_windowed(src, 0, 1 << 20, |w| {
            memchr::memmem::find(w, b"end").ok_or(SyntaxError {
                offset: w.len(),
                what: "not yet".into(),
            })
        })
        .unwrap();
        assert_eq!(found, 100_000);
        let e = parse_windowed(src, 10, 1 << 20, |_| -> Result<(), _> {
            Err(SyntaxError {
                offset: 5,
                what: "bad".into(),
            })
        })
        .unwrap_err();
        assert_eq!(e.offset, 15);
    }
}
