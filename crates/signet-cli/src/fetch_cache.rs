//! The on-disk cache of fetched revocation data: `$SIGNET_CACHE_DIR/KIND`, else
//! `$XDG_CACHE_HOME/signet/KIND`, else `~/.cache/signet/KIND`; one file per key (its SHA-256).

use std::path::PathBuf;

/// The cache directory for `kind` ("crl", "ocsp").
fn dir(kind: &str) -> PathBuf {
    if let Ok(d) = std::env::var("SIGNET_CACHE_DIR") {
        return PathBuf::from(d).join(kind);
    }
    let base = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|_| std::env::temp_dir());
    base.join("signet").join(kind)
}

/// The cache file for `key` under `kind`.
pub fn file(kind: &str, key: &[u8]) -> PathBuf {
    dir(kind).join(format!(
        "{}.{kind}",
        hex::encode(signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, key))
    ))
}

/// Stores `bytes` under `key`; a failure is a warning (the data was fetched, only not cached).
pub fn store(kind: &str, key: &[u8], bytes: &[u8], what: &str) {
    let path = file(kind, key);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = crate::inputs::write_atomic(&path, bytes, false) {
        eprintln!("signet: warning: cannot cache {what}: {}", e.message);
    }
}
