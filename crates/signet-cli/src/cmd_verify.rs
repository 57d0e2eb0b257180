//! `signet verify`: one command for every signature Signet makes or meets — PDFs (every
//! signature field, with coverage and modification analysis), detached and attached CMS — and
//! for many files at once (validated on all cores, reported in the order given).
//!
//! The command only builds the [`ValidationContext`] from its flags and calls the one entry
//! point, [`signet_validate::validate`].

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args as ClapArgs, ValueEnum};
use signet_pki::{Indication, ValidationContext, ValidationReport, time};
use signet_validate::{Content, Input};

use crate::exit::{CliError, CliResult, Exit};
use crate::inputs;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable report (one line per file when several are given).
    Text,
    /// The JSON report (an array of {file, report} when several files are given).
    Json,
    /// One JSON object per line: {"file": …, "report": …}.
    Jsonl,
    /// An HTML page (one file only).
    Html,
}

#[derive(ClapArgs)]
pub struct Args {
    /// The signed files: PDFs, or signatures that encapsulate their content; with --signature,
    /// the one file it signs.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The detached signature (.p7s, DER or PEM) over the one file given.
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
    /// Fetch CRLs from the distribution points of certificates on the paths being validated
    /// (http:// or https://, cached until their nextUpdate) when nothing else says whether
    /// they are revoked.
    #[arg(long)]
    pub fetch_crls: bool,
    /// OCSP responses (DER) to check revocation against; repeatable.
    #[arg(long)]
    pub ocsp: Vec<PathBuf>,
    /// Ask the OCSP responders named in certificates on the paths being validated (cached
    /// while fresh).
    #[arg(long)]
    pub fetch_ocsp: bool,
    /// Validate as of this time instead of now (2026-11-29 or 2026-11-29T10:00:00Z).
    #[arg(long)]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// The context the flags describe.
fn context(a: &Args) -> CliResult<ValidationContext> {
    let at = match &a.at {
        Some(s) => time::parse(s)?,
        None => time::now(),
    };
    let mut ctx = ValidationContext::new(inputs::certificates_from(&a.trust)?, at)
        .with_certificates(inputs::certificates_from(&a.cert)?)
        .with_crls(inputs::crls_from(&a.crl)?)
        .with_ocsps(inputs::ocsp_responses_from(&a.ocsp)?);
    if a.fetch_crls || a.fetch_ocsp {
        ctx = ctx.with_fetcher(crate::net::fetcher(a.fetch_crls, a.fetch_ocsp)?);
    }
    Ok(ctx)
}

/// Validates one file.
fn one(file: &Path, signature: Option<&[u8]>, ctx: &ValidationContext) -> CliResult<ValidationReport> {
    signet_validate::validate(
        Input {
            content: Content::File(file),
            signature,
        },
        ctx,
    )
    .map_err(|e| CliError::input(format!("{}: {e}", file.display())))
}

/// Validates every file on all cores; results in the order given.
/// What one file came to: its exit code and its rendering (a text line, a JSON line or a JSON
/// array item), made on the worker that validated it.
type Rendered = (Exit, String);

/// Renders one file's outcome in `format` (a line of text, or one JSON value).
fn render(format: Format, file: &Path, r: &CliResult<ValidationReport>) -> Rendered {
    #[derive(serde::Serialize)]
    struct Item<'a> {
        file: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        report: Option<&'a ValidationReport>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
    }
    let code = match r {
        Ok(r) => exit_of(r),
        Err(e) => e.code,
    };
    let name = file.display().to_string();
    let text = match (format, r) {
        (Format::Text, Ok(r)) => line(file, r),
        (Format::Text, Err(e)) => format!("{name}: error: {}", e.message),
        (_, r) => {
            let item = Item {
                file: name,
                report: r.as_ref().ok(),
                error: r.as_ref().err().map(|e| e.message.as_str()),
            };
            serde_json::to_string(&item).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        }
    };
    (code, text)
}

/// Validates and renders every file, on all cores; results in the files' order.
fn many(files: &[PathBuf], ctx: &ValidationContext, format: Format) -> Vec<Rendered> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Rendered>>> = files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let r = render(format, f, &one(f, None, ctx));
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| (Exit::Internal, "error: a validation worker stopped".into()))
        })
        .collect()
}

fn exit_of(r: &ValidationReport) -> Exit {
    if r.indication == Indication::TotalPassed {
        Exit::Ok
    } else {
        Exit::Invalid
    }
}

/// One line for a file: its verdict and, when it did not pass, the first reason.
fn line(file: &Path, r: &ValidationReport) -> String {
    let worst = r.signatures.iter().find(|s| s.indication == r.indication);
    let why = match worst {
        _ if r.signatures.is_empty() => "no signatures".to_string(),
        Some(s) if r.indication != Indication::TotalPassed => format!(
            "{}{}",
            s.sub_indication
                .map(|x| format!("{}: ", x.as_str()))
                .unwrap_or_default(),
            s.summary
        ),
        _ => {
            let levels: Vec<&str> = r.signatures.iter().filter_map(|s| s.level.as_deref()).collect();
            if levels.is_empty() {
                "valid".into()
            } else {
                levels.join(", ")
            }
        }
    };
    format!(
        "{}: {} ({} signature(s)): {why}",
        file.display(),
        r.indication.as_str(),
        r.signatures.len()
    )
}

pub fn run(a: Args) -> CliResult<Exit> {
    if a.signature.is_some() && a.files.len() != 1 {
        return Err(CliError::input("--signature goes with exactly one signed file"));
    }
    if a.format == Format::Html && a.files.len() != 1 {
        return Err(CliError::input(
            "--format html renders one file; use text, json or jsonl for several",
        ));
    }
    let ctx = context(&a)?;
    if let [file] = a.files.as_slice()
        && a.format != Format::Jsonl
    {
        let sig = match &a.signature {
            Some(p) => Some(inputs::read(p, "signature")?),
            None => None,
        };
        let report = one(file, sig.as_deref(), &ctx)?;
        if report.signatures.is_empty() {
            eprintln!("signet: {} has no signatures", file.display());
        }
        match a.format {
            Format::Text => print!("{}", report.render_text()),
            Format::Json => println!("{}", report.render_json()),
            _ => {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                print!("{}", report.render_html(&name))
            }
        }
        return Ok(exit_of(&report));
    }
    let sig = match &a.signature {
        Some(p) => Some(inputs::read(p, "signature")?),
        None => None,
    };
    let results = match &sig {
        Some(s) => vec![render(a.format, &a.files[0], &one(&a.files[0], Some(s), &ctx))],
        None => many(&a.files, &ctx, a.format),
    };
    let worst = results
        .iter()
        .map(|(code, _)| *code)
        .max_by_key(|c| *c as i32)
        .unwrap_or(Exit::Ok);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if a.format == Format::Json {
        let items: Vec<&str> = results.iter().map(|(_, t)| t.as_str()).collect();
        writeln!(out, "[{}]", items.join(","))
    } else {
        results.iter().try_for_each(|(_, t)| writeln!(out, "{t}"))
    };
    written.and_then(|()| out.flush()).map_err(CliError::internal)?;
    Ok(worst)
}
