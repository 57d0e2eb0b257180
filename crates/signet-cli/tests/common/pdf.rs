//! PDF helpers shared by the PAdES signer and validator tests: the producer corpus, the CA
//! and signers, and the oracles (pyHanko, pdfsig, qpdf).
#![allow(dead_code)]

use super::*;

/// A hand-written PDF 1.3 with a classic cross-reference table (our own "producer").
pub fn handmade_pdf() -> Vec<u8> {
    signet_pdf::build::classic_pdf(
        "1.3",
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_vec(),
            signet_pdf::build::stream("", b"BT /F1 18 Tf 72 720 Td (Handmade 1.3) Tj ET"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        ],
        b"",
    )
}

/// A hand-written hybrid-reference file (ISO 32000-1 §7.5.8.4): a classic table for PDF 1.4
/// readers plus, through the trailer's /XRefStm, a cross-reference stream for the font that
/// lives in an object stream.
pub fn hybrid_pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets: Vec<(u32, usize)> = Vec::new();
    let obj = |out: &mut Vec<u8>, offsets: &mut Vec<(u32, usize)>, n: u32, body: &[u8]| {
        offsets.push((n, out.len()));
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, &mut offsets, 1, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(&mut out, &mut offsets, 2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    obj(&mut out, &mut offsets, 3,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    );
    let content = b"BT /F1 18 Tf 72 720 Td (Hybrid reference file) Tj ET";
    let mut s4 = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    s4.extend_from_slice(content);
    s4.extend_from_slice(b"\nendstream");
    obj(&mut out, &mut offsets, 4, &s4);
    // Object 5 (the font) inside object stream 6.
    let inner = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
    let header = b"5 0 ";
    let mut s6 = format!(
        "<< /Type /ObjStm /N 1 /First {} /Length {} >>\nstream\n",
        header.len(),
        header.len() + inner.len()
    )
    .into_bytes();
    s6.extend_from_slice(header);
    s6.extend_from_slice(inner);
    s6.extend_from_slice(b"\nendstream");
    obj(&mut out, &mut offsets, 6, &s6);
    // Cross-reference stream 7: object 5 compressed in 6, objects 6 and 7 themselves.
    let xref_stm_at = out.len();
    let mut rows = Vec::new();
    rows.extend_from_slice(&[2, 0, 0, 0, 6, 0]);
    let off6 = offsets.iter().find(|o| o.0 == 6).unwrap().1 as u32;
    rows.push(1);
    rows.extend_from_slice(&off6.to_be_bytes());
    rows.push(0);
    rows.push(1);
    rows.extend_from_slice(&(xref_stm_at as u32).to_be_bytes());
    rows.push(0);
    let mut s7 = format!(
        "<< /Type /XRef /Size 8 /Index [5 3] /W [1 4 1] /Length {} >>\nstream\n",
        rows.len()
    )
    .into_bytes();
    s7.extend_from_slice(&rows);
    s7.extend_from_slice(b"\nendstream");
    obj(&mut out, &mut offsets, 7, &s7);
    // The classic table lists 0-4 and 6-7 and leaves 5 out (a PDF 1.4 reader never sees it;
    // marking it free instead would make readers disagree on whether the stream overrides it).
    let xref_at = out.len();
    let mut t = String::from("xref\n0 5\n0000000000 65535 f \n");
    for n in [1u32, 2, 3, 4, 6, 7] {
        if n == 6 {
            t.push_str("6 2\n");
        }
        let off = offsets.iter().find(|o| o.0 == n).unwrap().1;
        t.push_str(&format!("{off:010} 00000 n \n"));
    }
    out.extend_from_slice(t.as_bytes());
    out.extend_from_slice(
        format!("trailer\n<< /Size 8 /Root 1 0 R /XRefStm {xref_stm_at} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
    );
    out
}

pub const LIBREOFFICE_DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:body><office:text>
  <text:h>Заявление на отпуск</text:h>
  <text:p>Прошу предоставить ежегодный оплачиваемый отпуск. Đorđe Petrović, LibreOffice Writer.</text:p>
 </office:text></office:body>
</office:document>
"#;

pub const REPORTLAB_FORM: &str = r#"
import sys
from reportlab.pdfgen import canvas
c = canvas.Canvas(sys.argv[1])
c.setFont("Helvetica", 16)
c.drawString(72, 760, "Purchase request (ReportLab form)")
c.drawString(72, 720, "Requested by:")
c.acroForm.textfield(name="requester", value="Jane Doe", x=200, y=712, width=200, height=24)
c.drawString(72, 680, "Urgent:")
c.acroForm.checkbox(name="urgent", x=200, y=676, size=18, checked=True)
c.showPage()
c.drawString(72, 760, "Page two")
c.save()
"#;

pub fn ok_cmd(env: &Env, prog: &str, args: &[&str]) -> String {
    let o = std::process::Command::new(prog)
        .args(args)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{prog} {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o)
}

/// The corpus: (name, file) from seven producers (our builder, Ghostscript, cairo, qpdf,
/// pyHanko, ReportLab, LibreOffice) in eleven variants.
pub fn corpus(env: &Env) -> Vec<(&'static str, String)> {
    env.write("handmade.pdf", &handmade_pdf());
    env.write("hybrid.pdf", &hybrid_pdf());
    // LibreOffice Writer, from a flat ODF document in Russian and Serbian Latin.
    env.write("libreoffice.fodt", LIBREOFFICE_DOC.as_bytes());
    let profile = format!("-env:UserInstallation=file://{}", env.p("lo-profile"));
    ok_cmd(
        env,
        "soffice",
        &[
            &profile,
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            ".",
            "libreoffice.fodt",
        ],
    );
    // ReportLab, with an AcroForm (a text field and a checkbox) already in the document.
    ok_cmd(env, "python3", &["-c", REPORTLAB_FORM, "reportlab-form.pdf"]);
    ok_cmd(
        env,
        "gs",
        &[
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-sDEVICE=pdfwrite",
            "-o",
            "gs.pdf",
            "-c",
            "/Helvetica findfont 20 scalefont setfont 72 700 moveto (Ghostscript page one) show showpage 72 700 moveto (Page two) show showpage",
        ],
    );
    ok_cmd(env, "pdftocairo", &["-pdf", "gs.pdf", "cairo.pdf"]);
    ok_cmd(env, "qpdf", &["--object-streams=generate", "gs.pdf", "objstm.pdf"]);
    ok_cmd(env, "qpdf", &["--linearize", "cairo.pdf", "linearized.pdf"]);
    ok_cmd(env, "qpdf", &["--force-version=2.0", "handmade.pdf", "pdf20.pdf"]);
    ok_cmd(
        env,
        "pyhanko",
        &[
            "sign",
            "addfields",
            "--field",
            "1/300,50,500,100/Approval",
            "gs.pdf",
            "pyhanko-form.pdf",
        ],
    );
    ok_cmd(env, "qpdf", &["--rotate=+90:1", "cairo.pdf", "rotated.pdf"]);
    vec![
        ("handmade 1.3", "handmade.pdf".into()),
        ("ghostscript", "gs.pdf".into()),
        ("cairo", "cairo.pdf".into()),
        ("qpdf object streams", "objstm.pdf".into()),
        ("qpdf linearized", "linearized.pdf".into()),
        ("PDF 2.0", "pdf20.pdf".into()),
        ("pyHanko form", "pyhanko-form.pdf".into()),
        ("rotated page (cairo + qpdf)", "rotated.pdf".into()),
        ("hybrid-reference (handmade)", "hybrid.pdf".into()),
        ("ReportLab with an AcroForm", "reportlab-form.pdf".into()),
        ("LibreOffice Writer", "libreoffice.pdf".into()),
    ]
}

pub fn pyhanko(env: &Env, file: &str) -> Vec<String> {
    // pyHanko refuses, by design, to validate signatures in hybrid-reference files in strict
    // mode (readers may disagree on them); its lenient mode is the documented way in.
    let lenient: &[&str] = if file.starts_with("hybrid") {
        &["--no-strict-syntax"]
    } else {
        &[]
    };
    let o = std::process::Command::new("pyhanko")
        .args(["sign", "validate"])
        .args(lenient)
        .args(["--trust-replace", "--trust", "ca/root.crt", file])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "pyHanko failed on {file}: {out}{}", stderr(&o));
    out.lines().filter(|l| l.contains(':')).map(|l| l.to_string()).collect()
}

pub fn pdfsig_valid_count(env: &Env, file: &str) -> (usize, bool) {
    let out = ok_cmd(env, "pdfsig", &[file]);
    (
        out.matches("Signature Validation: Signature is Valid.").count(),
        out.contains("Total document signed"),
    )
}

pub fn qpdf_clean(env: &Env, file: &str) {
    let out = ok_cmd(env, "qpdf", &["--check", file]);
    assert!(
        out.contains("No syntax or stream encoding errors found"),
        "{file}: {out}"
    );
}

pub fn setup(env: &Env) {
    env.ok(&[
        "ca",
        "init",
        "--dir",
        "ca",
        "--name",
        "PDF Test Root",
        "--issuing",
        "PDF Test Issuing",
        "--passphrase-file",
        "capw.txt",
    ]);
    new_signer(env, "alice", "rsa-2048", "alice example", &[]);
    new_signer(env, "bob", "ecdsa-p256", "bob example", &[]);
}

/// A one-revision PDF from raw object bodies (object i+1 = objs[i]); `extra` is appended to
/// the body before the xref (for planted duplicate definitions).
pub fn raw_pdf(objs: &[&[u8]], extra: &[u8]) -> Vec<u8> {
    signet_pdf::build::classic_pdf("1.4", &objs.iter().map(|o| o.to_vec()).collect::<Vec<_>>(), extra)
}

pub const CATALOG: &[u8] = b"<< /Type /Catalog /Pages 2 0 R >>";
pub const PAGES: &[u8] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
pub const PAGE: &[u8] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>";

/// A key `who.key` (passphrase from pw.txt) and a certificate `who.crt` from the test CA, with
/// extra `cert issue` arguments (`--profile tsa`, `--days 1`, …).
pub fn new_signer(env: &Env, who: &str, alg: &str, cn: &str, extra: &[&str]) {
    let (key, crt) = (format!("{who}.key"), format!("{who}.crt"));
    env.ok(&[
        "key",
        "generate",
        "--alg",
        alg,
        "-o",
        &key,
        "--passphrase-file",
        "pw.txt",
    ]);
    let mut a = vec!["cert", "issue", "--ca", "ca", "--key", &key, "--cn", cn, "-o", &crt];
    a.extend_from_slice(extra);
    env.ok(&a);
}

/// A TSA key and certificate (critical timeStamping EKU) from the test CA: tsa.key, tsa.crt.
pub fn tsa_cert(env: &Env) {
    new_signer(env, "tsa", "ecdsa-p256", "Test TSA", &["--profile", "tsa"]);
}

/// A child process that is killed when dropped.
pub struct Kill(pub std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port that was free a moment ago.
/// `signet ca crl` of the test CA in `ca/` (the root's CRL with `root`) written to `out`.
pub fn ca_crl(env: &Env, out: &str, root: bool) {
    let mut a = vec!["ca", "crl", "--dir", "ca", "-o", out, "--passphrase-file", "capw.txt"];
    if root {
        a.push("--root");
    }
    env.ok(&a);
}

/// `python3 -m http.server` on `port` serving `dir` of the test directory (a CRL distribution
/// point), returned once it accepts connections.
pub fn serve_dir(env: &Env, dir: &str, port: u16) -> Kill {
    let k = Kill(
        std::process::Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(env.path(dir))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    k
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `openssl ocsp -index index.txt -port PORT -rsigner … -rkey … -CA ca/issuing.crt` in the
/// test directory, returned once it logs that it is waiting: a probe connection would wedge
/// OpenSSL 3.0's responder, which serves one connection at a time and blocks on a client that
/// sent nothing. `extra` passes e.g. `-ndays 1` (a nextUpdate in every answer).
pub fn openssl_ocsp(env: &Env, port: u16, rsigner: &str, rkey: &str, extra: &[&str]) -> Kill {
    let log = env.path(&format!("ocsp-{port}-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let child = std::process::Command::new("openssl")
        .args([
            "ocsp",
            "-index",
            "index.txt",
            "-port",
            &port.to_string(),
            "-rsigner",
            rsigner,
            "-rkey",
            rkey,
        ])
        .args(["-CA", "ca/issuing.crt", "-ignore_err"])
        .args(extra)
        .current_dir(env.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::fs::read_to_string(&log).is_ok_and(|l| l.contains("waiting for OCSP client connections")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Kill(child)
}

/// The certificate's serial number as `openssl x509 -serial` prints it (upper-case hex).
pub fn openssl_serial(env: &Env, cert: &str) -> String {
    let out = ok_cmd(env, "openssl", &["x509", "-in", cert, "-noout", "-serial"]);
    out.trim().trim_start_matches("serial=").to_string()
}

/// Decrypts `KEY.key` (passphrase from pw.txt) to `KEY.pem` for tools that take plain keys.
pub fn plain_key(env: &Env, who: &str) {
    ok_cmd(
        env,
        "openssl",
        &[
            "pkey",
            "-in",
            &format!("{who}.key"),
            "-passin",
            &format!("pass:{PASS}"),
            "-out",
            &format!("{who}.pem"),
        ],
    );
}

/// A TSA we did not write (`openssl ts -reply` on loopback), killed when dropped.
pub struct Tsa {
    pub child: std::process::Child,
    pub url: String,
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_tsa(env: &Env) -> Tsa {
    start_tsa_mode(env, "ok")
}

pub fn start_tsa_mode(env: &Env, mode: &str) -> Tsa {
    if !env.path("tsa.pem").exists() {
        tsa_cert(env);
        ok_cmd(
            env,
            "openssl",
            &[
                "pkey",
                "-in",
                "tsa.key",
                "-passin",
                &format!("pass:{PASS}"),
                "-out",
                "tsa.pem",
            ],
        );
    }
    spawn_tsa(env, mode)
}

pub fn spawn_tsa(env: &Env, mode: &str) -> Tsa {
    use std::io::BufRead;
    let mut child = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/openssl_tsa.py"))
        .arg(env.dir.path())
        .arg(mode)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Tsa {
        child,
        url: line.trim().to_string(),
    }
}
