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
        /// What to store and fetch.
        #[command(flatten)]
        options: AddOptions,
    },
    /// Add a fresh document timestamp (and the validation data of the last one) when the last
    /// document timestamp's TSA certificate expires within the given number of days.
    Renew {
        /// The PDF (with at least one document timestamp).
        file: PathBuf,
        /// Where to write the renewed PDF (nothing is written if no renewal is due).
        #[arg(short, long)]
        out: PathBuf,
        /// The RFC 3161 TSA for the new document timestamp (http://…).
        #[arg(long, value_name = "URL")]
        tsa: String,
        /// Renew when the last TSA certificate expires within this many days.
        #[arg(long, default_value_t = 90)]
        within_days: i64,
        /// CRLs for the last time-stamp's certificates; repeatable.
        #[arg(long)]
        crl: Vec<PathBuf>,
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
    match c {
        LtvCommand::Add { file, out, options } => add(file, out, options),
        LtvCommand::Renew {
            file,
            out,
            tsa,
            within_days,
            crl,
            force,
        } => renew(file, out, tsa, within_days, crl, force),
    }
}

fn renew(
    file: PathBuf,
    out: PathBuf,
    tsa: String,
    within_days: i64,
    crl: Vec<PathBuf>,
    force: bool,
) -> CliResult<Exit> {
    inputs::check_new(&out, force)?;
    let src = open(&file)?;
    let doc = signet_pdf::document::PdfDocument::parse(&src, &Default::default())
        .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
    let Some(signet_pdf::ltv::LastTimestamp {
        token,
        tsa_not_after: not_after,
        ..
    }) = signet_pdf::ltv::last_document_timestamp(&doc)
    else {
        return Err(CliError::input(format!(
            "{} has no document timestamp to renew (add one with `signet ltv add --tsa`)",
            file.display()
        )));
    };
    drop(doc);
    let due = not_after - signet_pki::time::now() <= within_days * 86_400;
    if !due {
        println!(
            "{}: the last document timestamp's TSA certificate is valid until {}; no renewal due within {within_days} days",
            file.display(),
            signet_pki::time::format(not_after)
        );
        return Ok(Exit::Ok);
    }
    let data = signet_pdf::ltv::ValidationData {
        certs: signet_cms::certificates_of(&token),
        crls: inputs::crls_from(&crl)?.iter().map(|c| c.der().to_vec()).collect(),
        ocsps: Vec::new(),
    };
    dss_then_timestamp(&file, &src, &out, &data, &tsa)?;
    println!(
        "{} -> {} (renewed: the last TSA certificate expires {})",
        file.display(),
        out.display(),
        signet_pki::time::format(not_after)
    );
    Ok(Exit::Ok)
}

/// A DSS update with `data`, then a document timestamp over it, written atomically to `out`.
fn dss_then_timestamp(
    file: &std::path::Path,
    src: &signet_pdf::FileSource,
    out: &std::path::Path,
    data: &signet_pdf::ltv::ValidationData,
    url: &str,
) -> CliResult<()> {
    let pdf_err = |e: signet_pdf::PdfError| CliError::input(format!("{}: {e}", file.display()));
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mid = dir.join(format!(".signet-ltv-{}.pdf", std::process::id()));
    let result = (|| {
        inputs::write_atomic_with(&mid, false, &mut |w| {
            signet_pdf::ltv::add_dss(src, w, data).map(|_| ()).map_err(pdf_err)
        })?;
        let with_dss = open(&mid)?;
        inputs::write_atomic_with(out, false, &mut |w| {
            let mut stamp = |digest: &[u8]| crate::net::stamp_digest(url, signet_crypto::HashAlgorithm::Sha256, digest);
            signet_pdf::timestamp_to(&with_dss, w, None, &mut stamp)
                .map(|_| ())
                .map_err(pdf_err)
        })
    })();
    let _ = std::fs::remove_file(&mid);
    result
}

/// What `signet ltv add` stores and fetches.
#[derive(clap::Args, Default)]
pub struct AddOptions {
    /// CRLs to store (PEM or DER); repeatable.
    #[arg(long)]
    pub crl: Vec<PathBuf>,
    /// Further certificates to store (e.g. the root); repeatable.
    #[arg(long)]
    pub cert: Vec<PathBuf>,
    /// OCSP responses (DER) to store; repeatable.
    #[arg(long)]
    pub ocsp: Vec<PathBuf>,
    /// Add a document timestamp from this RFC 3161 TSA (http://…): PAdES B-LTA.
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    /// Overwrite the output.
    #[arg(long)]
    pub force: bool,
    /// Also fetch the CRLs at the certificates' distribution points (http://, cached).
    #[arg(long)]
    pub fetch_crls: bool,
    /// Also ask the certificates' OCSP responders (AIA, http://, cached while fresh).
    #[arg(long)]
    pub fetch_ocsp: bool,
    /// Fail (writing nothing) when no CRL or OCSP answer could be had: what `sign --level
    /// B-LT|B-LTA` promises cannot be kept then.
    #[arg(skip)]
    pub require_revocation: bool,
}

/// The certificates among `certs` (but self-issued roots) for which `data` holds no CRL or
/// OCSP answer, by name.
fn without_revocation_data(certs: &[signet_pki::Certificate], data: &signet_pdf::ltv::ValidationData) -> Vec<String> {
    let crls: Vec<signet_pki::Crl> = data
        .crls
        .iter()
        .filter_map(|d| signet_pki::Crl::from_der(d).ok())
        .collect();
    let ocsps: Vec<signet_pki::ocsp::Response> = data
        .ocsps
        .iter()
        .filter_map(|d| signet_pki::ocsp::Response::from_der(d).ok())
        .collect();
    signet_pki::coverage::uncovered_among(certs, &crls, &ocsps)
        .iter()
        .map(|c| c.display_name())
        .collect()
}

/// `signet ltv add` (also the last step of `signet sign --level B-LT|B-LTA`).
pub fn add(file: PathBuf, out: PathBuf, o: AddOptions) -> CliResult<Exit> {
    let AddOptions {
        crl,
        cert,
        ocsp,
        tsa,
        force,
        fetch_crls,
        fetch_ocsp,
        require_revocation,
    } = o;
    inputs::check_new(&out, force)?;
    let src = open(&file)?;
    let mut data = signet_pdf::ltv::ValidationData::default();
    {
        let doc = signet_pdf::document::PdfDocument::parse(&src, &Default::default())
            .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
        if signet_pdf::validate::signature_contents(&doc).is_empty() {
            return Err(CliError::input(format!(
                "{} has no signatures to preserve",
                file.display()
            )));
        }
        for c in signet_pdf::ltv::signature_certificates(&doc) {
            if !data.certs.contains(&c) {
                data.certs.push(c);
            }
        }
    }
    for c in inputs::certificates_from(&cert)? {
        if !data.certs.iter().any(|d| d == c.der()) {
            data.certs.push(c.der().to_vec());
        }
    }
    data.crls = inputs::crls_from(&crl)?.iter().map(|c| c.der().to_vec()).collect();
    data.ocsps = inputs::ocsp_responses_from(&ocsp)?
        .iter()
        .map(|r| r.der().to_vec())
        .collect();
    let certs: Vec<signet_pki::Certificate> = data
        .certs
        .iter()
        .filter_map(|d| signet_pki::Certificate::from_der(d).ok())
        .collect();
    if fetch_crls || fetch_ocsp {
        // The signatures' own certificates: what long-term validation of this file needs.
        let fetcher = crate::net::fetcher(fetch_crls, fetch_ocsp)?;
        for cert in &certs {
            if fetch_crls {
                for c in fetcher.crls_for(cert) {
                    if !data.crls.iter().any(|d| d == c.der()) {
                        data.crls.push(c.der().to_vec());
                    }
                }
            }
            if fetch_ocsp
                && let Some(issuer) = certs.iter().find(|i| cert.is_issued_by(i, &Default::default()))
                && let Some(r) = fetcher.ocsp_for(cert, issuer)
            {
                {
                    if !data.ocsps.iter().any(|d| d == r.der()) {
                        data.ocsps.push(r.der().to_vec());
                    }
                }
            }
        }
    }
    if require_revocation {
        let missing = without_revocation_data(&certs, &data);
        if !missing.is_empty() {
            return Err(CliError::input(format!(
                "no revocation data (CRL or OCSP answer) could be obtained for {}, so the signature cannot be made B-LT; give the issuer's CRL with --crl, or sign at B-T and add the data later with `signet ltv add`",
                missing.join(", ")
            )));
        }
    }
    let pdf_err = |e: signet_pdf::PdfError| CliError::input(format!("{}: {e}", file.display()));
    match &tsa {
        None => inputs::write_atomic_with(&out, false, &mut |w| {
            signet_pdf::ltv::add_dss(&src, w, &data).map(|_| ()).map_err(pdf_err)
        })?,
        Some(url) => dss_then_timestamp(&file, &src, &out, &data, url)?,
    }
    println!(
        "{} -> {} (DSS: {} certificate(s), {} CRL(s), {} OCSP response(s){})",
        file.display(),
        out.display(),
        data.certs.len(),
        data.crls.len(),
        data.ocsps.len(),
        if tsa.is_some() { ", document timestamp" } else { "" }
    );
    Ok(Exit::Ok)
}
