//! Drawing laid-out pages with krilla.

use krilla::Document;
use krilla::color::{luma, rgb};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};

use crate::RenderError;
use crate::layout::{Op, PAGE};

fn fill(grey: bool) -> Fill {
    let c = if grey { 90 } else { 0 };
    Fill {
        paint: rgb::Color::new(c, c, c).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// Draws `pages`; the document's title and metadata come from `sheet`.
pub fn draw(pages: &[Vec<Op>], sheet: &crate::Sheet) -> Result<Vec<u8>, RenderError> {
    let font = Font::new(signet_pdf::font::DEJAVU_SANS.into(), 0).ok_or(RenderError::Font)?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(sheet.title.clone())
            .creator("Signet".into())
            .producer(format!("Signet {}", env!("CARGO_PKG_VERSION"))),
    );
    let settings = PageSettings::from_wh(PAGE.0, PAGE.1).ok_or_else(|| RenderError::Write("page size".into()))?;
    for ops in pages {
        let mut page = doc.start_page_with(settings.clone());
        let mut s = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, text, grey } => {
                    s.set_fill(Some(fill(*grey)));
                    s.draw_text(
                        Point::from_xy(*x, *y),
                        font.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::LeftToRight,
                    );
                }
                Op::Rule { x1, x2, y } => {
                    let mut b = PathBuilder::new();
                    b.move_to(*x1, *y);
                    b.line_to(*x2, *y);
                    if let Some(path) = b.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(Stroke {
                            paint: luma::Color::new(160).into(),
                            width: 0.6,
                            ..Default::default()
                        }));
                        s.draw_path(&path);
                        s.set_stroke(None);
                    }
                }
            }
        }
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| RenderError::Write(format!("{e:?}")))
}
