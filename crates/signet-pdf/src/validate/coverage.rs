//! Byte-level checks of one signature (security.md §3.4): the /ByteRange's shape and bounds, the
//! gap holding exactly the /Contents hex string, the signature dictionary inside the signed
//! bytes, and the signed bytes ending exactly where a revision ends.

use lopdf::{Dictionary, Object, ObjectId, StringFormat};

use super::revisions::Revision;
use crate::reader::Reader;
use crate::source::window;

/// What the signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every byte of the file but the /Contents value.
    EntireFile,
    /// A whole revision, with later revisions after it.
    EntireRevision,
}

/// The outcome of the byte-level checks.
#[derive(Debug)]
pub struct Covered {
    /// The signed ranges (offset, length).
    pub ranges: Vec<(u64, u64)>,
    /// The /Contents bytes with trailing zero padding removed.
    pub cms: Vec<u8>,
    /// Index into the revision list (oldest first) of the signed revision.
    pub revision: usize,
    /// Entire file or entire revision.
    pub coverage: Coverage,
}

/// A byte-level failure, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageError(pub String);

fn fail<T>(s: impl Into<String>) -> Result<T, CoverageError> {
    Err(CoverageError(s.into()))
}

/// The /ByteRange as four non-negative integers, if it is a direct array of exactly four.
pub fn byte_range(sig: &Dictionary) -> Result<[u64; 4], CoverageError> {
    let arr = match sig.get(b"ByteRange") {
        Ok(Object::Array(a)) => a,
        Ok(Object::Reference(_)) => return fail("/ByteRange is an indirect reference; it must be a direct array"),
        Ok(_) => return fail("/ByteRange is not an array"),
        Err(_) => return fail("the signature has no /ByteRange"),
    };
    if arr.len() != 4 {
        return fail(format!("/ByteRange has {} numbers, not 4", arr.len()));
    }
    let mut v = [0u64; 4];
    for (i, o) in arr.iter().enumerate() {
        match o {
            Object::Integer(n) if *n >= 0 => v[i] = *n as u64,
            _ => return fail("/ByteRange holds something other than non-negative integers"),
        }
    }
    Ok(v)
}

/// Runs the byte-level checks for the signature dictionary `sig_id` (as found in `reader`).
pub fn check(reader: &Reader<'_>, sig_id: ObjectId, revisions: &[Revision]) -> Result<Covered, CoverageError> {
    let src = reader.source();
    let len = src.len();
    let sig = reader
        .dict(&Object::Reference(sig_id))
        .ok_or_else(|| CoverageError("the signature value is not a dictionary".into()))?;
    let [a, b, c, d] = byte_range(&sig)?;
    if a != 0 {
        return fail(format!("/ByteRange starts at {a}, not at the beginning of the file"));
    }
    if b == 0 || c <= b {
        return fail("/ByteRange ranges are empty or out of order");
    }
    let end = c
        .checked_add(d)
        .ok_or_else(|| CoverageError("/ByteRange overflows".into()))?;
    if end > len {
        return fail(format!(
            "/ByteRange reaches byte {end}, beyond the end of the file ({len})"
        ));
    }
    let contents = match sig.get(b"Contents") {
        Ok(Object::String(s, StringFormat::Hexadecimal)) => s.clone(),
        Ok(Object::String(_, _)) => return fail("/Contents is a literal string; it must be a hex string"),
        Ok(_) => return fail("/Contents is not a string"),
        Err(_) => return fail("the signature has no /Contents"),
    };
    if contents.is_empty() || contents.iter().all(|&x| x == 0) {
        return fail("/Contents is empty");
    }
    // The gap is exactly "<" + hex(/Contents) + ">".
    let expected_gap = 2 * contents.len() as u64 + 2;
    if c - b != expected_gap {
        return fail(format!(
            "the unsigned gap is {} bytes but /Contents needs {expected_gap}: something besides the signature value is unsigned",
            c - b
        ));
    }
    if expected_gap > 64 * 1024 * 1024 {
        return fail("/Contents is implausibly large");
    }
    let gap = window(src, b, expected_gap as usize).map_err(|e| CoverageError(e.to_string()))?;
    if gap.first() != Some(&b'<') || gap.last() != Some(&b'>') {
        return fail("the unsigned gap does not hold a hex string");
    }
    let hex_ok = crate::syntax::hex_equals(&gap[1..gap.len() - 1], &contents);
    if !hex_ok {
        return fail("the unsigned gap does not hold the /Contents value (signature wrapping)");
    }
    // The signature dictionary itself is in the file, around the gap, so /ByteRange is signed.
    let span = reader
        .span(sig_id)
        .map_err(|e| CoverageError(format!("the signature dictionary cannot be read: {e}")))?
        .ok_or_else(|| CoverageError("the signature dictionary is not a plain object in the file".into()))?;
    if !(span.0 < b && c < span.1 && span.1 <= end) {
        return fail("the signature dictionary does not enclose the unsigned gap: /ByteRange itself would be unsigned");
    }
    // The signed bytes end exactly where a revision ends.
    let Some(revision) = revisions
        .iter()
        .position(|r| r.ends.is_some_and(|(e1, e2)| end == e1 || end == e2))
    else {
        return fail(format!(
            "the signed bytes end at {end}, which is not the end of any revision (a block of the file, not a revision, is signed)"
        ));
    };
    // No cross-reference data of this or an earlier revision lies beyond the signed bytes.
    if revisions[..=revision].iter().any(|r| r.xref_offset >= end) {
        return fail("a cross-reference section of the signed revision lies outside the signed bytes");
    }
    // The signature dictionary was written in that revision and never redefined afterwards.
    let defined_in = reader.sections().iter().position(|s| s.entries.contains_key(&sig_id.0));
    if defined_in != Some(revisions[revision].section) {
        return fail("the signature dictionary was redefined after the revision it signs");
    }
    let coverage = if end == len {
        Coverage::EntireFile
    } else {
        Coverage::EntireRevision
    };
    Ok(Covered {
        ranges: vec![(0, b), (c, d)],
        cms: trim_padding(&contents)?,
        revision,
        coverage,
    })
}

/// The DER SignedData at the start of /Contents, without the zero padding after it.
pub fn trim_padding(contents: &[u8]) -> Result<Vec<u8>, CoverageError> {
    let total = signet_pki::raw::header(contents, 0)
        .and_then(|(h, l)| h.checked_add(l))
        .ok_or_else(|| CoverageError("/Contents does not start with a DER structure".into()))?;
    if total > contents.len() {
        return fail("/Contents holds a truncated DER structure");
    }
    if contents[total..].iter().any(|&x| x != 0) {
        return fail("/Contents has data after the signature structure");
    }
    Ok(contents[..total].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_range_shapes() {
        let mut d = Dictionary::new();
        assert!(byte_range(&d).is_err());
        d.set("ByteRange", Object::Array(vec![Object::Integer(0), Object::Integer(1)]));
        assert!(byte_range(&d).unwrap_err().0.contains("not 4"));
        d.set(
            "ByteRange",
            Object::Array(vec![0, 1, 2, -3].into_iter().map(Object::Integer).collect()),
        );
        assert!(byte_range(&d).is_err());
        d.set("ByteRange", Object::Reference((4, 0)));
        assert!(byte_range(&d).unwrap_err().0.contains("indirect"));
    }

    #[test]
    fn padding_is_trimmed_and_junk_refused() {
        assert_eq!(trim_padding(&[0x30, 0x02, 1, 2, 0, 0]).unwrap(), vec![0x30, 2, 1, 2]);
        assert!(trim_padding(&[0x30, 0x02, 1, 2, 0, 9]).is_err());
        assert!(trim_padding(&[0x30, 0x82, 0x01]).is_err());
    }
}
