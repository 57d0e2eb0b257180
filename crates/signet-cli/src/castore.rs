//! The organisation CA on disk: a directory with the CA certificates, their encrypted keys and
//! a state file (issued certificates, revocations, CRL number).
//!
//! ```text
//! ca/
//!   root.crt  root.key          self-signed root
//!   issuing.crt issuing.key     optional issuing CA (then it signs end-entity certificates and CRLs)
//!   ca.json                     state
//!   issued/<serial>.crt         every certificate issued
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use signet_crypto::SoftwareSigner;
use signet_pki::Certificate;

use crate::exit::{CliError, CliResult};
use crate::inputs;

/// Environment variable holding the CA keys' passphrase.
pub const ENV_CA_PASSPHRASE: &str = "SIGNET_CA_PASSPHRASE";

/// One issued certificate.
#[derive(Serialize, Deserialize, Clone)]
pub struct Issued {
    pub serial: String,
    pub subject: String,
    pub not_after: String,
}

/// One revocation.
#[derive(Serialize, Deserialize, Clone)]
pub struct Revoked {
    pub serial: String,
    pub time: i64,
    pub reason: Option<u8>,
}

/// ca.json.
#[derive(Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub has_issuing: bool,
    pub crl_url: Option<String>,
    /// OCSP responder URL put into issued certificates (AIA); absent in older ca.json files.
    #[serde(default)]
    pub ocsp_url: Option<String>,
    pub crl_number: u64,
    pub issued: Vec<Issued>,
    pub revoked: Vec<Revoked>,
}

/// An opened CA directory.
pub struct CaStore {
    pub dir: PathBuf,
    pub state: State,
}

impl CaStore {
    pub fn state_path(dir: &Path) -> PathBuf {
        dir.join("ca.json")
    }

    pub fn open(dir: &Path) -> CliResult<Self> {
        let p = Self::state_path(dir);
        let data = inputs::read(&p, "CA state").map_err(|_| {
            CliError::input(format!(
                "{} is not a Signet CA directory (run `signet ca init --dir {}`)",
                dir.display(),
                dir.display()
            ))
        })?;
        let state: State =
            serde_json::from_slice(&data).map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
        Ok(CaStore {
            dir: dir.to_path_buf(),
            state,
        })
    }

    pub fn save(&self) -> CliResult<()> {
        let text = serde_json::to_vec_pretty(&self.state).map_err(CliError::internal)?;
        inputs::write_atomic(&Self::state_path(&self.dir), &text, false)
    }

    /// The certificate that signs end-entity certificates and CRLs.
    pub fn signing_cert(&self) -> CliResult<Certificate> {
        let name = if self.state.has_issuing {
            "issuing.crt"
        } else {
            "root.crt"
        };
        first_cert(&self.dir.join(name))
    }

    pub fn root_cert(&self) -> CliResult<Certificate> {
        first_cert(&self.dir.join("root.crt"))
    }

    /// The chain above an end-entity certificate: issuing CA (if any), then root.
    pub fn chain(&self) -> CliResult<Vec<Certificate>> {
        let mut v = Vec::new();
        if self.state.has_issuing {
            v.push(first_cert(&self.dir.join("issuing.crt"))?);
        }
        v.push(self.root_cert()?);
        Ok(v)
    }

    /// Opens the signing CA's key (passphrase from file, $SIGNET_CA_PASSPHRASE or a prompt).
    pub fn signer(&self, passphrase_file: Option<&Path>) -> CliResult<SoftwareSigner> {
        let name = if self.state.has_issuing {
            "issuing.key"
        } else {
            "root.key"
        };
        let key = crate::cmd_key::load_key_with(&self.dir.join(name), passphrase_file, ENV_CA_PASSPHRASE)?;
        let cert = self.signing_cert()?;
        if key.public_key_der()? != cert.spki_der()? {
            return Err(CliError::input("the CA key does not match the CA certificate"));
        }
        Ok(SoftwareSigner::new(key).with_chain(vec![cert.der().to_vec()]))
    }

    /// Opens the root CA's key (for the root's own CRL, which covers the issuing CA).
    pub fn root_signer(&self, passphrase_file: Option<&Path>) -> CliResult<SoftwareSigner> {
        let key = crate::cmd_key::load_key_with(&self.dir.join("root.key"), passphrase_file, ENV_CA_PASSPHRASE)?;
        let cert = self.root_cert()?;
        if key.public_key_der()? != cert.spki_der()? {
            return Err(CliError::input("the root key does not match the root certificate"));
        }
        Ok(SoftwareSigner::new(key).with_chain(vec![cert.der().to_vec()]))
    }

    pub fn record_issued(&mut self, cert: &Certificate) -> CliResult<()> {
        let dir = self.dir.join("issued");
        std::fs::create_dir_all(&dir).map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))?;
        inputs::write_atomic(
            &dir.join(format!("{}.crt", cert.serial_hex())),
            cert.to_pem()?.as_bytes(),
            false,
        )?;
        self.state.issued.push(Issued {
            serial: cert.serial_hex(),
            subject: signet_pki::name::display(cert.subject()),
            not_after: signet_pki::time::format(cert.not_after()),
        });
        self.save()
    }
}

fn first_cert(p: &Path) -> CliResult<Certificate> {
    inputs::certificates(p)?
        .into_iter()
        .next()
        .ok_or_else(|| CliError::input(format!("{} holds no certificate", p.display())))
}
