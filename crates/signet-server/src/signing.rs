//! Signing documents: policy, TOTP step-up, audit first, then PAdES B-T (PDFs) or CAdES-T
//! detached (anything else), time-stamped by the server's own TSA or a configured one, then
//! the new version.

use serde::{Deserialize, Serialize};

use crate::audit::Event;
use crate::documents::{self, Document, P7S, PDF};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyInfo};
use crate::state::AppState;
use crate::users::{Role, User};

/// A visible stamp's place.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visible {
    /// Page (1-based; default 1).
    pub page: Option<usize>,
    /// x, y, width, height in points from the bottom-left corner.
    pub rect: [f32; 4],
}

/// How to sign (Debug never shows the one-time code).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOptions {
    /// Key to sign with (see `GET /api/v1/keys`).
    pub key_id: String,
    /// A fresh code from the user's authenticator (not needed for service accounts).
    pub totp_code: Option<String>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// A visible stamp (PDF only).
    pub visible: Option<Visible>,
    /// Certify with DocMDP permissions 1, 2 or 3 (PDF only).
    pub certify: Option<u8>,
}

impl std::fmt::Debug for SignOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignOptions")
            .field("key_id", &self.key_id)
            .field("totp_code", &self.totp_code.as_ref().map(|_| "[redacted]"))
            .field("reason", &self.reason)
            .field("location", &self.location)
            .field("visible", &self.visible)
            .field("certify", &self.certify)
            .finish()
    }
}

/// A batch: the same options for several documents, one code.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Documents to sign.
    pub document_ids: Vec<String>,
    /// Options (key, code, …) for all of them.
    #[serde(flatten)]
    pub options: SignOptions,
}

/// The result of one signature.
#[derive(Clone, Debug, Serialize)]
pub struct Signed {
    /// Document.
    pub document_id: String,
    /// The version holding the signature.
    pub version: i64,
    /// `pades` or `cades`.
    pub format: &'static str,
    /// SHA-256 of the signed file or `.p7s`.
    pub sha256: String,
}

/// Most documents one batch may hold.
pub const MAX_BATCH: usize = 500;

fn check_options(o: &SignOptions) -> ApiResult<()> {
    if let Some(c) = o.certify
        && !(1..=3).contains(&c)
    {
        return Err(ApiError::unprocessable("certify must be 1, 2 or 3"));
    }
    for (n, v) in [("reason", &o.reason), ("location", &o.location)] {
        if v.as_ref().is_some_and(|s| s.chars().count() > 500) {
            return Err(ApiError::unprocessable(format!("{n} must have at most 500 characters")));
        }
    }
    if let Some(v) = &o.visible
        && (v.rect[2] < 20.0 || v.rect[3] < 10.0 || v.rect.iter().any(|x| !x.is_finite() || *x < 0.0))
    {
        return Err(ApiError::unprocessable(
            "visible.rect must be [x, y, width ≥ 20, height ≥ 10] in points",
        ));
    }
    Ok(())
}

/// Checks that `user` may sign `doc` with `key` (policy only; the code is checked separately).
async fn authorize(state: &AppState, user: &User, key_id: &str, doc: &Document) -> ApiResult<KeyInfo> {
    let key = keys::require(&state.db, key_id).await?;
    if let Err(e) = keys::may_use(&key, user, Some(&doc.doc_type)) {
        state
            .audit
            .append(&Event {
                actor: &user.id,
                action: "signature.create",
                target: &doc.id,
                outcome: "denied",
                details: serde_json::json!({"key": key_id, "reason": e.detail}),
            })
            .await?;
        return Err(e.audited());
    }
    Ok(key)
}

/// Step-up: persons need a fresh code; service accounts are allowed by key policy alone.
async fn step_up(state: &AppState, user: &User, o: &SignOptions, target: &str) -> ApiResult<()> {
    let key = Some(o.key_id.as_str());
    if user.has(Role::Service) {
        return Ok(());
    }
    let code = o
        .totp_code
        .as_deref()
        .ok_or_else(|| ApiError::forbidden("a one-time code from your authenticator app is required (totp_code)"))?;
    crate::totp::step_up(state, user, code, "signature", target, key).await
}

/// What a B-LT or B-LTA signature adds after the B-T signature.
struct Ltv {
    /// The organisation CA's certificate (DER).
    ca: Vec<u8>,
    /// Its current CRL (DER).
    crl: Vec<u8>,
    /// Also a document timestamp over the store (B-LTA).
    archive: bool,
}

impl Ltv {
    /// Adds the document security store (the certificates the new signature and its
    /// time-stamp carry, the CA's, and the CA's CRL) and, for B-LTA, a document timestamp.
    fn apply(&self, signed: Vec<u8>, ts: &crate::revocation::TimeSource) -> ApiResult<Vec<u8>> {
        add_validation_data(
            signed,
            vec![self.ca.clone()],
            self.crl.clone(),
            self.archive.then_some(ts),
        )
    }
}

/// Adds `certs`, every certificate the PDF's signatures carry and `crl` to its document
/// security store, then, with `timestamp`, a document timestamp over it (B-LTA, and archive
/// renewal). Blocking.
pub fn add_validation_data(
    pdf: Vec<u8>,
    mut certs: Vec<Vec<u8>>,
    crl: Vec<u8>,
    timestamp: Option<&crate::revocation::TimeSource>,
) -> ApiResult<Vec<u8>> {
    let failed = |e: signet_pdf::PdfError| ApiError::internal(format!("cannot add long-term validation data: {e}"));
    {
        let src: &[u8] = &pdf;
        let doc = signet_pdf::document::PdfDocument::parse(&src, &Default::default()).map_err(failed)?;
        for c in signet_pdf::ltv::signature_certificates(&doc) {
            if !certs.contains(&c) {
                certs.push(c);
            }
        }
    }
    let data = signet_pdf::ltv::ValidationData {
        certs,
        crls: vec![crl],
        ocsps: Vec::new(),
    };
    let mut with_dss = Vec::with_capacity(pdf.len() + 16 * 1024);
    signet_pdf::ltv::add_dss(&pdf.as_slice(), &mut with_dss, &data).map_err(failed)?;
    let Some(ts) = timestamp else {
        return Ok(with_dss);
    };
    let mut out = Vec::with_capacity(with_dss.len() + 16 * 1024);
    let mut stamp_error = None;
    let mut stamp = |digest: &[u8]| ts.stamp_digest(digest).inspect_err(|e| stamp_error = Some(e.clone()));
    let r = signet_pdf::timestamp_to(&with_dss.as_slice(), &mut out, None, &mut stamp);
    match r {
        Ok(_) => Ok(out),
        Err(_) if stamp_error.is_some() => Err(ApiError::unavailable(format!(
            "the document timestamp could not be had, so nothing was written: {}",
            stamp_error.unwrap_or_default()
        ))),
        Err(e) => Err(failed(e)),
    }
}

/// Signs one document for `user`.
pub async fn sign(state: &AppState, user: &User, doc_id: &str, o: &SignOptions) -> ApiResult<Signed> {
    check_options(o)?;
    let doc = documents::get_visible(state, user, doc_id).await?;
    let key = authorize(state, user, &o.key_id, &doc).await?;
    step_up(state, user, o, &doc.id).await?;
    sign_authorized(state, user, &doc, &key, o).await
}

/// Signs several documents with one code; each is authorized and audited on its own.
pub async fn sign_batch(state: &AppState, user: &User, b: &BatchRequest) -> ApiResult<Vec<Signed>> {
    check_options(&b.options)?;
    if b.document_ids.is_empty() || b.document_ids.len() > MAX_BATCH {
        return Err(ApiError::unprocessable(format!(
            "a batch has 1 to {MAX_BATCH} documents"
        )));
    }
    let mut docs = Vec::new();
    for id in &b.document_ids {
        if docs.iter().any(|(d, _): &(Document, KeyInfo)| &d.id == id) {
            return Err(ApiError::unprocessable(format!("document {id} is listed twice")));
        }
        let doc = documents::get_visible(state, user, id).await?;
        let key = authorize(state, user, &b.options.key_id, &doc).await?;
        docs.push((doc, key));
    }
    step_up(state, user, &b.options, "batch").await?;
    let mut out = Vec::new();
    for (doc, key) in &docs {
        out.push(sign_authorized(state, user, doc, key, &b.options).await?);
    }
    Ok(out)
}

/// Signs `doc` with `key` for `user`, who was authorized already (policy and one-time code, or
/// an approval route's step): the audit entry first, then the signature with its proof of time,
/// then the new version, committed with its audit entry.
pub async fn sign_authorized(
    state: &AppState,
    user: &User,
    doc: &Document,
    key: &KeyInfo,
    o: &SignOptions,
) -> ApiResult<Signed> {
    let current = doc.current()?.clone();
    let is_pdf = current.media_type == PDF;
    let format = if is_pdf { "pades" } else { "cades" };
    if !is_pdf && (o.visible.is_some() || o.certify.is_some()) {
        return Err(ApiError::unprocessable(
            "visible stamps and certification apply to PDFs only",
        ));
    }
    // The audit entry comes first: if it cannot be written, nothing is signed.
    state
        .audit
        .append(&Event {
            actor: &user.id,
            action: "signature.create",
            target: &doc.id,
            outcome: "started",
            details: serde_json::json!({
                "key": key.id, "key_kind": key.kind, "certificate": key.fingerprint, "format": format,
                "version": current.version, "sha256": current.sha256, "reason": o.reason,
                "level": if is_pdf { key.signature_level.as_str() } else { "B-T" },
            }),
        })
        .await?;
    let data = documents::content(state, &current).await?;
    let signer = keys::signer(state, &key.id).await?;
    // Proof of time: every signature is time-stamped (PAdES B-T, CAdES-T); without a token,
    // nothing is signed.
    let time_source = crate::revocation::TimeSource::of(state).await?;
    // Long-term validation data, when the key's policy asks for B-LT or B-LTA: the CA's
    // certificate and its current CRL (covering the signer's and our TSA's certificates).
    let ltv = match (is_pdf, key.signature_level.as_str()) {
        (true, level @ ("B-LT" | "B-LTA")) => Some(Ltv {
            ca: crate::revocation::ca_der(state).await?,
            crl: crate::revocation::crl(state).await?,
            archive: level == "B-LTA",
        }),
        _ => None,
    };
    let name = user.display_name.clone();
    let opts = o.clone();
    let signed = state
        .work
        .run(move || -> ApiResult<Vec<u8>> {
            let mut stamp_error = None;
            let mut stamp = |sig: &[u8]| time_source.stamp(sig).inspect_err(|e| stamp_error = Some(e.clone()));
            let unstamped = |e: Option<String>| {
                ApiError::unavailable(format!(
                    "the signature could not be time-stamped, so nothing was signed: {}",
                    e.unwrap_or_default()
                ))
            };
            let now = signet_pki::time::now();
            if is_pdf {
                let mut p = signet_pdf::PadesOptions::new(now);
                p.reason = opts.reason.clone();
                p.location = opts.location.clone();
                p.name = Some(name.clone());
                p.certify = opts.certify;
                if let Some(v) = &opts.visible {
                    p.page = v.page.unwrap_or(1);
                    let mut lines = vec![format!("Signed by {name}"), signet_pki::time::format(now)];
                    if let Some(r) = &opts.reason {
                        lines.push(r.clone());
                    }
                    p.stamp = Some(signet_pdf::appearance::Stamp {
                        rect: v.rect,
                        lines,
                        image: None,
                    });
                }
                let mut out = Vec::with_capacity(data.len() + 64 * 1024);
                let r = signet_pdf::sign_to_stamped(&data.as_slice(), &mut out, &*signer, &p, Some(&mut stamp));
                match r {
                    Ok(_) => {}
                    Err(_) if stamp_error.is_some() => return Err(unstamped(stamp_error.take())),
                    Err(e) => return Err(ApiError::unprocessable(format!("cannot sign: {e}"))),
                }
                match &ltv {
                    Some(l) => l.apply(out, &time_source),
                    None => Ok(out),
                }
            } else {
                let digest = signet_crypto::digest::hash(signer.signature_algorithm().hash(), &data);
                let so = signet_cms::SignOptions {
                    signing_time: Some(now),
                    ..Default::default()
                };
                let r = signet_cms::sign_digest_stamped(&digest, None, &*signer, &so, Some(&mut stamp));
                match r {
                    Ok(cms) => Ok(cms),
                    Err(_) if stamp_error.is_some() => Err(unstamped(stamp_error.take())),
                    Err(e) => Err(ApiError::internal(e)),
                }
            }
        })
        .await??;
    let blobs = state.blobs.clone();
    let signed_len = signed.len();
    let sha = tokio::task::spawn_blocking(move || blobs.put(&signed))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the blob store cannot be written; nothing was signed: {e}")))?;
    let sig_id = crate::users::new_id()?;
    let (kind, media, filename) = if is_pdf {
        ("signed", PDF, current.filename.clone())
    } else {
        ("signature", P7S, format!("{}.p7s", doc.original()?.filename))
    };
    let new_version = documents::NewVersion {
        document_id: doc.id.clone(),
        kind: kind.into(),
        sha256: sha.clone(),
        size: signed_len as i64,
        media_type: media.into(),
        filename,
        created_by: user.id.clone(),
        make_current: is_pdf,
        expected_current: doc.current_version,
        next_version: doc.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1,
        signature: Some((sig_id.clone(), key.id.clone(), format.into())),
    };
    // The version and its audit entry are committed together.
    let (_, version) = state
        .audit
        .append_with(
            &Event {
                actor: &user.id,
                action: "signature.create",
                target: &doc.id,
                outcome: "ok",
                details: serde_json::json!({"signature": sig_id, "sha256": sha, "key": key.id}),
            },
            crate::changes::Change::Version(new_version),
        )
        .await?;
    state
        .metrics
        .signatures
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Signed {
        document_id: doc.id.clone(),
        version,
        format,
        sha256: sha,
    })
}

/// Validates a document's current version (PDF) or its latest detached signature against the
/// original, with the server's validation context.
pub async fn verify(state: &AppState, user: &User, doc: &Document) -> ApiResult<signet_pki::report::ValidationReport> {
    let current = doc.current()?.clone();
    let sig = doc.versions.iter().rev().find(|v| v.kind == "signature").cloned();
    let (content, signature) = if current.media_type == PDF {
        (documents::content(state, &current).await?, None)
    } else {
        let sig = sig.ok_or_else(|| ApiError::unprocessable("the document has no signature yet"))?;
        (
            documents::content(state, doc.original()?).await?,
            Some(documents::content(state, &sig).await?),
        )
    };
    state
        .audit
        .append(&Event {
            actor: &user.id,
            action: "document.verify",
            target: &doc.id,
            outcome: "ok",
            details: serde_json::json!({"version": current.version}),
        })
        .await?;
    crate::validation::validate(state, content, signature).await
}
