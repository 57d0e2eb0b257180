//! PDFs generated from data: a document rendered from its form (company, title, number, date,
//! the fields), and evidence pages listing a document's signatures. Text is laid out here
//! (lines wrapped to the column, pages broken) and drawn by krilla, which shapes it and embeds
//! a subset of DejaVu Sans — Latin with diacritics and Cyrillic render and extract as text.
//!
//! Layout is pure ([`layout`]): a sheet becomes pages of positioned lines, tested without a PDF;
//! [`pdf`] draws them.
#![forbid(unsafe_code)]

pub mod layout;
pub mod pdf;

pub use layout::{Block, Sheet};

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The embedded font could not be read (a build problem, not input).
    #[error("the embedded font cannot be read")]
    Font,
    /// krilla refused the document.
    #[error("the PDF cannot be written: {0}")]
    Write(String),
    /// The input is beyond what a generated document may hold.
    #[error("{0}")]
    TooLarge(String),
}

/// Renders `sheet` to PDF bytes.
pub fn render(sheet: &Sheet) -> Result<Vec<u8>, RenderError> {
    let metrics = layout::Metrics::dejavu()?;
    let pages = layout::lay_out(sheet, &metrics)?;
    pdf::draw(&pages, sheet)
}
