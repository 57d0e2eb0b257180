//! Visible signature appearances: a form XObject with a border, an optional image and text
//! lines sized to fit, placed by a rectangle given in the page's *visible* coordinates (as the
//! page is shown, so `/Rotate` is honoured) and mapped back to user space.

use lopdf::{Dictionary, Object, ObjectId, Stream};

use crate::PdfError;
use crate::document::PdfDocument;
use crate::font::{DEJAVU_SANS, FontUse};
use crate::image::StampImage;
use crate::incremental::IncrementalUpdate;

/// What a visible signature shows and where.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// x, y, width, height in points, origin at the bottom-left corner of the page as displayed.
    pub rect: [f32; 4],
    /// Text lines, top to bottom (signer name, date, reason…).
    pub lines: Vec<String>,
    /// An optional image shown left of the text.
    pub image: Option<StampImage>,
}

/// The placed appearance.
pub struct Placed {
    /// /Rect in default user space.
    pub rect: [f32; 4],
    /// The page's /Rotate.
    pub rotate: i64,
    /// The appearance XObject.
    pub appearance: ObjectId,
}

fn num(v: f32) -> Object {
    Object::Real(v)
}

fn page_rotation(doc: &PdfDocument, page: ObjectId) -> i64 {
    doc.inherited(page, b"Rotate")
        .and_then(|r| r.as_i64().ok())
        .unwrap_or(0)
        .rem_euclid(360)
}

/// The visible-coordinates rectangle (x, y, w, h) of a user-space /Rect on `page`.
pub fn visual_rect(doc: &PdfDocument, page: ObjectId, user: [f32; 4]) -> [f32; 4] {
    let rotate = page_rotation(doc, page) / 90 * 90;
    let mb = doc.page_box(page);
    let (pw, ph) = (mb[2] - mb[0], mb[3] - mb[1]);
    let from_user = |ux: f32, uy: f32| -> (f32, f32) {
        match rotate {
            90 => (uy - mb[1], mb[0] + pw - ux),
            180 => (mb[0] + pw - ux, mb[1] + ph - uy),
            270 => (mb[1] + ph - uy, ux - mb[0]),
            _ => (ux - mb[0], uy - mb[1]),
        }
    };
    let (a, b) = (from_user(user[0], user[1]), from_user(user[2], user[3]));
    let (x0, y0) = (a.0.min(b.0), a.1.min(b.1));
    [x0, y0, (a.0 - b.0).abs(), (a.1 - b.1).abs()]
}

/// Builds the appearance for `stamp` on `page` and adds its objects to the update.
pub fn build(doc: &PdfDocument, page: ObjectId, stamp: &Stamp, up: &mut IncrementalUpdate) -> Result<Placed, PdfError> {
    let [x, y, w, h] = stamp.rect;
    if !(w >= 10.0 && h >= 10.0 && w <= 14_400.0 && h <= 14_400.0) {
        return Err(PdfError::Refused(
            "the stamp must be between 10 and 14,400 points wide and high".into(),
        ));
    }
    let rotate = page_rotation(doc, page);
    let rotate = (rotate / 90) * 90;
    let mb = doc.page_box(page);
    let (pw, ph) = (mb[2] - mb[0], mb[3] - mb[1]);
    let (vw, vh) = if rotate % 180 == 0 { (pw, ph) } else { (ph, pw) };
    if x < 0.0 || y < 0.0 || x + w > vw + 0.5 || y + h > vh + 0.5 {
        return Err(PdfError::Refused(format!(
            "the stamp rectangle does not fit on the page ({vw:.0} x {vh:.0} points)"
        )));
    }
    let to_user = |dx: f32, dy: f32| -> (f32, f32) {
        match rotate {
            90 => (mb[0] + pw - dy, mb[1] + dx),
            180 => (mb[0] + pw - dx, mb[1] + ph - dy),
            270 => (mb[0] + dy, mb[1] + ph - dx),
            _ => (mb[0] + dx, mb[1] + dy),
        }
    };
    let corners = [to_user(x, y), to_user(x + w, y + h)];
    let rect = [
        corners[0].0.min(corners[1].0),
        corners[0].1.min(corners[1].1),
        corners[0].0.max(corners[1].0),
        corners[0].1.max(corners[1].1),
    ];

    // Layout in the stamp's own upright frame [0 0 w h].
    let mut font = FontUse::new(DEJAVU_SANS)?;
    let pad = (w.min(h) * 0.07).max(2.0);
    let mut content = format!(
        "q\n0.96 0.97 1 rg 0 0 {w:.2} {h:.2} re f\n0.15 0.25 0.55 RG 0.8 w 0.4 0.4 {:.2} {:.2} re S\n",
        w - 0.8,
        h - 0.8
    );
    let mut resources = Dictionary::new();
    let mut text_x = pad;
    if let Some(img) = &stamp.image {
        let box_h = h - 2.0 * pad;
        let box_w = (w * 0.35).min(box_h * 2.0);
        let scale = (box_w / img.width as f32).min(box_h / img.height as f32);
        let (iw, ih) = (img.width as f32 * scale, img.height as f32 * scale);
        let (ix, iy) = (pad + (box_w - iw) / 2.0, pad + (box_h - ih) / 2.0);
        content.push_str(&format!("q {iw:.3} 0 0 {ih:.3} {ix:.3} {iy:.3} cm /Im1 Do Q\n"));
        let img_id = up.allocate();
        up.set_object(img_id, &img.clone().into_object())?;
        let mut xo = Dictionary::new();
        xo.set("Im1", Object::Reference(img_id));
        resources.set("XObject", Object::Dictionary(xo));
        text_x = pad + box_w + pad;
    }
    let lines: Vec<&String> = stamp.lines.iter().filter(|l| !l.trim().is_empty()).collect();
    if !lines.is_empty() {
        let tw = (w - text_x - pad).max(1.0);
        let th = h - 2.0 * pad;
        let widest = lines.iter().map(|l| font.width(l)).fold(0.0f32, f32::max).max(0.01);
        let size = (th / (lines.len() as f32 * 1.25)).min(tw / widest).clamp(3.0, 14.0);
        let lead = size * 1.25;
        let mut y0 = h - pad - size * font.ascent();
        content.push_str(&format!("BT\n0.05 0.1 0.3 rg\n/F1 {size:.2} Tf\n"));
        for line in &lines {
            let codes = font.encode(line);
            content.push_str(&format!(
                "1 0 0 1 {text_x:.2} {y0:.2} Tm <{}> Tj\n",
                hex::encode_upper(codes)
            ));
            y0 -= lead;
        }
        content.push_str("ET\n");
        let mut add = |o: Object| -> Result<Object, PdfError> {
            let id = up.allocate();
            up.set_object(id, &o)?;
            Ok(Object::Reference(id))
        };
        let font_ref = font.finish(&mut add)?;
        let mut fonts = Dictionary::new();
        fonts.set("F1", font_ref);
        resources.set("Font", Object::Dictionary(fonts));
    }
    content.push_str("Q\n");

    let matrix: [f32; 4] = match rotate {
        90 => [0.0, 1.0, -1.0, 0.0],
        180 => [-1.0, 0.0, 0.0, -1.0],
        270 => [0.0, -1.0, 1.0, 0.0],
        _ => [1.0, 0.0, 0.0, 1.0],
    };
    let mut d = Dictionary::new();
    d.set("Type", Object::Name(b"XObject".to_vec()));
    d.set("Subtype", Object::Name(b"Form".to_vec()));
    d.set("BBox", Object::Array(vec![num(0.0), num(0.0), num(w), num(h)]));
    d.set(
        "Matrix",
        Object::Array(vec![
            num(matrix[0]),
            num(matrix[1]),
            num(matrix[2]),
            num(matrix[3]),
            num(0.0),
            num(0.0),
        ]),
    );
    d.set("Resources", Object::Dictionary(resources));
    let ap = up.allocate();
    up.set_object(
        ap,
        &Object::Stream(Stream::new(d, content.into_bytes()).with_compression(false)),
    )?;
    Ok(Placed {
        rect,
        rotate,
        appearance: ap,
    })
}
