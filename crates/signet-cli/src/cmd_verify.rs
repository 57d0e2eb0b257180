//! `signet verify`: one command for every signature Signet makes: PDFs (every signature field,
//! with coverage and modification analysis), detached and attached CMS.

use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};
use signet_cms::{VerifyInput, VerifyOptions};
use signet_pki::{Indication, time};

use crate::exit::{CliError, CliResult, Exit};
use crate::inputs;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Html,
}

#[derive(ClapArgs)]
pub struct Args {
    /// The signed file (with --signature), or a signature that encapsulates its content.
    pub file: PathBuf,
    /// The detached signature (.p7s, DER or PEM).
    #[arg(short, long)]
    pub signature: Option<PathBuf>,
    /// Trust anchor certificates (PEM bundles or DER); repeatable.
    #[arg(long)]
    pub trust: Vec<PathBuf>,
    /// Further certificates for building the chain; repeatable.
    #[arg(long)]
    pub cert: Vec<PathBuf>,
    /// CRLs to check revocation against; repeatable.
    #[arg(long)]
    pub crl: Vec<PathBuf>,
    /// Fetch the CRLs at the distribution points of the signers' certificates (http://,
    /// cached until their nextUpdate).
    #[arg(long)]
    pub fetch_crls: bool,
    /// OCSP responses (DER) to check revocation against; repeatable.
    #[arg(long)]
    pub ocsp: Vec<PathBuf>,
    /// Ask the OCSP responders named in the certificates (http://, cached while fresh).
    #[arg(long)]
    pub fetch_ocsp: bool,
    /// Validate as of this time instead of now (2026-11-29 or 2026-11-29T10:00:00Z).
    #[arg(long)]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

fn decode_signature(data: Vec<u8>) -> CliResult<Vec<u8>> {
    if signet_crypto::pem::is_pem(&data) {
        let blocks = signet_crypto::pem::parse_blocks(&data)?;
        return blocks
            .into_iter()
            .find(|b| matches!(b.label.as_str(), "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA"))
            .map(|b| b.der)
            .ok_or_else(|| CliError::input("no PKCS7/CMS block in the PEM signature file"));
    }
    Ok(data)
}

/// Whether the file starts like a PDF (within the first KiB, as readers allow).
fn is_pdf(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 1024];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    memchr_find(&head[..n], b"%PDF-")
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The certificates in the signatures of `a.file` (or `a.signature`), with `extra`.
fn signature_certificates(a: &Args, extra: &[signet_pki::Certificate]) -> CliResult<Vec<signet_pki::Certificate>> {
    let mut cms_list = Vec::new();
    match &a.signature {
        Some(p) => cms_list.push(decode_signature(inputs::read(p, "signature")?)?),
        None if is_pdf(&a.file) => {
            let f = std::fs::File::open(&a.file)
                .and_then(signet_pdf::FileSource::new)
                .map_err(|e| CliError::input(format!("cannot read {}: {e}", a.file.display())))?;
            let doc = signet_pdf::document::PdfDocument::parse(&f, &Default::default())
                .map_err(|e| CliError::input(format!("{}: {e}", a.file.display())))?;
            cms_list.extend(signet_pdf::validate::signature_contents(&doc));
        }
        None => cms_list.push(decode_signature(inputs::read(&a.file, "signature")?)?),
    }
    let mut certs: Vec<signet_pki::Certificate> = extra.to_vec();
    for cms in &cms_list {
        certs.extend(
            signet_cms::certificates_of(cms)
                .iter()
                .filter_map(|d| signet_pki::Certificate::from_der(d).ok()),
        );
    }
    Ok(certs)
}

pub fn run(a: Args) -> CliResult<Exit> {
    let anchors = inputs::certificates_from(&a.trust)?;
    let extra = inputs::certificates_from(&a.cert)?;
    let mut crls = inputs::crls_from(&a.crl)?;
    let mut ocsps = inputs::ocsp_responses_from(&a.ocsp)?;
    if a.fetch_crls || a.fetch_ocsp {
        let certs = signature_certificates(&a, &extra)?;
        if a.fetch_crls {
            crls.extend(crate::crl_fetch::for_certificates(&certs, time::now()));
        }
        if a.fetch_ocsp {
            ocsps.extend(crate::ocsp_fetch::for_certificates(&certs, &anchors, time::now()));
        }
    }
    let at = match &a.at {
        Some(s) => time::parse(s)?,
        None => time::now(),
    };
    let opts = VerifyOptions::new(at);
    let report = match &a.signature {
        Some(sig_path) => {
            let sig = decode_signature(inputs::read(sig_path, "signature")?)?;
            let f = std::fs::File::open(&a.file)
                .map_err(|e| CliError::input(format!("cannot open {}: {e}", a.file.display())))?;
            let mut reader = std::io::BufReader::new(f);
            signet_cms::verify(
                VerifyInput {
                    cms: &sig,
                    detached: Some(&mut reader),
                    trust_anchors: &anchors,
                    extra_certs: &extra,
                    crls: &crls,
                    ocsps: &ocsps,
                },
                &opts,
            )
        }
        None if is_pdf(&a.file) => {
            let f = std::fs::File::open(&a.file)
                .and_then(signet_pdf::FileSource::new)
                .map_err(|e| CliError::input(format!("cannot read {}: {e}", a.file.display())))?;
            let report = signet_pdf::validate::validate(
                &f,
                &signet_pdf::validate::Inputs {
                    trust_anchors: &anchors,
                    extra_certs: &extra,
                    crls: &crls,
                    ocsps: &ocsps,
                },
                &opts,
            )
            .map_err(|e| CliError::input(format!("{}: {e}", a.file.display())))?;
            if report.signatures.is_empty() {
                eprintln!("signet: {} has no signatures", a.file.display());
            }
            report
        }
        None => {
            let data = inputs::read(&a.file, "signature")?;
            let sig = decode_signature(data)?;
            signet_cms::verify(
                VerifyInput {
                    cms: &sig,
                    detached: None,
                    trust_anchors: &anchors,
                    extra_certs: &extra,
                    crls: &crls,
                    ocsps: &ocsps,
                },
                &opts,
            )
        }
    };
    // A file that is not a CMS structure at all is bad input, not an invalid signature.
    if let [sig] = report.signatures.as_slice()
        && sig.embedded.is_none()
        && sig.checks.len() == 1
        && sig.checks[0].id == "structure"
    {
        return Err(CliError::input(format!(
            "not a readable CMS signature: {}",
            sig.summary
        )));
    }
    match a.format {
        Format::Text => print!("{}", report.render_text()),
        Format::Json => println!("{}", report.render_json()),
        Format::Html => {
            let name = a
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            print!("{}", report.render_html(&name))
        }
    }
    Ok(if report.indication == Indication::TotalPassed {
        Exit::Ok
    } else {
        Exit::Invalid
    })
}
