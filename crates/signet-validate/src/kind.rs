//! The one rule for "what kind of file is this", used by validation, signing and uploads alike.

/// How far into a file the `%PDF-` header may start (PDF readers tolerate leading junk within
/// the first kilobyte, ISO 32000-2 §7.5.2 notwithstanding).
pub const PDF_HEADER_WINDOW: usize = 1024;

/// What a file is, for signing and validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A PDF (signatures embedded, PAdES).
    Pdf,
    /// The sealed evidence of a simple electronic signature (`evidence.json`).
    Evidence,
    /// Anything else: signed with a detached CMS signature, or itself a CMS signature.
    Other,
}

impl FileKind {
    /// The kind of a file from its first bytes (at least [`PDF_HEADER_WINDOW`] of them when the
    /// file is that long).
    pub fn detect(head: &[u8]) -> FileKind {
        // A DER structure (a CMS signature that encapsulates a PDF carries `%PDF-` within its
        // first kilobyte) or a PEM file is not a PDF, whatever follows.
        if head.first() == Some(&0x30) || head.starts_with(b"-----BEGIN ") {
            return FileKind::Other;
        }
        if crate::evidence::is_evidence(head) {
            return FileKind::Evidence;
        }
        let window = &head[..head.len().min(PDF_HEADER_WINDOW)];
        if window.windows(5).any(|w| w == b"%PDF-") {
            FileKind::Pdf
        } else {
            FileKind::Other
        }
    }

    /// The kind of the file at `path` (its first kilobyte is read).
    pub fn of_file(path: &std::path::Path) -> std::io::Result<FileKind> {
        use std::io::Read;
        let mut head = Vec::with_capacity(PDF_HEADER_WINDOW);
        std::fs::File::open(path)?
            .take(PDF_HEADER_WINDOW as u64)
            .read_to_end(&mut head)?;
        Ok(FileKind::detect(&head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_header_within_the_first_kilobyte_makes_a_pdf() {
        assert_eq!(FileKind::detect(b"%PDF-1.7\n"), FileKind::Pdf);
        let mut junk = vec![b' '; 1000];
        junk.extend_from_slice(b"%PDF-1.4");
        assert_eq!(FileKind::detect(&junk), FileKind::Pdf);
        let mut late = vec![b' '; 1020];
        late.extend_from_slice(b"%PDF-1.4");
        assert_eq!(FileKind::detect(&late), FileKind::Other);
        assert_eq!(FileKind::detect(b"0\x82\x01"), FileKind::Other);
        // An attached CMS signature over a PDF: DER first, the PDF's header inside.
        let mut cms = vec![0x30, 0x82, 0x10, 0x00, 0x06, 0x09];
        cms.extend_from_slice(b"junk%PDF-1.7");
        assert_eq!(FileKind::detect(&cms), FileKind::Other);
        assert_eq!(FileKind::detect(b"-----BEGIN PKCS7-----\n%PDF-"), FileKind::Other);
        assert_eq!(FileKind::detect(b""), FileKind::Other);
    }
}
