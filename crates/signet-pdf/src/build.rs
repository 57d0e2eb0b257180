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

/// Writes a PDF of at least `size` bytes without holding it in memory: one page drawing an
/// uncompressed grey image that carries nearly all of the bytes (like a large scan), with a
/// classic cross-reference table. For the large-file test and benchmark.
pub fn write_large_pdf(w: &mut dyn std::io::Write, size: u64) -> std::io::Result<u64> {
    let side = ((size as f64).sqrt().ceil() as u64).max(16);
    let mut at = 0u64;
    let mut put = |w: &mut dyn std::io::Write, b: &[u8]| -> std::io::Result<u64> {
        w.write_all(b)?;
        at += b.len() as u64;
        Ok(at)
    };
    let mut offsets = Vec::new();
    put(w, "%PDF-1.4\n%\u{e2}\u{e3}\u{cf}\u{d3}\n".as_bytes())?;
    let content = b"q 500 0 0 500 50 300 cm /Im1 Do Q BT /F1 18 Tf 72 200 Td (Large scan) Tj ET";
    let small = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im1 6 0 R >> /Font << /F1 5 0 R >> >> >>".to_vec(),
        stream("", content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    for (i, body) in small.iter().enumerate() {
        offsets.push(put(w, b"")?);
        put(w, format!("{} 0 obj\n", i + 1).as_bytes())?;
        put(w, body)?;
        put(w, b"\nendobj\n")?;
    }
    offsets.push(put(w, b"")?);
    put(
        w,
        format!(
            "6 0 obj\n<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
            side * side
        )
        .as_bytes(),
    )?;
    let row: Vec<u8> = (0..side).map(|x| (x % 256) as u8).collect();
    for _ in 0..side {
        put(w, &row)?;
    }
    let xref = put(w, b"\nendstream\nendobj\n")?;
    let mut t = String::from("xref\n0 7\n0000000000 65535 f \n");
    for o in &offsets {
        t.push_str(&format!("{o:010} 00000 n \n"));
    }
    put(w, t.as_bytes())?;
    put(
        w,
        format!("trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    )
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

    #[test]
    fn large_pdfs_parse_and_name_their_image() {
        let mut v = Vec::new();
        let n = write_large_pdf(&mut v, 100_000).unwrap();
        assert_eq!(n as usize, v.len());
        assert!(v.len() >= 100_000);
        let doc = crate::document::PdfDocument::parse(&v, &Default::default()).unwrap();
        assert_eq!(doc.pages().unwrap().len(), 1);
        assert_eq!(doc.reader.raw_stream((6, 0), 1 << 20).unwrap().len(), 317 * 317);
    }
}
