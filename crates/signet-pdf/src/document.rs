//! Reading a PDF with limits, and the facts a signer needs about it.

use std::collections::HashSet;

use lopdf::xref::XrefType;
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

use crate::PdfError;

/// Limits applied while reading.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest file accepted.
    pub max_file_size: usize,
    /// Largest size any one stream may decompress to while loading.
    pub max_decompressed: usize,
    /// Most indirect objects.
    pub max_objects: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 512 * 1024 * 1024,
            max_decompressed: 64 * 1024 * 1024,
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
pub struct PdfDocument {
    /// The lopdf document (every revision merged, newest wins).
    pub doc: Document,
    /// Offset of the newest cross-reference section (`startxref`).
    pub startxref: usize,
    /// Style of the newest cross-reference section.
    pub xref_style: XrefStyle,
    /// Length of the input.
    pub len: usize,
}

const MAX_FIELD_DEPTH: usize = 32;

impl PdfDocument {
    /// Parses and checks a PDF.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Self, PdfError> {
        if bytes.len() > limits.max_file_size {
            return Err(PdfError::Read(format!(
                "larger than {} MiB",
                limits.max_file_size >> 20
            )));
        }
        if memchr::memmem::find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_none() {
            return Err(PdfError::Read("no %PDF- header: not a PDF file".into()));
        }
        let startxref = last_startxref(bytes)
            .ok_or_else(|| PdfError::Read("no startxref at the end of the file (truncated?)".into()))?;
        let opts = LoadOptions {
            max_decompressed_size: Some(limits.max_decompressed),
            ..Default::default()
        };
        let doc = Document::load_mem_with_options(bytes, opts)?;
        if doc.trailer.has(b"Encrypt") {
            return Err(PdfError::Encrypted);
        }
        if doc.xref_recovery.is_some() {
            return Err(PdfError::Read(
                "the cross-reference table is broken and had to be reconstructed; signing would build on a guess (rewrite the file first, e.g. `qpdf in.pdf out.pdf`)".into(),
            ));
        }
        if doc.objects.len() > limits.max_objects {
            return Err(PdfError::Read(format!("more than {} objects", limits.max_objects)));
        }
        let xref_style = match doc.reference_table.cross_reference_type {
            XrefType::CrossReferenceStream => XrefStyle::Stream,
            XrefType::CrossReferenceTable => XrefStyle::Table,
        };
        Ok(PdfDocument {
            doc,
            startxref,
            xref_style,
            len: bytes.len(),
        })
    }

    /// The next free object number (trailer /Size, or beyond the highest object seen).
    pub fn next_object_number(&self) -> u32 {
        let size = self
            .doc
            .trailer
            .get(b"Size")
            .and_then(|o| o.as_i64())
            .unwrap_or(0)
            .max(0) as u32;
        size.max(self.doc.max_id + 1)
    }

    /// The catalog's reference.
    pub fn root_ref(&self) -> Result<ObjectId, PdfError> {
        self.doc
            .trailer
            .get(b"Root")
            .and_then(|o| o.as_reference())
            .map_err(|_| PdfError::Read("the trailer has no /Root reference".into()))
    }

    /// The catalog.
    pub fn catalog(&self) -> Result<&Dictionary, PdfError> {
        Ok(self.doc.get_dictionary(self.root_ref()?)?)
    }

    /// Page references in order.
    pub fn pages(&self) -> Vec<ObjectId> {
        self.doc.get_pages().into_values().collect()
    }

    /// Resolves a possibly indirect dictionary.
    pub fn resolve_dict<'a>(&'a self, o: &'a Object) -> Option<&'a Dictionary> {
        match o {
            Object::Dictionary(d) => Some(d),
            Object::Reference(r) => self.doc.get_dictionary(*r).ok(),
            _ => None,
        }
    }

    /// The interactive form dictionary, if any.
    pub fn acroform(&self) -> Option<&Dictionary> {
        self.catalog()
            .ok()?
            .get(b"AcroForm")
            .ok()
            .and_then(|o| self.resolve_dict(o))
    }

    /// Visits every field in the form tree (through /Kids, cycles and depth bounded) with its
    /// fully qualified name, inherited field type and, when indirect, its object id.
    pub fn visit_fields(&self, visit: &mut dyn FnMut(&FieldInfo<'_>)) {
        let Some(fields) = self.acroform().and_then(|f| f.get(b"Fields").ok()) else {
            return;
        };
        let Some(top) = self.resolve_array(fields) else { return };
        let mut stack: Vec<(&Object, String, Option<Vec<u8>>, usize)> =
            top.iter().rev().map(|f| (f, String::new(), None, 0)).collect();
        let mut seen = HashSet::new();
        while let Some((obj, prefix, inherited, depth)) = stack.pop() {
            if depth > MAX_FIELD_DEPTH {
                continue;
            }
            let id = obj.as_reference().ok();
            if let Some(id) = id
                && !seen.insert(id)
            {
                continue;
            }
            let Some(dict) = self.resolve_dict(obj) else { continue };
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
                dict,
                name: &name,
                field_type: field_type.as_deref(),
                has_name: partial.is_some(),
            });
            if let Some(kids) = dict.get(b"Kids").ok().and_then(|k| self.resolve_array(k)) {
                for k in kids.iter().rev() {
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
                    value: v.clone(),
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

    fn resolve_array<'a>(&'a self, o: &'a Object) -> Option<&'a Vec<Object>> {
        match o {
            Object::Array(a) => Some(a),
            Object::Reference(r) => self.doc.get_object(*r).ok()?.as_array().ok(),
            _ => None,
        }
    }

    /// A page attribute, inherited through /Parent when the page lacks it (bounded).
    pub fn inherited(&self, page: ObjectId, key: &[u8]) -> Option<&Object> {
        let mut id = page;
        for _ in 0..32 {
            let d = self.doc.get_dictionary(id).ok()?;
            if let Ok(v) = d.get(key) {
                return Some(v);
            }
            id = d.get(b"Parent").ok()?.as_reference().ok()?;
        }
        None
    }

    /// The page's visible box (CropBox, else MediaBox), normalised; US Letter if absent.
    pub fn page_box(&self, page: ObjectId) -> [f32; 4] {
        let arr = self
            .inherited(page, b"CropBox")
            .or_else(|| self.inherited(page, b"MediaBox"))
            .and_then(|o| match o {
                Object::Reference(r) => self.doc.get_object(*r).ok(),
                other => Some(other),
            })
            .and_then(|o| o.as_array().ok());
        let mut b = [0.0, 0.0, 612.0, 792.0];
        if let Some(a) = arr
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
        let refs = sig.get(b"Reference").ok().and_then(|r| self.resolve_array(r));
        for r in refs.into_iter().flatten() {
            let Some(rd) = self.resolve_dict(r) else { continue };
            if rd.get(b"TransformMethod").ok().and_then(|m| m.as_name().ok()) == Some(b"DocMDP") {
                let p = rd
                    .get(b"TransformParams")
                    .ok()
                    .and_then(|t| self.resolve_dict(t))
                    .and_then(|t| t.get(b"P").ok())
                    .and_then(|p| p.as_i64().ok())
                    .unwrap_or(2);
                return Some(p.clamp(1, 3) as u8);
            }
        }
        Some(2)
    }
}

/// The offset after the last `startxref` keyword, read from the file's tail.
pub fn last_startxref(bytes: &[u8]) -> Option<usize> {
    let tail_start = bytes.len().saturating_sub(2048);
    let tail = &bytes[tail_start..];
    let pos = tail.windows(9).rposition(|w| w == b"startxref")?;
    let rest = &tail[pos + 9..];
    let digits: String = rest
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}
