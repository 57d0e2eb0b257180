//! Signing keys and their certificates: the organisation CA, the organisation key ("one key for
//! everyone"), the audit seal key, per-employee keys and imported PKCS#12 keys. Private keys are
//! stored as PKCS#8 sealed under the key-encryption key, bound to the key's id.

use serde::Serialize;
use signet_crypto::{KeyAlgorithm, PrivateKey, SoftwareSigner};
use signet_pki::Certificate;
use signet_pki::issue::{Profile, Template};
use signet_pki::name::SubjectSpec;
use sqlx::Row;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::{Role, User};

/// What a key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// The organisation's root CA.
    Ca,
    /// The organisation key: shared, gated by TOTP and policy.
    Organisation,
    /// Seals the audit log.
    Seal,
    /// An employee's key, generated on the server.
    Personal,
    /// An employee's key imported from PKCS#12.
    Imported,
    /// The time-stamping authority's key (`/tsa`).
    Tsa,
    /// Seals the evidence of simple signatures (its certificate is for nothing else).
    Evidence,
}

impl KeyKind {
    /// Database name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Ca => "ca",
            KeyKind::Organisation => "organisation",
            KeyKind::Seal => "seal",
            KeyKind::Personal => "personal",
            KeyKind::Imported => "imported",
            KeyKind::Tsa => "tsa",
            KeyKind::Evidence => "evidence",
        }
    }
    fn parse(s: &str) -> KeyKind {
        match s {
            "ca" => KeyKind::Ca,
            "organisation" => KeyKind::Organisation,
            "seal" => KeyKind::Seal,
            "personal" => KeyKind::Personal,
            "tsa" => KeyKind::Tsa,
            "evidence" => KeyKind::Evidence,
            _ => KeyKind::Imported,
        }
    }
}

/// A key as listed to users (never the private part).
#[derive(Clone, Debug, Serialize)]
pub struct KeyInfo {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: KeyKind,
    /// Owner (personal and imported keys).
    pub owner_id: Option<String>,
    /// Label.
    pub label: String,
    /// Key algorithm.
    pub algorithm: String,
    /// Certificate subject.
    pub subject: String,
    /// Certificate issuer.
    pub issuer: String,
    /// Certificate serial (hex).
    pub serial: String,
    /// Certificate validity end (Unix time).
    pub not_after: i64,
    /// SHA-256 fingerprint of the certificate.
    pub fingerprint: String,
    /// Certificate chain, PEM (signer first).
    pub chain_pem: String,
    /// Roles allowed to use an organisation key.
    pub allowed_roles: Vec<String>,
    /// Document types allowed (`*` = any).
    pub allowed_doc_types: Vec<String>,
    /// Service accounts (user ids) allowed to sign with it without TOTP.
    pub allowed_services: Vec<String>,
    /// Disabled keys cannot sign.
    pub disabled: bool,
    /// The PAdES level its signatures reach: `B-T`, `B-LT` or `B-LTA` (detached CAdES
    /// signatures are CAdES-T whatever this says).
    pub signature_level: String,
    /// Who may sign with it, for what, in words (the policy made visible).
    pub usable_by: String,
}

impl KeyInfo {
    /// Who may use the key for what, in one sentence.
    pub fn describe_policy(&self) -> String {
        let types = if self.allowed_doc_types.iter().any(|t| t == "*") {
            "documents of any type".to_string()
        } else if self.allowed_doc_types.is_empty() {
            "no documents".to_string()
        } else {
            format!("documents of type {}", self.allowed_doc_types.join(", "))
        };
        let who = match self.kind {
            KeyKind::Ca | KeyKind::Seal | KeyKind::Tsa | KeyKind::Evidence => {
                return "nobody: it does not sign documents".into();
            }
            KeyKind::Personal | KeyKind::Imported => "its owner only".to_string(),
            KeyKind::Organisation => {
                let roles = if self.allowed_roles.is_empty() {
                    "no role".to_string()
                } else {
                    format!("every user with role {}", self.allowed_roles.join(", "))
                };
                let services = if self.allowed_services.is_empty() {
                    String::new()
                } else {
                    format!(" and service accounts {}", self.allowed_services.join(", "))
                };
                format!("{roles} (each signature confirmed by their own one-time code){services}")
            }
        };
        let disabled = if self.disabled {
            " — disabled: nobody, now"
        } else {
            ""
        };
        format!("{who}, for {types}, at PAdES {}{disabled}", self.signature_level)
    }
}

/// The signature levels a key policy can ask for.
pub const SIGNATURE_LEVELS: [&str; 3] = ["B-T", "B-LT", "B-LTA"];

fn split(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

const KEY_COLUMNS: &str = "id, kind, owner_id, label, algorithm, chain_pem, allowed_roles, allowed_doc_types, allowed_services, disabled, signature_level";

fn row_info(r: &sqlx::any::AnyRow) -> ApiResult<KeyInfo> {
    let chain_pem: String = r.try_get(5)?;
    let chain = Certificate::parse_many(chain_pem.as_bytes()).map_err(ApiError::internal)?;
    let leaf = chain
        .first()
        .ok_or_else(|| ApiError::internal("key without certificate"))?;
    let mut k = KeyInfo {
        id: r.try_get(0)?,
        kind: KeyKind::parse(&r.try_get::<String, _>(1)?),
        owner_id: r.try_get(2)?,
        label: r.try_get(3)?,
        algorithm: r.try_get(4)?,
        subject: leaf.display_name(),
        issuer: signet_pki::name::display_name(leaf.issuer()),
        serial: leaf.serial_hex(),
        not_after: leaf.not_after(),
        fingerprint: leaf.fingerprint(),
        allowed_roles: split(&r.try_get::<String, _>(6)?),
        allowed_doc_types: split(&r.try_get::<String, _>(7)?),
        allowed_services: split(&r.try_get::<String, _>(8)?),
        chain_pem,
        disabled: r.try_get::<i64, _>(9)? != 0,
        signature_level: r.try_get(10)?,
        usable_by: String::new(),
    };
    k.usable_by = k.describe_policy();
    Ok(k)
}

/// One key's public facts.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<KeyInfo>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM keys WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    r.as_ref().map(row_info).transpose()
}

/// A key by id, or 404.
pub async fn require(db: &Db, id: &str) -> ApiResult<KeyInfo> {
    get(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no key {id}")))
}

/// The newest enabled key of a kind (the TSA key in use: a disabled one is never used, and a
/// new one takes over from older ones).
pub async fn newest_enabled(db: &Db, kind: KeyKind) -> ApiResult<Option<KeyInfo>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM keys WHERE kind = $1 AND disabled = 0 ORDER BY created_at DESC, id DESC LIMIT 1"
    )))
    .bind(kind.as_str())
    .fetch_optional(&db.pool)
    .await?;
    r.as_ref().map(row_info).transpose()
}

/// The (first) key of a kind.
pub async fn of_kind(db: &Db, kind: KeyKind) -> ApiResult<Option<KeyInfo>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM keys WHERE kind = $1 ORDER BY created_at LIMIT 1"
    )))
    .bind(kind.as_str())
    .fetch_optional(&db.pool)
    .await?;
    r.as_ref().map(row_info).transpose()
}

/// Every key of a kind, oldest first.
pub async fn of_kind_all(db: &Db, kind: KeyKind) -> ApiResult<Vec<KeyInfo>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM keys WHERE kind = $1 ORDER BY created_at, id"
    )))
    .bind(kind.as_str())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(row_info).collect()
}

/// All keys (administrators) or the keys `user` may sign with.
pub async fn list_for(db: &Db, user: &User) -> ApiResult<Vec<KeyInfo>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM keys WHERE kind NOT IN ('ca', 'seal', 'tsa') ORDER BY created_at"
    )))
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let k = row_info(r)?;
        if user.has(Role::Admin) || may_use(&k, user, None).is_ok() {
            out.push(k);
        }
    }
    Ok(out)
}

/// Whether `user` may sign documents of `doc_type` (any type when `None`) with key `k`.
pub fn may_use(k: &KeyInfo, user: &User, doc_type: Option<&str>) -> ApiResult<()> {
    if k.disabled {
        return Err(ApiError::forbidden("this key is disabled"));
    }
    match k.kind {
        KeyKind::Ca | KeyKind::Seal | KeyKind::Tsa | KeyKind::Evidence => {
            return Err(ApiError::forbidden("this key does not sign documents"));
        }
        KeyKind::Personal | KeyKind::Imported => {
            if k.owner_id.as_deref() != Some(user.id.as_str()) {
                return Err(ApiError::forbidden(
                    "this key belongs to another user; only its owner can use it",
                ));
            }
        }
        KeyKind::Organisation => {
            let allowed = if user.has(Role::Service) {
                k.allowed_services.iter().any(|s| s == &user.id)
            } else {
                user.roles
                    .iter()
                    .any(|r| k.allowed_roles.iter().any(|a| a == r.as_str()))
            };
            if !allowed {
                return Err(ApiError::forbidden(
                    "the organisation key's policy does not allow you to use it",
                ));
            }
        }
    }
    match doc_type {
        Some(t) => may_sign_type(k, t),
        None => Ok(()),
    }
}

/// Whether `k`'s policy lets it sign documents of type `doc_type` (also for the server's own
/// seals at the end of a route, which no person's role gates).
pub fn may_sign_type(k: &KeyInfo, doc_type: &str) -> ApiResult<()> {
    if k.disabled {
        return Err(ApiError::forbidden("this key is disabled"));
    }
    if !k.allowed_doc_types.iter().any(|a| a == "*" || a == doc_type) {
        return Err(ApiError::forbidden(format!(
            "this key may not sign documents of type {doc_type:?}"
        )));
    }
    Ok(())
}

fn context(id: &str) -> String {
    format!("key:{id}")
}

/// Stores a private key (sealed) and its chain.
#[allow(clippy::too_many_arguments)]
async fn store(
    state: &AppState,
    id: &str,
    kind: KeyKind,
    owner: Option<&str>,
    label: &str,
    key: &PrivateKey,
    chain: &[Certificate],
    allowed_roles: &str,
) -> ApiResult<()> {
    let pkcs8 = key.to_pkcs8_der().map_err(ApiError::internal)?;
    let sealed = state.kek.seal(&context(id), &pkcs8).map_err(ApiError::internal)?;
    let mut pem = String::new();
    for c in chain {
        pem.push_str(&c.to_pem().map_err(ApiError::internal)?);
    }
    sqlx::query(
        "INSERT INTO keys (id, kind, owner_id, label, algorithm, encrypted_key, chain_pem, allowed_roles, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(owner)
    .bind(label)
    .bind(key.describe())
    .bind(sealed)
    .bind(pem)
    .bind(allowed_roles)
    .bind(signet_pki::time::now())
    .execute(&state.db.writer)
    .await?;
    Ok(())
}

/// A key's signer (private key decrypted in memory, chain attached). Decrypted keys are kept
/// in the process's cache: key rows never change (policy and the disabled flag are checked on
/// every use, from the database), and parsing an RSA key costs more than signing with it.
pub async fn signer(state: &AppState, id: &str) -> ApiResult<std::sync::Arc<dyn signet_crypto::Signer>> {
    if let Some(s) = state.signers.lock().ok().and_then(|c| c.get(id).cloned()) {
        return Ok(s);
    }
    let s: std::sync::Arc<dyn signet_crypto::Signer> = std::sync::Arc::new(load_signer(state, id).await?);
    if let Ok(mut c) = state.signers.lock() {
        c.insert(id.to_string(), s.clone());
    }
    Ok(s)
}

async fn load_signer(state: &AppState, id: &str) -> ApiResult<SoftwareSigner> {
    let r = sqlx::query("SELECT encrypted_key, chain_pem FROM keys WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("no such key"))?;
    let sealed: Vec<u8> = r.try_get(0)?;
    let chain_pem: String = r.try_get(1)?;
    let pkcs8 = state.kek.open(&context(id), &sealed).map_err(|_| {
        ApiError::internal(format!(
            "key {id} does not decrypt: the key-encryption key is not the one it was stored with"
        ))
    })?;
    let key = PrivateKey::from_pkcs8_der(&pkcs8).map_err(ApiError::internal)?;
    let chain = Certificate::parse_many(chain_pem.as_bytes())
        .map_err(ApiError::internal)?
        .iter()
        .map(|c| c.der().to_vec())
        .collect();
    Ok(SoftwareSigner::new(key).with_chain(chain))
}

/// Creates the organisation CA (self-signed, ten years).
pub async fn create_ca(state: &AppState) -> ApiResult<KeyInfo> {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).map_err(ApiError::internal)?;
    let now = signet_pki::time::now();
    let subject = SubjectSpec {
        common_name: format!("{} CA", state.config.organisation),
        organization: Some(state.config.organisation.clone()),
        ..Default::default()
    };
    let name = subject.to_name().map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let spki = key.public_key_der().map_err(ApiError::internal)?;
    let t = Template::new(
        name,
        spki,
        Profile::RootCa { path_len: Some(0) },
        now - 60,
        now + 10 * 365 * 86400,
    );
    let signer = SoftwareSigner::new(key);
    let cert = signet_pki::issue::issue(&t, None, &signer).map_err(ApiError::internal)?;
    let id = crate::users::new_id()?;
    store(
        state,
        &id,
        KeyKind::Ca,
        None,
        "Organisation CA",
        signer.key(),
        &[cert],
        "",
    )
    .await?;
    get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::internal("CA vanished"))
}

/// Generates a key and has the organisation CA certify it (three years, or the CA's end).
pub async fn create_certified(
    state: &AppState,
    kind: KeyKind,
    owner: Option<&User>,
    label: &str,
    subject: SubjectSpec,
    allowed_roles: &str,
    algorithm: KeyAlgorithm,
) -> ApiResult<KeyInfo> {
    if algorithm == KeyAlgorithm::Ed25519 {
        return Err(ApiError::unprocessable(
            "ed25519 is not offered for document signing: most PDF readers and OpenSSL 3.0 cannot verify it; use ecdsa-p256 or rsa-3072",
        ));
    }
    let ca = of_kind(&state.db, KeyKind::Ca)
        .await?
        .ok_or_else(|| ApiError::internal("no CA"))?;
    let ca_chain = Certificate::parse_many(ca.chain_pem.as_bytes()).map_err(ApiError::internal)?;
    let ca_cert = ca_chain
        .first()
        .ok_or_else(|| ApiError::internal("CA without certificate"))?;
    let ca_signer = signer(state, &ca.id).await?;
    let key = PrivateKey::generate(algorithm).map_err(ApiError::internal)?;
    let now = signet_pki::time::now();
    let email = subject.email.clone();
    let name = subject.to_name().map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let spki = key.public_key_der().map_err(ApiError::internal)?;
    let profile = match kind {
        KeyKind::Tsa => Profile::TimeStamping,
        KeyKind::Seal => Profile::AuditSeal,
        KeyKind::Evidence => Profile::EvidenceSeal,
        _ => Profile::Signer,
    };
    let mut t = Template::new(
        name,
        spki,
        profile,
        now - 60,
        (now + 3 * 365 * 86400).min(ca_cert.not_after()),
    );
    t.email = email;
    if let Some(base) = &state.config.public_url {
        // Where relying parties find revocation data and the issuer (only with a configured
        // public URL: loopback addresses in certificates help nobody).
        let base = base.trim_end_matches('/');
        t.crl_url = Some(format!("{base}/crl/ca.crl"));
        t.ocsp_url = Some(format!("{base}/ocsp"));
        t.ca_issuers_url = Some(format!("{base}/ca.crt"));
    }
    let cert =
        signet_pki::issue::issue(&t, Some(ca_cert), &*ca_signer).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let id = crate::users::new_id()?;
    crate::revocation::record_issued(state, &cert, &id).await?;
    store(
        state,
        &id,
        kind,
        owner.map(|u| u.id.as_str()),
        label,
        &key,
        &[cert, ca_cert.clone()],
        allowed_roles,
    )
    .await?;
    get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::internal("key vanished"))
}

/// Imports a key and its chain from a PKCS#12 bundle for `owner`.
pub async fn import_pkcs12(
    state: &AppState,
    owner: &User,
    label: &str,
    p12: &[u8],
    password: &[u8],
) -> ApiResult<KeyInfo> {
    // Key derivation is slow by design: off the async workers.
    let (p12, password) = (p12.to_vec(), zeroize::Zeroizing::new(password.to_vec()));
    let contents = state
        .work
        .run(move || signet_crypto::pkcs12::parse(&p12, &password))
        .await?
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let chain = contents
        .certificates
        .iter()
        .map(|d| Certificate::from_der(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::unprocessable(format!("a certificate in the bundle is unreadable: {e}")))?;
    let leaf = chain
        .first()
        .ok_or_else(|| ApiError::unprocessable("the bundle has no certificate for its key"))?;
    let spki = contents.key.public_key_der().map_err(ApiError::internal)?;
    if leaf.spki_der().map_err(ApiError::internal)? != spki {
        return Err(ApiError::unprocessable(
            "the bundle's first certificate is not for its key",
        ));
    }
    let id = crate::users::new_id()?;
    store(
        state,
        &id,
        KeyKind::Imported,
        Some(&owner.id),
        label,
        &contents.key,
        &chain,
        "",
    )
    .await?;
    get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::internal("key vanished"))
}

/// An organisation key's policy.
pub struct Policy<'a> {
    /// Roles that may use it.
    pub roles: &'a [String],
    /// Document types it may sign (`*` = any).
    pub doc_types: &'a [String],
    /// Service accounts that may sign with it without a code.
    pub services: &'a [String],
    /// The PAdES level of its signatures ([`SIGNATURE_LEVELS`]).
    pub signature_level: &'a str,
}

/// Checks a policy's values (before anything is audited or written).
pub fn check_policy(p: &Policy<'_>) -> ApiResult<()> {
    for r in p.roles {
        if Role::parse(r).is_none() {
            return Err(ApiError::unprocessable(format!("unknown role {r:?}")));
        }
    }
    if !SIGNATURE_LEVELS.contains(&p.signature_level) {
        return Err(ApiError::unprocessable(format!(
            "signature_level must be one of {}",
            SIGNATURE_LEVELS.join(", ")
        )));
    }
    Ok(())
}

/// Changes an organisation key's policy.
pub async fn set_policy(db: &Db, id: &str, p: &Policy<'_>) -> ApiResult<()> {
    check_policy(p)?;
    sqlx::query(
        "UPDATE keys SET allowed_roles = $1, allowed_doc_types = $2, allowed_services = $3, signature_level = $4 WHERE id = $5",
    )
    .bind(p.roles.join(","))
    .bind(p.doc_types.join(","))
    .bind(p.services.join(","))
    .bind(p.signature_level)
    .bind(id)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// The seal key's public key and algorithm by key id (for audit verification).
pub async fn seal_keys(db: &Db) -> ApiResult<Vec<(String, Vec<u8>, signet_crypto::SignatureAlgorithm)>> {
    let rows = sqlx::query("SELECT id, chain_pem FROM keys WHERE kind = 'seal'")
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: String = r.try_get(0)?;
        let pem: String = r.try_get(1)?;
        let chain = Certificate::parse_many(pem.as_bytes()).map_err(ApiError::internal)?;
        if let Some(c) = chain.first() {
            let spki = c.spki_der().map_err(ApiError::internal)?;
            let alg = KeyAlgorithm::of_public_key(&spki)
                .map(KeyAlgorithm::default_signature_algorithm)
                .ok_or_else(|| ApiError::internal("a seal key of an unknown algorithm"))?;
            out.push((id, spki, alg));
        }
    }
    Ok(out)
}

/// Clears a key's lock-out counters (kept for keys locked before failures were counted per
/// user: today a wrong code locks the user who typed it, never a key).
pub async fn clear_lock(db: &Db, id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE keys SET failures = 0, locked_until = 0 WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Disables key `id` (inside the caller's transaction): it never signs again.
pub async fn disable(conn: &mut sqlx::AnyConnection, id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE keys SET disabled = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// (id, certificate chain PEM) of every key whose certificate the organisation CA issued.
pub async fn issued_chains(db: &Db) -> ApiResult<Vec<(String, String)>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, chain_pem FROM keys WHERE kind IN ('organisation', 'seal', 'personal', 'tsa')")
            .fetch_all(&db.pool)
            .await?;
    Ok(rows)
}
