//! Object-level difference analysis of the revisions after a signed one, as an allow-list
//! (security.md §3.2–3.4): every object a later revision redefines, adds or frees must be
//! explained by a rule — DSS and document-timestamp updates, filling existing form fields, new
//! signatures, new annotations — or the change is OTHER.
//!
//! Roles come from walking each revision's object graph from the trailer (bounded): an object is
//! judged by what it is (catalog, form, field, page, annotation list, appearance stream, …) in
//! the revision before the change and in the revision after it. New objects are neutral unless
//! an unchanged old object refers to them (a dangling reference filled after signing).

use std::collections::{BTreeMap, BTreeSet};

use lopdf::{Dictionary, Object, ObjectId};

use crate::reader::Reader;
use crate::xref::Entry;

/// How much later revisions changed, ordered from harmless to unexplained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ModificationLevel {
    /// Nothing but identical redefinitions or unreachable objects.
    None,
    /// Document security store, document timestamps, invisible signature fields, metadata.
    LtaUpdates,
    /// Form field values and appearances, new signatures.
    FormFilling,
    /// New annotations.
    Annotations,
    /// Anything no rule explains.
    Other,
}

impl ModificationLevel {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ModificationLevel::None => "NONE",
            ModificationLevel::LtaUpdates => "LTA_UPDATES",
            ModificationLevel::FormFilling => "FORM_FILLING",
            ModificationLevel::Annotations => "ANNOTATIONS",
            ModificationLevel::Other => "OTHER",
        }
    }
}

/// The result of the analysis.
#[derive(Clone, Debug)]
pub struct Diff {
    /// The highest level any change needed.
    pub level: ModificationLevel,
    /// What changed, in words (OTHER findings first).
    pub changes: Vec<String>,
}

/// What an object is, as reached from the trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Catalog,
    AcroForm,
    FieldList,
    Field,
    PageNode,
    Page,
    AnnotList,
    Annotation,
    Appearance,
    SigValue,
    Info,
    Metadata,
    Dss,
    Generic,
}

/// Roles and referrers of every reachable object of one revision.
struct Graph {
    roles: BTreeMap<u32, BTreeSet<Role>>,
    /// Object numbers that refer to each object (`u32::MAX` is the trailer).
    referrers: BTreeMap<u32, BTreeSet<u32>>,
}

const MAX_VISITS: usize = 2_000_000;
const TRAILER: u32 = u32::MAX;

impl Graph {
    fn build(r: &Reader<'_>) -> Graph {
        let mut g = Graph {
            roles: BTreeMap::new(),
            referrers: BTreeMap::new(),
        };
        let mut stack: Vec<(Object, Role, u32)> = Vec::new();
        let t = r.trailer();
        if let Ok(root) = t.get(b"Root") {
            stack.push((root.clone(), Role::Catalog, TRAILER));
        }
        if let Ok(info) = t.get(b"Info") {
            stack.push((info.clone(), Role::Info, TRAILER));
        }
        let mut visits = 0usize;
        while let Some((obj, role, from)) = stack.pop() {
            visits += 1;
            if visits > MAX_VISITS {
                break;
            }
            let (here, value) = match &obj {
                Object::Reference(id) => {
                    g.referrers.entry(id.0).or_default().insert(from);
                    if !g.roles.entry(id.0).or_default().insert(role) {
                        continue;
                    }
                    match r.fetch(*id) {
                        Ok(f) => (id.0, f.object.clone()),
                        Err(_) => continue,
                    }
                }
                direct => (from, direct.clone()),
            };
            children(&value, role, here, &mut stack);
        }
        g
    }

    fn roles(&self, num: u32) -> BTreeSet<Role> {
        self.roles.get(&num).cloned().unwrap_or_default()
    }
}

/// Pushes the references and direct containers inside `value`, with the roles they play.
fn children(value: &Object, role: Role, here: u32, stack: &mut Vec<(Object, Role, u32)>) {
    let dict = match value {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    };
    let mut push = |o: &Object, r: Role| {
        if matches!(o, Object::Reference(_) | Object::Dictionary(_) | Object::Array(_)) {
            stack.push((o.clone(), r, here));
        }
    };
    if let Object::Array(items) = value {
        let item_role = match role {
            Role::FieldList => Role::Field,
            Role::AnnotList => Role::Annotation,
            Role::PageNode => Role::PageNode,
            Role::Dss => Role::Dss,
            Role::Appearance => Role::Appearance,
            _ => Role::Generic,
        };
        for i in items {
            push(i, item_role);
        }
        return;
    }
    let Some(d) = dict else { return };
    let is_page = d.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"Page");
    // An appearance dictionary or appearance-state dictionary (not the form XObject itself).
    let ap_container = role == Role::Appearance && !matches!(value, Object::Stream(_)) && !d.has(b"Subtype");
    for (k, v) in d.iter() {
        let k = k.as_slice();
        // Back-links are not usages.
        if matches!(k, b"Parent" | b"P") && matches!(role, Role::Field | Role::Annotation | Role::Page | Role::PageNode)
        {
            continue;
        }
        let child = match (role, k) {
            (Role::Catalog, b"AcroForm") => Role::AcroForm,
            (Role::Catalog, b"Pages") => Role::PageNode,
            (Role::Catalog, b"DSS") => Role::Dss,
            (Role::Catalog, b"Metadata") => Role::Metadata,
            (Role::AcroForm, b"Fields") => Role::FieldList,
            (Role::Field, b"Kids") => Role::FieldList,
            (Role::Field, b"V") => Role::SigValue,
            (Role::Field | Role::Annotation, b"AP") => Role::Appearance,
            (Role::PageNode, b"Kids") => Role::PageNode,
            (Role::PageNode, b"Annots") if is_page => Role::AnnotList,
            (Role::Page, b"Annots") => Role::AnnotList,
            (Role::Appearance, _) if ap_container => Role::Appearance,
            (Role::Dss, _) => Role::Dss,
            (Role::SigValue, b"Reference" | b"Data") => continue,
            _ => Role::Generic,
        };
        push(v, child);
    }
}

/// Deep equality with numbers compared by value (612 == 612.0) and streams by their encoded
/// bytes.
fn same(a: &Object, b: &Object, ra: &Reader<'_>, rb: &Reader<'_>, ids: Option<(ObjectId, ObjectId)>) -> bool {
    match (a, b) {
        (Object::Integer(x), Object::Real(y)) | (Object::Real(y), Object::Integer(x)) => {
            (*x as f64 - *y as f64).abs() < 1e-6
        }
        (Object::Real(x), Object::Real(y)) => (x - y).abs() < 1e-6,
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q, ra, rb, None))
        }
        (Object::Dictionary(x), Object::Dictionary(y)) => same_dict(x, y, ra, rb),
        (Object::Stream(x), Object::Stream(y)) => {
            if !same_dict(&x.dict, &y.dict, ra, rb) {
                return false;
            }
            let Some((ia, ib)) = ids else { return false };
            match (ra.raw_stream(ia, 64 << 20), rb.raw_stream(ib, 64 << 20)) {
                (Ok(p), Ok(q)) => p == q,
                _ => false,
            }
        }
        (x, y) => x == y,
    }
}

fn same_dict(x: &Dictionary, y: &Dictionary, ra: &Reader<'_>, rb: &Reader<'_>) -> bool {
    x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_ok_and(|w| same(v, w, ra, rb, None)))
}

/// Keys whose values differ between two dictionaries.
fn changed_keys(x: &Dictionary, y: &Dictionary, ra: &Reader<'_>, rb: &Reader<'_>) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    for (k, v) in x.iter() {
        if !y.get(k).is_ok_and(|w| same(v, w, ra, rb, None)) {
            out.insert(k.clone());
        }
    }
    for (k, _) in y.iter() {
        if !x.has(k) {
            out.insert(k.clone());
        }
    }
    out
}

fn keys_text(k: &BTreeSet<Vec<u8>>) -> String {
    k.iter()
        .map(|k| format!("/{}", String::from_utf8_lossy(k)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A FieldMDP lock (ISO 32000-1 §12.8.2.4 / Table 233 /Lock): which fields a signature froze.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lock {
    /// Every field.
    All,
    /// Only these fully qualified names.
    Include(Vec<String>),
    /// Every field but these.
    Exclude(Vec<String>),
}

impl Lock {
    /// Reads `/Action` and `/Fields` of a lock or FieldMDP transform-parameters dictionary.
    pub fn from_dict(d: &Dictionary) -> Option<Lock> {
        let names = || -> Vec<String> {
            d.get(b"Fields")
                .ok()
                .and_then(|f| f.as_array().ok())
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().ok().map(crate::text::decode_text))
                        .collect()
                })
                .unwrap_or_default()
        };
        match d.get(b"Action").ok().and_then(|a| a.as_name().ok())? {
            b"All" => Some(Lock::All),
            b"Include" => Some(Lock::Include(names())),
            b"Exclude" => Some(Lock::Exclude(names())),
            _ => None,
        }
    }

    /// In words, for reports.
    pub fn describe(&self) -> String {
        match self {
            Lock::All => "all fields locked".into(),
            Lock::Include(n) => format!("locked: {}", n.join(", ")),
            Lock::Exclude(n) => format!("all fields locked except: {}", n.join(", ")),
        }
    }

    fn covers(&self, field: &str) -> bool {
        match self {
            Lock::All => true,
            Lock::Include(n) => n.iter().any(|x| x == field),
            Lock::Exclude(n) => !n.iter().any(|x| x == field),
        }
    }
}

struct Judge<'a, 'r> {
    old: &'a Reader<'r>,
    new: &'a Reader<'r>,
    certified: Option<u8>,
    locks: &'a [Lock],
    /// Fully qualified names of the old revision's fields, by object number.
    names: BTreeMap<u32, String>,
    level: ModificationLevel,
    other: Vec<String>,
    notes: Vec<String>,
    /// New objects whose presence a rule explained.
    explained: BTreeSet<u32>,
}

impl Judge<'_, '_> {
    fn raise(&mut self, level: ModificationLevel, note: String) {
        if level == ModificationLevel::Other {
            self.other.push(note);
        } else {
            self.notes.push(note);
        }
        self.level = self.level.max(level);
    }

    fn is_new(&self, o: &Object) -> bool {
        match o {
            Object::Reference(id) => self.old.generation(id.0).is_none(),
            _ => true,
        }
    }

    fn name(d: &Dictionary) -> String {
        d.get(b"T")
            .ok()
            .and_then(|t| t.as_str().ok())
            .map(crate::text::decode_text)
            .unwrap_or_else(|| "(unnamed)".into())
    }

    fn visible(d: &Dictionary) -> bool {
        let flags = d.get(b"F").ok().and_then(|f| f.as_i64().ok()).unwrap_or(0);
        if flags & (2 | 32) != 0 {
            return false;
        }
        crate::document::rect_of(d).is_some_and(|r| r[2] > r[0] && r[3] > r[1])
    }

    /// A field added to the form's /Fields (or a widget added to a page that is also a field).
    fn new_field(&mut self, o: &Object) {
        let Some(d) = self.new.dict(o) else {
            return self.raise(
                ModificationLevel::Other,
                "a non-dictionary was added to the form".into(),
            );
        };
        if let Object::Reference(id) = o {
            self.explained.insert(id.0);
        }
        let name = Self::name(&d);
        if d.get(b"FT").ok().and_then(|t| t.as_name().ok()) != Some(b"Sig") || d.has(b"Kids") {
            return self.raise(
                ModificationLevel::Other,
                format!("a new form field {name:?} that is not a signature field was added"),
            );
        }
        if let Ok(v) = d.get(b"V") {
            if !self.is_new(v) {
                return self.raise(
                    ModificationLevel::Other,
                    format!("the new signature field {name:?} reuses an existing signature value"),
                );
            }
            if let Object::Reference(id) = v {
                self.explained.insert(id.0);
            }
        }
        let kind = self
            .new
            .dict(d.get(b"V").unwrap_or(&Object::Null))
            .and_then(|v| v.get(b"Type").ok().and_then(|t| t.as_name().ok()).map(|n| n.to_vec()));
        let what = if kind.as_deref() == Some(b"DocTimeStamp") {
            "document timestamp"
        } else {
            "signature"
        };
        if Self::visible(&d) {
            if self.certified.is_some_and(|p| p < 3) {
                return self.raise(
                    ModificationLevel::Other,
                    format!("a visible {what} field {name:?} was added to a certified document"),
                );
            }
            self.raise(
                ModificationLevel::FormFilling,
                format!("new visible {what} in field {name:?}"),
            );
        } else if what == "document timestamp" {
            self.raise(
                ModificationLevel::LtaUpdates,
                format!("new document timestamp in field {name:?}"),
            );
        } else {
            // As pyHanko: a new signature is form filling even when its field is invisible.
            self.raise(
                ModificationLevel::FormFilling,
                format!("new invisible signature in field {name:?}"),
            );
        }
    }

    /// An annotation added to a page.
    fn new_annotation(&mut self, o: &Object, new_fields: &BTreeSet<u32>) {
        if let Object::Reference(id) = o
            && new_fields.contains(&id.0)
        {
            return; // the widget of a new signature field, judged with the field
        }
        let Some(d) = self.new.dict(o) else {
            return self.raise(
                ModificationLevel::Other,
                "a non-dictionary was added to a page's annotations".into(),
            );
        };
        if let Object::Reference(id) = o {
            self.explained.insert(id.0);
        }
        let sub = d
            .get(b"Subtype")
            .ok()
            .and_then(|s| s.as_name().ok())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default();
        if sub == "Widget" {
            return self.raise(
                ModificationLevel::Other,
                "a widget annotation that belongs to no new signature field was added to a page".into(),
            );
        }
        self.raise(ModificationLevel::Annotations, format!("a {sub} annotation was added"));
    }

    /// Compares two field lists: nothing removed; additions are new fields.
    fn field_list(&mut self, old: &[Object], new: &[Object]) -> BTreeSet<u32> {
        let mut added = BTreeSet::new();
        for o in old {
            if !new.contains(o) {
                self.raise(ModificationLevel::Other, "a form field was removed".into());
            }
        }
        for n in new {
            if !old.contains(n) {
                self.new_field(n);
                if let Object::Reference(id) = n {
                    added.insert(id.0);
                }
            }
        }
        added
    }

    fn annot_list(&mut self, old: &[Object], new: &[Object], new_fields: &BTreeSet<u32>) {
        for o in old {
            if !new.contains(o) {
                self.raise(ModificationLevel::Other, "an annotation was removed from a page".into());
            }
        }
        for n in new {
            if !old.contains(n) {
                self.new_annotation(n, new_fields);
            }
        }
    }

    fn array_of(r: &Reader<'_>, d: Option<&Dictionary>, key: &[u8]) -> Vec<Object> {
        d.and_then(|d| d.get(key).ok())
            .and_then(|v| r.array(v))
            .unwrap_or_default()
    }

    /// The interactive form before and after.
    fn acroform(&mut self, old: Option<&Dictionary>, new: Option<&Dictionary>) -> BTreeSet<u32> {
        let (Some(new_d), old_d) = (new, old) else {
            if old.is_some() {
                self.raise(ModificationLevel::Other, "the interactive form was removed".into());
            }
            return BTreeSet::new();
        };
        let empty = Dictionary::new();
        let keys = changed_keys(old_d.unwrap_or(&empty), new_d, self.old, self.new);
        let bad: BTreeSet<Vec<u8>> = keys
            .iter()
            .filter(|k| !matches!(k.as_slice(), b"Fields" | b"SigFlags"))
            .cloned()
            .collect();
        if !bad.is_empty() {
            self.raise(
                ModificationLevel::Other,
                format!("the interactive form changed {}", keys_text(&bad)),
            );
        }
        let old_fields = Self::array_of(self.old, old_d, b"Fields");
        let new_fields = Self::array_of(self.new, Some(new_d), b"Fields");
        self.field_list(&old_fields, &new_fields)
    }
}

/// Analyses the revisions after `signed_section` (an index into `full.sections()`, 0 newest).
pub fn analyse(full: &Reader<'_>, signed_section: usize, certified: Option<u8>, locks: &[Lock]) -> Diff {
    let mut level = ModificationLevel::None;
    let mut other = Vec::new();
    let mut notes = Vec::new();
    for sec in (0..signed_section).rev() {
        let (Some(old), Some(new)) = (full.as_of(sec + 1), full.as_of(sec)) else {
            continue;
        };
        let mut names = BTreeMap::new();
        if let Some(view) = full.as_of(sec + 1) {
            crate::document::PdfDocument::from_reader(view).visit_fields(&mut |f| {
                if let Some(id) = f.id {
                    names.insert(id.0, f.name.to_string());
                }
            });
        }
        let mut j = Judge {
            old: &old,
            new: &new,
            certified,
            locks,
            names,
            level: ModificationLevel::None,
            other: Vec::new(),
            notes: Vec::new(),
            explained: BTreeSet::new(),
        };
        revision(&mut j, &full.sections()[sec].entries);
        level = level.max(j.level);
        other.extend(j.other);
        notes.extend(j.notes);
    }
    other.dedup();
    notes.dedup();
    other.extend(notes);
    Diff { level, changes: other }
}

fn revision(j: &mut Judge<'_, '_>, entries: &BTreeMap<u32, Entry>) {
    let (old_g, new_g) = (Graph::build(j.old), Graph::build(j.new));
    // The trailer: same catalog, no encryption added.
    let (ot, nt) = (j.old.trailer().clone(), j.new.trailer().clone());
    if ot.get(b"Root").ok() != nt.get(b"Root").ok() {
        j.raise(ModificationLevel::Other, "the trailer points at another catalog".into());
    }
    if nt.has(b"Encrypt") && !ot.has(b"Encrypt") {
        j.raise(ModificationLevel::Other, "encryption was added".into());
    }
    if ot.get(b"Info").ok() != nt.get(b"Info").ok() {
        j.raise(
            ModificationLevel::LtaUpdates,
            "document information dictionary replaced".into(),
        );
    }
    let mut changed = BTreeSet::new();
    let mut added = Vec::new();
    let mut redefined = Vec::new();
    for (&num, entry) in entries {
        let before = j.old.generation(num);
        match entry {
            Entry::Free { .. } => {
                if before.is_some() {
                    j.raise(ModificationLevel::Other, format!("object {num} was freed"));
                }
            }
            _ => {
                let Some(gen_new) = j.new.generation(num) else { continue };
                let Some(gen_old) = before else {
                    added.push(num);
                    continue;
                };
                let (a, b) = match (j.old.fetch((num, gen_old)), j.new.fetch((num, gen_new))) {
                    (Ok(a), Ok(b)) => (a, b),
                    _ => {
                        j.raise(ModificationLevel::Other, format!("object {num} cannot be read"));
                        continue;
                    }
                };
                if gen_old == gen_new
                    && same(
                        &a.object,
                        &b.object,
                        j.old,
                        j.new,
                        Some(((num, gen_old), (num, gen_new))),
                    )
                {
                    continue; // identical redefinition
                }
                changed.insert(num);
                redefined.push((num, a, b));
            }
        }
    }
    // Pages and annotation lists are judged after the form, so that the widgets of accepted new
    // signature fields are recognised there.
    let on_pages = |n: u32| {
        let r = old_g.roles(n);
        r.contains(&Role::Page) || r.contains(&Role::PageNode) || r.contains(&Role::AnnotList)
    };
    redefined.sort_by_key(|(n, _, _)| (on_pages(*n), *n));
    for (num, a, b) in redefined {
        changed_object(j, num, &a.object, &b.object, &old_g.roles(num), &new_g.roles(num));
    }
    // New objects: neutral, unless an unchanged old object refers to them.
    for num in added {
        let refs = new_g.referrers.get(&num).cloned().unwrap_or_default();
        let from_unchanged = refs
            .iter()
            .any(|r| *r != TRAILER && j.old.generation(*r).is_some() && !changed.contains(r));
        if from_unchanged {
            j.raise(
                ModificationLevel::Other,
                format!("object {num} was added where an unchanged, signed object already referred to it"),
            );
        } else if refs.contains(&TRAILER) && new_g.roles(num).contains(&Role::Catalog) {
            j.raise(ModificationLevel::Other, "a new catalog was added".into());
        } else if refs.is_empty() && !j.explained.contains(&num) && !is_container(j.new, num) {
            j.raise(
                ModificationLevel::LtaUpdates,
                format!("unreferenced object {num} added"),
            );
        }
    }
}

/// Cross-reference streams and object streams: containers, not content.
fn is_container(r: &Reader<'_>, num: u32) -> bool {
    let Some(g) = r.generation(num) else { return false };
    r.fetch((num, g)).is_ok_and(|f| match &f.object {
        Object::Stream(s) => matches!(
            s.dict.get(b"Type").ok().and_then(|t| t.as_name().ok()),
            Some(b"XRef" | b"ObjStm")
        ),
        _ => false,
    })
}

/// Judges one redefined object by its roles.
fn changed_object(
    j: &mut Judge<'_, '_>,
    num: u32,
    old: &Object,
    new: &Object,
    old_roles: &BTreeSet<Role>,
    new_roles: &BTreeSet<Role>,
) {
    let roles: BTreeSet<Role> = old_roles.union(new_roles).copied().collect();
    // Whole-content roles may not be shared with document content (a rogue back-reference).
    let content_like = [Role::Dss, Role::Appearance, Role::Metadata, Role::Info, Role::SigValue];
    if roles.contains(&Role::Generic) && roles.iter().any(|r| content_like.contains(r)) {
        return j.raise(
            ModificationLevel::Other,
            format!("object {num}, which the document's content also uses, was changed"),
        );
    }
    let structural: BTreeSet<Role> = roles.iter().copied().filter(|r| *r != Role::Generic).collect();
    if structural.is_empty() {
        if roles.is_empty() {
            j.raise(
                ModificationLevel::LtaUpdates,
                format!("unreferenced object {num} changed"),
            );
        } else {
            j.raise(
                ModificationLevel::Other,
                format!("object {num} (document content) was changed"),
            );
        }
        return;
    }
    let empty = Dictionary::new();
    let od = match old {
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        _ => &empty,
    };
    let nd = match new {
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        _ => &empty,
    };
    for role in structural {
        match role {
            Role::Catalog => {
                let keys = changed_keys(od, nd, j.old, j.new);
                for k in &keys {
                    match k.as_slice() {
                        b"AcroForm" => {
                            let of = od.get(b"AcroForm").ok().and_then(|f| j.old.dict(f));
                            let nf = nd.get(b"AcroForm").ok().and_then(|f| j.new.dict(f));
                            if let Ok(Object::Reference(r)) = nd.get(b"AcroForm") {
                                j.explained.insert(r.0);
                            }
                            j.acroform(of.as_ref(), nf.as_ref());
                        }
                        b"DSS" => {
                            let o = od.get(b"DSS").ok().and_then(|d| j.old.dict(d)).unwrap_or_default();
                            let n = nd.get(b"DSS").ok().and_then(|d| j.new.dict(d)).unwrap_or_default();
                            dss(j, &o, &n)
                        }
                        b"Metadata" => xmp(j, nd.get(b"Metadata").unwrap_or(&Object::Null)),
                        b"Extensions" | b"MarkInfo" | b"Version" => j.raise(
                            ModificationLevel::LtaUpdates,
                            format!("catalog /{} updated", String::from_utf8_lossy(k)),
                        ),
                        other => j.raise(
                            ModificationLevel::Other,
                            format!("the catalog's /{} changed", String::from_utf8_lossy(other)),
                        ),
                    }
                }
            }
            Role::AcroForm => {
                j.acroform(Some(od), Some(nd));
            }
            Role::FieldList => {
                let (o, n) = (
                    j.old.array(old).unwrap_or_default(),
                    j.new.array(new).unwrap_or_default(),
                );
                j.field_list(&o, &n);
            }
            Role::Annotation if roles.contains(&Role::Field) => {} // a widget: the field rule judges it
            Role::Field => {
                let fqn = j.names.get(&num).cloned();
                if let Some(n) = fqn.filter(|n| j.locks.iter().any(|l| l.covers(n)))
                    && !changed_keys(od, nd, j.old, j.new).is_empty()
                {
                    j.raise(
                        ModificationLevel::Other,
                        format!("the field {n:?} is locked (FieldMDP) and was changed"),
                    );
                    continue;
                }
                field(j, od, nd)
            }
            Role::Page | Role::PageNode if nd.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"Page") => {
                let keys = changed_keys(od, nd, j.old, j.new);
                let bad: BTreeSet<Vec<u8>> = keys.iter().filter(|k| k.as_slice() != b"Annots").cloned().collect();
                if !bad.is_empty() {
                    j.raise(ModificationLevel::Other, format!("a page changed {}", keys_text(&bad)));
                }
                if keys.contains(b"Annots".as_slice()) {
                    let o = Judge::array_of(j.old, Some(od), b"Annots");
                    let n = Judge::array_of(j.new, Some(nd), b"Annots");
                    let fields = pending_fields(j);
                    j.annot_list(&o, &n, &fields);
                }
            }
            Role::AnnotList => {
                let (o, n) = (
                    j.old.array(old).unwrap_or_default(),
                    j.new.array(new).unwrap_or_default(),
                );
                let fields = pending_fields(j);
                j.annot_list(&o, &n, &fields);
            }
            Role::Appearance => {
                // Only appearances of unsigned fields may be redrawn, and only if nothing else
                // (page content, another structure) uses the same stream.
                if roles.contains(&Role::Generic) || roles.len() > 1 {
                    j.raise(
                        ModificationLevel::Other,
                        format!("appearance stream {num}, which is also used elsewhere, was changed"),
                    );
                } else {
                    j.raise(
                        ModificationLevel::FormFilling,
                        format!("appearance stream {num} redrawn"),
                    );
                }
            }
            Role::Info => j.raise(ModificationLevel::LtaUpdates, "document information updated".into()),
            Role::Metadata => xmp(j, &Object::Reference((num, j.new.generation(num).unwrap_or(0)))),
            Role::Dss => dss(j, od, nd),
            Role::SigValue => j.raise(
                ModificationLevel::Other,
                format!("signature dictionary {num} was changed after signing"),
            ),
            Role::Annotation => j.raise(
                ModificationLevel::Other,
                format!("existing annotation {num} was changed"),
            ),
            _ => j.raise(ModificationLevel::Other, format!("object {num} was changed")),
        }
    }
}

/// An XMP metadata stream must be plain XML: a DTD or entities attack whoever parses it.
fn xmp(j: &mut Judge<'_, '_>, o: &Object) {
    let data = match o {
        Object::Reference(id) => j.new.decoded_stream(*id, 4 << 20).unwrap_or_default(),
        _ => Vec::new(),
    };
    if memchr::memmem::find(&data, b"<!DOCTYPE").is_some() || memchr::memmem::find(&data, b"<!ENTITY").is_some() {
        j.raise(
            ModificationLevel::Other,
            "the XMP metadata update carries a DTD or entities".into(),
        );
    } else {
        j.raise(ModificationLevel::LtaUpdates, "XMP metadata updated".into());
    }
}

/// A document security store may grow, not lose its structure: /Certs /OCSPs /CRLs stay
/// arrays and /VRI a dictionary once present (pyHanko's DSSCompareRule).
fn dss(j: &mut Judge<'_, '_>, old: &Dictionary, new: &Dictionary) {
    for key in [&b"Certs"[..], b"OCSPs", b"CRLs", b"VRI"] {
        let want_dict = key == b"VRI";
        let shape_ok = |r: &Reader<'_>, d: &Dictionary| match d.get(key) {
            Err(_) => None,
            Ok(v) => Some(if want_dict {
                r.dict(v).is_some()
            } else {
                r.array(v).is_some()
            }),
        };
        match (shape_ok(j.old, old), shape_ok(j.new, new)) {
            (Some(_), None) => {
                return j.raise(
                    ModificationLevel::Other,
                    format!("the document security store lost its /{}", String::from_utf8_lossy(key)),
                );
            }
            (_, Some(false)) => {
                return j.raise(
                    ModificationLevel::Other,
                    format!(
                        "the document security store's /{} has the wrong type",
                        String::from_utf8_lossy(key)
                    ),
                );
            }
            _ => {}
        }
    }
    j.raise(
        ModificationLevel::LtaUpdates,
        "document security store (DSS) updated".into(),
    );
}

/// Signature fields the judge has accepted so far (their widgets may join page /Annots).
fn pending_fields(j: &Judge<'_, '_>) -> BTreeSet<u32> {
    j.explained.clone()
}

/// A field redefined: filling an empty field or an unsigned signature field is allowed.
fn field(j: &mut Judge<'_, '_>, od: &Dictionary, nd: &Dictionary) {
    let name = Judge::name(nd);
    let keys = changed_keys(od, nd, j.old, j.new);
    let is_sig = nd.get(b"FT").ok().and_then(|t| t.as_name().ok()) == Some(b"Sig")
        || od.get(b"FT").ok().and_then(|t| t.as_name().ok()) == Some(b"Sig");
    if is_sig {
        if od.has(b"V") {
            return j.raise(
                ModificationLevel::Other,
                format!("the signed field {name:?} was changed"),
            );
        }
        let bad: BTreeSet<Vec<u8>> = keys
            .iter()
            .filter(|k| {
                !matches!(
                    k.as_slice(),
                    b"V" | b"AP" | b"AS" | b"F" | b"MK" | b"FT" | b"Type" | b"Subtype" | b"P" | b"T"
                )
            })
            .cloned()
            .collect();
        if !bad.is_empty() {
            return j.raise(
                ModificationLevel::Other,
                format!("the signature field {name:?} changed {}", keys_text(&bad)),
            );
        }
        if let Ok(v) = nd.get(b"V") {
            if !j.is_new(v) {
                return j.raise(
                    ModificationLevel::Other,
                    format!("the signature field {name:?} now points at an existing signature value"),
                );
            }
            if let Object::Reference(id) = v {
                j.explained.insert(id.0);
            }
        }
        // Filling a field that existed when the document was signed (or certified) is allowed.
        if Judge::visible(nd) {
            j.raise(
                ModificationLevel::FormFilling,
                format!("signature field {name:?} signed"),
            );
        } else {
            j.raise(
                ModificationLevel::LtaUpdates,
                format!("invisible signature field {name:?} signed"),
            );
        }
        return;
    }
    let bad: BTreeSet<Vec<u8>> = keys
        .iter()
        .filter(|k| !matches!(k.as_slice(), b"V" | b"AP" | b"AS"))
        .cloned()
        .collect();
    if !bad.is_empty() {
        return j.raise(
            ModificationLevel::Other,
            format!("the form field {name:?} changed {}", keys_text(&bad)),
        );
    }
    j.raise(ModificationLevel::FormFilling, format!("form field {name:?} filled in"));
}
