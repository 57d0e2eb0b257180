//! The organisation CA's public services: CRLs at the distribution point, an OCSP responder
//! (RFC 6960), the CA certificate for AIA, and the time-stamping authority (RFC 3161), plus
//! revoking a key's certificate.

use std::collections::HashMap;

use der::Decode;
use signet_pki::Certificate;
use signet_pki::ocsp::{CertStatus, OcspRequest};

use crate::audit::Event;
use crate::certificates::{self, serial_hex};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyKind};
use crate::state::AppState;

/// The TSA policy OID written into our tokens (Signet's private arc).
pub const TSA_POLICY: &str = "1.3.6.1.4.1.58873.1.1";
/// genTime in our tokens to the millisecond (RFC 3161 §2.4.2 allows fractions; the order of
/// two signatures in one second stays visible).
pub const TSA_PRECISION_DIGITS: u8 = 3;
/// How long a CRL or a "good" OCSP answer is valid.
pub const VALIDITY_SECS: i64 = 86_400;

/// Records a certificate the CA issued (so that OCSP knows it).
pub async fn record_issued(state: &AppState, cert: &Certificate, key_id: &str) -> ApiResult<()> {
    certificates::record(&state.db, cert, key_id).await
}

/// Records the certificates of keys made before the `certificates` table existed.
pub async fn backfill(state: &AppState) -> ApiResult<()> {
    for (id, pem) in keys::issued_chains(&state.db).await? {
        if let Some(c) = Certificate::parse_many(pem.as_bytes())
            .map_err(ApiError::internal)?
            .first()
        {
            record_issued(state, c, &id).await?;
        }
    }
    Ok(())
}

/// Revokes the certificate of key `key_id` and disables the key. `reason`: RFC 5280 code.
pub async fn revoke(state: &AppState, actor: &str, key_id: &str, reason: Option<u8>) -> ApiResult<()> {
    if let Some(r) = reason
        && (r == 7 || r > 10)
    {
        return Err(ApiError::unprocessable(
            "reason must be an RFC 5280 CRLReason code (0-6, 8-10)",
        ));
    }
    let k = keys::require(&state.db, key_id).await?;
    if k.kind == KeyKind::Ca {
        return Err(ApiError::unprocessable(
            "the organisation CA cannot revoke itself; retire it by setting up a new server CA",
        ));
    }
    // An imported key's certificate belongs to another CA, which alone can list it; here the
    // key is withdrawn from use at once.
    let imported = k.kind == KeyKind::Imported;
    let mut details = serde_json::json!({"serial": k.serial, "reason": reason.map(signet_pki::crl::reason_name)});
    if imported {
        details["scope"] = "disabled here; ask the issuing CA to revoke the certificate".into();
    }
    state
        .audit
        .append(&Event {
            actor,
            action: "certificate.revoke",
            target: key_id,
            outcome: "ok",
            details,
        })
        .await?;
    let mut tx = state.db.begin_write().await?;
    if !imported {
        certificates::mark_revoked(&mut tx, key_id, signet_pki::time::now(), reason).await?;
    }
    keys::disable(&mut tx, key_id).await?;
    tx.commit().await?;
    Ok(())
}

async fn ca(state: &AppState) -> ApiResult<(Certificate, std::sync::Arc<dyn signet_crypto::Signer>)> {
    let info = keys::of_kind(&state.db, KeyKind::Ca)
        .await?
        .ok_or_else(|| ApiError::internal("no CA"))?;
    let cert = Certificate::parse_many(info.chain_pem.as_bytes())
        .map_err(ApiError::internal)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("CA without certificate"))?;
    Ok((cert, keys::signer(state, &info.id).await?))
}

/// The CA certificate, DER (AIA caIssuers).
pub async fn ca_der(state: &AppState) -> ApiResult<Vec<u8>> {
    Ok(ca(state).await?.0.der().to_vec())
}

/// A fresh CRL (DER), signed by the CA, valid for a day; the CRL number is the issue time.
pub async fn crl(state: &AppState) -> ApiResult<Vec<u8>> {
    let entries = certificates::revoked(&state.db).await?;
    let (cert, signer) = ca(state).await?;
    let now = signet_pki::time::now();
    let crl = signet_pki::crl::build(
        &cert,
        &*signer,
        &entries,
        now,
        now + VALIDITY_SECS,
        u64::try_from(now).unwrap_or(0),
    )
    .map_err(ApiError::internal)?;
    Ok(crl.der().to_vec())
}

/// Answers an OCSP request (DER) for the organisation CA.
pub async fn ocsp(state: &AppState, request: &[u8]) -> ApiResult<Vec<u8>> {
    let serials: Vec<String> = match OcspRequest::from_der(request) {
        Ok(r) => r
            .tbs_request
            .request_list
            .iter()
            .take(100)
            .map(|x| serial_hex(x.req_cert.serial_number.as_bytes()))
            .collect(),
        Err(_) => return Ok(signet_pki::ocsp::error_response(1)),
    };
    let mut known: HashMap<String, CertStatus> = HashMap::new();
    for s in &serials {
        if let Some(revoked) = certificates::status(&state.db, s).await? {
            known.insert(
                s.clone(),
                match revoked {
                    Some((time, reason)) => CertStatus::Revoked { time, reason },
                    None => CertStatus::Good,
                },
            );
        }
    }
    let (cert, signer) = ca(state).await?;
    let lookup = move |serial: &[u8]| known.get(&serial_hex(serial)).copied().unwrap_or(CertStatus::Unknown);
    signet_pki::ocsp::respond(
        request,
        &cert,
        &*signer,
        &lookup,
        signet_pki::time::now(),
        VALIDITY_SECS,
    )
    .map_err(ApiError::internal)
}

/// Answers an RFC 3161 time-stamp request with the server's TSA key. Every token is audited
/// (serial and imprint), since it is a use of a server key.
pub async fn timestamp(state: &AppState, request: &[u8]) -> ApiResult<Vec<u8>> {
    let tsa = keys::newest_enabled(&state.db, KeyKind::Tsa)
        .await?
        .ok_or_else(|| ApiError::unavailable("this server has no enabled TSA key"))?;
    let signer = keys::signer(state, &tsa.id).await?;
    let serial = signet_cms::timestamp::random_positive::<20>().map_err(ApiError::internal)?;
    // Anyone may ask: counted per source and minute, not one entry each.
    state
        .anonymous
        .count_outcome("timestamp.issue", "ok", signet_pki::time::now());
    signet_cms::timestamp::respond(
        request,
        &*signer,
        &tsa_policy().map_err(ApiError::internal)?,
        &serial,
        signet_pki::gentime::now(TSA_PRECISION_DIGITS),
    )
    .map_err(ApiError::internal)
}

/// Our TSA's policy: [`TSA_POLICY`], genTime to [`TSA_PRECISION_DIGITS`].
fn tsa_policy() -> Result<signet_cms::timestamp::TsaPolicy, String> {
    let mut p = signet_cms::timestamp::TsaPolicy::new(TSA_POLICY)?;
    p.precision_digits = TSA_PRECISION_DIGITS;
    Ok(p)
}

/// Where the signatures' time-stamps come from: the server's own TSA, in-process (the default),
/// or an external RFC 3161 TSA (`tsa_url`).
pub enum TimeSource {
    /// Our TSA key, signing tokens here.
    Own(std::sync::Arc<dyn signet_crypto::Signer>),
    /// An external TSA.
    External {
        /// The TSA's URL.
        url: String,
        /// The configuration (trust for https).
        config: Box<crate::config::Config>,
    },
}

impl TimeSource {
    /// The time source this server uses.
    pub async fn of(state: &AppState) -> ApiResult<TimeSource> {
        if let Some(url) = &state.config.tsa_url {
            return Ok(TimeSource::External {
                url: url.clone(),
                config: Box::new(state.config.clone()),
            });
        }
        let tsa = keys::newest_enabled(&state.db, KeyKind::Tsa).await?.ok_or_else(|| {
            ApiError::unavailable("this server has no enabled TSA key, so signatures cannot be time-stamped")
        })?;
        Ok(TimeSource::Own(keys::signer(state, &tsa.id).await?))
    }

    /// When the certificate of our own TSA ends (`None` for an external TSA: unknown here).
    pub fn certificate_not_after(&self) -> Option<i64> {
        match self {
            TimeSource::Own(tsa) => tsa
                .certificate_chain()
                .first()
                .and_then(|d| Certificate::from_der(d).ok())
                .map(|c| c.not_after()),
            TimeSource::External { .. } => None,
        }
    }

    /// A time-stamp token over `data` (a signature value), checked like any TSA's answer.
    /// Blocking: call from `spawn_blocking`.
    pub fn stamp(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        self.stamp_digest(&signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, data))
    }

    /// A time-stamp token over a SHA-256 digest (a document timestamp's byte ranges).
    pub fn stamp_digest(&self, imprint: &[u8]) -> Result<Vec<u8>, String> {
        let hash = signet_crypto::HashAlgorithm::Sha256;
        match self {
            TimeSource::Own(tsa) => {
                let serial = signet_cms::timestamp::random_positive::<20>().map_err(|e| e.to_string())?;
                signet_cms::timestamp::local_token(
                    &**tsa,
                    &tsa_policy()?,
                    &serial,
                    signet_pki::gentime::now(TSA_PRECISION_DIGITS),
                    hash,
                    imprint,
                )
            }
            TimeSource::External { url, config } => {
                let client = crate::net::user_client(config)?;
                signet_net::tsa::stamp_digest(&client, url, hash, imprint).map_err(|e| e.to_string())
            }
        }
    }
}
