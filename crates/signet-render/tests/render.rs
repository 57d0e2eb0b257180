//! Generated PDFs read back with tools we did not write: poppler's pdftotext extracts the Latin
//! and Cyrillic text, pdftoppm renders every page with ink on it, qpdf finds the file sound.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use signet_render::{Block, Sheet};

fn sheet() -> Sheet {
    Sheet {
        organisation: "ООО «Ромашка» / Romashka LLC".into(),
        title: "Заявление на отпуск — Leave application".into(),
        subtitle: "No. LV-2026-00001 of 2026-12-07".into(),
        blocks: vec![
            Block::Rows(vec![
                ("Сотрудник / Employee".into(), "Наталья Иванова".into()),
                ("From".into(), "2026-12-21".into()),
                ("To".into(), "2027-01-08".into()),
                (
                    "Comment".into(),
                    "Đorđe Petrović will cover the front desk. ".repeat(12),
                ),
            ]),
            Block::Rule,
            Block::Heading("Approvals".into()),
            Block::Paragraph("Подписано простой электронной подписью.".into()),
        ],
        footer: "Signet".into(),
    }
}

fn tool(name: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} must be installed (scripts/test.sh installs it): {e}"))
}

#[test]
fn a_form_renders_and_its_text_extracts_in_both_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = signet_render::render(&sheet()).unwrap();
    let f = dir.path().join("form.pdf");
    std::fs::write(&f, &pdf).unwrap();
    let o = tool("pdftotext", &[f.as_os_str(), "-".as_ref()]);
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "Наталья Иванова",
        "Leave application",
        "LV-2026-00001",
        "Đorđe Petrović",
        "Подписано",
    ] {
        assert!(text.contains(want), "{want:?} not in {text}");
    }
    let o = tool("qpdf", &["--check".as_ref(), f.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let prefix = dir.path().join("page");
    let o = tool(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "40".as_ref(),
            "-gray".as_ref(),
            f.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    assert!(o.status.success());
    let mut pages = 0;
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "pgm") {
            pages += 1;
            let img = std::fs::read(&p).unwrap();
            // Some pixels are dark: the page is not blank.
            // The pixels after the header ("P5\nW H\n255\n"): some are dark.
            let dark = img.iter().skip(20).filter(|b| **b < 128).count();
            assert!(dark > 50, "{} looks blank", p.display());
        }
    }
    assert!(pages >= 1);
    if let Ok(keep) = std::env::var("SIGNET_KEEP_RENDER") {
        std::fs::write(keep, &pdf).unwrap();
    }
}
