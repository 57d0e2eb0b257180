//! Appending to a PDF, as an incremental update: pages from another PDF (a generated evidence
//! page) at the end of the page tree, and embedded files (the evidence itself) in the catalog's
//! `/Names /EmbeddedFiles`. The original bytes stay first and untouched, so what an earlier
//! record hashed is still a revision of the result; and reading those embedded files back.

use std::collections::HashMap;
use std::io::Write;

use lopdf::{Dictionary, Object, ObjectId, Stream, StringFormat};

use crate::PdfError;
use crate::document::{Limits, PdfDocument};
use crate::incremental::IncrementalUpdate;
use crate::source::Source;

/// A file to embed.
#[derive(Clone, Debug)]
pub struct Attachment {
    /// Its name in the document (`evidence-1.json`).
    pub name: String,
    /// Media type.
    pub mime: String,
    /// What it is.
    pub description: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// Most bytes of one object copied from the appended PDF.
const MAX_COPY: usize = 32 << 20;
/// Most objects copied from it.
const MAX_OBJECTS: usize = 100_000;

/// Copies `o` from `from` into `up`, renumbering indirect objects (each once) and leaving out
/// a page's `/Parent`.
fn import(
    o: &Object,
    from: &PdfDocument<'_>,
    up: &mut IncrementalUpdate,
    map: &mut HashMap<ObjectId, ObjectId>,
) -> Result<Object, PdfError> {
    Ok(match o {
        Object::Reference(r) => {
            if let Some(n) = map.get(r) {
                return Ok(Object::Reference(*n));
            }
            if map.len() >= MAX_OBJECTS {
                return Err(PdfError::Write("the appended pages hold too many objects".into()));
            }
            let new = up.allocate();
            map.insert(*r, new);
            let fetched = from
                .reader
                .fetch(*r)
                .map_err(|e| PdfError::Read(format!("appended PDF: {e}")))?;
            let copied = match &fetched.object {
                Object::Stream(s) => {
                    let raw = from
                        .reader
                        .raw_stream(*r, MAX_COPY)
                        .map_err(|e| PdfError::Read(format!("appended PDF: {e}")))?;
                    let mut dict = Dictionary::new();
                    for (k, v) in s.dict.iter() {
                        if k.as_slice() != b"Length" {
                            dict.set(k.clone(), import(v, from, up, map)?);
                        }
                    }
                    Object::Stream(Stream::new(dict, raw))
                }
                other => import(other, from, up, map)?,
            };
            up.set_object(new, &copied)?;
            Object::Reference(new)
        }
        Object::Dictionary(d) => {
            let mut out = Dictionary::new();
            for (k, v) in d.iter() {
                if k.as_slice() == b"Parent" {
                    continue;
                }
                out.set(k.clone(), import(v, from, up, map)?);
            }
            Object::Dictionary(out)
        }
        Object::Array(a) => Object::Array(a.iter().map(|x| import(x, from, up, map)).collect::<Result<_, _>>()?),
        other => other.clone(),
    })
}

fn text(s: &str) -> Object {
    // UTF-16BE with a byte order mark: names and descriptions in any script.
    let mut b = vec![0xFE, 0xFF];
    for u in s.encode_utf16() {
        b.extend_from_slice(&u.to_be_bytes());
    }
    Object::String(b, StringFormat::Hexadecimal)
}

/// Writes `src` followed by an update that adds the pages of `pages_pdf` (if any) after the
/// last page and embeds `files`. Refused for a document whose embedded files form a name tree
/// with kids (it is not flattened here). Returns the length written.
pub fn append(
    src: &dyn Source,
    out: &mut dyn Write,
    pages_pdf: Option<&[u8]>,
    files: &[Attachment],
) -> Result<u64, PdfError> {
    let doc = PdfDocument::parse(src, &Limits::default())?;
    let mut up = IncrementalUpdate::new(&doc);
    let root = doc.root_ref()?;
    let mut catalog = doc.catalog()?;
    if let Some(extra) = pages_pdf {
        let extra_src: &[u8] = extra;
        let from = PdfDocument::parse(&extra_src, &Limits::default())?;
        let pages_ref = catalog
            .get(b"Pages")
            .and_then(|o| o.as_reference())
            .map_err(|_| PdfError::Read("the catalog's /Pages is not a reference".into()))?;
        let mut pages = doc.dictionary(pages_ref)?;
        let mut kids = pages
            .get(b"Kids")
            .ok()
            .and_then(|k| doc.resolve_array(k))
            .ok_or_else(|| PdfError::Read("the page tree has no /Kids".into()))?;
        let count = pages.get(b"Count").and_then(|c| c.as_i64()).unwrap_or(0);
        let mut map = HashMap::new();
        let mut added = 0;
        for page in from.pages()? {
            let mut dict = from.dictionary(page)?;
            // Inherited attributes the appended page relies on become its own.
            for key in [b"MediaBox".as_slice(), b"Resources", b"CropBox", b"Rotate"] {
                if !dict.has(key)
                    && let Some(v) = from.inherited(page, key)
                {
                    dict.set(key, v);
                }
            }
            let Object::Dictionary(mut copied) = import(&Object::Dictionary(dict), &from, &mut up, &mut map)? else {
                return Err(PdfError::Write("a page is not a dictionary".into()));
            };
            copied.set("Parent", Object::Reference(pages_ref));
            let id = up.allocate();
            up.set_object(id, &Object::Dictionary(copied))?;
            kids.push(Object::Reference(id));
            added += 1;
        }
        pages.set("Kids", Object::Array(kids));
        pages.set("Count", Object::Integer(count + added));
        up.set_object(pages_ref, &Object::Dictionary(pages))?;
    }
    if !files.is_empty() {
        let mut names_dict = catalog
            .get(b"Names")
            .ok()
            .and_then(|n| doc.resolve_dict(n))
            .unwrap_or_default();
        let mut tree = names_dict
            .get(b"EmbeddedFiles")
            .ok()
            .and_then(|e| doc.resolve_dict(e))
            .unwrap_or_default();
        if tree.has(b"Kids") {
            return Err(PdfError::Write(
                "the document's embedded files form a name tree with kids; attach to a copy rewritten by qpdf".into(),
            ));
        }
        let mut pairs: Vec<(Vec<u8>, Object)> = Vec::new();
        if let Some(old) = tree.get(b"Names").ok().and_then(|n| doc.resolve_array(n)) {
            for kv in old.chunks(2) {
                if let [Object::String(k, _), v] = kv {
                    pairs.push((k.clone(), v.clone()));
                }
            }
        }
        for f in files {
            let mut params = Dictionary::new();
            params.set("Size", Object::Integer(f.data.len() as i64));
            let mut ef_dict = Dictionary::new();
            ef_dict.set("Type", Object::Name(b"EmbeddedFile".to_vec()));
            ef_dict.set("Subtype", Object::Name(f.mime.replace('/', "#2F").into_bytes()));
            ef_dict.set("Params", Object::Dictionary(params));
            let stream_id = up.allocate();
            up.set_object(stream_id, &Object::Stream(Stream::new(ef_dict, f.data.clone())))?;
            let mut ef = Dictionary::new();
            ef.set("F", Object::Reference(stream_id));
            ef.set("UF", Object::Reference(stream_id));
            let mut spec = Dictionary::new();
            spec.set("Type", Object::Name(b"Filespec".to_vec()));
            spec.set("F", Object::String(f.name.clone().into_bytes(), StringFormat::Literal));
            spec.set("UF", text(&f.name));
            spec.set("Desc", text(&f.description));
            spec.set("EF", Object::Dictionary(ef));
            spec.set("AFRelationship", Object::Name(b"Supplement".to_vec()));
            let spec_id = up.allocate();
            up.set_object(spec_id, &Object::Dictionary(spec))?;
            pairs.retain(|(k, _)| k != f.name.as_bytes());
            pairs.push((f.name.clone().into_bytes(), Object::Reference(spec_id)));
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let flat: Vec<Object> = pairs
            .into_iter()
            .flat_map(|(k, v)| [Object::String(k, StringFormat::Literal), v])
            .collect();
        tree.set("Names", Object::Array(flat));
        tree.remove(b"Limits");
        let tree_id = up.allocate();
        up.set_object(tree_id, &Object::Dictionary(tree))?;
        names_dict.set("EmbeddedFiles", Object::Reference(tree_id));
        let names_id = up.allocate();
        up.set_object(names_id, &Object::Dictionary(names_dict))?;
        catalog.set("Names", Object::Reference(names_id));
        up.set_object(root, &Object::Dictionary(catalog))?;
    }
    up.write_after(src, out)
}

/// How much of a document's embedded files is read: a file that asks for more is left out,
/// and reading stops at the count or the total.
#[derive(Clone, Copy, Debug)]
pub struct FileLimits {
    /// Most bytes of one file (decoded).
    pub max_each: usize,
    /// Most files read.
    pub max_files: usize,
    /// Most bytes read in all.
    pub max_total: usize,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            max_each: 16 << 20,
            max_files: 1000,
            max_total: 64 << 20,
        }
    }
}

/// The embedded files of a document (a flat `/EmbeddedFiles` name tree, or one level of kids)
/// whose names `wanted` accepts: (name, bytes). Each file stream is read once however often
/// the tree names it; those too large or unreadable are left out; `limits` bound the work.
pub fn embedded_files(
    doc: &PdfDocument<'_>,
    limits: FileLimits,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let Some(tree) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Names").ok().and_then(|n| doc.resolve_dict(n)))
        .and_then(|n| n.get(b"EmbeddedFiles").ok().and_then(|e| doc.resolve_dict(e)))
    else {
        return out;
    };
    let mut nodes = vec![tree];
    if let Some(kids) = nodes[0].get(b"Kids").ok().and_then(|k| doc.resolve_array(k)) {
        nodes.extend(kids.iter().take(1000).filter_map(|k| doc.resolve_dict(k)));
    }
    let mut seen = std::collections::HashSet::new();
    let mut total = 0usize;
    for node in nodes {
        let Some(names) = node.get(b"Names").ok().and_then(|n| doc.resolve_array(n)) else {
            continue;
        };
        for kv in names.chunks(2).take(1000) {
            if seen.len() >= limits.max_files || total >= limits.max_total {
                return out;
            }
            let [Object::String(name, _), spec] = kv else { continue };
            let name = String::from_utf8_lossy(name).into_owned();
            if !wanted(&name) {
                continue;
            }
            let Some(stream) = doc
                .resolve_dict(spec)
                .and_then(|s| s.get(b"EF").ok().and_then(|ef| doc.resolve_dict(ef)))
                .and_then(|ef| ef.get(b"F").ok().and_then(|f| f.as_reference().ok()))
            else {
                continue;
            };
            if !seen.insert(stream) {
                continue;
            }
            let budget = limits.max_each.min(limits.max_total - total);
            if let Ok(data) = doc.reader.decoded_stream(stream, budget) {
                total += data.len();
                out.push((name, data));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_page(text: &str) -> Vec<u8> {
        crate::build::classic_pdf(
            "1.7",
            &[
                b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>".to_vec(),
                b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
                crate::build::stream("", format!("BT /F1 18 Tf 72 760 Td ({text}) Tj ET").as_bytes()),
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
            ],
            b"",
        )
    }

    #[test]
    fn pages_and_files_are_appended_and_read_back() {
        let original = one_page("Original");
        let appendix = one_page("Appendix");
        let mut out = Vec::new();
        let files = [Attachment {
            name: "evidence-1.json".into(),
            mime: "application/json".into(),
            description: "Подпись / evidence".into(),
            data: b"{\"signet_evidence\": 1}".to_vec(),
        }];
        append(&original.as_slice(), &mut out, Some(&appendix), &files).unwrap();
        assert!(out.starts_with(&original), "the original bytes stay first");
        let src: &[u8] = &out;
        let doc = PdfDocument::parse(&src, &Limits::default()).unwrap();
        let pages = doc.pages().unwrap();
        assert_eq!(pages.len(), 2);
        let second = doc.dictionary(pages[1]).unwrap();
        assert!(second.has(b"MediaBox"), "inherited attributes are carried over");
        let got = embedded_files(&doc, FileLimits::default(), &|_| true);
        assert_eq!(got, vec![("evidence-1.json".to_string(), files[0].data.clone())]);
        // Once more: the first file stays, the second joins it.
        let mut again = Vec::new();
        let more = [Attachment {
            name: "evidence-2.json".into(),
            ..files[0].clone()
        }];
        append(&out.as_slice(), &mut again, None, &more).unwrap();
        let src: &[u8] = &again;
        let doc = PdfDocument::parse(&src, &Limits::default()).unwrap();
        assert_eq!(embedded_files(&doc, FileLimits::default(), &|_| true).len(), 2);
        assert_eq!(
            embedded_files(&doc, FileLimits::default(), &|n| n.ends_with("-2.json")).len(),
            1
        );
        let one = FileLimits {
            max_files: 1,
            ..FileLimits::default()
        };
        assert_eq!(embedded_files(&doc, one, &|_| true).len(), 1);
        assert_eq!(doc.pages().unwrap().len(), 2);
    }
}
