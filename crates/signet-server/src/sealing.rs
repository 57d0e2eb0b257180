//! Sealing the audit log, and checking it against seal keys trusted from outside the database.
//!
//! The server seals the log's tail with the newest enabled seal key every `audit_seal_every`
//! entries, whenever the last seal is `audit_seal_interval_secs` old and entries came after it,
//! and at shutdown. Its seal certificate is issued by the organisation CA for audit seals only;
//! its fingerprint is printed at first start, so that an auditor can pin it — a check against
//! pinned certificates is not fooled by seal keys an insider writes into the database.

use std::path::PathBuf;

use signet_pki::Certificate;

use crate::audit::{self, SealKey, Verification, VerifyOptions};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyInfo, KeyKind};
use crate::state::AppState;

/// Whose keys seals are checked against.
#[derive(Clone, Debug)]
pub enum SealTrust {
    /// The seal keys the database lists (an insider who can write to it can replace them).
    Database,
    /// These seal certificates only (kept outside the database).
    Pinned(Vec<Certificate>),
}

impl SealTrust {
    /// Pins the certificates in `files` (PEM or DER); none given: the database's.
    pub fn from_files(files: &[PathBuf]) -> Result<SealTrust, String> {
        if files.is_empty() {
            return Ok(SealTrust::Database);
        }
        let mut certs = Vec::new();
        for f in files {
            let data = std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let mut c = Certificate::parse_many(&data).map_err(|e| format!("{}: {e}", f.display()))?;
            if c.is_empty() {
                return Err(format!("{}: no certificate", f.display()));
            }
            certs.append(&mut c);
        }
        Ok(SealTrust::Pinned(certs))
    }
}

/// A seal certificate's key as a [`SealKey`].
fn seal_key(cert: &Certificate) -> Option<SealKey> {
    let spki = cert.spki_der().ok()?;
    let alg = signet_crypto::KeyAlgorithm::of_public_key(&spki)?.default_signature_algorithm();
    Some((spki, alg))
}

/// Checks the whole log: chain, seals against `trust`, no unsealed entry older than
/// `max_unsealed_secs` at `now`, and — for a running server — a newest seal no older than
/// `max_seal_age_secs`.
pub async fn verify_log(
    db: &Db,
    trust: &SealTrust,
    now: i64,
    max_unsealed_secs: i64,
    max_seal_age_secs: Option<i64>,
) -> ApiResult<Verification> {
    let options = VerifyOptions {
        pinned: matches!(trust, SealTrust::Pinned(_)),
        now,
        max_unsealed_secs,
        max_seal_age_secs,
    };
    match trust {
        SealTrust::Pinned(certs) => {
            let pinned: Vec<SealKey> = certs.iter().filter_map(seal_key).collect();
            audit::verify(db, &move |_: &str| pinned.clone(), options).await
        }
        SealTrust::Database => {
            let known = keys::seal_keys(db).await?;
            let lookup = move |id: &str| {
                known
                    .iter()
                    .filter(|(k, _, _)| k == id)
                    .map(|(_, spki, alg)| (spki.clone(), *alg))
                    .collect()
            };
            audit::verify(db, &lookup, options).await
        }
    }
}

/// The certificates of every seal key the database lists (PEM), newest first, for pinning.
pub async fn seal_certificates(db: &Db) -> ApiResult<Vec<Certificate>> {
    let mut out = Vec::new();
    for k in keys::of_kind_all(db, KeyKind::Seal).await?.into_iter().rev() {
        let chain = Certificate::parse_many(k.chain_pem.as_bytes()).map_err(ApiError::internal)?;
        if let Some(c) = chain.into_iter().next() {
            out.push(c);
        }
    }
    Ok(out)
}

/// Makes sure the seal key in use has a certificate for audit seals only. A server set up by an
/// earlier version sealed with a document-signing certificate: it gets a new seal key (the
/// old one is disabled; both stay listed, so old seals still verify), audited. Returns the new
/// certificate's fingerprint when it made one.
pub async fn ensure_seal_certificate(state: &AppState) -> ApiResult<Option<String>> {
    let Some(current) = keys::newest_enabled(&state.db, KeyKind::Seal).await? else {
        return Ok(None);
    };
    let cert = Certificate::parse_many(current.chain_pem.as_bytes())
        .map_err(ApiError::internal)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("seal key without certificate"))?;
    if cert.is_audit_seal() {
        return Ok(None);
    }
    state
        .audit
        .append(&audit::Event {
            actor: "system",
            action: "key.rotate",
            target: &current.id,
            outcome: "ok",
            details: serde_json::json!({"kind": "seal", "reason": "the seal certificate was not for audit seals only"}),
        })
        .await?;
    let new = create_seal_key(state).await?;
    let mut tx = state.db.begin_write().await?;
    keys::disable(&mut tx, &current.id).await?;
    tx.commit().await?;
    tracing::warn!(
        "the audit seal key was replaced by one certified for audit seals only; pin its certificate (SHA-256 {})",
        new.fingerprint
    );
    Ok(Some(new.fingerprint))
}

/// Seals the audit log with the newest enabled seal key (a disabled seal key is never used
/// again; rotate by creating a new one and disabling the old) when a seal is due, or now with
/// `force`. Returns the sequence number sealed through.
pub async fn seal(state: &AppState, force: bool) -> ApiResult<Option<i64>> {
    let key = keys::newest_enabled(&state.db, KeyKind::Seal)
        .await?
        .ok_or_else(|| ApiError::unavailable("no enabled audit seal key: the audit log cannot be sealed"))?;
    let signer = keys::signer(state, &key.id).await?;
    let due = audit::Due {
        every: state.config.audit_seal_every,
        interval_secs: state.config.audit_seal_interval_secs,
        now: signet_pki::time::now(),
        force,
    };
    audit::seal_if_due(&state.db, &*signer, &key.id, due).await
}

async fn seal_now(state: &AppState, force: bool) {
    if let Err(e) = seal(state, force).await {
        tracing::warn!("audit seal failed: {}", e.detail);
    }
}

/// A quiet log gets a heartbeat entry, sealed, when its newest seal is this old: half the age
/// beyond which a check reports the tail cut off.
fn heartbeat_secs(state: &AppState) -> i64 {
    (state.config.audit_max_unsealed_secs / 2).max(state.config.audit_seal_interval_secs)
}

/// Writes a heartbeat entry when nothing was written since the last seal and that seal is
/// getting old, so that a running server's newest seal is always recent.
async fn heartbeat(state: &AppState) -> ApiResult<()> {
    let now = signet_pki::time::now();
    let (Some((sealed, at)), Some(tail)) = (audit::newest(&state.db).await?, audit::tail(&state.db).await?) else {
        return Ok(());
    };
    if tail == sealed && now - at >= heartbeat_secs(state) {
        state
            .audit
            .append(&audit::Event {
                actor: "system",
                action: "audit.heartbeat",
                target: "",
                outcome: "ok",
                details: serde_json::json!({}),
            })
            .await?;
    }
    Ok(())
}

/// Seals the audit log when due, until `shutdown` resolves; then seals once more.
pub async fn sealing_task(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = heartbeat(&state).await {
            tracing::warn!("audit heartbeat failed: {}", e.detail);
        }
        seal_now(&state, false).await;
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = shutdown.changed() => break,
        }
    }
    seal_now(&state, true).await;
}

/// What an export wrote.
#[derive(Clone, Debug, Default)]
pub struct Exported {
    /// Entries written.
    pub entries: i64,
    /// Seals written.
    pub seals: i64,
}

/// Writes the whole log to `dir` in a form a third party can check without Signet
/// (docs/audit.md has the recipe, with `python3` and `openssl` only):
/// `entries.jsonl` (one entry per line, every field), `seals.txt` (`SEQ HASH TIME
/// SIGNATURE-BASE64 KEY-ID` per line), `seal-certificates.pem` (every seal certificate the database lists) and
/// `ca.pem` (the organisation CA that issued them).
pub async fn export(db: &Db, dir: &std::path::Path) -> Result<Exported, String> {
    use base64::Engine;
    use std::io::Write;
    let e = |what: &str, err: &dyn std::fmt::Display| format!("{what}: {err}");
    std::fs::create_dir_all(dir).map_err(|x| e("cannot create the export directory", &x))?;
    let mut out = Exported::default();
    let mut entries =
        std::io::BufWriter::new(std::fs::File::create(dir.join("entries.jsonl")).map_err(|x| e("entries.jsonl", &x))?);
    let mut after = 0;
    loop {
        let batch = audit::list(db, after, 1000).await.map_err(|x| x.detail)?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for entry in &batch {
            let line = serde_json::to_string(entry).map_err(|x| e("entry", &x))?;
            writeln!(entries, "{line}").map_err(|x| e("entries.jsonl", &x))?;
            out.entries += 1;
        }
    }
    entries.flush().map_err(|x| e("entries.jsonl", &x))?;
    let mut seals = String::new();
    for s in audit::list_seals(db).await.map_err(|x| x.detail)? {
        let sig = base64::engine::general_purpose::STANDARD.encode(&s.signature);
        seals.push_str(&format!("{} {} {} {sig} {}\n", s.seq, s.hash, s.at, s.key_id));
        out.seals += 1;
    }
    std::fs::write(dir.join("seals.txt"), seals).map_err(|x| e("seals.txt", &x))?;
    let mut pem = String::new();
    for c in seal_certificates(db).await.map_err(|x| x.detail)? {
        pem.push_str(&c.to_pem().map_err(|x| e("seal certificate", &x))?);
    }
    std::fs::write(dir.join("seal-certificates.pem"), pem).map_err(|x| e("seal-certificates.pem", &x))?;
    let ca = keys::of_kind(db, KeyKind::Ca)
        .await
        .map_err(|x| x.detail)?
        .ok_or("no organisation CA")?;
    let ca_cert = Certificate::parse_many(ca.chain_pem.as_bytes())
        .map_err(|x| e("CA certificate", &x))?
        .into_iter()
        .next()
        .ok_or("no CA certificate")?;
    std::fs::write(dir.join("ca.pem"), ca_cert.to_pem().map_err(|x| e("ca.pem", &x))?).map_err(|x| e("ca.pem", &x))?;
    Ok(out)
}

/// Makes the audit seal key and its certificate (audit seals only).
pub(crate) async fn create_seal_key(state: &AppState) -> ApiResult<KeyInfo> {
    let org = state.config.organisation.clone();
    let subject = signet_pki::name::SubjectSpec {
        common_name: format!("{org} audit seal"),
        organization: Some(org),
        ..Default::default()
    };
    keys::create_certified(
        state,
        KeyKind::Seal,
        None,
        "Audit log seal",
        subject,
        "",
        signet_crypto::KeyAlgorithm::EcdsaP256,
    )
    .await
}
