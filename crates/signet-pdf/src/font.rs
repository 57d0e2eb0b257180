//! Embedding a TrueType font subset for stamp text: a Type0 font with a CIDFontType2
//! descendant, Identity-H encoding (CID = glyph id of the subset), widths, and a ToUnicode CMap
//! so that text extraction returns the signer's name. Latin with diacritics and Cyrillic render
//! with the embedded DejaVu Sans (Bitstream Vera licence, assets/DejaVuSans.LICENSE).

use std::collections::BTreeMap;

use lopdf::{Dictionary, Object, Stream};
use subsetter::GlyphRemapper;

use crate::PdfError;

/// DejaVu Sans, embedded in the binary so stamps never depend on system fonts.
pub static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Text laid out in one font: glyph codes to show and their widths.
pub struct FontUse<'a> {
    face: ttf_parser::Face<'a>,
    data: &'a [u8],
    remapper: GlyphRemapper,
    /// new glyph id → (advance in 1/1000 em, characters it stands for)
    glyphs: BTreeMap<u16, (f32, String)>,
}

impl<'a> FontUse<'a> {
    /// Starts with a font file.
    pub fn new(data: &'a [u8]) -> Result<Self, PdfError> {
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| PdfError::Write(format!("font: {e}")))?;
        let mut remapper = GlyphRemapper::new();
        remapper.remap(0); // .notdef stays glyph 0
        Ok(FontUse {
            face,
            data,
            remapper,
            glyphs: BTreeMap::new(),
        })
    }

    fn units(&self) -> f32 {
        self.face.units_per_em() as f32
    }

    /// Encodes text as 2-byte codes of the subset, recording the glyphs used. Characters the
    /// font lacks become .notdef.
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let old = self.face.glyph_index(ch).map(|g| g.0).unwrap_or(0);
            let new = self.remapper.remap(old);
            let adv = self.face.glyph_hor_advance(ttf_parser::GlyphId(old)).unwrap_or(0) as f32 * 1000.0 / self.units();
            self.glyphs.entry(new).or_insert_with(|| (adv, String::new())).1 = ch.to_string();
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }

    /// Width of `text` at size 1 (in text-space units).
    pub fn width(&self, text: &str) -> f32 {
        text.chars()
            .map(|ch| {
                let g = self.face.glyph_index(ch).map(|g| g.0).unwrap_or(0);
                self.face.glyph_hor_advance(ttf_parser::GlyphId(g)).unwrap_or(0) as f32 / self.units()
            })
            .sum()
    }

    /// Ascent at size 1.
    pub fn ascent(&self) -> f32 {
        self.face.ascender() as f32 / self.units()
    }

    /// Builds the font objects; `add` stores a stream or dictionary and returns its reference.
    pub fn finish(self, add: &mut dyn FnMut(Object) -> Result<Object, PdfError>) -> Result<Object, PdfError> {
        let subset = subsetter::subset(self.data, 0, &self.remapper)
            .map_err(|e| PdfError::Write(format!("font subset: {e:?}")))?;
        // Subset tag: six capital letters derived from the glyph set.
        let digest = signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, &subset);
        let tag: String = digest.iter().take(6).map(|b| (b'A' + b % 26) as char).collect();
        let base = format!("{tag}+DejaVuSans");
        let upem = self.units();
        let bbox = self.face.global_bounding_box();
        let scale = |v: i16| Object::Integer((v as f32 * 1000.0 / upem).round() as i64);

        let mut file_dict = Dictionary::new();
        file_dict.set("Length1", Object::Integer(subset.len() as i64));
        let font_file = add(Object::Stream(Stream::new(file_dict, subset)))?;

        let mut fd = Dictionary::new();
        fd.set("Type", Object::Name(b"FontDescriptor".to_vec()));
        fd.set("FontName", Object::Name(base.clone().into_bytes()));
        fd.set("Flags", Object::Integer(32));
        fd.set(
            "FontBBox",
            Object::Array(vec![
                scale(bbox.x_min),
                scale(bbox.y_min),
                scale(bbox.x_max),
                scale(bbox.y_max),
            ]),
        );
        fd.set("ItalicAngle", Object::Integer(0));
        fd.set("Ascent", scale(self.face.ascender()));
        fd.set("Descent", scale(self.face.descender()));
        fd.set(
            "CapHeight",
            scale(self.face.capital_height().unwrap_or(self.face.ascender())),
        );
        fd.set("StemV", Object::Integer(80));
        fd.set("FontFile2", font_file);
        let descriptor = add(Object::Dictionary(fd))?;

        let mut widths = Vec::new();
        for (gid, (adv, _)) in &self.glyphs {
            widths.push(Object::Integer(*gid as i64));
            widths.push(Object::Array(vec![Object::Integer(adv.round() as i64)]));
        }
        let mut sysinfo = Dictionary::new();
        sysinfo.set("Registry", Object::string_literal("Adobe"));
        sysinfo.set("Ordering", Object::string_literal("Identity"));
        sysinfo.set("Supplement", Object::Integer(0));
        let mut cid = Dictionary::new();
        cid.set("Type", Object::Name(b"Font".to_vec()));
        cid.set("Subtype", Object::Name(b"CIDFontType2".to_vec()));
        cid.set("BaseFont", Object::Name(base.clone().into_bytes()));
        cid.set("CIDSystemInfo", Object::Dictionary(sysinfo));
        cid.set("FontDescriptor", descriptor);
        cid.set("CIDToGIDMap", Object::Name(b"Identity".to_vec()));
        cid.set("W", Object::Array(widths));
        let cid_font = add(Object::Dictionary(cid))?;

        let to_unicode = add(Object::Stream(Stream::new(Dictionary::new(), self.cmap().into_bytes())))?;
        let mut t0 = Dictionary::new();
        t0.set("Type", Object::Name(b"Font".to_vec()));
        t0.set("Subtype", Object::Name(b"Type0".to_vec()));
        t0.set("BaseFont", Object::Name(base.into_bytes()));
        t0.set("Encoding", Object::Name(b"Identity-H".to_vec()));
        t0.set("DescendantFonts", Object::Array(vec![cid_font]));
        t0.set("ToUnicode", to_unicode);
        add(Object::Dictionary(t0))
    }

    fn cmap(&self) -> String {
        let mut s = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        let entries: Vec<_> = self.glyphs.iter().filter(|(_, (_, t))| !t.is_empty()).collect();
        for chunk in entries.chunks(100) {
            s.push_str(&format!("{} beginbfchar\n", chunk.len()));
            for (gid, (_, text)) in chunk {
                let utf16: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
                s.push_str(&format!("<{gid:04X}> <{utf16}>\n"));
            }
            s.push_str("endbfchar\n");
        }
        s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_and_latin_extended_have_glyphs() {
        let mut f = FontUse::new(DEJAVU_SANS).unwrap();
        let codes = f.encode("Đorđe Наталья");
        assert_eq!(codes.len(), 2 * 13);
        assert!(codes.chunks(2).all(|c| c != [0, 0]), "no .notdef");
        assert!(f.width("Наталья") > 3.0);
        assert!(f.cmap().contains("<0110>")); // Đ
    }
}
