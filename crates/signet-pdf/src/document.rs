//! Reading a PDF with limits, and the facts a signer needs about it: trailer, catalog, pages,
//! form fields, existing signatures and certification. Built on [`crate::reader`], so only the
//! objects asked for are read.

use std::collections::HashSet;

use lopdf::{Dictionary, Object, ObjectId};

use crate::PdfError;
use crate::reader::Reader;
use crate::source::{Source, window};

/// Limits applied while reading.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest file accepted (the /ByteRange placeholder holds ten digits).
    pub max_file_size: u64,
    /// Most indirect objects.
    pub max_objects: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 8 << 30,
            max_objects: 2_000_000,
        }
    }
}

/// The cross-reference style of the newest revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefStyle {
    /// `xref` table and `trailer` dictionary.
    Table,
    /// Cross-reference stream (PDF 1.5+).
    Stream,
}

/// A signature already in the document.
#[derive(Clone, Debug)]
pub struct ExistingSignature {
    /// Fully qualified field name.
    pub field_name: String,
    /// The signature dictionary.
    pub value: Dictionary,
}

/// One node of the form field tree, as [`PdfDocument::visit_fields`] sees it.
pub struct FieldInfo<'a> {
    /// The object, when the field is an indirect object.
    pub id: Option<ObjectId>,
    /// The field dictionary.
    pub dict: &'a Dictionary,
    /// Fully qualified name.
    pub name: &'a str,
    /// Field type, inherited from ancestors when absent.
    pub field_type: Option<&'a [u8]>,
    /// Whether this node has its own partial name (/T).
    pub has_name: bool,
}

/// A parsed PDF plus facts about its last revision.
pub struct PdfDocument<'s> {
    /// The reader (every revision's cross-reference merged, newest wins).
    pub reader: Reader<'s>,
    /// Offset of the newest cross-reference section (`startxref`).
    pub startxref: usize,
    /// Style of the newest cross-reference section.
    pub xref_style: XrefStyle,
    /// Length of the input.
    pub len: u64,
}

const MAX_FIELD_DEPTH: usize = 32;
/// Most page-tree nodes visited.
const MAX_PAGE_NODES: usize = 1_000_000;

impl<'s> PdfDocument<'s> {
    /// Opens and checks a PDF.
    pub fn parse(src: &'s dyn Source, limits: &Limits) -> Result<Self, PdfError> {
        if src.len() > limits.max_file_size {
            return Err(PdfError::Read(format!(
                "larger than {} MiB",
                limits.max_file_size >> 20
            )));
        }
        let head = window(src, 0, 1024).map_err(|e| PdfError::Read(e.to_string()))?;
        if memchr::memmem::find(&head, b"%PDF-").is_none() {
            return Err(PdfError::Read("no %PDF- header: not a PDF file".into()));
        }
        let reader = Reader::open(src).map_err(|e| {
            PdfError::Read(format!(
                "{e}; the cross-reference data is broken or the file is truncated, and Signet does not sign a repaired guess (rewrite the file first, e.g. `qpdf in.pdf out.pdf`)"
            ))
        })?;
        if reader.trailer().has(b"Encrypt") {
            return Err(PdfError::Encrypted);
        }
        if reader.object_numbers().len() > limits.max_objects {
            return Err(PdfError::Read(format!("more than {} objects", limits.max_objects)));
        }
        let newest = &reader.sections()[0];
        let (startxref, xref_style) = (newest.offset, newest.style);
        Ok(PdfDocument {
            reader,
            startxref,
            xref_style,
            len: src.len(),
        })
    }

    /// Wraps a reader (e.g. a view of an earlier revision) without further checks.
    pub fn from_reader(reader: Reader<'s>) -> Self {
        let newest = &reader.sections()[0];
        let (startxref, xref_style) = (newest.offset, newest.style);
        let len = reader.source().len();
        PdfDocument {
            reader,
            startxref,
            xref_style,
            len,
        }
    }

    /// The newest trailer.
    pub fn trailer(&self) -> &Dictionary {
        self.reader.trailer()
    }

    /// The next free object number (trailer /Size, or beyond the highest object seen).
    pub fn next_object_number(&self) -> u32 {
        let size = self
            .trailer()
            .get(b"Size")
            .and_then(|o| o.as_i64())
            .unwrap_or(0)
            .clamp(0, u32::MAX as i64 - 1) as u32;
        size.max(self.reader.max_object_number().saturating_add(1))
    }

    /// The catalog's reference.
    pub fn root_ref(&self) -> Result<ObjectId, PdfError> {
        self.trailer()
            .get(b"Root")
            .and_then(|o| o.as_reference())
            .map_err(|_| PdfError::Read("the trailer has no /Root reference".into()))
    }

    /// The catalog.
    pub fn catalog(&self) -> Result<Dictionary, PdfError> {
        self.dictionary(self.root_ref()?)
    }

    /// An indirect dictionary (a stream's dictionary counts).
    pub fn dictionary(&self, id: ObjectId) -> Result<Dictionary, PdfError> {
        self.reader
            .dict(&Object::Reference(id))
            .ok_or_else(|| PdfError::Read(format!("object {} {} is not a dictionary", id.0, id.1)))
    }

    /// An indirect array.
    pub fn array(&self, id: ObjectId) -> Result<Vec<Object>, PdfError> {
        self.reader
            .array(&Object::Reference(id))
            .ok_or_else(|| PdfError::Read(format!("object {} {} is not an array", id.0, id.1)))
    }

    /// Page references in order. A page tree that loops back on itself or reaches a node twice
    /// is an error (viewers disagree on what such a document shows); size is bounded.
    pub fn pages(&self) -> Result<Vec<ObjectId>, PdfError> {
        let mut out = Vec::new();
        let root = self
            .catalog()?
            .get(b"Pages")
            .ok()
            .and_then(|p| p.as_reference().ok())
            .ok_or_else(|| PdfError::Read("the catalog has no /Pages reference".into()))?;
        let mut stack = vec![root];
        let mut seen = HashSet::new();
        while let Some(id) = stack.pop() {
            if seen.len() >= MAX_PAGE_NODES {
                return Err(PdfError::Read(format!("more than {MAX_PAGE_NODES} page-tree nodes")));
            }
            if !seen.insert(id) {
                return Err(PdfError::Read(format!(
                    "the page tree reaches object {} twice (it loops back on itself or shares a node)",
                    id.0
                )));
            }
            let fetched = self.reader.fetch(id)?;
            let Object::Dictionary(node) = &fetched.object else {
                return Err(PdfError::Read(format!("page-tree node {} is not a dictionary", id.0)));
            };
            let ty = node.get(b"Type").ok().and_then(|t| t.as_name().ok());
            match node.get(b"Kids").ok().and_then(|k| self.reader.array(k)) {
                Some(kids) if ty != Some(b"Page") => {
                    stack.extend(kids.iter().rev().filter_map(|k| k.as_reference().ok()));
                }
                _ if ty == Some(b"Page") => out.push(id),
                _ => {}
            }
        }
        Ok(out)
    }

    /// Resolves a possibly indirect dictionary.
    pub fn resolve_dict(&self, o: &Object) -> Option<Dictionary> {
        self.reader.dict(o)
    }

    /// Resolves a possibly indirect array.
    pub fn resolve_array(&self, o: &Object) -> Option<Vec<Object>> {
        self.reader.array(o)
    }

    /// The interactive form dictionary, if any.
    pub fn acroform(&self) -> Option<Dictionary> {
        self.catalog()
            .ok()?
            .get(b"AcroForm")
            .ok()
            .and_then(|o| self.resolve_dict(o))
    }

    /// Visits every field in the form tree (through /Kids, cycles and depth bounded) with its
    /// fully qualified name, inherited field type and, when indirect, its object id.
    pub fn visit_fields(&self, visit: &mut dyn FnMut(&FieldInfo<'_>)) {
        let Some(fields) = self.acroform().and_then(|f| f.get(b"Fields").ok().cloned()) else {
            return;
        };
        let Some(top) = self.resolve_array(&fields) else { return };
        let mut stack: Vec<(Object, String, Option<Vec<u8>>, usize)> =
            top.into_iter().rev().map(|f| (f, String::new(), None, 0)).collect();
        let mut seen = HashSet::new();
        while let Some((obj, prefix, inherited, depth)) = stack.pop() {
            if depth > MAX_FIELD_DEPTH || seen.len() > MAX_PAGE_NODES {
                continue;
            }
            let id = obj.as_reference().ok();
            if let Some(id) = id
                && !seen.insert(id)
            {
                continue;
            }
            let Some(dict) = self.resolve_dict(&obj) else { continue };
            let partial = dict
                .get(b"T")
                .ok()
                .and_then(|t| t.as_str().ok())
                .map(crate::text::decode_text);
            let name = match &partial {
                Some(t) if prefix.is_empty() => t.clone(),
                Some(t) => format!("{prefix}.{t}"),
                None => prefix,
            };
            let field_type = dict
                .get(b"FT")
                .ok()
                .and_then(|o| o.as_name().ok())
                .map(|n| n.to_vec())
                .or(inherited);
            visit(&FieldInfo {
                id,
                dict: &dict,
                name: &name,
                field_type: field_type.as_deref(),
                has_name: partial.is_some(),
            });
            if let Some(kids) = dict.get(b"Kids").ok().and_then(|k| self.resolve_array(k)) {
                for k in kids.into_iter().rev() {
                    stack.push((k, name.clone(), field_type.clone(), depth + 1));
                }
            }
        }
    }

    /// Every signature field that holds a signature.
    pub fn existing_signatures(&self) -> Vec<ExistingSignature> {
        let mut out = Vec::new();
        self.visit_fields(&mut |f| {
            if f.field_type == Some(b"Sig")
                && let Some(v) = f.dict.get(b"V").ok().and_then(|v| self.resolve_dict(v))
            {
                out.push(ExistingSignature {
                    field_name: f.name.to_string(),
                    value: v,
                });
            }
        });
        out
    }

    /// Finds a named field: its object, dictionary and (inherited) field type. Only indirect
    /// fields are returned (they are what an update can replace).
    pub fn find_field(&self, fqn: &str) -> Option<(ObjectId, Dictionary, Option<Vec<u8>>)> {
        let mut found = None;
        self.visit_fields(&mut |f| {
            if found.is_none()
                && f.has_name
                && f.name == fqn
                && let Some(id) = f.id
            {
                found = Some((id, f.dict.clone(), f.field_type.map(|t| t.to_vec())));
            }
        });
        found
    }

    /// Field names present in the form (fully qualified).
    pub fn field_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.visit_fields(&mut |f| {
            if f.has_name {
                names.push(f.name.to_string());
            }
        });
        names
    }

    /// A page attribute, inherited through /Parent when the page lacks it (bounded); resolved
    /// if it is a reference.
    pub fn inherited(&self, page: ObjectId, key: &[u8]) -> Option<Object> {
        let mut id = page;
        for _ in 0..32 {
            let d = self.dictionary(id).ok()?;
            if let Ok(v) = d.get(key) {
                return self.reader.resolve(v).ok();
            }
            id = d.get(b"Parent").ok()?.as_reference().ok()?;
        }
        None
    }

    /// The page's visible box (CropBox, else MediaBox), normalised; US Letter if absent.
    pub fn page_box(&self, page: ObjectId) -> [f32; 4] {
        let arr = self
            .inherited(page, b"CropBox")
            .or_else(|| self.inherited(page, b"MediaBox"));
        let mut b = [0.0, 0.0, 612.0, 792.0];
        if let Some(Object::Array(a)) = arr
            && a.len() == 4
        {
            for (i, v) in a.iter().enumerate() {
                b[i] = v.as_float().unwrap_or(b[i]);
            }
        }
        [b[0].min(b[2]), b[1].min(b[3]), b[0].max(b[2]), b[1].max(b[3])]
    }

    /// The DocMDP permission level (1–3) if the document is certified.
    pub fn certification_level(&self) -> Option<u8> {
        let perms = self
            .catalog()
            .ok()?
            .get(b"Perms")
            .ok()
            .and_then(|p| self.resolve_dict(p))?;
        let sig = perms.get(b"DocMDP").ok().and_then(|s| self.resolve_dict(s))?;
        Some(self.docmdp_of(&sig).unwrap_or(2))
    }

    /// The DocMDP P (1–3) a signature dictionary's /Reference declares, if any (P defaults to 2).
    pub fn docmdp_of(&self, sig: &Dictionary) -> Option<u8> {
        let refs = sig.get(b"Reference").ok().and_then(|r| self.resolve_array(r))?;
        for r in refs {
            let Some(rd) = self.resolve_dict(&r) else { continue };
            if rd.get(b"TransformMethod").ok().and_then(|m| m.as_name().ok()) == Some(b"DocMDP") {
                let p = rd
                    .get(b"TransformParams")
                    .ok()
                    .and_then(|t| self.resolve_dict(t))
                    .and_then(|t| t.get(b"P").ok().and_then(|p| p.as_i64().ok()))
                    .unwrap_or(2);
                return Some(p.clamp(1, 3) as u8);
            }
        }
        None
    }
}

/// An annotation's or field's /Rect, normalised (x0 ≤ x1, y0 ≤ y1), if it has four numbers.
pub fn rect_of(d: &Dictionary) -> Option<[f32; 4]> {
    let v: Vec<f32> = d
        .get(b"Rect")
        .ok()?
        .as_array()
        .ok()?
        .iter()
        .filter_map(|x| x.as_float().ok())
        .collect();
    (v.len() == 4).then(|| [v[0].min(v[2]), v[1].min(v[3]), v[0].max(v[2]), v[1].max(v[3])])
}
