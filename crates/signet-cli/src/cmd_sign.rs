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
    /// The files to sign (PDFs get an embedded signature; with --detached any file gets a .p7s).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the signed files into this directory (batch signing).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
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
    /// PDF: show the signature as a stamp on the page (signer, date, reason).
    #[arg(long)]
    pub visible: bool,
    /// PDF: stamp position and size in points as X,Y,WIDTH,HEIGHT from the bottom-left corner of
    /// the page as displayed (default 36,36,220,64).
    #[arg(long, value_name = "X,Y,W,H")]
    pub stamp_rect: Option<String>,
    /// PDF: a JPEG or PNG shown in the stamp (implies --visible).
    #[arg(long)]
    pub stamp_image: Option<PathBuf>,
    /// PDF: stamp text lines instead of the default ones (repeatable; implies --visible).
    #[arg(long)]
    pub stamp_text: Vec<String>,
    /// PDF: sign even if the document carries shadow-attack preparations (duplicate object
    /// definitions, dormant page trees, optional content).
    #[arg(long)]
    pub allow_suspicious_structure: bool,
    /// Time-stamp the signature at this RFC 3161 TSA (http://…): CAdES-T / PAdES B-T. If the TSA
    /// fails, nothing is written.
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    /// Overwrite the output.
    #[arg(long)]
    pub force: bool,
    /// PDF: the PAdES baseline level. B-T needs --tsa; B-LT also stores the certificates, the
    /// CRLs fetched from their distribution points and the answers of their OCSP responders
    /// (DSS), and fails unless every certificate but the root is covered; B-LTA adds a
    /// document timestamp.
    #[arg(long, value_parser = ["B-B", "B-T", "B-LT", "B-LTA"])]
    pub level: Option<String>,
    /// With --level B-LT|B-LTA: CRLs to store as well (PEM or DER; e.g. the root's, for an
    /// issuing CA certificate without a distribution point); repeatable.
    #[arg(long, requires = "level")]
    pub crl: Vec<PathBuf>,
    /// With --server: the server key to sign with (see the server's GET /api/v1/keys).
    #[arg(long)]
    pub key_id: Option<String>,
    /// With --server: the one-time code from your authenticator app (prompted when absent and
    /// the account needs one).
    #[arg(long)]
    pub totp: Option<String>,
    /// With --server: document title (default: the file name).
    #[arg(long)]
    pub title: Option<String>,
    /// With --server: document type, matched by key policies (e.g. leave, contract).
    #[arg(long, value_name = "TYPE")]
    pub doc_type: Option<String>,
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

/// Whether to sign `path` as a PDF: the one rule ([`signet_validate::FileKind`]); a file named
/// `.pdf` that is not one is still signed as a PDF, so that the PDF reader says what is wrong.
fn is_pdf(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
        || signet_validate::FileKind::of_file(path).is_ok_and(|k| k == signet_validate::FileKind::Pdf)
}

fn signed_pdf_name(p: &Path) -> PathBuf {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document".into());
    p.with_file_name(format!("{stem}-signed.pdf"))
}

/// What to make of one input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    Pdf,
    Detached,
    Attached,
}

pub(crate) fn job_for(a: &Args, file: &Path) -> CliResult<Job> {
    Ok(match (a.detached, a.attached) {
        (true, _) => Job::Detached,
        (_, true) => Job::Attached,
        _ if is_pdf(file) => Job::Pdf,
        _ => {
            return Err(CliError::input(format!(
                "{} is not a PDF: say --detached (a separate .p7s file) or --attached (content inside the signature)",
                file.display()
            )));
        }
    })
}

pub(crate) fn output_for(a: &Args, file: &Path, job: Job) -> PathBuf {
    if let Some(o) = &a.out {
        return o.clone();
    }
    let default = match job {
        Job::Pdf => signed_pdf_name(file),
        Job::Detached | Job::Attached => p7s_name(file),
    };
    match &a.out_dir {
        Some(dir) => {
            let name = match job {
                Job::Pdf => file.file_name().map(PathBuf::from),
                _ => default.file_name().map(PathBuf::from),
            };
            dir.join(name.unwrap_or(default))
        }
        None => default,
    }
}

/// Signs one file; returns the output path and what was made.
fn sign_one(a: &Args, signer: &SoftwareSigner, file: &Path) -> CliResult<(PathBuf, String)> {
    let job = job_for(a, file)?;
    let out = output_for(a, file, job);
    inputs::check_new(&out, a.force)?;
    if out == file {
        return Err(CliError::input(
            "the output must not be the input file: the original is kept until the signed file is written",
        ));
    }
    let (bytes, kind) = match job {
        Job::Pdf => {
            let f = std::fs::File::open(file)
                .and_then(signet_pdf::FileSource::new)
                .map_err(|e| CliError::input(format!("cannot read PDF {}: {e}", file.display())))?;
            let mut opts = signet_pdf::PadesOptions::new(signet_pki::time::now());
            opts.reason = a.reason.clone();
            opts.location = a.location.clone();
            opts.contact_info = a.contact.clone();
            opts.field_name = a.field.clone();
            opts.certify = a.certify;
            opts.page = a.page;
            opts.allow_suspicious = a.allow_suspicious_structure;
            opts.stamp = stamp_for(a, signer, opts.signing_time)?;
            // Item 50: large overlays are a heuristic, so they warn rather than refuse.
            for w in signet_pdf::preflight::overlay_warnings_for(&f).unwrap_or_default() {
                eprintln!("signet: warning: {}: {} (check what you sign)", file.display(), w.0);
            }
            // Streamed: the original is hashed and copied in chunks into a temporary file.
            let hash = signer_hash(signer);
            inputs::write_atomic_with(&out, false, &mut |w| {
                let mut stamp = |sig: &[u8]| crate::net::stamp(a.tsa.as_deref().unwrap_or_default(), hash, sig);
                let stamper: Option<signet_cms::Stamper<'_>> = if a.tsa.is_some() { Some(&mut stamp) } else { None };
                signet_pdf::sign_to_stamped(&f, w, signer, &opts, stamper)
                    .map(|_| ())
                    .map_err(|e| match e {
                        signet_pdf::PdfError::Cms(c) => CliError::from(c),
                        other => CliError::input(format!("{}: {other}", file.display())),
                    })
            })?;
            let mut level = if a.tsa.is_some() { "B-T" } else { "B-B" };
            if let Some(l @ ("B-LT" | "B-LTA")) = a.level.as_deref() {
                upgrade_ltv(a, &out, l == "B-LTA")?;
                level = l;
            }
            let kind = match a.certify {
                Some(p) => format!("PAdES {level} certification signature, DocMDP P={p}"),
                None => format!("PAdES {level} approval signature"),
            };
            return Ok((out, kind));
        }
        Job::Detached | Job::Attached => {
            let opts = SignOptions {
                signing_time: a.signing_time.then(signet_pki::time::now),
                ..Default::default()
            };
            let hash = signer_hash(signer);
            let (digest, content) = if job == Job::Attached {
                let content = inputs::read(file, "file to sign")?;
                (signet_crypto::digest::hash(hash, &content), Some(content))
            } else {
                let f = std::fs::File::open(file)
                    .map_err(|e| CliError::input(format!("cannot open {}: {e}", file.display())))?;
                let (d, _) = signet_crypto::digest::hash_reader(hash, std::io::BufReader::new(f))
                    .map_err(|e| CliError::input(format!("cannot read {}: {e}", file.display())))?;
                (d, None)
            };
            let mut stamp = |sig: &[u8]| crate::net::stamp(a.tsa.as_deref().unwrap_or_default(), hash, sig);
            let stamper: Option<signet_cms::Stamper<'_>> = if a.tsa.is_some() { Some(&mut stamp) } else { None };
            let cms = signet_cms::sign_digest_stamped(&digest, content.as_deref(), signer, &opts, stamper)?;
            let level = if a.tsa.is_some() { "B-T" } else { "B-B" };
            let how = if job == Job::Attached { "attached" } else { "detached" };
            (cms, format!("CAdES {level} {how}"))
        }
    };
    inputs::write_atomic(&out, &bytes, false)?;
    Ok((out, kind))
}

/// Turns the freshly signed `out` into B-LT (DSS with the certificates, the CRLs fetched from
/// their distribution points and the OCSP responders' answers) or B-LTA (plus a document
/// timestamp). Without any revocation data, or on any other failure, nothing is left.
fn upgrade_ltv(a: &Args, out: &Path, lta: bool) -> CliResult<()> {
    let bt = out.with_file_name(format!(
        ".{}.signet-bt",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    std::fs::rename(out, &bt).map_err(|e| CliError::internal(format!("cannot move {}: {e}", out.display())))?;
    let r = crate::cmd_ltv::add(
        bt.clone(),
        out.to_path_buf(),
        crate::cmd_ltv::AddOptions {
            tsa: if lta { a.tsa.clone() } else { None },
            crl: a.crl.clone(),
            force: true,
            fetch_crls: true,
            fetch_ocsp: true,
            require_revocation: true,
            ..Default::default()
        },
    );
    let _ = std::fs::remove_file(&bt);
    if r.is_err() {
        let _ = std::fs::remove_file(out);
    }
    r.map(|_| ())
}

fn check_level(a: &Args) -> CliResult<()> {
    match (a.level.as_deref(), a.tsa.is_some()) {
        (Some("B-B"), true) => Err(CliError::input("--level B-B means no time-stamp: drop --tsa")),
        (Some(l @ ("B-T" | "B-LT" | "B-LTA")), false) => Err(CliError::input(format!(
            "--level {l} needs a time-stamping authority: --tsa http://…"
        ))),
        (Some("B-LT" | "B-LTA"), _) if a.detached || a.attached => Err(CliError::input(
            "--level B-LT/B-LTA applies to PDFs; for CAdES use --tsa (B-T)",
        )),
        _ => Ok(()),
    }
}

pub fn run(a: Args) -> CliResult<Exit> {
    check_level(&a)?;
    if a.files.len() > 1 && a.out.is_some() {
        return Err(CliError::input("-o names one output; with several files use --out-dir"));
    }
    // Refuse a non-PDF without --detached/--attached before asking for a passphrase.
    if a.files.len() == 1 {
        job_for(&a, &a.files[0])?;
    }
    if let Some(dir) = &a.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))?;
    }
    let signer = load_signer(&a)?;
    if a.files.len() == 1 && a.out_dir.is_none() {
        let (out, kind) = sign_one(&a, &signer, &a.files[0])?;
        println!("signed {} -> {} ({kind})", a.files[0].display(), out.display());
        return Ok(Exit::Ok);
    }
    let bar = indicatif::ProgressBar::new(a.files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut failures = Vec::new();
    let mut done = 0usize;
    for file in &a.files {
        bar.set_message(file.display().to_string());
        match sign_one(&a, &signer, file) {
            Ok(_) => done += 1,
            Err(e) => failures.push((file.clone(), e.message)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("signed {done} of {} file(s)", a.files.len());
    if failures.is_empty() {
        return Ok(Exit::Ok);
    }
    eprintln!("failed:");
    for (f, why) in &failures {
        eprintln!("  {}: {why}", f.display());
    }
    Err(CliError::input(format!(
        "{} of {} file(s) could not be signed (listed above)",
        failures.len(),
        a.files.len()
    )))
}

/// The stamp the options ask for, if any.
fn stamp_for(a: &Args, signer: &SoftwareSigner, when: i64) -> CliResult<Option<signet_pdf::appearance::Stamp>> {
    if !a.visible && a.stamp_rect.is_none() && a.stamp_image.is_none() && a.stamp_text.is_empty() {
        return Ok(None);
    }
    let rect = match &a.stamp_rect {
        None => [36.0, 36.0, 220.0, 64.0],
        Some(s) => {
            let v: Vec<f32> = s
                .split(',')
                .map(|p| p.trim().parse::<f32>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    CliError::input(format!(
                        "--stamp-rect {s:?}: give four numbers X,Y,WIDTH,HEIGHT in points"
                    ))
                })?;
            <[f32; 4]>::try_from(v.as_slice())
                .map_err(|_| CliError::input(format!("--stamp-rect {s:?}: give four numbers X,Y,WIDTH,HEIGHT")))?
        }
    };
    let image = match &a.stamp_image {
        Some(p) => Some(
            signet_pdf::image::StampImage::from_bytes(&inputs::read(p, "stamp image")?)
                .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?,
        ),
        None => None,
    };
    let lines = if a.stamp_text.is_empty() {
        use signet_crypto::Signer;
        let who = signer
            .certificate_chain()
            .first()
            .and_then(|c| signet_pki::Certificate::from_der(c).ok())
            .map(|c| c.display_name())
            .unwrap_or_default();
        let t = time::OffsetDateTime::from_unix_timestamp(when).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let mut l = vec![
            format!("Digitally signed by {who}"),
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute()
            ),
        ];
        if let Some(r) = &a.reason {
            l.push(format!("Reason: {r}"));
        }
        if let Some(loc) = &a.location {
            l.push(format!("Location: {loc}"));
        }
        l
    } else {
        a.stamp_text.clone()
    };
    Ok(Some(signet_pdf::appearance::Stamp { rect, lines, image }))
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
