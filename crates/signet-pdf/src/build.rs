//! Small PDFs built from object bodies, with a classic cross-reference table: for benchmarks,
//! tests and examples. Object `i + 1` is `objects[i]`; the catalog is object 1.

/// Builds a one-revision PDF. `extra_body` is written after the objects and before the xref
/// table (tests use it to plant unreferenced definitions).
pub fn classic_pdf(version: &str, objects: &[Vec<u8>], extra_body: &[u8]) -> Vec<u8> {
    let mut out = format!("%PDF-{version}\n%\u{e2}\u{e3}\u{cf}\u{d3}\n").into_bytes();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    out.extend_from_slice(extra_body);
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A stream object body with a correct /Length.
pub fn stream(dict_entries: &str, content: &[u8]) -> Vec<u8> {
    let mut v = format!("<< {dict_entries} /Length {} >>\nstream\n", content.len()).into_bytes();
    v.extend_from_slice(content);
    v.extend_from_slice(b"\nendstream");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_pdf_that_parses() {
        let pdf = classic_pdf(
            "1.4",
            &[
                b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>".to_vec(),
                stream("", b"0 0 m 10 10 l S"),
            ],
            b"",
        );
        let doc = crate::document::PdfDocument::parse(&pdf, &Default::default()).unwrap();
        assert_eq!(doc.pages().unwrap().len(), 1);
    }
}
