//! An on-disk cache of fetched revocation data: one file per key (its SHA-256) under a
//! directory per kind. The CLI keeps it in `$SIGNET_CACHE_DIR`, else `$XDG_CACHE_HOME/signet`,
//! else `~/.cache/signet`; the server keeps none (its memory cache lives as long as the
//! fetcher). Freshness is the fetcher's to judge; a failure to store is not an error.

use std::path::{Path, PathBuf};

/// A cache directory.
#[derive(Clone, Debug)]
pub struct DiskCache {
    root: PathBuf,
}

impl DiskCache {
    /// A cache under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiskCache { root: root.into() }
    }

    /// The user's default cache directory.
    pub fn default_for_user() -> Self {
        if let Ok(d) = std::env::var("SIGNET_CACHE_DIR") {
            return DiskCache::new(d);
        }
        let base = std::env::var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|_| std::env::temp_dir());
        DiskCache::new(base.join("signet"))
    }

    /// The file for `key` under `kind` ("crl", "ocsp").
    pub fn file(&self, kind: &str, key: &[u8]) -> PathBuf {
        self.root.join(kind).join(format!(
            "{}.{kind}",
            hex::encode(signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, key))
        ))
    }

    /// The cached bytes, if any.
    pub fn load(&self, kind: &str, key: &[u8]) -> Option<(Vec<u8>, PathBuf)> {
        let p = self.file(kind, key);
        std::fs::read(&p).ok().map(|d| (d, p))
    }

    /// Stores `bytes` under `key` (written to a temporary name, then renamed).
    pub fn store(&self, kind: &str, key: &[u8], bytes: &[u8]) -> std::io::Result<()> {
        let path = self.file(kind, key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    }

    /// Age of a cache file in seconds.
    pub fn age_secs(path: &Path) -> Option<u64> {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .map(|d| d.as_secs())
    }
}
