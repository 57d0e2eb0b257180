//! PDF signatures for Signet (ISO 32000 §12.8, ETSI EN 319 142-1 PAdES).
//!
//! - [`source`], [`syntax`], [`xref`], [`filter`], [`reader`]: Signet's own strict reader —
//!   bytes from memory or a file read in windows, a bounded object parser, per-revision
//!   cross-reference sections (tables, streams, hybrid files), FlateDecode with limits, and
//!   objects fetched on demand (object streams included), so memory does not grow with the
//!   file; lopdf provides the object types and serialisation only;
//! - [`document`]: what a signer needs to know about a PDF: the cross-reference style,
//!   trailer, catalog, pages, form, existing signatures and certification;
//! - [`incremental`]: an incremental update appended after the original bytes, with a
//!   cross-reference section in the original's style (classic table or stream) and `/Prev`;
//! - [`sign`]: PAdES baseline B-B signatures (invisible approval or certification signatures),
//!   with the `/Contents` placeholder sized to the CMS and `/ByteRange` patched in place;
//! - [`appearance`], [`font`], [`image`]: visible stamps with an embedded DejaVu Sans subset
//!   (Latin with diacritics, Cyrillic) and an optional JPEG/PNG image, honouring page `/Rotate`;
//! - [`text`]: PDF dates and text strings;
//!
//! It takes a [`Source`] (bytes or a file) and a [`signet_crypto::Signer`]; it does no network
//! or database I/O.
#![forbid(unsafe_code)]

pub mod appearance;
pub mod appendix;
pub mod build;
pub mod document;
mod error;
pub mod filter;
pub mod font;
pub mod image;
pub mod incremental;
pub mod ltv;
pub mod preflight;
pub mod reader;
pub mod sign;
pub mod source;
pub mod syntax;
pub mod text;
pub mod validate;
pub mod xref;

pub use error::PdfError;
/// The object model (lopdf's types) that the reader returns and updates are built from.
pub use lopdf;
pub use sign::{PadesOptions, sign_pdf, sign_to, sign_to_stamped, timestamp_to};
pub use source::{FileSource, Source};
