//! Files and directories only their owner can read: the data directory, the key-encryption key,
//! the SQLite database and the blobs (0700 directories, 0600 files, whatever the umask).

use std::path::Path;

/// Creates `dir` (and its parents) if missing, and makes it the owner's alone (0700).
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    restrict(dir, 0o700)
}

/// Sets `path`'s permission bits to `mode` (Unix; nothing elsewhere).
pub fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if current != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Options that create a new file readable and writable by its owner only (0600).
pub fn new_file() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Writes a new file readable by its owner only, durably.
pub fn write_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = new_file().open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Makes an existing file (or one about to be created, when `create`) the owner's alone.
pub fn ensure_private_file(path: &Path, create: bool) -> std::io::Result<()> {
    if !path.exists() {
        if !create {
            return Ok(());
        }
        match new_file().open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    restrict(path, 0o600)
}
