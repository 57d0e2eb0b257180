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
        if !bytes
            .iter()
            .take(1024)
            .collect::<Vec<_>>()
            .windows(5)
            .any(|w| w.iter().map(|b| **b).eq(b"%PDF-".iter().copied()))
        {
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

    /// Every signature field that holds a signature, walking /Fields and /Kids.
    pub fn existing_signatures(&self) -> Vec<ExistingSignature> {
        let mut out = Vec::new();
        let Some(form) = self.acroform() else { return out };
        let Ok(fields) = form.get(b"Fields") else { return out };
        let mut seen = HashSet::new();
        if let Some(arr) = self.resolve_array(fields) {
            for f in arr {
                self.walk_field(f, "", None, 0, &mut seen, &mut out);
            }
        }
        out
    }

    /// Finds a terminal field by fully qualified name: its object, dictionary and (inherited)
    /// field type. Only indirect fields are returned (they are what an update can replace).
    pub fn find_field(&self, fqn: &str) -> Option<(ObjectId, Dictionary, Option<Vec<u8>>)> {
        let fields = self.acroform()?.get(b"Fields").ok()?;
        let mut stack: Vec<(Object, String, Option<Vec<u8>>, usize)> = self
            .resolve_array(fields)?
            .iter()
            .map(|f| (f.clone(), String::new(), None, 0))
            .collect();
        let mut seen = HashSet::new();
        while let Some((obj, prefix, inherited, depth)) = stack.pop() {
            if depth > MAX_FIELD_DEPTH {
                continue;
            }
            let Object::Reference(id) = obj else { continue };
            if !seen.insert(id) {
                continue;
            }
            let Ok(d) = self.doc.get_dictionary(id) else { continue };
            let name = match d.get(b"T").ok().and_then(|t| t.as_str().ok()) {
                Some(t) if prefix.is_empty() => crate::text::decode_text(t),
                Some(t) => format!("{prefix}.{}", crate::text::decode_text(t)),
                None => prefix.clone(),
            };
            let ft = d
                .get(b"FT")
                .ok()
                .and_then(|o| o.as_name().ok())
                .map(|n| n.to_vec())
                .or(inherited);
            if name == fqn && d.has(b"T") {
                return Some((id, d.clone(), ft));
            }
            if let Some(kids) = d.get(b"Kids").ok().and_then(|k| self.resolve_array(k)) {
                for k in kids {
                    stack.push((k.clone(), name.clone(), ft.clone(), depth + 1));
                }
            }
        }
        None
    }

    /// Field names present in the form (fully qualified).
    pub fn field_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let Some(form) = self.acroform() else { return names };
        let Ok(fields) = form.get(b"Fields") else { return names };
        let mut seen = HashSet::new();
        if let Some(arr) = self.resolve_array(fields) {
            for f in arr {
                self.collect_names(f, "", 0, &mut seen, &mut names);
            }
        }
        names
    }

    fn resolve_array<'a>(&'a self, o: &'a Object) -> Option<&'a Vec<Object>> {
        match o {
            Object::Array(a) => Some(a),
            Object::Reference(r) => self.doc.get_object(*r).ok()?.as_array().ok(),
            _ => None,
        }
    }

    fn collect_names(
        &self,
        f: &Object,
        prefix: &str,
        depth: usize,
        seen: &mut HashSet<ObjectId>,
        out: &mut Vec<String>,
    ) {
        if depth > MAX_FIELD_DEPTH {
            return;
        }
        if let Object::Reference(r) = f
            && !seen.insert(*r)
        {
            return;
        }
        let Some(d) = self.resolve_dict(f) else { return };
        let name = match d.get(b"T").ok().and_then(|t| t.as_str().ok()) {
            Some(t) if prefix.is_empty() => crate::text::decode_text(t),
            Some(t) => format!("{prefix}.{}", crate::text::decode_text(t)),
            None => prefix.to_string(),
        };
        if !name.is_empty() {
            out.push(name.clone());
        }
        if let Some(kids) = d.get(b"Kids").ok().and_then(|k| self.resolve_array(k)) {
            for k in kids {
                self.collect_names(k, &name, depth + 1, seen, out);
            }
        }
    }

    fn walk_field(
        &self,
        f: &Object,
        prefix: &str,
        inherited_ft: Option<Vec<u8>>,
        depth: usize,
        seen: &mut HashSet<ObjectId>,
        out: &mut Vec<ExistingSignature>,
    ) {
        if depth > MAX_FIELD_DEPTH {
            return;
        }
        if let Object::Reference(r) = f
            && !seen.insert(*r)
        {
            return;
        }
        let Some(d) = self.resolve_dict(f) else { return };
        let name = match d.get(b"T").ok().and_then(|t| t.as_str().ok()) {
            Some(t) if prefix.is_empty() => crate::text::decode_text(t),
            Some(t) => format!("{prefix}.{}", crate::text::decode_text(t)),
            None => prefix.to_string(),
        };
        let ft = d
            .get(b"FT")
            .ok()
            .and_then(|o| o.as_name().ok())
            .map(|n| n.to_vec())
            .or(inherited_ft);
        if ft.as_deref() == Some(b"Sig")
            && let Some(v) = d.get(b"V").ok().and_then(|v| self.resolve_dict(v))
        {
            out.push(ExistingSignature {
                field_name: name.clone(),
                value: v.clone(),
            });
        }
        if let Some(kids) = d.get(b"Kids").ok().and_then(|k| self.resolve_array(k)) {
            for k in kids {
                self.walk_field(k, &name, ft.clone(), depth + 1, seen, out);
            }
        }
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
