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

use std::collections::{HashMap, HashSet};

use lopdf::{Object, ObjectId};

use crate::document::PdfDocument;

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion(pub String);

/// Runs every check; returns what was found.
pub fn inspect(bytes: &[u8], doc: &PdfDocument) -> Vec<Suspicion> {
    let mut out = duplicate_objects(bytes);
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
/// substring search, so the cost is dominated by memchr over the file.
pub fn duplicate_objects(bytes: &[u8]) -> Vec<Suspicion> {
    let mut out = Vec::new();
    let mut seen: HashMap<u32, usize> = HashMap::new();
    let mut reported = HashSet::new();
    let endstream = memchr::memmem::Finder::new(b"endstream");
    let mut i = 0;
    while i < bytes.len() {
        let line = &bytes[i..];
        if line.starts_with(b"%%EOF") {
            seen.clear();
        } else if line.first().is_some_and(|b| b.is_ascii_digit())
            && let Some((num, _)) = object_header(line)
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
        let eol = match memchr::memchr2(b'\n', b'\r', line) {
            Some(p) => p,
            None => break,
        };
        let text = &line[..eol];
        let opens_stream = text.ends_with(b"stream") && !text.ends_with(b"endstream");
        let mut next = i + eol + 1;
        if opens_stream {
            match endstream.find(&bytes[next..]) {
                Some(p) => next += p + 9,
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
            if let Ok(d) = doc.doc.get_dictionary(id)
                && let Ok(Object::Array(kids)) = d.get(b"Kids")
            {
                stack.extend(kids.iter().filter_map(|k| k.as_reference().ok()));
            }
        }
    }
    let mut out = Vec::new();
    for (id, obj) in &doc.doc.objects {
        let Object::Dictionary(d) = obj else { continue };
        let is_pages = d.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"Pages");
        let has_kids = matches!(d.get(b"Kids"), Ok(Object::Array(k)) if !k.is_empty());
        if is_pages && has_kids && !reachable.contains(id) {
            out.push(Suspicion(format!(
                "object {} is a page tree that the document does not show (a dormant page tree can be swapped in after signing)",
                id.0
            )));
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
        assert_eq!(duplicate_objects(one).len(), 1);
        let two = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n1 0 obj\n<< /X 1 >>\nendobj\n%%EOF\n";
        assert!(duplicate_objects(two).is_empty());
    }

    #[test]
    fn ignores_headers_inside_streams() {
        let s = b"%PDF-1.4\n1 0 obj\n<< /Length 10 >>\nstream\n1 0 obj\nendstream\nendobj\n%%EOF\n";
        assert!(duplicate_objects(s).is_empty());
    }
}
