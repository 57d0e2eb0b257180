//! `signet serve`: the signing server, on embedded defaults (SQLite in `./signet-data`) or a
//! TOML file, `SIGNET_*` variables and flags; and `signet audit verify`.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use signet_server::Config;

use crate::exit::{CliError, CliResult, Exit};

/// Where the server's configuration comes from (shared by `serve` and `audit`).
#[derive(ClapArgs, Clone, Debug)]
pub struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (database, blobs, key-encryption key).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://FILE` or `postgres://USER@HOST/DB`.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Blob directory (shared storage for several nodes).
    #[arg(long)]
    pub blob_dir: Option<PathBuf>,
}

/// `signet serve`.
#[derive(ClapArgs, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
    /// The URL users reach the server at.
    #[arg(long)]
    public_url: Option<String>,
}

/// `signet audit …`.
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the audit log's hash chain and seals; report the first tampered, deleted or
    /// reordered entry, a seal not by a pinned key, or an old unsealed tail.
    Verify(AuditVerifyArgs),
    /// Print the audit seal certificates (PEM) to pin outside the server.
    SealCert(ConfigArgs),
    /// Write the log, its seals and the seal certificates to a directory that a third party
    /// can check without Signet (docs/audit.md).
    Export {
        /// Directory to write to.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// `signet audit verify`.
#[derive(ClapArgs, Debug)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Trust only these seal certificates (PEM), kept outside the server, not the seal keys
    /// the database lists (repeat for rotated keys).
    #[arg(long = "seal-cert")]
    seal_certs: Vec<PathBuf>,
    /// Entries unsealed for longer than this many seconds are a problem (default: the
    /// server's audit_max_unsealed_secs, 600).
    #[arg(long)]
    max_unsealed_secs: Option<i64>,
    /// While the server runs: a newest seal older than this many seconds is a problem (the
    /// tail was cut off with its seals). Off by default, for logs of stopped servers.
    #[arg(long)]
    max_seal_age: Option<i64>,
}

/// `signet user …` (on the server's machine, against its database).
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Give a user (e.g. the administrator) a new one-time password and clear lock-outs.
    ResetPassword {
        /// Username.
        username: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Runs `signet user reset-password`.
pub fn run_user(c: UserCommand) -> CliResult<Exit> {
    let UserCommand::ResetPassword { username, config: a } = c;
    let c = config(&a)?;
    runtime()?.block_on(async move {
        let db = signet_server::db::Db::connect(&c.database_url())
            .await
            .map_err(CliError::input)?;
        let p = signet_server::reset_account(&db, &username)
            .await
            .map_err(|e| CliError::input(e.detail))?;
        println!("new one-time password for {username}: {}", p.as_str());
        println!("(shown only now; it must be changed at the next login)");
        Ok(Exit::Ok)
    })
}

fn config(a: &ConfigArgs) -> CliResult<Config> {
    let mut c = Config::load(a.config.as_deref(), std::env::vars()).map_err(CliError::input)?;
    if let Some(d) = &a.data_dir {
        c.data_dir = d.clone();
    }
    if let Some(u) = &a.database_url {
        c.database_url = Some(u.clone());
    }
    if let Some(b) = &a.blob_dir {
        c.blob_dir = Some(b.clone());
    }
    Ok(c)
}

fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::internal)
}

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run_serve(a: ServeArgs) -> CliResult<Exit> {
    let mut c = config(&a.config)?;
    if let Some(l) = &a.listen {
        c.listen = l.clone();
    }
    if let Some(u) = &a.public_url {
        c.public_url = Some(u.clone());
    }
    init_logs();
    runtime()?.block_on(async move {
        let listener = signet_server::listen(&c.listen)
            .await
            .map_err(|e| CliError::input(format!("cannot listen on {}: {e}", c.listen)))?;
        let local = listener.local_addr().map_err(CliError::internal)?;
        let data_dir = c.data_dir.clone();
        let db_url = c.database_url();
        let public = c.public_url.clone().unwrap_or_else(|| format!("http://{local}"));
        let prepared = signet_server::prepare(c).await.map_err(CliError::input)?;
        println!("Signet is running at {public}");
        println!("  API: {public}/api/v1  (OpenAPI: {public}/api/v1/openapi.json)");
        println!("  data directory: {}", data_dir.display());
        println!(
            "  database: {}",
            if db_url.starts_with("sqlite:") {
                "SQLite (embedded)"
            } else {
                "PostgreSQL"
            }
        );
        println!("  key-encryption key: {}", prepared.kek_source.describe());
        if let Some(b) = &prepared.bootstrap {
            println!();
            println!("First start: the organisation CA, the organisation key and an administrator were created.");
            println!("  username:          {}", b.username);
            println!("  one-time password: {}", b.password.as_str());
            println!("  (shown only now; change it at first login: POST /api/v1/me/password)");
            println!();
            println!("The organisation key ({}) may be used by", b.organisation_key.0);
            println!("  {}.", b.organisation_key.1);
            println!(
                "Narrow it: PUT /api/v1/keys/{}/policy (roles, document types, services).",
                b.organisation_key.0
            );
            println!();
            println!("The audit log is sealed by a certificate with SHA-256 fingerprint");
            println!("  {}", b.seal_fingerprint);
            println!("Keep it outside this server: `signet audit seal-cert > seal.pem`, then");
            println!("`signet audit verify --seal-cert seal.pem` trusts only that key.");
        }
        if let Some(fp) = &prepared.seal_replaced {
            println!();
            println!("The audit seal key was replaced by one certified for audit seals only.");
            println!("  Pin its certificate (SHA-256 {fp}): `signet audit seal-cert > seal.pem`.");
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        signet_server::serve(listener, prepared.state, shutdown_signal())
            .await
            .map_err(CliError::internal)?;
        Ok(Exit::Ok)
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// `signet audit …`: `verify` exits 0 when intact, 1 with the first problem otherwise.
pub fn run_audit(c: AuditCommand) -> CliResult<Exit> {
    match c {
        AuditCommand::Verify(a) => audit_verify(a),
        AuditCommand::SealCert(a) => {
            let c = config(&a)?;
            runtime()?.block_on(async move {
                let db = signet_server::db::Db::connect(&c.database_url())
                    .await
                    .map_err(CliError::input)?;
                let certs = signet_server::sealing::seal_certificates(&db)
                    .await
                    .map_err(|e| CliError::input(e.detail))?;
                for cert in certs {
                    eprintln!("# {} (SHA-256 {})", cert.display_name(), cert.fingerprint());
                    print!("{}", cert.to_pem().map_err(CliError::internal)?);
                }
                Ok(Exit::Ok)
            })
        }
        AuditCommand::Export { out, config: a } => {
            let c = config(&a)?;
            runtime()?.block_on(async move {
                let db = signet_server::db::Db::connect(&c.database_url())
                    .await
                    .map_err(CliError::input)?;
                let e = signet_server::sealing::export(&db, &out)
                    .await
                    .map_err(CliError::input)?;
                println!(
                    "exported {} entries and {} seals to {} (check them without Signet: docs/audit.md)",
                    e.entries,
                    e.seals,
                    out.display()
                );
                Ok(Exit::Ok)
            })
        }
    }
}

fn audit_verify(a: AuditVerifyArgs) -> CliResult<Exit> {
    let c = config(&a.config)?;
    let trust = signet_server::sealing::SealTrust::from_files(&a.seal_certs).map_err(CliError::input)?;
    let max_unsealed = a.max_unsealed_secs.unwrap_or(c.audit_max_unsealed_secs);
    runtime()?.block_on(async move {
        let db = signet_server::db::Db::connect(&c.database_url())
            .await
            .map_err(CliError::input)?;
        let now = signet_pki::time::now();
        let v = signet_server::sealing::verify_log(&db, &trust, now, max_unsealed, a.max_seal_age)
            .await
            .map_err(|e| CliError::input(e.detail))?;
        println!(
            "entries: {}, seals: {}, sealed through entry {} (seal keys: {})",
            v.entries, v.seals, v.last_sealed, v.seal_trust
        );
        if let Some(at) = v.newest_seal_at {
            println!("newest seal: {} ({} s ago)", signet_pki::time::format(at), now - at);
        }
        if v.seal_trust == "database" {
            println!("(seal keys read from the database itself; pin the seal certificate with --seal-cert)");
        }
        match v.first_problem {
            None => {
                println!("audit log intact");
                Ok(Exit::Ok)
            }
            Some((seq, what)) => {
                println!("TAMPERED at entry {seq}: {what}");
                Ok(Exit::Invalid)
            }
        }
    })
}
