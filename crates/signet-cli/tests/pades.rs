//! PAdES signatures on PDFs from several producers, judged by tools we did not write:
//! `pyhanko sign validate` (INTACT:TRUSTED with the right modification level), `pdfsig`
//! (signature valid, whole document signed) and `qpdf --check` (no errors).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

mod common;
use common::pdf::*;
use common::*;

#[test]
fn invisible_certified_and_second_signatures_validate_in_pyhanko_pdfsig_and_qpdf() {
    let env = Env::new();
    setup(&env);
    for (producer, file) in corpus(&env) {
        let stem = file.trim_end_matches(".pdf");
        // Approval signature.
        let one = format!("{stem}-1.pdf");
        env.ok(&[
            "sign",
            &file,
            "-o",
            &one,
            "--key",
            "alice.key",
            "--cert",
            "alice.crt",
            "--reason",
            "Approved",
            "--location",
            "Berlin",
        ]);
        let lines = pyhanko(&env, &one);
        assert!(
            lines.last().unwrap().ends_with("INTACT:TRUSTED,UNTOUCHED"),
            "{producer}: {lines:?}"
        );
        assert_eq!(pdfsig_valid_count(&env, &one), (1, true), "{producer}");
        qpdf_clean(&env, &one);
        // The original bytes come first, untouched.
        let orig = std::fs::read(env.path(&file)).unwrap();
        assert!(std::fs::read(env.path(&one)).unwrap().starts_with(&orig), "{producer}");
        // A second signature keeps the first valid.
        let two = format!("{stem}-2.pdf");
        env.ok(&["sign", &one, "-o", &two, "--key", "bob.key", "--cert", "bob.crt"]);
        let lines = pyhanko(&env, &two);
        assert_eq!(lines.len(), 2, "{producer}: {lines:?}");
        assert!(
            lines[0].contains("INTACT:TRUSTED") && lines[0].contains("ACCEPTABLE_MODIFICATIONS"),
            "{producer}: {lines:?}"
        );
        assert!(lines[1].ends_with("INTACT:TRUSTED,UNTOUCHED"), "{producer}: {lines:?}");
        assert_eq!(pdfsig_valid_count(&env, &two), (2, true), "{producer}");
        qpdf_clean(&env, &two);
        // Certification P=2, then an approval signature (allowed by P=2).
        let cert = format!("{stem}-cert.pdf");
        env.ok(&[
            "sign",
            &file,
            "-o",
            &cert,
            "--key",
            "alice.key",
            "--cert",
            "alice.crt",
            "--certify",
            "2",
        ]);
        assert!(
            pyhanko(&env, &cert)
                .last()
                .unwrap()
                .ends_with("INTACT:TRUSTED,UNTOUCHED"),
            "{producer}"
        );
        qpdf_clean(&env, &cert);
        let cert2 = format!("{stem}-cert-2.pdf");
        env.ok(&["sign", &cert, "-o", &cert2, "--key", "bob.key", "--cert", "bob.crt"]);
        let lines = pyhanko(&env, &cert2);
        assert!(
            lines[0].contains("INTACT:TRUSTED") && lines[0].contains("ACCEPTABLE_MODIFICATIONS"),
            "{producer}: {lines:?}"
        );
        assert_eq!(pdfsig_valid_count(&env, &cert2), (2, true), "{producer}");
    }
}

#[test]
fn certification_rules_are_enforced_with_clear_errors() {
    let env = Env::new();
    setup(&env);
    env.write("doc.pdf", &handmade_pdf());
    env.ok(&[
        "sign",
        "doc.pdf",
        "-o",
        "p1.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
        "--certify",
        "1",
    ]);
    env.ok(&[
        "sign",
        "doc.pdf",
        "-o",
        "p2.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
        "--certify",
        "2",
    ]);
    env.ok(&[
        "sign",
        "doc.pdf",
        "-o",
        "approved.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    for (input, extra, msg) in [
        ("p1.pdf", vec![], "P=1"),
        ("p2.pdf", vec!["--certify", "3"], "already certified"),
        ("approved.pdf", vec!["--certify", "2"], "must be the first signature"),
    ] {
        let mut args = vec!["sign", input, "-o", "out.pdf", "--key", "bob.key", "--cert", "bob.crt"];
        args.extend(extra);
        let o = env.signet(&args);
        assert_eq!(code(&o), 2, "{input}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{input}: {}", stderr(&o));
        assert!(!env.path("out.pdf").exists(), "nothing half-written");
    }
    // pyHanko reads the DocMDP level we wrote.
    let script = "import sys\nfrom pyhanko.pdf_utils.reader import PdfFileReader\nfor f in sys.argv[1:]:\n    r = PdfFileReader(open(f, 'rb'))\n    print(f, [str(s.docmdp_level) for s in r.embedded_signatures])";
    let out = ok_cmd(&env, "python3", &["-c", script, "p1.pdf", "p2.pdf", "approved.pdf"]);
    assert!(out.contains("p1.pdf ['MDPPerm.NO_CHANGES']"), "{out}");
    assert!(out.contains("p2.pdf ['MDPPerm.FILL_FORMS']"), "{out}");
    assert!(out.contains("approved.pdf ['None']"), "{out}");
}

#[test]
fn bad_pdfs_are_clear_errors_and_nothing_is_written() {
    let env = Env::new();
    setup(&env);
    let good = handmade_pdf();
    env.write("truncated.pdf", &good[..good.len() / 2]);
    env.write("garbage.pdf", b"%PDF-1.7\nthis is not a PDF at all");
    env.write("notpdf.pdf", b"hello");
    env.write("doc.pdf", &good);
    ok_cmd(
        &env,
        "qpdf",
        &["--encrypt", "user", "owner", "256", "--", "doc.pdf", "encrypted.pdf"],
    );
    for f in ["truncated.pdf", "garbage.pdf", "notpdf.pdf", "encrypted.pdf"] {
        let o = env.signet(&["sign", f, "-o", "out.pdf", "--key", "alice.key", "--cert", "alice.crt"]);
        assert_eq!(code(&o), 2, "{f}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{f}: {}", stderr(&o));
        assert!(!env.path("out.pdf").exists(), "{f}");
    }
    let o = env.signet(&[
        "sign",
        "encrypted.pdf",
        "-o",
        "out.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    assert!(stderr(&o).contains("encrypted"), "{}", stderr(&o));
    let o = env.signet(&[
        "sign",
        "doc.pdf",
        "-o",
        "out.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
        "--page",
        "7",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("page 7 does not exist"), "{}", stderr(&o));
}

#[test]
fn shadow_attack_preparations_are_refused_unless_overridden() {
    let env = Env::new();
    setup(&env);
    // Item 48: two definitions of the catalog in one revision (like SignServer's 2catalogs.pdf).
    env.write(
        "dup.pdf",
        &raw_pdf(
            &[CATALOG, PAGES, PAGE],
            b"1 0 obj\n<< /Type /Catalog /Pages 4 0 R >>\nendobj\n",
        ),
    );
    // Item 49: a dormant page tree, not reachable from the catalog.
    env.write(
        "dormant.pdf",
        &raw_pdf(
            &[
                CATALOG,
                PAGES,
                PAGE,
                b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 200 200] >>",
            ],
            b"",
        ),
    );
    // Item 51: optional content.
    env.write(
        "ocg.pdf",
        &raw_pdf(
            &[
                b"<< /Type /Catalog /Pages 2 0 R /OCProperties << /OCGs [4 0 R] /D << /Order [4 0 R] >> >> >>",
                PAGES,
                PAGE,
                b"<< /Type /OCG /Name (Layer) >>",
            ],
            b"",
        ),
    );
    for (f, msg) in [
        ("dup.pdf", "defined twice"),
        ("dormant.pdf", "dormant page tree"),
        ("ocg.pdf", "optional content"),
    ] {
        let o = env.signet(&["sign", f, "-o", "out.pdf", "--key", "alice.key", "--cert", "alice.crt"]);
        assert_eq!(code(&o), 2, "{f}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(msg) && stderr(&o).contains("--allow-suspicious-structure"),
            "{f}: {}",
            stderr(&o)
        );
        assert!(!env.path("out.pdf").exists());
        let out = format!("{f}.signed.pdf");
        env.ok(&[
            "sign",
            f,
            "-o",
            &out,
            "--key",
            "alice.key",
            "--cert",
            "alice.crt",
            "--allow-suspicious-structure",
        ]);
    }
    // Legitimate redefinitions in later revisions (our own second signature) are not flagged.
    env.write("clean.pdf", &raw_pdf(&[CATALOG, PAGES, PAGE], b""));
    env.ok(&[
        "sign",
        "clean.pdf",
        "-o",
        "c1.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    env.ok(&[
        "sign", "c1.pdf", "-o", "c2.pdf", "--key", "bob.key", "--cert", "bob.crt",
    ]);
}

#[test]
fn hostile_pdfs_end_in_bounded_clear_errors() {
    let env = Env::new();
    setup(&env);
    // A page tree that loops back on itself.
    env.write(
        "loop.pdf",
        &raw_pdf(
            &[CATALOG, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", PAGE],
            b"",
        ),
    );
    // 100,000 nested arrays in the catalog.
    let mut deep = b"<< /Type /Catalog /Pages 2 0 R /Deep ".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    deep.extend(std::iter::repeat_n(b']', 100_000));
    deep.extend_from_slice(b" >>");
    env.write("deep.pdf", &raw_pdf(&[&deep, PAGES, PAGE], b""));
    // A startxref pointing nowhere and a /Prev loop.
    let mut bad = raw_pdf(&[CATALOG, PAGES, PAGE], b"");
    let n = bad.len();
    bad.truncate(n - 12);
    bad.extend_from_slice(b"99999999\n%%EOF\n");
    env.write("badxref.pdf", &bad);
    for f in ["loop.pdf", "deep.pdf", "badxref.pdf"] {
        let start = std::time::Instant::now();
        let o = env.signet(&["sign", f, "-o", "out.pdf", "--key", "alice.key", "--cert", "alice.crt"]);
        assert_eq!(code(&o), 2, "{f}: {}", stderr(&o));
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "{f} took too long"
        );
        assert!(!env.path("out.pdf").exists());
    }
}

#[test]
fn batch_signing_goes_on_after_a_failure_and_says_which_failed() {
    let env = Env::new();
    setup(&env);
    std::fs::create_dir_all(env.path("in")).unwrap();
    env.write("in/a.pdf", &handmade_pdf());
    env.write("in/b.pdf", b"%PDF-1.4 broken");
    env.write("in/c.pdf", &raw_pdf(&[CATALOG, PAGES, PAGE], b""));
    let o = env.signet(&[
        "sign",
        "in/a.pdf",
        "in/b.pdf",
        "in/c.pdf",
        "--out-dir",
        "signed",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("signed 2 of 3"), "{out}");
    assert!(
        stderr(&o).contains("in/b.pdf") && stderr(&o).contains("1 of 3"),
        "{}",
        stderr(&o)
    );
    assert!(!env.path("signed/b.pdf").exists());
    for f in ["signed/a.pdf", "signed/c.pdf"] {
        assert_eq!(pdfsig_valid_count(&env, f), (1, true), "{f}");
    }
    // -o with several files is a usage error.
    let o = env.signet(&[
        "sign",
        "in/a.pdf",
        "in/c.pdf",
        "-o",
        "x.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    assert_eq!(code(&o), 2);
}

/// Renders page 1 at 72 dpi (1 pixel = 1 point) and counts non-white pixels inside a rectangle
/// given in visible page coordinates (origin bottom-left).
fn inked_pixels(env: &Env, file: &str, rect: [u32; 4]) -> usize {
    ok_cmd(
        env,
        "pdftoppm",
        &["-r", "72", "-f", "1", "-l", "1", "-singlefile", "-gray", file, "render"],
    );
    let pgm = std::fs::read(env.path("render.pgm")).unwrap();
    // P5\n<w> <h>\n255\n<data>
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while pgm[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !pgm[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..pos]).into_owned());
    }
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let data = &pgm[pos + 1..];
    let [x, y, rw, rh] = rect.map(|v| v as usize);
    let mut n = 0;
    for row in (h - (y + rh))..(h - y) {
        for col in x..(x + rw).min(w) {
            if data[row * w + col] < 200 {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn visible_stamps_render_with_cyrillic_names_on_every_producer() {
    let env = Env::new();
    setup(&env);
    env.ok(&[
        "key",
        "generate",
        "--alg",
        "ecdsa-p256",
        "-o",
        "nat.key",
        "--passphrase-file",
        "pw.txt",
    ]);
    env.ok(&[
        "cert",
        "issue",
        "--ca",
        "ca",
        "--key",
        "nat.key",
        "--cn",
        "Наталья Иванова",
        "-o",
        "nat.crt",
    ]);
    let files = corpus(&env);
    ok_cmd(
        &env,
        "pdftoppm",
        &["-r", "8", "-png", "-singlefile", "-f", "1", "-l", "1", "gs.pdf", "logo"],
    );
    for (producer, file) in files {
        let stem = file.trim_end_matches(".pdf");
        let before = inked_pixels(&env, &file, [40, 40, 200, 60]);
        let out = format!("{stem}-visible.pdf");
        env.ok(&[
            "sign",
            &file,
            "-o",
            &out,
            "--key",
            "nat.key",
            "--cert",
            "nat.crt",
            "--visible",
            "--reason",
            "Đorđe approved",
            "--stamp-rect",
            "36,36,260,80",
            "--stamp-image",
            "logo.png",
        ]);
        let lines = pyhanko(&env, &out);
        assert!(
            lines.last().unwrap().ends_with("INTACT:TRUSTED,UNTOUCHED"),
            "{producer}: {lines:?}"
        );
        assert_eq!(pdfsig_valid_count(&env, &out), (1, true), "{producer}");
        qpdf_clean(&env, &out);
        let text = ok_cmd(&env, "pdftotext", &["-f", "1", "-l", "1", &out, "-"]);
        assert!(
            text.contains("Наталья Иванова") && text.contains("Đorđe approved"),
            "{producer}: {text}"
        );
        let after = inked_pixels(&env, &out, [40, 40, 200, 60]);
        assert!(
            after > before + 500,
            "{producer}: the stamp region is blank ({before} -> {after} inked pixels)"
        );
        // A second, visible signature elsewhere keeps the first valid.
        let out2 = format!("{stem}-visible-2.pdf");
        env.ok(&[
            "sign",
            &out,
            "-o",
            &out2,
            "--key",
            "bob.key",
            "--cert",
            "bob.crt",
            "--visible",
            "--stamp-rect",
            "320,36,200,60",
        ]);
        let lines = pyhanko(&env, &out2);
        assert!(
            lines[0].contains("INTACT:TRUSTED") && lines[0].contains("ACCEPTABLE_MODIFICATIONS"),
            "{producer}: {lines:?}"
        );
        assert_eq!(pdfsig_valid_count(&env, &out2), (2, true), "{producer}");
    }
    // A stamp that does not fit the page is refused.
    let o = env.signet(&[
        "sign",
        "handmade.pdf",
        "-o",
        "x.pdf",
        "--key",
        "nat.key",
        "--cert",
        "nat.crt",
        "--stamp-rect",
        "500,800,300,80",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does not fit"), "{}", stderr(&o));
}

#[test]
fn an_existing_empty_signature_field_is_filled_once() {
    let env = Env::new();
    setup(&env);
    ok_cmd(
        &env,
        "gs",
        &[
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-sDEVICE=pdfwrite",
            "-o",
            "gs.pdf",
            "-c",
            "showpage",
        ],
    );
    ok_cmd(
        &env,
        "pyhanko",
        &[
            "sign",
            "addfields",
            "--field",
            "1/300,50,500,110/Approval",
            "gs.pdf",
            "form.pdf",
        ],
    );
    env.ok(&[
        "sign",
        "form.pdf",
        "-o",
        "filled.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
        "--field",
        "Approval",
        "--visible",
    ]);
    let lines = pyhanko(&env, "filled.pdf");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("Approval:") && lines[0].ends_with("INTACT:TRUSTED,UNTOUCHED"),
        "{lines:?}"
    );
    assert_eq!(pdfsig_valid_count(&env, "filled.pdf"), (1, true));
    qpdf_clean(&env, "filled.pdf");
    assert!(ok_cmd(&env, "pdftotext", &["filled.pdf", "-"]).contains("alice example"));
    assert!(
        inked_pixels(&env, "filled.pdf", [305, 55, 190, 50]) > 300,
        "the stamp is drawn inside the field"
    );
    let o = env.signet(&[
        "sign",
        "filled.pdf",
        "-o",
        "again.pdf",
        "--key",
        "bob.key",
        "--cert",
        "bob.crt",
        "--field",
        "Approval",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already signed"), "{}", stderr(&o));
}

#[test]
fn overlays_over_text_are_warned_about_but_signed() {
    let env = Env::new();
    setup(&env);
    let image = signet_pdf::build::stream(
        "/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8",
        &[255],
    );
    let page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> /Font << /F1 6 0 R >> >> >>";
    let font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
    // Text first, then a white full-page image on top: the text is hidden.
    let over = signet_pdf::build::stream(
        "",
        b"BT /F1 12 Tf 20 100 Td (Pay 1,000,000 EUR) Tj ET q 200 0 0 200 0 0 cm /Im1 Do Q",
    );
    env.write(
        "overlay.pdf",
        &raw_pdf(&[CATALOG, PAGES, page, &over, &image, font], b""),
    );
    // A scan with an OCR layer: image first, text after — not flagged.
    let under = signet_pdf::build::stream(
        "",
        b"q 200 0 0 200 0 0 cm /Im1 Do Q BT /F1 12 Tf 3 Tr 20 100 Td (OCR text) Tj ET",
    );
    env.write("scan.pdf", &raw_pdf(&[CATALOG, PAGES, page, &under, &image, font], b""));
    let o = env.signet(&[
        "sign",
        "overlay.pdf",
        "-o",
        "o.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("full-page image is drawn over the page's text"),
        "{}",
        stderr(&o)
    );
    let o = env.signet(&[
        "sign",
        "scan.pdf",
        "-o",
        "s.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    assert_eq!(code(&o), 0);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    // A signed document whose visible stamp is small does not warn when signed again.
    env.ok(&[
        "sign",
        "s.pdf",
        "-o",
        "s2.pdf",
        "--key",
        "bob.key",
        "--cert",
        "bob.crt",
        "--visible",
        "--stamp-rect",
        "10,10,80,30",
    ]);
    let o = env.signet(&[
        "sign",
        "s2.pdf",
        "-o",
        "s3.pdf",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
    ]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn our_strict_reader_agrees_with_every_producer_and_with_our_writer() {
    use signet_pdf::xref::{Entry, revisions};
    let env = Env::new();
    setup(&env);
    for (producer, file) in corpus(&env) {
        let stem = file.trim_end_matches(".pdf");
        let signed = format!("{stem}-r.pdf");
        env.ok(&[
            "sign",
            &file,
            "-o",
            &signed,
            "--key",
            "alice.key",
            "--cert",
            "alice.crt",
        ]);
        let before = std::fs::read(env.path(&file)).unwrap();
        let after = std::fs::read(env.path(&signed)).unwrap();
        let (rb, ra) = (revisions(&before).unwrap(), revisions(&after).unwrap());
        assert_eq!(ra.len(), rb.len() + 1, "{producer}: one signature, one revision");
        // Every in-use entry of the newest revision points at exactly the object it names.
        for (num, e) in &ra[0].entries {
            if let Entry::InUse { offset, generation } = e {
                let mut p = signet_pdf::syntax::Parser::new(&after, *offset);
                p.indirect_object(Some((*num, *generation)), &|_| Some(0))
                    .unwrap_or_else(|e| panic!("{producer}: object {num}: {e}"));
            }
        }
        assert_eq!(
            ra[0].trailer.get(b"Prev").unwrap().as_i64().unwrap() as usize,
            rb[0].offset,
            "{producer}"
        );
    }
}

fn same_prefix(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::io::Read;
    let (mut fa, mut fb) = (std::fs::File::open(a).unwrap(), std::fs::File::open(b).unwrap());
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            return true;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// Issue 3: "a 1 GiB PDF signs with peak RSS ≤ 64 MiB" — the original is hashed and copied in
/// chunks and only the objects the signature touches are parsed. Peak RSS is the kernel's
/// figure for the signet process (GNU time's %M), not a timing.
#[test]
fn a_one_gib_pdf_signs_with_flat_memory() {
    let env = Env::new();
    setup(&env);
    let big = env.path("big.pdf");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    signet_pdf::build::write_large_pdf(&mut w, 1 << 30).unwrap();
    std::io::Write::flush(&mut w).unwrap();
    drop(w);
    assert!(std::fs::metadata(&big).unwrap().len() >= 1 << 30);
    let o = std::process::Command::new("/usr/bin/time")
        .args(["-f", "peak-rss-kib=%M"])
        .arg(env!("CARGO_BIN_EXE_signet"))
        .args([
            "sign",
            "big.pdf",
            "-o",
            "big-signed.pdf",
            "--key",
            "alice.key",
            "--cert",
            "alice.crt",
            "--visible",
        ])
        .current_dir(env.dir.path())
        .env("SIGNET_PASSPHRASE", PASS)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let kib: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS figure in {err}"));
    assert!(kib <= 64 * 1024, "peak RSS {kib} KiB for a 1 GiB PDF");
    let signed = env.path("big-signed.pdf");
    assert!(
        same_prefix(&big, &signed),
        "the original bytes must come first, untouched"
    );
    std::fs::remove_file(&big).unwrap();
    let (valid, whole) = pdfsig_valid_count(&env, "big-signed.pdf");
    assert_eq!(valid, 1);
    assert!(whole);
    eprintln!("1 GiB PDF signed with peak RSS {} MiB", kib / 1024);
}
