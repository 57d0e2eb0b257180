//! `signet`: the command-line signer, verifier and certificate authority.
//!
//! Exit codes (DESIGN.md §5): 0 ok/valid, 1 signature invalid or indeterminate, 2 bad input or
//! usage, 3 internal error.
#![forbid(unsafe_code)]

mod bench;
mod bench_server;
mod bench_tsa;
mod bench_verify;
mod castore;
mod cmd_ca;
mod cmd_key;
mod cmd_ltv;
mod cmd_ocsp;
mod cmd_remote;
mod cmd_serve;
mod cmd_sign;
mod cmd_tsa;
mod cmd_verify;
mod exit;
mod inputs;
mod net;
mod passphrase;
mod quickstart;

use clap::{Parser, Subcommand};

use crate::exit::{CliError, Exit};

/// Signet: electronic signatures you can check.
#[derive(Parser)]
#[command(name = "signet", version, about = "Signet: sign and verify documents, run an organisation CA", long_about = None)]
struct Cli {
    /// Talk to a Signet server (https://HOST or http://HOST:PORT) instead of using local keys: `sign` uploads,
    /// signs there with --key-id and downloads. The API token comes from SIGNET_TOKEN.
    #[arg(long, global = true, env = "SIGNET_SERVER", value_name = "URL")]
    server: Option<String>,
    /// Extra CA certificates (PEM) to trust for https: TSAs, OCSP responders, distribution
    /// points and `--server` (the system's trust store is always used too).
    #[arg(long, global = true, env = "SIGNET_CA_BUNDLE", value_name = "FILE")]
    ca_bundle: Option<std::path::PathBuf>,
    /// Let URLs taken from certificates (distribution points, OCSP responders) reach loopback,
    /// private and link-local addresses (refused by default).
    #[arg(long, global = true)]
    allow_private_fetch: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an organisation CA, keys and a signing certificate, then sign and verify a sample
    /// document: Signet's main job on embedded defaults.
    Quickstart(quickstart::Args),
    /// Generate and import private keys.
    #[command(subcommand)]
    Key(cmd_key::KeyCommand),
    /// Run the organisation certificate authority.
    #[command(subcommand)]
    Ca(cmd_ca::CaCommand),
    /// Issue and revoke certificates.
    #[command(subcommand)]
    Cert(cmd_ca::CertCommand),
    /// Sign a file (CAdES detached signature).
    Sign(Box<cmd_sign::Args>),
    /// Verify a signature and print a report.
    Verify(cmd_verify::Args),
    /// Long-term validation: add validation data and document timestamps to signed PDFs.
    #[command(subcommand)]
    Ltv(cmd_ltv::LtvCommand),
    /// Ask an OCSP responder about a certificate (RFC 6960).
    #[command(subcommand)]
    Ocsp(cmd_ocsp::OcspCommand),
    /// Time-stamping authority (RFC 3161).
    #[command(subcommand)]
    Tsa(cmd_tsa::TsaCommand),
    /// Run the signing server (zero configuration: SQLite and keys in ./signet-data).
    Serve(cmd_serve::ServeArgs),
    /// Server accounts (recovery from the server's console).
    #[command(subcommand)]
    User(cmd_serve::UserCommand),
    /// The server's audit log.
    #[command(subcommand)]
    Audit(cmd_serve::AuditCommand),
    /// Measure Signet against OpenSSL on this machine.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("signet: internal error (please report): {info}");
        std::process::exit(Exit::Internal as i32);
    }));
    let cli = Cli::parse();
    net::configure(net::Settings {
        ca_bundle: cli.ca_bundle.clone(),
        allow_private_fetch: cli.allow_private_fetch,
    });
    let result: Result<Exit, CliError> = match cli.command {
        Command::Quickstart(a) => quickstart::run(a),
        Command::Key(c) => cmd_key::run(c),
        Command::Tsa(c) => cmd_tsa::run(c),
        Command::Ocsp(c) => cmd_ocsp::run(c),
        Command::Ltv(c) => cmd_ltv::run(c),
        Command::Ca(c) => cmd_ca::run_ca(c),
        Command::Cert(c) => cmd_ca::run_cert(c),
        Command::Sign(a) => match &cli.server {
            Some(url) => cmd_remote::sign(&a, url),
            None => cmd_sign::run(*a),
        },
        Command::Verify(a) => cmd_verify::run(a),
        Command::Serve(a) => cmd_serve::run_serve(a),
        Command::Audit(c) => cmd_serve::run_audit(c),
        Command::User(c) => cmd_serve::run_user(c),
        Command::Bench(c) => bench::run(c),
    };
    match result {
        Ok(code) => std::process::exit(code as i32),
        Err(e) => {
            eprintln!("signet: error: {}", e.message);
            std::process::exit(e.code as i32);
        }
    }
}
