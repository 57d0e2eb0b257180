//! `signet sign`: PAdES signatures embedded in PDFs, CAdES baseline B-B detached (or attached)
//! signatures for any file.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use signet_cms::SignOptions;
use signet_crypto::{HashAlgorithm, PrivateKey, SignatureAlgorithm, SoftwareSigner, pkcs12};
use signet_pki::Certificate;

use crate::exit::{CliError, CliResult, Exit};
use crate::{cmd_key, inputs, passphrase};

/// Environment variable holding a PKCS#12 bundle's password.
pub const ENV_P12_PASSPHRASE: &str = "SIGNET_P12_PASSPHRASE";

#[derive(ClapArgs)]
pub struct Args {
    /// The file to sign.
    pub file: PathBuf,
    /// Write a detached signature (.p7s) next to the file instead of changing it.
    #[arg(long)]
    pub detached: bool,
    /// Encapsulate the content in the signature (CMS attached) instead of detaching it.
    #[arg(long, conflicts_with = "detached")]
    pub attached: bool,
    /// Output file (default: FILE.p7s).
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// The signer's key file.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// The signer's certificate (PEM; further certificates in the file are embedded as the chain).
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// More chain certificates to embed.
    #[arg(long)]
    pub chain: Vec<PathBuf>,
    /// A PKCS#12 bundle with key and certificates instead of --key/--cert.
    #[arg(long, conflicts_with_all = ["key", "cert"])]
    pub p12: Option<PathBuf>,
    /// Passphrase file for --key (else $SIGNET_PASSPHRASE) or --p12 (else $SIGNET_P12_PASSPHRASE); else a prompt.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Add the signing-time attribute (the signer's claim; a timestamp proves time).
    #[arg(long)]
    pub signing_time: bool,
    /// Use RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only).
    #[arg(long)]
    pub pss: bool,
    /// PDF: reason for signing.
    #[arg(long)]
    pub reason: Option<String>,
    /// PDF: where the signing happened.
    #[arg(long)]
    pub location: Option<String>,
    /// PDF: how to reach the signer.
    #[arg(long)]
    pub contact: Option<String>,
    /// PDF: name of the new signature field.
    #[arg(long)]
    pub field: Option<String>,
    /// PDF: make a certification signature allowing 1 = no changes, 2 = form filling and
    /// signing, 3 = also annotations.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub certify: Option<u8>,
    /// PDF: page (1-based) that carries the signature widget.
    #[arg(long, default_value_t = 1)]
    pub page: usize,
    /// PDF: sign even if the document carries shadow-attack preparations (duplicate object
    /// definitions, dormant page trees, optional content).
    #[arg(long)]
    pub allow_suspicious_structure: bool,
    /// Overwrite the output.
    #[arg(long)]
    pub force: bool,
}

/// Loads the signer from --key/--cert/--chain or --p12.
pub fn load_signer(a: &Args) -> CliResult<SoftwareSigner> {
    let (key, mut chain): (PrivateKey, Vec<Vec<u8>>) = match (&a.p12, &a.key, &a.cert) {
        (Some(p), _, _) => {
            let data = inputs::read(p, "PKCS#12 bundle")?;
            let pass = passphrase::obtain(
                a.passphrase_file.as_deref(),
                ENV_P12_PASSPHRASE,
                "PKCS#12 password",
                false,
            )?;
            let c = pkcs12::parse(&data, &pass).map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
            if c.certificates.is_empty() {
                return Err(CliError::input("the PKCS#12 bundle holds no certificate"));
            }
            (c.key, c.certificates)
        }
        (None, Some(k), Some(c)) => {
            let key = cmd_key::load_key(k, a.passphrase_file.as_deref())?;
            let certs = inputs::certificates(c)?;
            (key, certs.iter().map(|c| c.der().to_vec()).collect())
        }
        _ => return Err(CliError::input("give the signer with --key and --cert, or --p12")),
    };
    for extra in inputs::certificates_from(&a.chain)? {
        if !chain.iter().any(|c| c == extra.der()) {
            chain.push(extra.der().to_vec());
        }
    }
    let leaf = Certificate::from_der(&chain[0])?;
    if leaf.spki_der()? != key.public_key_der()? {
        return Err(CliError::input(format!(
            "the certificate ({}) does not belong to the key",
            leaf.display_name()
        )));
    }
    let mut signer = SoftwareSigner::new(key);
    if a.pss {
        let h = match signer.key() {
            PrivateKey::Rsa(_) => HashAlgorithm::Sha256,
            _ => return Err(CliError::input("--pss needs an RSA key")),
        };
        signer = signer.with_algorithm(SignatureAlgorithm::RsaPss(h))?;
    }
    Ok(signer.with_chain(chain))
}

fn is_pdf(path: &Path) -> bool {
    if path.extension().map(|e| e.eq_ignore_ascii_case("pdf")).unwrap_or(false) {
        return true;
    }
    let mut head = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .map(|_| &head == b"%PDF-")
        .unwrap_or(false)
}

fn signed_pdf_name(p: &Path) -> PathBuf {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document".into());
    p.with_file_name(format!("{stem}-signed.pdf"))
}

fn sign_pdf(a: &Args) -> CliResult<Exit> {
    let out = a.out.clone().unwrap_or_else(|| signed_pdf_name(&a.file));
    inputs::check_new(&out, a.force)?;
    if out == a.file {
        return Err(CliError::input(
            "the output must not be the input file: the original is kept until the signed file is written",
        ));
    }
    let signer = load_signer(a)?;
    let pdf = inputs::read(&a.file, "PDF")?;
    let mut opts = signet_pdf::PadesOptions::new(signet_pki::time::now());
    opts.reason = a.reason.clone();
    opts.location = a.location.clone();
    opts.contact_info = a.contact.clone();
    opts.field_name = a.field.clone();
    opts.certify = a.certify;
    opts.page = a.page;
    opts.allow_suspicious = a.allow_suspicious_structure;
    let signed = signet_pdf::sign_pdf(&pdf, &signer, &opts).map_err(|e| match e {
        signet_pdf::PdfError::Cms(c) => CliError::from(c),
        other => CliError::input(format!("{}: {other}", a.file.display())),
    })?;
    inputs::write_atomic(&out, &signed, false)?;
    let kind = match a.certify {
        Some(p) => format!("certification signature (DocMDP P={p})"),
        None => "approval signature".into(),
    };
    println!("signed {} -> {} (PAdES B-B {kind})", a.file.display(), out.display());
    Ok(Exit::Ok)
}

pub fn run(a: Args) -> CliResult<Exit> {
    if !a.detached && !a.attached {
        if is_pdf(&a.file) {
            return sign_pdf(&a);
        }
        return Err(CliError::input(
            "this is not a PDF: say --detached (a separate .p7s file) or --attached (content inside the signature)",
        ));
    }
    let out = a.out.clone().unwrap_or_else(|| p7s_name(&a.file));
    inputs::check_new(&out, a.force)?;
    let signer = load_signer(&a)?;
    let opts = SignOptions {
        signing_time: a.signing_time.then(signet_pki::time::now),
        ..Default::default()
    };
    let der = if a.detached {
        let f = std::fs::File::open(&a.file)
            .map_err(|e| CliError::input(format!("cannot open {}: {e}", a.file.display())))?;
        signet_cms::sign_detached_reader(std::io::BufReader::new(f), &signer, &opts)?
    } else {
        let content = inputs::read(&a.file, "file to sign")?;
        let d = signet_crypto::digest::hash(signer_hash(&signer), &content);
        signet_cms::sign_digest(&d, Some(&content), &signer, &opts)?
    };
    inputs::write_atomic(&out, &der, false)?;
    println!("signed {} -> {}", a.file.display(), out.display());
    Ok(Exit::Ok)
}

fn signer_hash(s: &SoftwareSigner) -> HashAlgorithm {
    use signet_crypto::Signer;
    s.signature_algorithm().hash()
}

fn p7s_name(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".p7s");
    PathBuf::from(s)
}
