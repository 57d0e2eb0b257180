//! `signet ltv add`: upgrade a signed PDF for long-term validation — a document security
//! store with the certificates of every signature (and of their time-stamps) plus the given
//! CRLs (PAdES B-LT), then, with `--tsa`, a document timestamp over it (B-LTA).

use std::path::PathBuf;

use clap::Subcommand;

use crate::exit::{CliError, CliResult, Exit};
use crate::inputs;

#[derive(Subcommand)]
pub enum LtvCommand {
    /// Add validation data (and a document timestamp) to a signed PDF.
    Add {
        /// The signed PDF.
        file: PathBuf,
        /// Where to write the upgraded PDF.
        #[arg(short, long)]
        out: PathBuf,
        /// CRLs to store (PEM or DER); repeatable.
        #[arg(long)]
        crl: Vec<PathBuf>,
        /// Further certificates to store (e.g. the root); repeatable.
        #[arg(long)]
        cert: Vec<PathBuf>,
        /// Add a document timestamp from this RFC 3161 TSA (http://…): PAdES B-LTA.
        #[arg(long, value_name = "URL")]
        tsa: Option<String>,
        /// Overwrite the output.
        #[arg(long)]
        force: bool,
    },
}

fn open(path: &std::path::Path) -> CliResult<signet_pdf::FileSource> {
    std::fs::File::open(path)
        .and_then(signet_pdf::FileSource::new)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))
}

pub fn run(c: LtvCommand) -> CliResult<Exit> {
    let LtvCommand::Add {
        file,
        out,
        crl,
        cert,
        tsa,
        force,
    } = c;
    inputs::check_new(&out, force)?;
    let src = open(&file)?;
    let mut data = signet_pdf::ltv::ValidationData::default();
    {
        let doc = signet_pdf::document::PdfDocument::parse(&src, &Default::default())
            .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
        let sigs = signet_pdf::validate::signature_contents(&doc);
        if sigs.is_empty() {
            return Err(CliError::input(format!(
                "{} has no signatures to preserve",
                file.display()
            )));
        }
        for cms in sigs {
            for c in signet_cms::certificates_of(&cms) {
                if !data.certs.contains(&c) {
                    data.certs.push(c);
                }
            }
        }
    }
    for c in inputs::certificates_from(&cert)? {
        if !data.certs.iter().any(|d| d == c.der()) {
            data.certs.push(c.der().to_vec());
        }
    }
    data.crls = inputs::crls_from(&crl)?.iter().map(|c| c.der().to_vec()).collect();
    let pdf_err = |e: signet_pdf::PdfError| CliError::input(format!("{}: {e}", file.display()));
    match &tsa {
        None => inputs::write_atomic_with(&out, false, &mut |w| {
            signet_pdf::ltv::add_dss(&src, w, &data).map(|_| ()).map_err(pdf_err)
        })?,
        Some(url) => {
            // The DSS update first (beside the output), then the timestamp over it.
            let dir = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mid = dir.join(format!(".signet-ltv-{}.pdf", std::process::id()));
            let result = (|| {
                inputs::write_atomic_with(&mid, false, &mut |w| {
                    signet_pdf::ltv::add_dss(&src, w, &data).map(|_| ()).map_err(pdf_err)
                })?;
                let with_dss = open(&mid)?;
                inputs::write_atomic_with(&out, false, &mut |w| {
                    let mut stamp = |digest: &[u8]| {
                        crate::tsa_client::stamp_digest(url, signet_crypto::HashAlgorithm::Sha256, digest)
                    };
                    signet_pdf::timestamp_to(&with_dss, w, None, &mut stamp)
                        .map(|_| ())
                        .map_err(pdf_err)
                })
            })();
            let _ = std::fs::remove_file(&mid);
            result?;
        }
    }
    println!(
        "{} -> {} (DSS: {} certificate(s), {} CRL(s){})",
        file.display(),
        out.display(),
        data.certs.len(),
        data.crls.len(),
        if tsa.is_some() { ", document timestamp" } else { "" }
    );
    Ok(Exit::Ok)
}
