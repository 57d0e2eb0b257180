//! `signet key`: generate, import and inspect private keys.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use signet_crypto::{KeyAlgorithm, PrivateKey, keyfile, pem, pkcs12};

use crate::exit::{CliError, CliResult, Exit};
use crate::{inputs, passphrase};

/// Environment variable holding the passphrase of Signet key files.
pub const ENV_PASSPHRASE: &str = "SIGNET_PASSPHRASE";
/// Environment variable holding the passphrase of a file being imported.
pub const ENV_IMPORT_PASSPHRASE: &str = "SIGNET_IMPORT_PASSPHRASE";

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Generate a key pair and write it as encrypted PKCS#8 (PBES2, AES-256-CBC).
    Generate {
        /// rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384 or ed25519.
        #[arg(long, default_value = "ecdsa-p256")]
        alg: String,
        /// Output file.
        #[arg(short, long)]
        out: PathBuf,
        /// File whose first line is the passphrase (else $SIGNET_PASSPHRASE, else a prompt).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Import a PEM/DER private key or a PKCS#12 bundle into an encrypted Signet key file.
    Import {
        /// The key file or .p12/.pfx bundle.
        input: PathBuf,
        /// Output key file.
        #[arg(short, long)]
        out: PathBuf,
        /// Where to write the certificates of a PKCS#12 bundle (PEM, signer first).
        #[arg(long)]
        cert_out: Option<PathBuf>,
        /// Passphrase of the input (else $SIGNET_IMPORT_PASSPHRASE, else a prompt).
        #[arg(long)]
        in_passphrase_file: Option<PathBuf>,
        /// Passphrase for the new key file (else $SIGNET_PASSPHRASE, else a prompt).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
    /// Show a key's type and public key fingerprint.
    Show {
        /// The key file.
        key: PathBuf,
        /// Passphrase file (else $SIGNET_PASSPHRASE, else a prompt).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
}

pub fn run(c: KeyCommand) -> CliResult<Exit> {
    match c {
        KeyCommand::Generate {
            alg,
            out,
            passphrase_file,
            force,
        } => {
            let alg = KeyAlgorithm::from_name(&alg)?;
            inputs::check_new(&out, force)?;
            let pass = passphrase::obtain(passphrase_file.as_deref(), ENV_PASSPHRASE, "New key passphrase", true)?;
            let key = PrivateKey::generate(alg).map_err(CliError::internal)?;
            let pem = keyfile::to_encrypted_pem(&key, &pass).map_err(CliError::internal)?;
            inputs::write_atomic(&out, pem.as_bytes(), true)?;
            println!("wrote {} key to {}", key.describe(), out.display());
            Ok(Exit::Ok)
        }
        KeyCommand::Import {
            input,
            out,
            cert_out,
            in_passphrase_file,
            passphrase_file,
            force,
        } => {
            inputs::check_new(&out, force)?;
            if let Some(c) = &cert_out {
                inputs::check_new(c, force)?;
            }
            let data = inputs::read(&input, "key file")?;
            let (key, certs) = if looks_like_pkcs12(&input, &data) {
                let pass = passphrase::obtain(
                    in_passphrase_file.as_deref(),
                    ENV_IMPORT_PASSPHRASE,
                    "PKCS#12 password",
                    false,
                )?;
                let c = pkcs12::parse(&data, &pass)?;
                (c.key, c.certificates)
            } else {
                let pass = if keyfile::needs_passphrase(&data) {
                    Some(passphrase::obtain(
                        in_passphrase_file.as_deref(),
                        ENV_IMPORT_PASSPHRASE,
                        "Passphrase of the key being imported",
                        false,
                    )?)
                } else {
                    None
                };
                (
                    keyfile::load_private_key(&data, pass.as_deref().map(|p| p.as_slice()))?,
                    Vec::new(),
                )
            };
            let pass = passphrase::obtain(passphrase_file.as_deref(), ENV_PASSPHRASE, "New key passphrase", true)?;
            let pem_text = keyfile::to_encrypted_pem(&key, &pass).map_err(CliError::internal)?;
            inputs::write_atomic(&out, pem_text.as_bytes(), true)?;
            println!("imported {} key to {}", key.describe(), out.display());
            if !certs.is_empty() {
                match &cert_out {
                    Some(path) => {
                        let mut text = String::new();
                        for c in &certs {
                            text.push_str(&pem::encode("CERTIFICATE", c)?);
                        }
                        inputs::write_atomic(path, text.as_bytes(), false)?;
                        println!("wrote {} certificate(s) to {}", certs.len(), path.display());
                    }
                    None => println!(
                        "the bundle holds {} certificate(s); use --cert-out to save them",
                        certs.len()
                    ),
                }
            }
            Ok(Exit::Ok)
        }
        KeyCommand::Show { key, passphrase_file } => {
            let k = load_key(&key, passphrase_file.as_deref())?;
            let spki = k.public_key_der()?;
            println!("type:       {}", k.describe());
            println!(
                "public key: sha256:{}",
                hex::encode(signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, &spki))
            );
            Ok(Exit::Ok)
        }
    }
}

fn looks_like_pkcs12(path: &Path, data: &[u8]) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("p12") | Some("pfx")) {
        return true;
    }
    !pem::is_pem(data)
        && data.first() == Some(&0x30)
        && !keyfile::needs_passphrase(data)
        && keyfile::load_private_key(data, None).is_err()
}

/// Loads a private key file, asking for the passphrase if it is encrypted.
pub fn load_key(path: &Path, passphrase_file: Option<&Path>) -> CliResult<PrivateKey> {
    load_key_with(path, passphrase_file, ENV_PASSPHRASE)
}

/// As [`load_key`] with a chosen environment variable.
pub fn load_key_with(path: &Path, passphrase_file: Option<&Path>, env: &str) -> CliResult<PrivateKey> {
    let data = zeroize::Zeroizing::new(inputs::read(path, "key file")?);
    if keyfile::needs_passphrase(&data) {
        let pass = passphrase::obtain(
            passphrase_file,
            env,
            &format!("Passphrase for {}", path.display()),
            false,
        )?;
        keyfile::load_private_key(&data, Some(&pass)).map_err(|e| CliError::input(format!("{}: {e}", path.display())))
    } else {
        keyfile::load_private_key(&data, None).map_err(|e| CliError::input(format!("{}: {e}", path.display())))
    }
}
