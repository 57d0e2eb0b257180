//! Laying a sheet out on A4 pages: a heading block (organisation, title, number and date), then
//! blocks of label/value rows and paragraphs, each line wrapped to its column and pages broken
//! where the next line would not fit; a footer line on every page.

use crate::RenderError;

/// A4 in points.
pub const PAGE: (f32, f32) = (595.0, 842.0);
/// Margins, points.
pub const MARGIN: f32 = 56.0;
/// Body text size.
pub const BODY: f32 = 10.5;
/// Width of the label column in a row block.
pub const LABEL_WIDTH: f32 = 170.0;

/// Most lines a generated document may hold (a form is a page or two; this bounds work).
const MAX_LINES: usize = 20_000;

/// What to render.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    /// The organisation's name, above the title.
    pub organisation: String,
    /// The document's title ("Leave application", "Заявление на отпуск").
    pub title: String,
    /// A line under the title ("No. LV-2026-00001 of 2026-12-07").
    pub subtitle: String,
    /// The body.
    pub blocks: Vec<Block>,
    /// Small print at the foot of every page (the page number is added).
    pub footer: String,
}

/// A part of the body.
#[derive(Clone, Debug)]
pub enum Block {
    /// A heading.
    Heading(String),
    /// Label/value rows in two columns (values wrap in theirs).
    Rows(Vec<(String, String)>),
    /// A paragraph across the page.
    Paragraph(String),
    /// A thin line across the page.
    Rule,
}

/// Something drawn at a place on a page (origin top left, y down, baseline positions).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Text at (x, baseline y).
    Text {
        /// Left edge.
        x: f32,
        /// Baseline.
        y: f32,
        /// Font size.
        size: f32,
        /// The text (one line).
        text: String,
        /// Grey (labels, footers) rather than black.
        grey: bool,
    },
    /// A horizontal line from x1 to x2 at y.
    Rule {
        /// Start.
        x1: f32,
        /// End.
        x2: f32,
        /// Height.
        y: f32,
    },
}

/// Advance widths of the font text is set in.
pub struct Metrics {
    face: ttf_parser::Face<'static>,
    upem: f32,
}

impl Metrics {
    /// DejaVu Sans, the font every generated PDF uses.
    pub fn dejavu() -> Result<Metrics, RenderError> {
        let face = ttf_parser::Face::parse(signet_pdf::font::DEJAVU_SANS, 0).map_err(|_| RenderError::Font)?;
        let upem = f32::from(face.units_per_em());
        Ok(Metrics { face, upem })
    }

    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                let g = self.face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
                f32::from(self.face.glyph_hor_advance(g).unwrap_or(0))
            })
            .sum();
        units / self.upem * size
    }

    /// `text` broken into lines no wider than `width` at `size`: at spaces where it can, inside
    /// a word only when the word alone is too wide; explicit line breaks kept.
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone: split it where it must be.
                let mut piece = String::new();
                for c in word.chars() {
                    piece.push(c);
                    if self.width(&piece, size) > width && piece.chars().count() > 1 {
                        piece.pop();
                        lines.push(std::mem::take(&mut piece));
                        piece.push(c);
                    }
                }
                line = piece;
            }
            lines.push(line);
        }
        lines
    }
}

/// Pages being filled.
struct Pages {
    pages: Vec<Vec<Op>>,
    y: f32,
    lines: usize,
}

impl Pages {
    fn new() -> Self {
        Pages {
            pages: vec![Vec::new()],
            y: MARGIN,
            lines: 0,
        }
    }

    /// Makes room for `height` points, starting a new page when the current one is full.
    fn room(&mut self, height: f32) -> Result<(), RenderError> {
        self.lines += 1;
        if self.lines > MAX_LINES {
            return Err(RenderError::TooLarge(format!(
                "the document would have more than {MAX_LINES} lines"
            )));
        }
        if self.y + height > PAGE.1 - MARGIN - 20.0 {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
        Ok(())
    }

    fn push(&mut self, op: Op) {
        if let Some(p) = self.pages.last_mut() {
            p.push(op);
        }
    }

    fn text(&mut self, x: f32, size: f32, text: String, grey: bool) -> Result<(), RenderError> {
        let leading = size * 1.35;
        self.room(leading)?;
        self.y += leading;
        let y = self.y;
        self.push(Op::Text { x, y, size, text, grey });
        Ok(())
    }
}

/// Lays `sheet` out; returns the pages' drawing operations.
pub fn lay_out(sheet: &Sheet, m: &Metrics) -> Result<Vec<Vec<Op>>, RenderError> {
    let full = PAGE.0 - 2.0 * MARGIN;
    let mut p = Pages::new();
    for line in m.wrap(&sheet.organisation, 10.0, full) {
        p.text(MARGIN, 10.0, line, true)?;
    }
    p.y += 8.0;
    for line in m.wrap(&sheet.title, 18.0, full) {
        p.text(MARGIN, 18.0, line, false)?;
    }
    for line in m.wrap(&sheet.subtitle, 11.0, full) {
        p.text(MARGIN, 11.0, line, false)?;
    }
    p.y += 8.0;
    p.push(Op::Rule {
        x1: MARGIN,
        x2: PAGE.0 - MARGIN,
        y: p.y,
    });
    p.y += 6.0;
    for block in &sheet.blocks {
        match block {
            Block::Heading(h) => {
                p.y += 8.0;
                for line in m.wrap(h, 13.0, full) {
                    p.text(MARGIN, 13.0, line, false)?;
                }
                p.y += 2.0;
            }
            Block::Paragraph(t) => {
                p.y += 4.0;
                for line in m.wrap(t, BODY, full) {
                    p.text(MARGIN, BODY, line, false)?;
                }
            }
            Block::Rule => {
                p.y += 9.0;
                p.room(6.0)?;
                p.push(Op::Rule {
                    x1: MARGIN,
                    x2: PAGE.0 - MARGIN,
                    y: p.y,
                });
                p.y += 2.0;
            }
            Block::Rows(rows) => {
                let value_x = MARGIN + LABEL_WIDTH;
                let value_w = full - LABEL_WIDTH;
                for (label, value) in rows {
                    p.y += 3.0;
                    let labels = m.wrap(label, BODY, LABEL_WIDTH - 10.0);
                    let values = m.wrap(value, BODY, value_w);
                    let n = labels.len().max(values.len());
                    // A row stays on one page when it can.
                    p.room(n as f32 * BODY * 1.35)?;
                    let top = p.y;
                    let leading = BODY * 1.35;
                    for (i, l) in labels.into_iter().enumerate() {
                        p.push(Op::Text {
                            x: MARGIN,
                            y: top + leading * (i + 1) as f32,
                            size: BODY,
                            text: l,
                            grey: true,
                        });
                    }
                    p.y = top;
                    for v in values {
                        p.text(value_x, BODY, v, false)?;
                    }
                    p.y = p.y.max(top + leading * n as f32);
                }
            }
        }
    }
    let total = p.pages.len();
    for (i, page) in p.pages.iter_mut().enumerate() {
        let footer = if sheet.footer.is_empty() {
            format!("{} / {total}", i + 1)
        } else {
            format!("{} · {} / {total}", sheet.footer, i + 1)
        };
        page.push(Op::Text {
            x: MARGIN,
            y: PAGE.1 - MARGIN + 16.0,
            size: 8.0,
            text: footer,
            grey: true,
        });
    }
    Ok(p.pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_at_spaces_and_inside_overlong_words() {
        let m = Metrics::dejavu().unwrap();
        let lines = m.wrap("Заявление на ежегодный оплачиваемый отпуск", 10.0, 120.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| m.width(l, 10.0) <= 120.0), "{lines:?}");
        assert_eq!(lines.join(" "), "Заявление на ежегодный оплачиваемый отпуск");
        let long = "x".repeat(200);
        let lines = m.wrap(&long, 10.0, 100.0);
        assert!(lines.len() > 1 && lines.iter().all(|l| m.width(l, 10.0) <= 100.0));
        assert_eq!(lines.concat(), long);
        assert_eq!(m.wrap("a\nb", 10.0, 100.0), vec!["a", "b"]);
    }

    #[test]
    fn long_sheets_break_into_pages_with_a_footer_each() {
        let m = Metrics::dejavu().unwrap();
        let rows: Vec<(String, String)> = (0..120).map(|i| (format!("Field {i}"), format!("Value {i}"))).collect();
        let sheet = Sheet {
            organisation: "ACME".into(),
            title: "Test".into(),
            subtitle: "No. 1".into(),
            blocks: vec![Block::Rows(rows)],
            footer: "ACME".into(),
        };
        let pages = lay_out(&sheet, &m).unwrap();
        assert!(pages.len() >= 3, "{}", pages.len());
        for (i, p) in pages.iter().enumerate() {
            let footer = format!("ACME · {} / {}", i + 1, pages.len());
            assert!(p.iter().any(|o| matches!(o, Op::Text { text, .. } if *text == footer)));
            for o in p {
                if let Op::Text { y, .. } = o {
                    assert!(*y > MARGIN && *y < PAGE.1, "{y}");
                }
            }
        }
    }

    #[test]
    fn an_absurd_amount_of_text_is_refused() {
        let m = Metrics::dejavu().unwrap();
        let sheet = Sheet {
            blocks: vec![Block::Paragraph("word ".repeat(400_000))],
            ..Default::default()
        };
        assert!(matches!(lay_out(&sheet, &m), Err(RenderError::TooLarge(_))));
    }
}
