//! `signet ca` and `signet cert`: the organisation CA, certificate issuance and revocation.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use signet_crypto::{KeyAlgorithm, PrivateKey, Signer, SoftwareSigner, keyfile};
use signet_pki::crl::{self, RevokedEntry};
use signet_pki::issue::{self, Profile, Template};
use signet_pki::name::SubjectSpec;
use signet_pki::{Certificate, time};

use crate::castore::{CaStore, ENV_CA_PASSPHRASE, Revoked, State};
use crate::exit::{CliError, CliResult, Exit};
use crate::{cmd_key, inputs, passphrase};

const DAY: i64 = 86_400;

#[derive(Subcommand)]
pub enum CaCommand {
    /// Create an organisation root CA (and optionally an issuing CA under it).
    Init(InitArgs),
    /// Sign a fresh CRL listing every revoked certificate.
    Crl {
        /// CA directory.
        #[arg(long, default_value = "ca")]
        dir: PathBuf,
        /// Output file (PEM).
        #[arg(short, long)]
        out: PathBuf,
        /// Days until nextUpdate.
        #[arg(long, default_value_t = 7)]
        days: i64,
        /// The root's CRL (covering the issuing CA) instead of the issuing CA's: relying parties
        /// need it for long-term validation of the whole chain.
        #[arg(long)]
        root: bool,
        /// File holding the CA keys' passphrase (else $SIGNET_CA_PASSPHRASE, else a prompt).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
}

#[derive(ClapArgs)]
pub struct InitArgs {
    /// Directory to create.
    #[arg(long, default_value = "ca")]
    pub dir: PathBuf,
    /// Common name of the root CA.
    #[arg(long, default_value = "Signet Organisation Root CA")]
    pub name: String,
    /// Organisation name.
    #[arg(long)]
    pub org: Option<String>,
    /// Two-letter country code.
    #[arg(long)]
    pub country: Option<String>,
    /// Key algorithm of the CA keys.
    #[arg(long, default_value = "ecdsa-p384")]
    pub alg: String,
    /// Also create an issuing CA with this common name; it then signs certificates and CRLs.
    #[arg(long)]
    pub issuing: Option<String>,
    /// CRL distribution point URL put into certificates this CA issues.
    #[arg(long)]
    pub crl_url: Option<String>,
    /// OCSP responder URL (Authority Information Access) put into certificates this CA issues.
    #[arg(long)]
    pub ocsp_url: Option<String>,
    /// With --issuing: CRL distribution point put into the issuing CA's certificate, where the
    /// root's CRL (`signet ca crl --root`) is published — so relying parties, and `sign --level
    /// B-LT`, can show the issuing CA unrevoked.
    #[arg(long, requires = "issuing")]
    pub root_crl_url: Option<String>,
    /// Root CA lifetime in days.
    #[arg(long, default_value_t = 7300)]
    pub days: i64,
    /// File holding the passphrase for the CA keys (else $SIGNET_CA_PASSPHRASE, else a prompt).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Replace an existing CA directory's files.
    #[arg(long)]
    pub force: bool,
}

#[derive(ClapArgs, Clone)]
pub struct SubjectArgs {
    /// Common name (the person's or organisation's name).
    #[arg(long)]
    pub cn: String,
    /// Email address (subject and subjectAltName).
    #[arg(long)]
    pub email: Option<String>,
    /// Organisation.
    #[arg(long)]
    pub org: Option<String>,
    /// Organisational unit.
    #[arg(long)]
    pub ou: Option<String>,
    /// Job title.
    #[arg(long)]
    pub title: Option<String>,
    /// Two-letter country code.
    #[arg(long)]
    pub country: Option<String>,
}

impl SubjectArgs {
    fn spec(&self) -> SubjectSpec {
        SubjectSpec {
            common_name: self.cn.clone(),
            organization: self.org.clone(),
            organizational_unit: self.ou.clone(),
            title: self.title.clone(),
            country: self.country.clone(),
            email: self.email.clone(),
        }
    }
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// Issue a signer certificate from the CA for a key we hold (--key) or a CSR (--csr).
    Issue {
        /// CA directory.
        #[arg(long, default_value = "ca")]
        ca: PathBuf,
        /// The subject's key file.
        #[arg(long, conflicts_with = "csr")]
        key: Option<PathBuf>,
        /// A PKCS#10 request (PEM or DER); its signature is checked.
        #[arg(long)]
        csr: Option<PathBuf>,
        #[command(flatten)]
        subject: SubjectArgs,
        /// Use the CSR's subject instead of --cn etc.
        #[arg(long)]
        csr_subject: bool,
        /// signer (default) or tsa.
        #[arg(long, default_value = "signer")]
        profile: String,
        /// Validity in days.
        #[arg(long, default_value_t = 730)]
        days: i64,
        /// Output: the certificate followed by the issuing CA certificate, if any (PEM).
        #[arg(short, long)]
        out: PathBuf,
        /// Passphrase file for --key (else $SIGNET_PASSPHRASE, else a prompt).
        #[arg(long)]
        key_passphrase_file: Option<PathBuf>,
        /// Passphrase file for the CA keys (else $SIGNET_CA_PASSPHRASE, else a prompt).
        #[arg(long)]
        ca_passphrase_file: Option<PathBuf>,
        /// Overwrite the output.
        #[arg(long)]
        force: bool,
    },
    /// Make a self-signed signer certificate for a key.
    SelfSigned {
        /// The key file.
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        subject: SubjectArgs,
        /// Validity in days.
        #[arg(long, default_value_t = 730)]
        days: i64,
        /// Output file (PEM).
        #[arg(short, long)]
        out: PathBuf,
        /// Passphrase file for --key (else $SIGNET_PASSPHRASE, else a prompt).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Overwrite the output.
        #[arg(long)]
        force: bool,
    },
    /// Revoke a certificate issued by the CA (it appears on the next `signet ca crl`).
    Revoke {
        /// CA directory.
        #[arg(long, default_value = "ca")]
        ca: PathBuf,
        /// The certificate file to revoke.
        #[arg(conflicts_with = "serial")]
        cert: Option<PathBuf>,
        /// Or its serial number in hex.
        #[arg(long)]
        serial: Option<String>,
        /// unspecified, key-compromise, ca-compromise, affiliation-changed, superseded,
        /// cessation-of-operation, certificate-hold, privilege-withdrawn.
        #[arg(long)]
        reason: Option<String>,
        /// Revocation time (default now), e.g. 2026-11-29T10:00:00Z.
        #[arg(long)]
        at: Option<String>,
    },
    /// Print a certificate's contents.
    Show {
        /// Certificate file (PEM or DER; every certificate in it is shown).
        cert: PathBuf,
    },
}

fn key_alg(s: &str) -> CliResult<KeyAlgorithm> {
    Ok(KeyAlgorithm::from_name(s)?)
}

pub fn run_ca(c: CaCommand) -> CliResult<Exit> {
    match c {
        CaCommand::Init(a) => {
            if CaStore::state_path(&a.dir).exists() && !a.force {
                return Err(CliError::input(format!(
                    "{} already holds a CA (use --force to replace it)",
                    a.dir.display()
                )));
            }
            let pass = passphrase::obtain(
                a.passphrase_file.as_deref(),
                ENV_CA_PASSPHRASE,
                "New CA key passphrase",
                true,
            )?;
            init(&a, &pass)?;
            Ok(Exit::Ok)
        }
        CaCommand::Crl {
            dir,
            out,
            days,
            root,
            passphrase_file,
        } => {
            let mut store = CaStore::open(&dir)?;
            let (signer, issuer) = if root {
                (store.root_signer(passphrase_file.as_deref())?, store.root_cert()?)
            } else {
                (store.signer(passphrase_file.as_deref())?, store.signing_cert()?)
            };
            let now = time::now();
            // The root revokes nothing Signet tracks (the issuing CA is not revocable here), so
            // its CRL is empty; the issuing CA's lists the revoked end-entity certificates.
            let entries: Vec<RevokedEntry> = store
                .state
                .revoked
                .iter()
                .filter(|_| !root)
                .map(|r| {
                    Ok(RevokedEntry {
                        serial: hex::decode(&r.serial)
                            .map_err(|_| CliError::input(format!("bad serial {} in ca.json", r.serial)))?,
                        revocation_time: r.time,
                        reason: r.reason,
                    })
                })
                .collect::<CliResult<_>>()?;
            if days < 1 {
                return Err(CliError::input("--days must be at least 1"));
            }
            store.state.crl_number += 1;
            let c = crl::build(
                &issuer,
                &signer,
                &entries,
                now,
                now + days * DAY,
                store.state.crl_number,
            )?;
            inputs::write_atomic(&out, c.to_pem()?.as_bytes(), false)?;
            store.save()?;
            println!(
                "wrote CRL #{} with {} revoked certificate(s) to {}",
                store.state.crl_number,
                entries.len(),
                out.display()
            );
            Ok(Exit::Ok)
        }
    }
}

/// Creates the CA directory; returns the store. Used by `ca init` and `quickstart`.
pub fn init(a: &InitArgs, pass: &[u8]) -> CliResult<CaStore> {
    if CaStore::state_path(&a.dir).exists() && !a.force {
        return Err(CliError::input(format!(
            "{} already holds a CA (use --force to replace it)",
            a.dir.display()
        )));
    }
    if a.days < 1 {
        return Err(CliError::input("--days must be at least 1"));
    }
    let alg = key_alg(&a.alg)?;
    std::fs::create_dir_all(&a.dir).map_err(|e| CliError::input(format!("cannot create {}: {e}", a.dir.display())))?;
    let now = time::now();
    let subject = SubjectSpec {
        common_name: a.name.clone(),
        organization: a.org.clone(),
        country: a.country.clone(),
        ..Default::default()
    }
    .to_name()?;
    let root_key = SoftwareSigner::new(PrivateKey::generate(alg).map_err(CliError::internal)?);
    let t = Template::new(
        subject,
        root_key.public_key_der()?,
        Profile::RootCa { path_len: None },
        now - 60,
        now + a.days * DAY,
    );
    let root = issue::issue(&t, None, &root_key)?;
    inputs::write_atomic(
        &a.dir.join("root.key"),
        keyfile::to_encrypted_pem(root_key.key(), pass)?.as_bytes(),
        true,
    )?;
    inputs::write_atomic(&a.dir.join("root.crt"), root.to_pem()?.as_bytes(), false)?;
    println!(
        "root CA:    {} ({}), valid until {}",
        root.display_name(),
        root.key_description(),
        time::format(root.not_after())
    );
    if let Some(iname) = &a.issuing {
        let isub = SubjectSpec {
            common_name: iname.clone(),
            organization: a.org.clone(),
            country: a.country.clone(),
            ..Default::default()
        }
        .to_name()?;
        let ikey = PrivateKey::generate(alg).map_err(CliError::internal)?;
        let days = (a.days / 2).max(1);
        let mut t = Template::new(
            isub,
            ikey.public_key_der()?,
            Profile::IssuingCa { path_len: Some(0) },
            now - 60,
            now + days * DAY,
        );
        t.serial = None;
        t.crl_url = a.root_crl_url.clone();
        let icert = issue::issue(&t, Some(&root), &root_key)?;
        inputs::write_atomic(
            &a.dir.join("issuing.key"),
            keyfile::to_encrypted_pem(&ikey, pass)?.as_bytes(),
            true,
        )?;
        inputs::write_atomic(&a.dir.join("issuing.crt"), icert.to_pem()?.as_bytes(), false)?;
        println!(
            "issuing CA: {} ({}), valid until {}",
            icert.display_name(),
            icert.key_description(),
            time::format(icert.not_after())
        );
    }
    let store = CaStore {
        dir: a.dir.clone(),
        state: State {
            version: 1,
            has_issuing: a.issuing.is_some(),
            crl_url: a.crl_url.clone(),
            ocsp_url: a.ocsp_url.clone(),
            crl_number: 0,
            issued: vec![],
            revoked: vec![],
        },
    };
    store.save()?;
    println!(
        "CA directory: {} (keys encrypted with the CA passphrase)",
        a.dir.display()
    );
    Ok(store)
}

/// Issues a signer certificate for `public_key_der` from the store; returns it and its chain.
pub fn issue_from_store(
    store: &mut CaStore,
    signer: &SoftwareSigner,
    subject: x509_cert::name::Name,
    email: Option<String>,
    public_key_der: Vec<u8>,
    profile: Profile,
    days: i64,
) -> CliResult<Certificate> {
    if days < 1 {
        return Err(CliError::input("--days must be at least 1"));
    }
    let issuer = store.signing_cert()?;
    let now = time::now();
    let not_after = (now + days * DAY).min(issuer.not_after());
    let mut t = Template::new(subject, public_key_der, profile, now - 60, not_after);
    t.email = email;
    t.crl_url = store.state.crl_url.clone();
    t.ocsp_url = store.state.ocsp_url.clone();
    let cert = issue::issue(&t, Some(&issuer), signer)?;
    store.record_issued(&cert)?;
    Ok(cert)
}

pub fn run_cert(c: CertCommand) -> CliResult<Exit> {
    match c {
        CertCommand::Issue {
            ca,
            key,
            csr,
            subject,
            csr_subject,
            profile,
            days,
            out,
            key_passphrase_file,
            ca_passphrase_file,
            force,
        } => {
            inputs::check_new(&out, force)?;
            let mut store = CaStore::open(&ca)?;
            let (pubkey, csr_name) = match (&key, &csr) {
                (Some(k), None) => (
                    cmd_key::load_key(k, key_passphrase_file.as_deref())?.public_key_der()?,
                    None,
                ),
                (None, Some(c)) => {
                    let v = issue::verify_csr(&inputs::read(c, "CSR")?)?;
                    (v.public_key_der, Some(v.subject))
                }
                _ => {
                    return Err(CliError::input(
                        "give the subject's key with --key or a request with --csr",
                    ));
                }
            };
            let name = match (csr_subject, csr_name) {
                (true, Some(n)) => n,
                (true, None) => return Err(CliError::input("--csr-subject needs --csr")),
                (false, _) => subject.spec().to_name()?,
            };
            let profile = match profile.as_str() {
                "signer" => Profile::Signer,
                "tsa" => Profile::TimeStamping,
                "ocsp" => Profile::OcspResponder,
                other => {
                    return Err(CliError::input(format!(
                        "unknown profile {other:?} (signer, tsa or ocsp)"
                    )));
                }
            };
            let signer = store.signer(ca_passphrase_file.as_deref())?;
            let cert = issue_from_store(&mut store, &signer, name, subject.email.clone(), pubkey, profile, days)?;
            let mut text = cert.to_pem()?;
            if store.state.has_issuing {
                text.push_str(&store.signing_cert()?.to_pem()?);
            }
            inputs::write_atomic(&out, text.as_bytes(), false)?;
            println!(
                "issued {} (serial {}), valid until {}, to {}",
                cert.display_name(),
                cert.serial_hex(),
                time::format(cert.not_after()),
                out.display()
            );
            Ok(Exit::Ok)
        }
        CertCommand::SelfSigned {
            key,
            subject,
            days,
            out,
            passphrase_file,
            force,
        } => {
            inputs::check_new(&out, force)?;
            if days < 1 {
                return Err(CliError::input("--days must be at least 1"));
            }
            let k = cmd_key::load_key(&key, passphrase_file.as_deref())?;
            let signer = SoftwareSigner::new(k);
            let now = time::now();
            let mut t = Template::new(
                subject.spec().to_name()?,
                signer.public_key_der()?,
                Profile::Signer,
                now - 60,
                now + days * DAY,
            );
            t.email = subject.email.clone();
            let cert = issue::issue(&t, None, &signer)?;
            inputs::write_atomic(&out, cert.to_pem()?.as_bytes(), false)?;
            println!(
                "self-signed certificate for {} written to {}",
                cert.display_name(),
                out.display()
            );
            Ok(Exit::Ok)
        }
        CertCommand::Revoke {
            ca,
            cert,
            serial,
            reason,
            at,
        } => {
            let mut store = CaStore::open(&ca)?;
            let serial = match (cert, serial) {
                (Some(p), None) => {
                    let c = inputs::certificates(&p)?.remove(0);
                    let issuer = store.signing_cert()?;
                    if !signet_pki::name::names_match(c.issuer(), issuer.subject()) {
                        return Err(CliError::input(format!(
                            "{} was not issued by this CA",
                            c.display_name()
                        )));
                    }
                    c.serial_hex()
                }
                (None, Some(s)) => {
                    let s = s.trim_start_matches("0x").to_ascii_lowercase();
                    hex::decode(&s).map_err(|_| CliError::input(format!("{s:?} is not a hex serial number")))?;
                    s
                }
                _ => return Err(CliError::input("give the certificate file or --serial")),
            };
            if !store.state.issued.iter().any(|i| i.serial == serial) {
                return Err(CliError::input(format!("serial {serial} was not issued by this CA")));
            }
            if store.state.revoked.iter().any(|r| r.serial == serial) {
                return Err(CliError::input(format!("serial {serial} is already revoked")));
            }
            let reason = match reason {
                Some(r) => {
                    Some(crl::reason_from_name(&r).ok_or_else(|| CliError::input(format!("unknown reason {r:?}")))?)
                }
                None => None,
            };
            let t = match at {
                Some(s) => time::parse(&s)?,
                None => time::now(),
            };
            store.state.revoked.push(Revoked {
                serial: serial.clone(),
                time: t,
                reason,
            });
            store.save()?;
            println!(
                "revoked {serial} as of {}; publish it with `signet ca crl`",
                time::format(t)
            );
            Ok(Exit::Ok)
        }
        CertCommand::Show { cert } => {
            for c in inputs::certificates(&cert)? {
                print_cert(&c)?;
            }
            Ok(Exit::Ok)
        }
    }
}

fn print_cert(c: &Certificate) -> CliResult<()> {
    println!("subject:     {}", signet_pki::name::display(c.subject()));
    println!("issuer:      {}", signet_pki::name::display(c.issuer()));
    println!("serial:      {}", c.serial_hex());
    println!(
        "valid:       {} to {}",
        time::format(c.not_before()),
        time::format(c.not_after())
    );
    println!("key:         {}", c.key_description());
    if let Some((ca, pl)) = c.basic_constraints()? {
        println!(
            "CA:          {ca}{}",
            pl.map(|p| format!(", pathLen {p}")).unwrap_or_default()
        );
    }
    if let Some(ku) = c.key_usage()? {
        println!("key usage:   {:?}", ku.0);
    }
    if let Some(eku) = c.extended_key_usage()? {
        println!(
            "ext. usage:  {}",
            eku.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    for u in c.crl_urls()? {
        println!("CRL:         {u}");
    }
    println!("sha256:      {}", c.fingerprint());
    println!();
    Ok(())
}
