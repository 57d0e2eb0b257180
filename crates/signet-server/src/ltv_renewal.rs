//! Archive renewal (PAdES B-LTA): stored PDFs whose newest document timestamp's TSA certificate
//! expires within the configured window get the validation data for that timestamp (its
//! certificates and the CA's current CRL) and a fresh document timestamp from the server's
//! time source, as a new current version, audited. On several nodes a lease row makes one node
//! run the job at a time ([`Lease`]); a document changed meanwhile (another signature) is left
//! for the next run, never overwritten.

use crate::audit::Event;
use crate::documents::{self, NewVersion, PDF};
use crate::error::{ApiError, ApiResult};
use crate::leases::Lease;
use crate::state::AppState;

/// The lease's name.
const LEASE: &str = "ltv-renewal";
/// How long a node holds the lease at most (it is released when the run ends).
const LEASE_SECS: i64 = 3600;

/// What one run did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Whether this node held the lease (else nothing was looked at).
    pub ran: bool,
    /// Documents renewed.
    pub renewed: Vec<String>,
}

/// Renews every stored B-LTA document whose newest document timestamp's TSA certificate
/// expires within `window_days`.
pub async fn run_once(state: &AppState, window_days: i64) -> ApiResult<Outcome> {
    let Some(lease) = Lease::take(state, LEASE, LEASE_SECS).await? else {
        return Ok(Outcome::default());
    };
    let result = renew_all(state, window_days).await;
    lease.release().await?;
    Ok(Outcome {
        ran: true,
        renewed: result?,
    })
}

async fn renew_all(state: &AppState, window_days: i64) -> ApiResult<Vec<String>> {
    let ids = documents::ids_with_current_media_type(&state.db, PDF).await?;
    let mut renewed = Vec::new();
    for id in ids {
        // One document that cannot be renewed does not stop the others.
        match renew_one(state, &id, window_days).await {
            Ok(true) => renewed.push(id),
            Ok(false) => {}
            Err(e) => tracing::warn!(target: "signet::ltv", "archive renewal of {id} failed: {}", e.detail),
        }
    }
    Ok(renewed)
}

/// Renews one document if it is a valid archive (its document timestamps validate here) whose
/// newest document timestamp's TSA certificate expires within the window, and if our time
/// source's certificate outlives that one (else a renewal would not extend anything).
async fn renew_one(state: &AppState, id: &str, window_days: i64) -> ApiResult<bool> {
    let doc = documents::get(state, id).await?;
    let current = doc.current()?.clone();
    let data = documents::content(state, &current).await?;
    let now = state.now();
    let due = {
        let src: &[u8] = &data;
        signet_pdf::document::PdfDocument::parse(&src, &Default::default())
            .ok()
            .and_then(|d| signet_pdf::ltv::last_document_timestamp(&d))
            .filter(|t| t.tsa_not_after - now <= window_days * 86_400)
    };
    let Some(last) = due else { return Ok(false) };
    // Only archives whose document timestamps hold are renewed: a forged token in an
    // uploaded file claims nothing here.
    let report = crate::validation::validate(state, data.clone(), None).await?;
    let stamps_hold = report
        .signatures
        .iter()
        .filter(|s| s.format == "PAdES document timestamp")
        .all(|s| s.passed());
    if !stamps_hold || !report.signatures.iter().any(|s| s.format == "PAdES document timestamp") {
        return Ok(false);
    }
    let ts = crate::revocation::TimeSource::of(state).await?;
    if ts.certificate_not_after().is_some_and(|n| n <= last.tsa_not_after) {
        tracing::warn!(target: "signet::ltv", "{id}: our TSA certificate does not outlive the archive's newest timestamp; renew the TSA key");
        return Ok(false);
    }
    state
        .audit
        .append(&Event {
            actor: "system",
            action: "document.ltv-renew",
            target: id,
            outcome: "started",
            details: serde_json::json!({"version": current.version, "tsa_not_after": last.tsa_not_after}),
        })
        .await?;
    let crl = crate::revocation::crl(state).await?;
    let renewed_pdf = state
        .work
        .run(move || {
            crate::signing::add_validation_data(data, signet_cms::certificates_of(&last.token), crl, Some(&ts))
        })
        .await??;
    let blobs = state.blobs.clone();
    let size = renewed_pdf.len() as i64;
    let sha = tokio::task::spawn_blocking(move || blobs.put(&renewed_pdf))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the blob store cannot be written: {e}")))?;
    let version = NewVersion {
        document_id: id.to_string(),
        kind: "renewed".into(),
        sha256: sha.clone(),
        size,
        media_type: PDF.into(),
        filename: current.filename.clone(),
        created_by: "system".into(),
        make_current: true,
        expected_current: doc.current_version,
        next_version: doc.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1,
        signature: None,
    };
    match state
        .audit
        .append_with(
            &Event {
                actor: "system",
                action: "document.ltv-renew",
                target: id,
                outcome: "ok",
                details: serde_json::json!({"sha256": sha}),
            },
            crate::changes::Change::Version(version),
        )
        .await
    {
        Ok(_) => Ok(true),
        // Signed meanwhile: the next run renews the new version.
        Err(e) if e.status == axum::http::StatusCode::CONFLICT => Ok(false),
        Err(e) => Err(e),
    }
}

/// Runs the renewal every `every_secs` until the server stops (started by `serve` when
/// `ltv_renewal_every_secs` is not 0). Failures are logged and retried at the next run.
pub async fn schedule(state: AppState, every_secs: u64, window_days: i64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(every_secs.max(60)));
    loop {
        tick.tick().await;
        match run_once(&state, window_days).await {
            Ok(o) if !o.renewed.is_empty() => {
                tracing::info!(target: "signet::ltv", "renewed {} archive(s): {:?}", o.renewed.len(), o.renewed)
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(target: "signet::ltv", "archive renewal failed: {}", e.detail),
        }
    }
}
