//! Where each revision of a PDF ends: every `startxref N %%EOF` in the file, matched to the
//! cross-reference section at N. A signature must cover exactly such a prefix of the file.

use crate::reader::Reader;
use crate::source::{Scan, Source};

/// One revision, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// Index into [`Reader::sections`] (0 is the newest).
    pub section: usize,
    /// Offset of its cross-reference section.
    pub xref_offset: u64,
    /// Offsets a signed range may end at: just after `%%EOF`, or after the end-of-line that
    /// follows it. `None` when no `startxref` / `%%EOF` names this section.
    pub ends: Option<(u64, u64)>,
}

/// An `%%EOF` marker and the `startxref` value before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EofMarker {
    /// The offset `startxref` names.
    pub startxref: u64,
    /// Just after `%%EOF`.
    pub end: u64,
    /// After the end-of-line that follows, if any.
    pub end_with_eol: u64,
}

/// Every `startxref N %%EOF` in the file, in file order (a bounded scan with flat memory).
pub fn eof_markers(src: &dyn Source) -> Vec<EofMarker> {
    let mut out = Vec::new();
    let mut scan = Scan::new(src);
    let finder = memchr::memmem::Finder::new(b"%%EOF");
    let mut pos = 0u64;
    while let Some(at) = scan.find(pos, 5, |w| finder.find(w)) {
        pos = at + 5;
        let back = at.saturating_sub(64);
        let before = scan.at(back, (at - back) as usize);
        let before = &before[..((at - back) as usize).min(before.len())];
        let Some(kw) = memchr::memmem::rfind(before, b"startxref") else {
            continue;
        };
        let digits: Vec<u8> = before[kw + 9..]
            .iter()
            .copied()
            .skip_while(|c| c.is_ascii_whitespace())
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let rest_ok = before[kw + 9..]
            .iter()
            .all(|c| c.is_ascii_whitespace() || c.is_ascii_digit());
        let Some(n) = std::str::from_utf8(&digits).ok().and_then(|d| d.parse::<u64>().ok()) else {
            continue;
        };
        if !rest_ok {
            continue;
        }
        let after = scan.at(at + 5, 2);
        let eol = match after {
            [b'\r', b'\n', ..] => 2,
            [b'\n', ..] | [b'\r', ..] => 1,
            _ => 0,
        };
        out.push(EofMarker {
            startxref: n,
            end: at + 5,
            end_with_eol: at + 5 + eol,
        });
        if out.len() >= crate::xref::MAX_SECTIONS * 4 {
            break;
        }
    }
    out
}

/// The revisions of `reader`'s document, oldest first, with where each ends.
pub fn revisions(reader: &Reader<'_>) -> Vec<Revision> {
    let markers = eof_markers(reader.source());
    let n = reader.sections().len();
    (0..n)
        .rev()
        .map(|section| {
            let xref_offset = reader.sections()[section].offset as u64;
            let ends = markers
                .iter()
                .find(|m| m.startxref == xref_offset && m.end > xref_offset)
                .map(|m| (m.end, m.end_with_eol));
            Revision {
                section,
                xref_offset,
                ends,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_name_their_sections() {
        let pdf = crate::build::classic_pdf(
            "1.4",
            &[
                b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
                b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
            ],
            b"",
        );
        let m = eof_markers(&pdf);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].end_with_eol, pdf.len() as u64);
        let r = Reader::open(&pdf).unwrap();
        let revs = revisions(&r);
        assert_eq!(revs.len(), 1);
        assert_eq!(revs[0].ends, Some((pdf.len() as u64 - 1, pdf.len() as u64)));
    }
}
