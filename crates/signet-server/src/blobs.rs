//! Content-addressed blob storage on a filesystem (local or shared between nodes).
//!
//! A blob is stored under `ab/cdef…` (its SHA-256 in hex). A write goes to a temporary file in
//! the same directory, which is renamed into place, then the file and the directory are
//! fsynced: a blob that `put` returned for is durable. Renaming before the file's fsync lets one
//! journal commit carry the data, the inode and the name on ext4 (the directory's fsync then
//! finds nothing left to do), so a `put` waits for one commit instead of two. A crash in between
//! can leave an incomplete file under the final name, which no database row refers to yet (the
//! version is committed after `put` returns); a later `put` of the same content finds that its
//! hash does not match and writes it again, and `get` checks every blob's hash.

use std::io::Write;
use std::path::PathBuf;

use signet_crypto::HashAlgorithm;

/// A blob store rooted at a directory.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens (and creates) the store.
    pub fn open(root: PathBuf) -> std::io::Result<Self> {
        crate::private_fs::create_dir(&root)?;
        Ok(BlobStore { root })
    }

    fn path(&self, sha256_hex: &str) -> Option<PathBuf> {
        if sha256_hex.len() != 64
            || !sha256_hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return None;
        }
        Some(self.root.join(&sha256_hex[..2]).join(&sha256_hex[2..]))
    }

    /// Stores `data` durably; returns its SHA-256 (hex).
    pub fn put(&self, data: &[u8]) -> std::io::Result<String> {
        let id = hex::encode(signet_crypto::digest::hash(HashAlgorithm::Sha256, data));
        let path = self.path(&id).ok_or_else(|| std::io::Error::other("bad blob id"))?;
        let dir = path.parent().ok_or_else(|| std::io::Error::other("bad blob path"))?;
        // Already stored (the same content twice), unless a crash left it incomplete. Synced
        // again: the put that wrote it may not have finished making it durable.
        if path.exists() && self.get(&id).is_ok() {
            std::fs::File::open(&path)?.sync_all()?;
            std::fs::File::open(dir)?.sync_all()?;
            return Ok(id);
        }
        if !dir.exists() {
            // A new fan-out directory: its name in the root must be durable too.
            crate::private_fs::create_dir(dir)?;
            std::fs::File::open(&self.root)?.sync_all()?;
        }
        let mut suffix = [0u8; 8];
        signet_crypto::random_bytes(&mut suffix).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!(".tmp-{}", hex::encode(suffix)));
        let result = (|| {
            let mut f = crate::private_fs::new_file().open(&tmp)?;
            f.write_all(data)?;
            std::fs::rename(&tmp, &path)?;
            f.sync_all()?;
            std::fs::File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map(|()| id)
    }

    /// Reads a blob, checking that its content still has its name's hash.
    pub fn get(&self, sha256_hex: &str) -> std::io::Result<Vec<u8>> {
        let path = self
            .path(sha256_hex)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "bad blob id"))?;
        let data = std::fs::read(path)?;
        if hex::encode(signet_crypto::digest::hash(HashAlgorithm::Sha256, &data)) != sha256_hex {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("blob {sha256_hex} is corrupted"),
            ));
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_hash_and_detects_corruption() {
        let dir = std::env::temp_dir().join(format!("signet-blobs-{}", std::process::id()));
        let store = BlobStore::open(dir.clone()).unwrap();
        let id = store.put(b"hello").unwrap();
        assert_eq!(id, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(store.put(b"hello").unwrap(), id);
        assert_eq!(store.get(&id).unwrap(), b"hello");
        std::fs::write(store.path(&id).unwrap(), b"jello").unwrap();
        assert_eq!(store.get(&id).unwrap_err().kind(), std::io::ErrorKind::InvalidData);
        assert!(store.get("../../etc/passwd").is_err());
        // An incomplete file under a blob's name (a crash between rename and fsync) is written
        // again by the next put of that content, not taken for the blob.
        std::fs::write(store.path(&id).unwrap(), b"hel").unwrap();
        assert_eq!(store.put(b"hello").unwrap(), id);
        assert_eq!(store.get(&id).unwrap(), b"hello");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
