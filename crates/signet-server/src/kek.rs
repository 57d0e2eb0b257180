//! The key-encryption key (KEK), under which every private key and TOTP secret is sealed.
//!
//! Where it comes from, first match wins: `SIGNET_KEK` (64 hex digits in the environment), a
//! passphrase (`SIGNET_KEK_PASSPHRASE` or `kek_passphrase_file`) stretched with Argon2id over
//! a salt kept in the database, `kek_file`, or — zero configuration — `kek.hex` generated in
//! the data directory. The last is convenient and says so at every start: a copy of the data
//! directory then holds every key.

use std::path::{Path, PathBuf};

use signet_crypto::envelope::Kek;
use zeroize::Zeroizing;

use crate::config::Config;
use crate::db::Db;

/// Where the KEK in use came from (printed at start; never the key itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KekSource {
    /// `SIGNET_KEK` in the environment.
    Environment,
    /// A passphrase (environment or file), stretched with Argon2id.
    Passphrase,
    /// A file outside the data directory.
    File(PathBuf),
    /// A file inside the data directory (the zero-configuration default).
    DataDirectory(PathBuf),
}

impl KekSource {
    /// One line for the start-up output.
    pub fn describe(&self) -> String {
        match self {
            KekSource::Environment => "from SIGNET_KEK in the environment".into(),
            KekSource::Passphrase => "derived from the KEK passphrase (Argon2id)".into(),
            KekSource::File(p) => format!("from {}", p.display()),
            KekSource::DataDirectory(p) => format!(
                "{} — inside the data directory, so a copy of the directory opens every key; \
                 keep it elsewhere with kek_file, SIGNET_KEK or SIGNET_KEK_PASSPHRASE (docs/server.md)",
                p.display()
            ),
        }
    }
}

/// Argon2id cost of the passphrase: 64 MiB, 3 passes (OWASP's first recommendation).
const PASSPHRASE_MEMORY_KIB: u32 = 64 * 1024;
const PASSPHRASE_PASSES: u32 = 3;

/// Loads (or, zero-config, creates) the KEK.
pub async fn load(config: &Config, db: &Db) -> Result<(Kek, KekSource), String> {
    if let Some(h) = &config.kek_hex {
        return Ok((
            Kek::from_hex(h).map_err(|e| format!("SIGNET_KEK: {e}"))?,
            KekSource::Environment,
        ));
    }
    if let Some(p) = passphrase(config)? {
        let salt = salt(db).await?;
        let kek = tokio::task::spawn_blocking(move || derive(&p, &salt))
            .await
            .map_err(|e| e.to_string())??;
        return Ok((kek, KekSource::Passphrase));
    }
    let (path, source) = match &config.kek_file {
        Some(f) => (f.clone(), KekSource::File(f.clone())),
        None => {
            let p = config.data_dir.join("kek.hex");
            (p.clone(), KekSource::DataDirectory(p))
        }
    };
    if !path.exists() {
        if matches!(source, KekSource::File(_)) {
            return Err(format!(
                "kek_file {} does not exist (create it with 64 hex digits, e.g. `openssl rand -hex 32`)",
                path.display()
            ));
        }
        let hex = Kek::generate_hex().map_err(|e| e.to_string())?;
        crate::private_fs::write_new(&path, hex.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok((read_file(&path)?, source))
}

fn read_file(path: &Path) -> Result<Kek, String> {
    let text =
        Zeroizing::new(std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?);
    Kek::from_hex(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The passphrase, if one is configured (environment first, then the file).
fn passphrase(config: &Config) -> Result<Option<Zeroizing<String>>, String> {
    let p = match (&config.kek_passphrase, &config.kek_passphrase_file) {
        (Some(p), _) => Zeroizing::new(p.to_string()),
        (None, Some(f)) => {
            let text = Zeroizing::new(
                std::fs::read_to_string(f)
                    .map_err(|e| format!("cannot read kek_passphrase_file {}: {e}", f.display()))?,
            );
            Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string())
        }
        (None, None) => return Ok(None),
    };
    if p.chars().count() < 12 {
        return Err("the KEK passphrase must have at least 12 characters".into());
    }
    Ok(Some(p))
}

/// The passphrase's salt, made once per database (every node derives the same KEK).
async fn salt(db: &Db) -> Result<Vec<u8>, String> {
    let mut fresh = [0u8; 16];
    signet_crypto::random_bytes(&mut fresh).map_err(|e| e.to_string())?;
    let stored = crate::settings::get_or_insert(db, "kek_salt", &hex::encode(fresh))
        .await
        .map_err(|e| e.detail)?;
    hex::decode(stored).map_err(|e| format!("kek_salt: {e}"))
}

/// Argon2id(passphrase, salt) → 32 bytes.
fn derive(passphrase: &str, salt: &[u8]) -> Result<Kek, String> {
    let params =
        argon2::Params::new(PASSPHRASE_MEMORY_KIB, PASSPHRASE_PASSES, 1, Some(32)).map_err(|e| e.to_string())?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    a.hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|e| e.to_string())?;
    Kek::from_bytes(out.as_ref()).map_err(|e| e.to_string())
}

const KEK_CHECK: &str = "settings:kek-check";

/// Checks that `kek` is the one the database was set up with (a value sealed under it at first
/// start opens), or records it on first start. Every node needs the same KEK, or none can use
/// the keys.
pub async fn check(db: &Db, kek: &Kek) -> crate::error::ApiResult<()> {
    use crate::error::ApiError;
    let fresh = kek.seal(KEK_CHECK, b"signet").map_err(ApiError::internal)?;
    let stored = crate::settings::get_or_insert(db, "kek_check", &hex::encode(fresh)).await?;
    let sealed = hex::decode(stored).map_err(ApiError::internal)?;
    if kek.open(KEK_CHECK, &sealed).is_err() {
        return Err(ApiError::unavailable(
            "the key-encryption key is not the one this database was set up with (a wrong KEK passphrase, or give every node the same SIGNET_KEK, kek_file or passphrase)",
        ));
    }
    Ok(())
}
