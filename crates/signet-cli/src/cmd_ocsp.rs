//! `signet ocsp check`: ask an OCSP responder (RFC 6960) about a certificate and verify the
//! answer (signature by the CA or its authorised responder, CertID, nonce, freshness).

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;

use crate::exit::{CliError, CliResult, Exit};
use crate::inputs;

#[derive(Subcommand)]
pub enum OcspCommand {
    /// Check a certificate's status. Exit 0: good; 1: revoked or unknown; 2: no usable answer.
    Check {
        /// The certificate to ask about (PEM or DER).
        #[arg(long)]
        cert: PathBuf,
        /// Its issuer's certificate.
        #[arg(long)]
        issuer: PathBuf,
        /// The responder (default: the certificate's AIA OCSP URL).
        #[arg(long)]
        url: Option<String>,
    },
}

const TIMEOUT: Duration = Duration::from_secs(15);

pub fn run(c: OcspCommand) -> CliResult<Exit> {
    let OcspCommand::Check { cert, issuer, url } = c;
    let cert = inputs::certificates(&cert)?
        .into_iter()
        .next()
        .ok_or_else(|| CliError::input("no certificate in --cert"))?;
    let issuer = inputs::certificates(&issuer)?
        .into_iter()
        .next()
        .ok_or_else(|| CliError::input("no certificate in --issuer"))?;
    let url = match url {
        Some(u) => u,
        None => cert
            .ocsp_urls()
            .map_err(CliError::input)?
            .into_iter()
            .next()
            .ok_or_else(|| CliError::input("the certificate names no OCSP responder; give --url"))?,
    };
    let mut nonce = [0u8; 16];
    signet_crypto::random_bytes(&mut nonce).map_err(CliError::internal)?;
    let req = signet_pki::ocsp::request(&cert, &issuer, &nonce).map_err(CliError::input)?;
    let r = crate::http_client::request(
        "POST",
        &url,
        &[
            ("Content-Type", "application/ocsp-request"),
            ("Accept", "application/ocsp-response"),
        ],
        &req,
        TIMEOUT,
        1 << 20,
    )
    .map_err(|e| CliError::input(format!("OCSP responder {url}: {e}")))?;
    if r.status != 200 {
        return Err(CliError::input(format!(
            "OCSP responder {url}: HTTP status {}",
            r.status
        )));
    }
    let a = signet_pki::ocsp::verify_response(&r.body, &cert, &issuer, Some(&nonce), signet_pki::time::now())
        .map_err(|e| CliError::input(format!("OCSP responder {url}: {e}")))?;
    let fmt = signet_pki::time::format;
    let next = a.next_update.map(fmt).unwrap_or_else(|| "-".into());
    let (word, exit) = match a.status {
        signet_pki::ocsp::CertStatus::Good => ("good".to_string(), Exit::Ok),
        signet_pki::ocsp::CertStatus::Unknown => (
            "unknown (the responder does not know this certificate)".to_string(),
            Exit::Invalid,
        ),
        signet_pki::ocsp::CertStatus::Revoked { time, reason } => (
            format!(
                "revoked at {}{}",
                fmt(time),
                reason
                    .map(|r| format!(", reason {}", signet_pki::crl::reason_name(r)))
                    .unwrap_or_default()
            ),
            Exit::Invalid,
        ),
    };
    println!("{}: {word}", cert.display_name());
    println!(
        "  responder {url}, signed by {}, thisUpdate {}, nextUpdate {next}",
        a.signed_by,
        fmt(a.this_update)
    );
    Ok(exit)
}
