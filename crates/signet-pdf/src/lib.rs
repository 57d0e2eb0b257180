//! PDF signatures for Signet (ISO 32000 §12.8, ETSI EN 319 142-1 PAdES).
//!
//! - [`document`]: reading a PDF (lopdf) with limits, and what a signer needs to know about it:
//!   the cross-reference style, trailer, catalog, pages, form, existing signatures and
//!   certification;
//! - [`incremental`]: an incremental update appended after the original bytes, with a
//!   cross-reference section in the original's style (classic table or stream) and `/Prev`;
//! - [`sign`]: PAdES baseline B-B signatures (invisible approval or certification signatures),
//!   with the `/Contents` placeholder sized to the CMS and `/ByteRange` patched in place;
//! - [`appearance`], [`font`], [`image`]: visible stamps with an embedded DejaVu Sans subset
//!   (Latin with diacritics, Cyrillic) and an optional JPEG/PNG image, honouring page `/Rotate`;
//! - [`text`]: PDF dates and text strings;
//! - [`syntax`], [`xref`]: a strict, bounded object parser and per-revision cross-reference
//!   sections, the first bricks of Signet's own reader (not yet used by the signer).
//!
//! It takes bytes and a [`signet_crypto::Signer`]; it does no network or database I/O.
#![forbid(unsafe_code)]

pub mod appearance;
pub mod build;
pub mod document;
mod error;
pub mod font;
pub mod image;
pub mod incremental;
pub mod preflight;
pub mod sign;
pub mod syntax;
pub mod text;
pub mod xref;

pub use error::PdfError;
pub use sign::{PadesOptions, sign_pdf};
