//! Signer-side hardening against shadow attacks (security.md §1.2, §6 items 48–51): a document
//! prepared so that content hidden in the signed bytes can be switched on after signing is
//! refused before anyone signs it.
//!
//! - duplicate definitions of one object number inside one revision (hide-and-replace
//!   preparation; SignServer's REFUSE_DOUBLE_INDIRECT_OBJECTS);
//! - `/Type /Pages` nodes with pages that the catalog's page tree does not reach (a dormant
//!   page tree waiting to be swapped in);
//! - optional content (`/OCProperties`): layers can show different content on screen and in
//!   print (the CVE-2024-52271 pattern).
//!
//! [`overlay_warnings`] (item 50) is a heuristic and only warns: a full-page image or form drawn
//! after the page's text, or an annotation covering most of a page, can hide what the signer
//! should read.

use std::collections::{HashMap, HashSet};

use lopdf::{Object, ObjectId};

use crate::document::PdfDocument;
use crate::source::{Scan, Source};

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion(pub String);

/// Runs every check; returns what was found.
pub fn inspect(doc: &PdfDocument) -> Vec<Suspicion> {
    let mut out = duplicate_objects(doc.reader.source());
    out.extend(dormant_page_trees(doc));
    if doc.catalog().map(|c| c.has(b"OCProperties")).unwrap_or(false) {
        out.push(Suspicion(
            "the document has optional content (layers), which can show different content on screen and in print"
                .into(),
        ));
    }
    out
}

/// Object numbers defined more than once between two `%%EOF` markers.
///
/// Scans line starts only (object headers, `%%EOF`), and jumps over stream data with a SIMD
/// substring search, so the cost is dominated by memchr over the file; the file is read in
/// windows, so memory stays flat for any size.
pub fn duplicate_objects(src: &dyn Source) -> Vec<Suspicion> {
    let mut out = Vec::new();
    let mut seen: HashMap<u32, u64> = HashMap::new();
    let mut reported = HashSet::new();
    let endstream = memchr::memmem::Finder::new(b"endstream");
    let mut scan = Scan::new(src);
    let len = src.len();
    let mut i = 0u64;
    while i < len {
        let line = scan.at(i, 64);
        if line.starts_with(b"%%EOF") {
            seen.clear();
        } else if line.first().is_some_and(|b| b.is_ascii_digit())
            && let Some((num, _)) = object_header(&line[..line.len().min(64)])
        {
            if let Some(&first) = seen.get(&num) {
                if reported.insert(num) {
                    out.push(Suspicion(format!(
                        "object {num} is defined twice in one revision (at offsets {first} and {i}): a prepared shadow attack can switch between them after signing"
                    )));
                }
            } else {
                seen.insert(num, i);
            }
        }
        // Next line start; if this line opens a stream, continue after its "endstream".
        let Some(eol) = scan.find(i, 1, |w| memchr::memchr2(b'\n', b'\r', w)) else {
            break;
        };
        let tail_start = eol.saturating_sub(9).max(i);
        let tail = scan.at(tail_start, (eol - tail_start) as usize);
        let text = &tail[..((eol - tail_start) as usize).min(tail.len())];
        let opens_stream = text.ends_with(b"stream") && !text.ends_with(b"endstream");
        let mut next = eol + 1;
        if opens_stream {
            match scan.find(next, 9, |w| endstream.find(w)) {
                Some(p) => next = p + 9,
                None => break,
            }
        }
        i = next;
    }
    out
}

fn object_header(b: &[u8]) -> Option<(u32, usize)> {
    let mut p = 0;
    let num_start = p;
    while p < b.len() && b[p].is_ascii_digit() && p < 10 {
        p += 1;
    }
    let num: u32 = std::str::from_utf8(&b[num_start..p]).ok()?.parse().ok()?;
    let ws = p;
    while p < b.len() && (b[p] == b' ' || b[p] == b'\t') {
        p += 1;
    }
    if p == ws {
        return None;
    }
    let g = p;
    while p < b.len() && b[p].is_ascii_digit() && p - g < 6 {
        p += 1;
    }
    if p == g {
        return None;
    }
    let ws2 = p;
    while p < b.len() && (b[p] == b' ' || b[p] == b'\t') {
        p += 1;
    }
    if p == ws2 || !b[p..].starts_with(b"obj") {
        return None;
    }
    Some((num, p + 3))
}

/// `/Type /Pages` nodes with kids that the catalog's page tree does not reach.
pub fn dormant_page_trees(doc: &PdfDocument) -> Vec<Suspicion> {
    let mut reachable: HashSet<ObjectId> = HashSet::new();
    if let Ok(root) = doc.catalog()
        && let Ok(Object::Reference(pages)) = root.get(b"Pages")
    {
        let mut stack = vec![*pages];
        while let Some(id) = stack.pop() {
            if reachable.len() > 1_000_000 || !reachable.insert(id) {
                continue;
            }
            if let Ok(f) = doc.reader.fetch(id)
                && let Object::Dictionary(d) = &f.object
                && let Some(kids) = d.get(b"Kids").ok().and_then(|k| doc.resolve_array(k))
            {
                stack.extend(kids.iter().filter_map(|k| k.as_reference().ok()));
            }
        }
    }
    let mut out = Vec::new();
    for num in doc.reader.object_numbers() {
        let Some(generation) = doc.reader.generation(num) else {
            continue;
        };
        let id = (num, generation);
        let Ok(f) = doc.reader.fetch(id) else { continue };
        let Object::Dictionary(d) = &f.object else { continue };
        let is_pages = d.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"Pages");
        let has_kids = matches!(d.get(b"Kids"), Ok(Object::Array(k)) if !k.is_empty());
        if is_pages && has_kids && !reachable.contains(&id) {
            out.push(Suspicion(format!(
                "object {} is a page tree that the document does not show (a dormant page tree can be swapped in after signing)",
                id.0
            )));
        }
    }
    out
}

/// Largest decoded page content examined for overlays.
const MAX_CONTENT: usize = 16 * 1024 * 1024;

/// Parses `pdf` and returns the overlay warnings (see [`overlay_warnings`]).
pub fn overlay_warnings_for(pdf: &dyn Source) -> Result<Vec<Suspicion>, crate::PdfError> {
    let doc = PdfDocument::parse(pdf, &Default::default())?;
    Ok(overlay_warnings(&doc))
}

/// Item 50: pages where something large is drawn over the text, or annotations covering most of
/// a page. Warnings, not refusals: scans and forms legitimately use large images and widgets.
pub fn overlay_warnings(doc: &PdfDocument) -> Vec<Suspicion> {
    let mut out = Vec::new();
    for (n, page) in doc.pages().unwrap_or_default().into_iter().enumerate().take(1000) {
        let n = n + 1;
        let b = doc.page_box(page);
        let area = ((b[2] - b[0]) * (b[3] - b[1])).abs().max(1.0);
        if let Some(what) = drawn_over_text(doc, page, area) {
            out.push(Suspicion(format!(
                "page {n}: {what} is drawn over the page's text and may hide it"
            )));
        }
        for sub in covering_annotations(doc, page, area) {
            out.push(Suspicion(format!(
                "page {n}: a {sub} annotation covers most of the page"
            )));
        }
    }
    out
}

fn mul(m: [f32; 6], n: [f32; 6]) -> [f32; 6] {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn drawn_over_text(doc: &PdfDocument, page: ObjectId, page_area: f32) -> Option<String> {
    let content = page_content(doc, page)?;
    let ops = lopdf::content::Content::decode(&content).ok()?;
    let xobjects = doc
        .inherited(page, b"Resources")
        .and_then(|r| doc.resolve_dict(&r))
        .and_then(|r| r.get(b"XObject").ok().and_then(|x| doc.resolve_dict(x)));
    let mut ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let mut stack = Vec::new();
    let mut seen_text = false;
    for op in ops.operations.iter().take(1_000_000) {
        match op.operator.as_str() {
            "q" if stack.len() < 256 => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(ctm),
            "cm" if op.operands.len() == 6 => {
                let v: Vec<f32> = op.operands.iter().filter_map(|o| o.as_float().ok()).collect();
                if let Ok(m) = <[f32; 6]>::try_from(v.as_slice()) {
                    ctm = mul(m, ctm);
                }
            }
            "Tj" | "TJ" | "'" | "\"" => seen_text = true,
            "Do" if seen_text => {
                let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) else {
                    continue;
                };
                let Some(xo) = xobjects
                    .as_ref()
                    .and_then(|x| x.get(name).ok())
                    .and_then(|o| o.as_reference().ok())
                else {
                    continue;
                };
                let Ok(f) = doc.reader.fetch(xo) else { continue };
                let Object::Stream(s) = &f.object else { continue };
                let subtype = s
                    .dict
                    .get(b"Subtype")
                    .ok()
                    .and_then(|t| t.as_name().ok())
                    .unwrap_or(b"");
                let det = (ctm[0] * ctm[3] - ctm[1] * ctm[2]).abs();
                let covered = match subtype {
                    b"Image" => det,
                    b"Form" => {
                        let bb: Vec<f32> = s
                            .dict
                            .get(b"BBox")
                            .ok()
                            .and_then(|b| b.as_array().ok())
                            .map(|a| a.iter().filter_map(|v| v.as_float().ok()).collect())
                            .unwrap_or_default();
                        if bb.len() == 4 {
                            ((bb[2] - bb[0]) * (bb[3] - bb[1])).abs() * det
                        } else {
                            0.0
                        }
                    }
                    _ => 0.0,
                };
                if covered >= 0.9 * page_area {
                    let kind = if subtype == b"Image" {
                        "a full-page image"
                    } else {
                        "a full-page form"
                    };
                    return Some(kind.to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// The page's content streams, decoded and concatenated (None past [`MAX_CONTENT`] or when a
/// stream uses a filter the reader does not decode).
fn page_content(doc: &PdfDocument, page: ObjectId) -> Option<Vec<u8>> {
    let contents = doc.dictionary(page).ok()?.get(b"Contents").ok()?.clone();
    let refs: Vec<ObjectId> = match doc.reader.resolve(&contents).ok()? {
        Object::Array(a) => a.iter().filter_map(|o| o.as_reference().ok()).collect(),
        Object::Stream(_) => vec![contents.as_reference().ok()?],
        _ => return None,
    };
    let mut out = Vec::new();
    for r in refs.into_iter().take(10_000) {
        let data = doc
            .reader
            .decoded_stream(r, MAX_CONTENT.saturating_sub(out.len()))
            .ok()?;
        out.extend_from_slice(&data);
        out.push(b'\n');
    }
    Some(out)
}

fn covering_annotations(doc: &PdfDocument, page: ObjectId, page_area: f32) -> Vec<String> {
    let mut out = Vec::new();
    let Some(annots) = doc
        .dictionary(page)
        .ok()
        .and_then(|p| p.get(b"Annots").ok().and_then(|a| doc.resolve_array(a)))
    else {
        return out;
    };
    for a in annots.iter().take(10_000) {
        let Some(d) = doc.resolve_dict(a) else { continue };
        let sub = d.get(b"Subtype").ok().and_then(|s| s.as_name().ok()).unwrap_or(b"");
        if matches!(sub, b"Link" | b"Popup") || !d.has(b"AP") {
            continue;
        }
        let hidden = d.get(b"F").ok().and_then(|f| f.as_i64().ok()).unwrap_or(0) & 2 != 0;
        let covers = crate::document::rect_of(&d).is_some_and(|r| (r[2] - r[0]) * (r[3] - r[1]) >= 0.5 * page_area);
        if !hidden && covers {
            out.push(String::from_utf8_lossy(sub).into_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_two_definitions_in_one_revision_but_not_across_revisions() {
        let one = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n2 0 obj\n<<>>\nendobj\n1 0 obj\n<< /X 1 >>\nendobj\n%%EOF\n";
        assert_eq!(duplicate_objects(&one.to_vec()).len(), 1);
        let two = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n1 0 obj\n<< /X 1 >>\nendobj\n%%EOF\n";
        assert!(duplicate_objects(&two.to_vec()).is_empty());
    }

    #[test]
    fn ignores_headers_inside_streams() {
        let s = b"%PDF-1.4\n1 0 obj\n<< /Length 10 >>\nstream\n1 0 obj\nendstream\nendobj\n%%EOF\n";
        assert!(duplicate_objects(&s.to_vec()).is_empty());
    }

    fn file_source(data: &[u8]) -> crate::source::FileSource {
        use std::io::Write;
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        crate::source::FileSource::new(f).unwrap()
    }

    #[test]
    fn scans_across_window_boundaries() {
        // A stream longer than the scan window, then a duplicate straddling a window edge.
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Length 600000 >>\nstream\n".to_vec();
        pdf.extend(std::iter::repeat_n(b'x', 600_000));
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let chunk = crate::source::CHUNK;
        pdf.extend(std::iter::repeat_n(b' ', chunk - pdf.len() % chunk - 3));
        pdf.extend_from_slice(b"\n1 0 obj\n<< >>\nendobj\n%%EOF\n");
        let found = duplicate_objects(&pdf);
        assert_eq!(found.len(), 1, "{found:?}");
        let file = file_source(&pdf);
        assert_eq!(duplicate_objects(&file), found);
        // A header inside the long stream is not an object.
        let mut quiet = b"%PDF-1.4\n1 0 obj\n<< /Length 600000 >>\nstream\n".to_vec();
        quiet.extend(std::iter::repeat_n(b'x', 300_000));
        quiet.extend_from_slice(b"\n1 0 obj\n");
        quiet.extend(std::iter::repeat_n(b'x', 299_991));
        quiet.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
        assert!(duplicate_objects(&quiet).is_empty());
        assert!(duplicate_objects(&file_source(&quiet)).is_empty());
    }
}
