//! `signet bench verify`: PDF signature validation against pyHanko's `validate_pdf_signature`
//! on the same file and trust root, in the same run; then a large signed PDF's validation with
//! its peak memory.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use signet_crypto::KeyAlgorithm;
use signet_pki::Indication;

use crate::bench::{peak_rss_mib, rate, sample_pdf, signer_for};
use crate::exit::{CliError, CliResult, Exit};

/// Passes over the batch, for both sides: the best pass counts (this machine is noisy).
const BATCH_PASSES: usize = 3;

/// pyHanko over every file given, `BATCH_PASSES` times: the best pass's files/s.
const PYHANKO_BATCH: &str = r#"
import sys, time
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
trust = [load_cert_from_pemder(sys.argv[1])]
passes, files = int(sys.argv[2]), sys.argv[3:]
best = 0.0
for _ in range(passes):
    t0 = time.perf_counter()
    for pdf in files:
        with open(pdf, 'rb') as f:
            sig = PdfFileReader(f).embedded_signatures[0]
            st = validate_pdf_signature(sig, ValidationContext(trust_roots=trust))
            assert st.bottom_line, (pdf, st)
    best = max(best, len(files) / (time.perf_counter() - t0))
print(best)
"#;

const PYHANKO_VERIFY: &str = r#"
import sys, time
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
root, pdf, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
trust = [load_cert_from_pemder(root)]
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < secs or n < 3:
    with open(pdf, 'rb') as f:
        sig = PdfFileReader(f).embedded_signatures[0]
        st = validate_pdf_signature(sig, ValidationContext(trust_roots=trust))
        assert st.bottom_line, st
    n += 1
print(n / (time.perf_counter() - t0))
"#;

fn validate(pdf: signet_validate::Content<'_>, anchor: &signet_pki::Certificate) -> CliResult<Indication> {
    let report = signet_validate::validate(
        signet_validate::Input {
            content: pdf,
            signature: None,
        },
        &signet_pki::ValidationContext::new(vec![anchor.clone()], signet_pki::time::now()),
    )
    .map_err(CliError::internal)?;
    Ok(report.indication)
}

/// Signs a `mib` MiB PDF, then validates it from disk; returns (seconds, peak RSS MiB).
fn large(mib: u64, dir: Option<PathBuf>) -> CliResult<()> {
    let dir = dir
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("signet-bench-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(CliError::internal)?;
    let result = (|| -> CliResult<()> {
        let (big, signed) = (dir.join("large.pdf"), dir.join("large-signed.pdf"));
        {
            let mut w = std::io::BufWriter::new(std::fs::File::create(&big).map_err(CliError::internal)?);
            signet_pdf::build::write_large_pdf(&mut w, mib << 20).map_err(CliError::internal)?;
            w.flush().map_err(CliError::internal)?;
        }
        let (signer, cert) = signer_for(KeyAlgorithm::Rsa2048)?;
        {
            let src = std::fs::File::open(&big)
                .and_then(signet_pdf::FileSource::new)
                .map_err(CliError::internal)?;
            let mut out = std::io::BufWriter::new(std::fs::File::create(&signed).map_err(CliError::internal)?);
            let opts = signet_pdf::PadesOptions::new(signet_pki::time::now());
            signet_pdf::sign_to(&src, &mut out, &signer, &opts).map_err(CliError::internal)?;
        }
        std::fs::remove_file(&big).map_err(CliError::internal)?;
        let t = Instant::now();
        let verdict = validate(signet_validate::Content::File(&signed), &cert)?;
        println!(
            "large signed PDF: {} MiB, validated from disk in {:.2} s: {}\n  peak RSS: {:.1} MiB (target <= 256)\n",
            src_len(&signed) >> 20,
            t.elapsed().as_secs_f64(),
            verdict.as_str(),
            peak_rss_mib()
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn src_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Runs a Python benchmark script that prints one rate; `None` when Python or pyHanko is missing.
fn python_rate(script: &str, args: &[PathBuf]) -> Option<f64> {
    let o = Command::new("python3").args(["-c", script]).args(args).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok())
        .flatten()
}

/// `signet verify` of `n` signed PDFs in one call (all cores) against pyHanko validating the
/// same files one after the other, in the same run.
fn batch(n: usize, dir: Option<PathBuf>, keep: bool) -> CliResult<()> {
    let (signer, cert) = signer_for(KeyAlgorithm::Rsa2048)?;
    let tmp = dir
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("signet-bench-verify-batch-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(CliError::internal)?;
    let root = tmp.join("root.pem");
    std::fs::write(&root, cert.to_pem()?.as_bytes()).map_err(CliError::internal)?;
    let doc = sample_pdf();
    let mut files = Vec::with_capacity(n);
    for i in 0..n {
        let mut o = signet_pdf::PadesOptions::new(signet_pki::time::now());
        o.reason = Some(format!("Approved {i}"));
        let pdf = signet_pdf::sign_pdf(&doc, &signer, &o).map_err(CliError::internal)?;
        let f = tmp.join(format!("doc-{i:04}.pdf"));
        std::fs::write(&f, pdf).map_err(CliError::internal)?;
        files.push(f);
    }
    println!(
        "signet bench verify --batch: {n} signed {} KiB PDFs (RSA-2048), one call each",
        std::fs::metadata(&files[0]).map(|m| m.len() / 1024).unwrap_or(0)
    );
    let exe = std::env::current_exe().map_err(CliError::internal)?;
    let mut ours = 0f64;
    for _ in 0..BATCH_PASSES {
        let t0 = Instant::now();
        let o = Command::new(&exe)
            .arg("verify")
            .args(&files)
            .arg("--trust")
            .arg(&root)
            .args(["--format", "jsonl"])
            .output()
            .map_err(CliError::internal)?;
        ours = ours.max(n as f64 / t0.elapsed().as_secs_f64());
        if !o.status.success() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(CliError::internal("signet verify did not pass every benchmark file"));
        }
    }
    println!("  signet verify (one call, all cores): {ours:>9.1} files/s (best of {BATCH_PASSES} calls)");
    let mut args = vec![root.clone(), PathBuf::from(BATCH_PASSES.to_string())];
    args.extend(files.iter().cloned());
    let py = python_rate(PYHANKO_BATCH, &args);
    if keep {
        println!("  kept: {} (doc-*.pdf, root.pem)", tmp.display());
    } else {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    match py {
        Some(p) => println!(
            "  pyHanko validate_pdf_signature:      {p:>9.1} files/s (best of {BATCH_PASSES} passes)\n  ratio signet/pyHanko: {:.0} (target >= 50)\n",
            ours / p
        ),
        None => println!("  pyHanko: not available (pip install pyhanko)\n"),
    }
    Ok(())
}

/// Runs the benchmark.
pub fn run(seconds: u64, large_mib: u64, batch_files: usize, dir: Option<PathBuf>, keep: bool) -> CliResult<Exit> {
    if batch_files > 0 {
        batch(batch_files, dir.clone(), keep)?;
    }
    if large_mib > 0 {
        large(large_mib, dir)?;
    }
    let (signer, cert) = signer_for(KeyAlgorithm::Rsa2048)?;
    let pdf = signet_pdf::sign_pdf(
        &sample_pdf(),
        &signer,
        &signet_pdf::PadesOptions::new(signet_pki::time::now()),
    )
    .map_err(CliError::internal)?;
    println!(
        "signet bench verify: {} KiB signed 40-page PDF, RSA-2048, {seconds} s per measurement",
        pdf.len() / 1024
    );
    let verdict = validate(signet_validate::Content::Bytes(&pdf), &cert)?;
    println!("  verdict: {}\n", verdict.as_str());
    let ours = rate(seconds, || {
        validate(signet_validate::Content::Bytes(&pdf), &cert)?;
        Ok(())
    })?;
    println!("  signet validate:      {ours:>9.1} validations/s");
    let tmp = std::env::temp_dir().join(format!("signet-bench-verify-py-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(CliError::internal)?;
    std::fs::write(tmp.join("root.pem"), cert.to_pem()?.as_bytes()).map_err(CliError::internal)?;
    std::fs::write(tmp.join("signed.pdf"), &pdf).map_err(CliError::internal)?;
    let py = python_rate(
        PYHANKO_VERIFY,
        &[
            tmp.join("root.pem"),
            tmp.join("signed.pdf"),
            PathBuf::from(seconds.to_string()),
        ],
    );
    let _ = std::fs::remove_dir_all(&tmp);
    match py {
        Some(p) => println!(
            "  pyHanko validate:     {p:>9.1} validations/s\n  ratio signet/pyHanko: {:.0} (target >= 50)",
            ours / p
        ),
        None => println!("  pyHanko: not available (pip install pyhanko)"),
    }
    Ok(Exit::Ok)
}
