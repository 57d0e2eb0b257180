//! `signet bench`: Signet against OpenSSL, measured in the same run on the same machine.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Subcommand;
use signet_crypto::{KeyAlgorithm, PrivateKey, Signer, SoftwareSigner};
use signet_pki::issue::{self, Profile, Template};
use signet_pki::name::SubjectSpec;

use crate::exit::{CliError, CliResult, Exit};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// CAdES detached signing and verification, small and large files.
    Cades {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 2)]
        seconds: u64,
        /// Size of the large file in MiB.
        #[arg(long, default_value_t = 100)]
        large_mib: u64,
        /// Directory for the temporary large file.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Time-stamp tokens per second from our TSA against `openssl ts -reply`.
    Tsa {
        /// Seconds for our measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Number of `openssl ts -reply` runs.
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// PDF signature validation of a signed ~250 KiB PDF against pyHanko; then a large signed
    /// PDF's validation with peak memory.
    Verify {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Signed PDFs validated in one `signet verify` call against pyHanko (0 skips it).
        #[arg(long, default_value_t = 300)]
        batch: usize,
        /// Size of the large PDF in MiB (0 skips it).
        #[arg(long, default_value_t = 1024)]
        large_mib: u64,
        /// Directory for the temporary large PDF.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Keep the batch's signed PDFs and trust root (for profiling `signet verify` on
        /// them); their directory is printed.
        #[arg(long)]
        keep: bool,
    },
    /// The signing server under load: concurrent clients signing small PDFs through the API with
    /// a service account, next to in-process rates (same PDF and key; `bench pades`'s workload).
    Server {
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Signatures to request in all.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Run on this PostgreSQL database instead of SQLite (postgres://…; it must be empty).
        #[arg(long)]
        database_url: Option<String>,
        /// Seconds for the in-process measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Send `bench pades`'s workload (~250 KiB PDF, RSA-2048 organisation key) through the
        /// API instead of small PDFs with the default ECDSA P-256 organisation key.
        #[arg(long)]
        large: bool,
    },
    /// PAdES signing of a ~250 KiB multi-page PDF, against pyHanko and `openssl speed`; then a
    /// large PDF against `sha256sum` of the same file, with peak memory.
    Pades {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Size of the large PDF in MiB (0 skips it).
        #[arg(long, default_value_t = 1024)]
        large_mib: u64,
        /// Directory for the temporary large PDF and its signed copy.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// A ~250 KiB, 40-page PDF with uncompressed text content (classic xref).
pub fn sample_pdf() -> Vec<u8> {
    let pages = 40;
    let mut objs: Vec<Vec<u8>> = vec![b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()];
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objs.push(format!("<< /Type /Pages /Kids [{}] /Count {pages} >>", kids.join(" ")).into_bytes());
    objs.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec());
    for i in 0..pages {
        objs.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        let mut content = String::from("BT /F1 9 Tf 40 800 Td 11 TL\n");
        for line in 0..70 {
            content.push_str(&format!(
                "(Page {i} line {line}: the quick brown fox jumps over the lazy dog, 0123456789 ABCDEFGHIJ.) '\n"
            ));
        }
        content.push_str("ET");
        objs.push(signet_pdf::build::stream("", content.as_bytes()));
    }
    signet_pdf::build::classic_pdf("1.7", &objs, b"")
}

const PYHANKO_BENCH: &str = r#"
import io, sys, time
from pyhanko.sign import signers
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
key, cert, pdf, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
signer = signers.SimpleSigner.load(key, cert)
data = open(pdf, 'rb').read()
meta = signers.PdfSignatureMetadata(field_name='Signature1')
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < secs or n < 3:
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=signer, output=out)
    n += 1
print(n / (time.perf_counter() - t0))
"#;

/// Signs a `mib` MiB PDF from disk to disk, against `sha256sum` of the same (cached) file.
/// Runs first, so the process's peak RSS is this signature's.
fn bench_pades_large(mib: u64, dir: Option<PathBuf>) -> CliResult<()> {
    let dir = dir
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("signet-bench-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(CliError::internal)?;
    let result = (|| -> CliResult<()> {
        let big = dir.join("large.pdf");
        let signed = dir.join("large-signed.pdf");
        {
            let mut w = std::io::BufWriter::new(std::fs::File::create(&big).map_err(CliError::internal)?);
            signet_pdf::build::write_large_pdf(&mut w, mib << 20).map_err(CliError::internal)?;
            w.flush().map_err(CliError::internal)?;
        }
        let size = std::fs::metadata(&big).map_err(CliError::internal)?.len();
        let (signer, _) = signer_for(KeyAlgorithm::Rsa2048)?;
        let opts = signet_pdf::PadesOptions::new(signet_pki::time::now());
        // Best of three each, alternating, with the file in the page cache.
        let (mut ours, mut sha) = (f64::MAX, f64::MAX);
        for _ in 0..3 {
            let t = Instant::now();
            let ok = Command::new("sha256sum").arg(&big).output().map(|o| o.status.success());
            if ok.unwrap_or(false) {
                sha = sha.min(t.elapsed().as_secs_f64());
            }
            let t = Instant::now();
            let src = std::fs::File::open(&big)
                .and_then(signet_pdf::FileSource::new)
                .map_err(CliError::internal)?;
            let mut out = std::io::BufWriter::with_capacity(
                256 * 1024,
                std::fs::File::create(&signed).map_err(CliError::internal)?,
            );
            signet_pdf::sign_to(&src, &mut out, &signer, &opts).map_err(CliError::internal)?;
            drop(out);
            ours = ours.min(t.elapsed().as_secs_f64());
        }
        println!(
            "large PDF: {} MiB, RSA-2048, sign from disk to disk (no fsync), best of 3\n  signet sign_to:       {ours:>9.2} s ({:.0} MiB/s)",
            size >> 20,
            size as f64 / 1048576.0 / ours
        );
        if sha < f64::MAX {
            println!(
                "  sha256sum:            {sha:>9.2} s\n  ratio signet/sha256sum time: {:.2} (target <= 2)",
                ours / sha
            );
        } else {
            println!("  sha256sum: not available");
        }
        println!("  peak RSS:             {:>9.1} MiB (target <= 64)\n", peak_rss_mib());
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench_pades(seconds: u64, large_mib: u64, dir: Option<PathBuf>) -> CliResult<Exit> {
    if large_mib > 0 {
        bench_pades_large(large_mib, dir)?;
    }
    let pdf = sample_pdf();
    println!(
        "signet bench pades: {} KiB, 40-page PDF, RSA-2048, {seconds} s per measurement\n",
        pdf.len() / 1024
    );
    let (signer, cert) = signer_for(KeyAlgorithm::Rsa2048)?;
    let opts = signet_pdf::PadesOptions::new(signet_pki::time::now());
    let ours = rate(seconds, || {
        signet_pdf::sign_pdf(&pdf, &signer, &opts).map_err(CliError::internal)?;
        Ok(())
    })?;
    println!("  signet sign_pdf:      {ours:>9.1} signatures/s");
    // pyHanko on the same file and key, timed inside Python (interpreter start excluded).
    let dir = std::env::temp_dir().join(format!("signet-bench-pades-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(CliError::internal)?;
    let key_pem = signet_crypto::pem::encode("PRIVATE KEY", &signer.key().to_pkcs8_der()?)?;
    std::fs::write(dir.join("key.pem"), key_pem.as_bytes()).map_err(CliError::internal)?;
    std::fs::write(dir.join("cert.pem"), cert.to_pem()?.as_bytes()).map_err(CliError::internal)?;
    std::fs::write(dir.join("in.pdf"), &pdf).map_err(CliError::internal)?;
    let py = Command::new("python3")
        .args(["-c", PYHANKO_BENCH])
        .arg(dir.join("key.pem"))
        .arg(dir.join("cert.pem"))
        .arg(dir.join("in.pdf"))
        .arg(seconds.to_string())
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let pyhanko = py
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok());
    match pyhanko {
        Some(p) => println!(
            "  pyHanko sign_pdf:     {p:>9.1} signatures/s\n  ratio signet/pyHanko: {:.0} (target >= 100)",
            ours / p
        ),
        None => println!("  pyHanko: not available (pip install pyhanko)"),
    }
    match openssl_speed("rsa2048", seconds) {
        Some(r) => println!(
            "  openssl speed rsa2048: {r:.1} sign/s\n  ratio signet/openssl: {:.2} (target >= 0.5)",
            ours / r
        ),
        None => println!("  openssl speed: not available"),
    }
    Ok(Exit::Ok)
}

pub(crate) fn signer_for(alg: KeyAlgorithm) -> CliResult<(SoftwareSigner, signet_pki::Certificate)> {
    let key = SoftwareSigner::new(PrivateKey::generate(alg).map_err(CliError::internal)?);
    let now = signet_pki::time::now();
    let name = SubjectSpec {
        common_name: "Bench Signer".into(),
        ..Default::default()
    }
    .to_name()?;
    let t = Template::new(name, key.public_key_der()?, Profile::Signer, now - 60, now + 86_400);
    let cert = issue::issue(&t, None, &key)?;
    Ok((key.with_chain(vec![cert.der().to_vec()]), cert))
}

pub(crate) fn rate(seconds: u64, mut f: impl FnMut() -> CliResult<()>) -> CliResult<f64> {
    let start = Instant::now();
    let limit = Duration::from_secs(seconds);
    let mut n = 0u64;
    while start.elapsed() < limit {
        f()?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// `openssl speed -seconds S ALG`: sign/s.
fn openssl_speed(alg: &str, seconds: u64) -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), alg])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let marker = if alg.starts_with("rsa") {
        "rsa 2048 bits".to_string()
    } else {
        "(nistp256)".to_string()
    };
    let line = text.lines().rev().find(|l| l.contains(&marker))?;
    let toks: Vec<&str> = line.split_whitespace().collect();
    toks.get(toks.len().checked_sub(2)?)?.parse().ok()
}

pub(crate) fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

pub fn run(c: BenchCommand) -> CliResult<Exit> {
    let (seconds, large_mib, dir) = match c {
        BenchCommand::Cades {
            seconds,
            large_mib,
            dir,
        } => (seconds, large_mib, dir),
        BenchCommand::Pades {
            seconds,
            large_mib,
            dir,
        } => return bench_pades(seconds, large_mib, dir),
        BenchCommand::Tsa { seconds, runs } => return crate::bench_tsa::run(seconds, runs),
        BenchCommand::Server {
            clients,
            requests,
            database_url,
            seconds,
            large,
        } => return crate::bench_server::run(clients, requests, database_url, seconds, large),
        BenchCommand::Verify {
            seconds,
            batch,
            large_mib,
            dir,
            keep,
        } => return crate::bench_verify::run(seconds, large_mib, batch, dir, keep),
    };
    println!("signet bench cades: {seconds} s per measurement, large file {large_mib} MiB\n");
    let mut small = vec![0u8; 1024];
    signet_crypto::random_bytes(&mut small).map_err(CliError::internal)?;
    let opts = signet_cms::SignOptions::default();
    for (alg, openssl_alg, label) in [
        (KeyAlgorithm::Rsa2048, "rsa2048", "RSA-2048"),
        (KeyAlgorithm::EcdsaP256, "ecdsap256", "ECDSA P-256"),
    ] {
        let (signer, cert) = signer_for(alg)?;
        let anchors = vec![cert];
        let sign_rate = rate(seconds, || {
            let d = signet_crypto::digest::hash(signer.signature_algorithm().hash(), &small);
            signet_cms::sign_digest(&d, None, &signer, &opts)?;
            Ok(())
        })?;
        let sig = signet_cms::sign_digest(
            &signet_crypto::digest::hash(signer.signature_algorithm().hash(), &small),
            None,
            &signer,
            &opts,
        )?;
        let ctx = signet_pki::ValidationContext::new(anchors.clone(), signet_pki::time::now());
        let verify_rate = rate(seconds, || {
            let rep = signet_validate::validate(
                signet_validate::Input {
                    content: signet_validate::Content::Bytes(&small),
                    signature: Some(&sig),
                },
                &ctx,
            )
            .map_err(CliError::internal)?;
            if rep.indication != signet_pki::Indication::TotalPassed {
                return Err(CliError::internal("benchmark signature did not verify"));
            }
            Ok(())
        })?;
        let reference = openssl_speed(openssl_alg, seconds);
        println!("{label}, 1 KiB file, full CAdES B-B:");
        println!("  signet sign:   {sign_rate:>9.1} signatures/s");
        println!("  signet verify: {verify_rate:>9.1} verifications/s (path validation included)");
        match reference {
            Some(r) => println!(
                "  openssl speed -seconds {seconds} {openssl_alg}: {r:.1} sign/s (raw key operation)\n  ratio signet/openssl: {:.2}\n",
                sign_rate / r
            ),
            None => println!("  openssl speed {openssl_alg}: not available\n"),
        }
    }

    // Large file: streamed hashing and signing, against `openssl dgst -sha256`.
    let dir = dir.unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("signet-bench-{}.bin", std::process::id()));
    {
        let mut f = std::fs::File::create(&path)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", path.display())))?;
        let mut chunk = vec![0u8; 1 << 20];
        for _ in 0..large_mib {
            signet_crypto::random_bytes(&mut chunk).map_err(CliError::internal)?;
            f.write_all(&chunk).map_err(CliError::internal)?;
        }
        f.sync_all().map_err(CliError::internal)?;
    }
    let rss_before = peak_rss_mib();
    let (signer, cert) = signer_for(KeyAlgorithm::Rsa2048)?;
    // Warm the page cache once for both.
    let _ = signet_crypto::digest::hash_reader(
        signet_crypto::HashAlgorithm::Sha256,
        std::fs::File::open(&path).map_err(CliError::internal)?,
    );
    let t0 = Instant::now();
    let sig =
        signet_cms::sign_detached_reader(std::fs::File::open(&path).map_err(CliError::internal)?, &signer, &opts)?;
    let ours = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let rep = signet_validate::validate(
        signet_validate::Input {
            content: signet_validate::Content::File(&path),
            signature: Some(&sig),
        },
        &signet_pki::ValidationContext::new(vec![cert], signet_pki::time::now()),
    )
    .map_err(CliError::internal)?;
    let ours_verify = t1.elapsed().as_secs_f64();
    let rss_after = peak_rss_mib();
    let t2 = Instant::now();
    let ok = Command::new("openssl")
        .args(["dgst", "-sha256"])
        .arg(&path)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let openssl = t2.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    if rep.indication != signet_pki::Indication::TotalPassed {
        return Err(CliError::internal("large-file signature did not verify"));
    }
    let mib = large_mib as f64;
    println!("{large_mib} MiB file, RSA-2048 CAdES B-B (streamed):");
    println!("  signet sign:   {ours:.3} s = {:.0} MiB/s", mib / ours);
    println!("  signet verify: {ours_verify:.3} s = {:.0} MiB/s", mib / ours_verify);
    if ok {
        println!(
            "  openssl dgst -sha256: {openssl:.3} s = {:.0} MiB/s (process start included)",
            mib / openssl
        );
        println!("  ratio signet sign/openssl dgst throughput: {:.2}", openssl / ours);
    } else {
        println!("  openssl dgst: not available");
    }
    println!("  peak RSS: {rss_before:.1} MiB before the large file, {rss_after:.1} MiB after (flat = streamed)");
    Ok(Exit::Ok)
}
