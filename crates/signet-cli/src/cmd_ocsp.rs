//! `signet ocsp check`: ask an OCSP responder (RFC 6960) about a certificate and verify the
//! answer (signature by the CA or its authorised responder, CertID, nonce, freshness).

use std::path::PathBuf;

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
    // A URL the user gave is used as given; one from the certificate under the fetch policy.
    let (url, client) = match url {
        Some(u) => (u, crate::net::user_client()?),
        None => (
            cert.ocsp_urls()
                .map_err(CliError::input)?
                .into_iter()
                .next()
                .ok_or_else(|| CliError::input("the certificate names no OCSP responder; give --url"))?,
            crate::net::fetch_client()?,
        ),
    };
    let (a, _, _) = signet_net::revocation::ask_ocsp(client, &url, &cert, &issuer, signet_pki::time::now())
        .map_err(|e| CliError::input(e.to_string()))?;
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
