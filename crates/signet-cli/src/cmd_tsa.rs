//! `signet tsa`: Signet's RFC 3161 time-stamping authority from the command line (the server
//! will serve the same responder at /tsa).

use std::path::PathBuf;

use clap::Subcommand;
use signet_crypto::Signer;

use crate::exit::{CliError, CliResult, Exit};
use crate::{cmd_key, inputs};

/// The default TSA policy OID (a private arc; set your own with --policy).
pub const DEFAULT_POLICY: &str = "1.3.6.1.4.1.58873.1.1";

#[derive(Subcommand)]
pub enum TsaCommand {
    /// Answer one time-stamp request file (like `openssl ts -reply`).
    Reply {
        /// The TSA's key.
        #[arg(long)]
        key: PathBuf,
        /// The TSA's certificate (a critical timeStamping extKeyUsage), then its issuers.
        #[arg(long)]
        cert: PathBuf,
        /// File with the key's passphrase (else SIGNET_PASSPHRASE or a prompt).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// The request (DER TimeStampReq, e.g. from `openssl ts -query`).
        #[arg(short, long)]
        input: PathBuf,
        /// Where to write the response (DER TimeStampResp).
        #[arg(short, long)]
        out: PathBuf,
        /// TSA policy OID.
        #[arg(long, default_value = DEFAULT_POLICY)]
        policy: String,
        /// Fraction digits in genTime: 0 (whole seconds) to 6 (microseconds).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=6))]
        precision_digits: u8,
    },
}

/// A fresh serial: 159 random bits (positive, never repeating in practice, no shared counter
/// needed between server nodes).
pub fn serial() -> CliResult<[u8; 20]> {
    Ok(signet_cms::timestamp::random_positive::<20>()?)
}

/// Loads a TSA signer and checks its certificate is fit for time-stamping.
pub fn load_tsa(
    key: &std::path::Path,
    cert: &std::path::Path,
    pass: Option<&std::path::Path>,
) -> CliResult<signet_crypto::SoftwareSigner> {
    let k = cmd_key::load_key(key, pass)?;
    let certs = inputs::certificates(cert)?;
    let leaf = certs
        .first()
        .ok_or_else(|| CliError::input(format!("{} holds no certificate", cert.display())))?;
    if !leaf.is_time_stamping() {
        return Err(CliError::input(
            "the TSA certificate needs a critical extKeyUsage of timeStamping only (issue one with `signet cert issue --profile tsa`)",
        ));
    }
    let signer = signet_crypto::SoftwareSigner::new(k).with_chain(certs.iter().map(|c| c.der().to_vec()).collect());
    if leaf.spki_der()? != signer.public_key_der()? {
        return Err(CliError::input("the TSA certificate does not belong to the key"));
    }
    Ok(signer)
}

pub fn run(c: TsaCommand) -> CliResult<Exit> {
    match c {
        TsaCommand::Reply {
            key,
            cert,
            passphrase_file,
            input,
            out,
            policy,
            precision_digits,
        } => {
            let tsa = load_tsa(&key, &cert, passphrase_file.as_deref())?;
            let mut policy = signet_cms::timestamp::TsaPolicy::new(&policy).map_err(CliError::input)?;
            policy.precision_digits = precision_digits;
            let req = inputs::read(&input, "time-stamp request")?;
            let now = signet_pki::gentime::now(precision_digits);
            let resp = signet_cms::timestamp::respond(&req, &tsa, &policy, &serial()?, now)?;
            inputs::write_atomic(&out, &resp, false)?;
            println!("time-stamp response written to {}", out.display());
            Ok(Exit::Ok)
        }
    }
}
