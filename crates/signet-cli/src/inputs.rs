//! Reading files given on the command line, with limits and clear errors.

use std::path::Path;

use signet_pki::{Certificate, Crl};

use crate::exit::{CliError, CliResult};

/// Largest key/certificate/CRL/signature file read into memory.
pub const MAX_SMALL_FILE: u64 = 256 * 1024 * 1024;

/// Reads a whole (bounded) file.
pub fn read(path: &Path, what: &str) -> CliResult<Vec<u8>> {
    let meta =
        std::fs::metadata(path).map_err(|e| CliError::input(format!("cannot open {what} {}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(CliError::input(format!("{what} {} is a directory", path.display())));
    }
    if meta.len() > MAX_SMALL_FILE {
        return Err(CliError::input(format!(
            "{what} {} is larger than 256 MiB",
            path.display()
        )));
    }
    std::fs::read(path).map_err(|e| CliError::input(format!("cannot read {what} {}: {e}", path.display())))
}

/// Reads every certificate in a file (PEM bundle or one DER certificate).
pub fn certificates(path: &Path) -> CliResult<Vec<Certificate>> {
    let data = read(path, "certificate file")?;
    Certificate::parse_many(&data).map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

/// Reads certificates from several files.
pub fn certificates_from(paths: &[std::path::PathBuf]) -> CliResult<Vec<Certificate>> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(certificates(p)?);
    }
    Ok(out)
}

/// Reads CRLs from several files.
pub fn crls_from(paths: &[std::path::PathBuf]) -> CliResult<Vec<Crl>> {
    let mut out = Vec::new();
    for p in paths {
        let data = read(p, "CRL file")?;
        out.extend(Crl::parse_many(&data).map_err(|e| CliError::input(format!("{}: {e}", p.display())))?);
    }
    Ok(out)
}

/// OCSP responses (DER, one per file) from files.
pub fn ocsp_responses_from(paths: &[std::path::PathBuf]) -> CliResult<Vec<signet_pki::ocsp::Response>> {
    paths
        .iter()
        .map(|p| {
            let data = read(p, "OCSP response file")?;
            signet_pki::ocsp::Response::from_der(&data).map_err(|e| CliError::input(format!("{}: {e}", p.display())))
        })
        .collect()
}

/// Writes a file atomically: to a temporary name beside it, fsync, then rename.
pub fn write_atomic(path: &Path, data: &[u8], private: bool) -> CliResult<()> {
    write_atomic_with(path, private, &mut |w| {
        w.write_all(data)
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))
    })
}

/// Like [`write_atomic`], with the content produced by `fill`; if `fill` fails, nothing is left
/// behind and the error is returned.
pub fn write_atomic_with(
    path: &Path,
    private: bool,
    fill: &mut dyn FnMut(&mut dyn std::io::Write) -> CliResult<()>,
) -> CliResult<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| CliError::input(format!("{} is not a file name", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let _ = private;
    let mut f = opts
        .open(&tmp)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
    let filled = {
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, &mut f);
        fill(&mut w).and_then(|_| {
            w.flush()
                .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))
        })
    };
    if let Err(e) = filled {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Err(e) = f.sync_all() {
        let _ = std::fs::remove_file(&tmp);
        return Err(CliError::input(format!("cannot write {}: {e}", path.display())));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::input(format!("cannot write {}: {e}", path.display()))
    })
}

/// Refuses to overwrite an existing file unless forced.
pub fn check_new(path: &Path, force: bool) -> CliResult<()> {
    if path.exists() && !force {
        return Err(CliError::input(format!(
            "{} already exists (use --force to overwrite)",
            path.display()
        )));
    }
    Ok(())
}
