//! Where passphrases come from: a file, an environment variable, or a prompt. Never a flag
//! value (it would show in `ps` and shell history), never logged; wiped after use.

use std::io::IsTerminal;
use std::path::Path;

use zeroize::Zeroizing;

use crate::exit::{CliError, CliResult};

/// Reads a passphrase: `file` if given, else `$env_var`, else an interactive prompt
/// (asked twice when `confirm`).
pub fn obtain(file: Option<&Path>, env_var: &str, prompt: &str, confirm: bool) -> CliResult<Zeroizing<Vec<u8>>> {
    if let Some(f) = file {
        let data = Zeroizing::new(crate::inputs::read(f, "passphrase file")?);
        let text = std::str::from_utf8(&data).map_err(|_| CliError::input("the passphrase file is not UTF-8 text"))?;
        let line = text.lines().next().unwrap_or("");
        return non_empty(Zeroizing::new(line.as_bytes().to_vec()));
    }
    if let Ok(v) = std::env::var(env_var) {
        return non_empty(Zeroizing::new(v.into_bytes()));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::input(format!(
            "a passphrase is needed: use --passphrase-file or set {env_var}"
        )));
    }
    let first = Zeroizing::new(rpassword::prompt_password(format!("{prompt}: ")).map_err(CliError::input)?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Repeat: ").map_err(CliError::input)?);
        if *first != *second {
            return Err(CliError::input("the passphrases do not match"));
        }
    }
    non_empty(Zeroizing::new(first.as_bytes().to_vec()))
}

fn non_empty(p: Zeroizing<Vec<u8>>) -> CliResult<Zeroizing<Vec<u8>>> {
    if p.is_empty() {
        return Err(CliError::input("the passphrase is empty"));
    }
    Ok(p)
}

/// A random passphrase (24 characters from a 56-symbol alphabet without look-alikes, ~139 bits).
pub fn generate() -> CliResult<Zeroizing<String>> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = Zeroizing::new(String::new());
    let mut buf = [0u8; 64];
    signet_crypto::random_bytes(&mut buf).map_err(CliError::internal)?;
    for b in buf.iter() {
        // Rejection sampling keeps the distribution uniform.
        if (*b as usize) < 256 - (256 % ALPHABET.len()) {
            out.push(ALPHABET[*b as usize % ALPHABET.len()] as char);
            if out.len() == 24 {
                break;
            }
        }
    }
    if out.len() < 24 {
        return generate();
    }
    Ok(out)
}
