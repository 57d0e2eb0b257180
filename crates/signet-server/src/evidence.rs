//! Sealed evidence of simple electronic signatures: the server writes the record (see
//! `signet_validate::evidence`), seals it with the evidence-seal key — whose certificate, from
//! the organisation CA, is for that alone (critical EKU Signet evidence seal), so no person's
//! signing certificate can pass for it — and a time-stamp from its TSA, and keeps the file as
//! a blob; anyone checks it offline with `signet verify`.

use base64::Engine;
use serde::Serialize;
use sqlx::Row;

use crate::documents::Document;
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyKind};
use crate::state::AppState;
use crate::users::User;
use signet_validate::evidence::{ClientFacts, DocumentFacts, Person, Record, Sealed, StepFacts};

/// A stored evidence file.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// Id.
    pub id: String,
    /// The document.
    pub document_id: String,
    /// The workflow, if any.
    pub workflow_id: Option<String>,
    /// The step, if any.
    pub step_id: Option<String>,
    /// Who signed.
    pub signer_id: String,
    /// SHA-256 of the evidence file.
    pub sha256: String,
    /// When.
    pub created_at: i64,
}

fn person(u: &User) -> Person {
    Person {
        id: u.id.clone(),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
    }
}

/// Makes the evidence-seal key and its certificate (at first start, and on upgrade).
pub(crate) async fn create_seal_key(state: &AppState) -> ApiResult<keys::KeyInfo> {
    let org = state.config.organisation.clone();
    let subject = signet_pki::name::SubjectSpec {
        common_name: format!("{org} evidence seal"),
        organization: Some(org),
        ..Default::default()
    };
    keys::create_certified(
        state,
        KeyKind::Evidence,
        None,
        "Evidence seal (simple signatures)",
        subject,
        "",
        signet_crypto::KeyAlgorithm::EcdsaP256,
    )
    .await
}

/// Writes, seals and stores the evidence that `signer` (for `acting_for`, as deputy) approved
/// the current version of `doc` at `step`, authenticated by `factors`. Returns its id.
pub async fn create(
    state: &AppState,
    signer: &User,
    acting_for: Option<&User>,
    doc: &Document,
    step: Option<StepFacts>,
    factors: &[&str],
) -> ApiResult<String> {
    let current = doc.current()?.clone();
    let now = signet_pki::time::now();
    let record = Record {
        format: signet_validate::evidence::RECORD_FORMAT.into(),
        organisation: state.config.organisation.clone(),
        decision: "approve".into(),
        document: DocumentFacts {
            id: doc.id.clone(),
            number: doc.number.clone(),
            title: doc.title.clone(),
            doc_type: doc.doc_type.clone(),
            date: doc.date.clone(),
            version: current.version,
            sha256: current.sha256.clone(),
            form: serde_json::from_str(&doc.form).unwrap_or(serde_json::Value::Null),
        },
        signer: person(signer),
        acting_for: acting_for.map(person),
        step,
        factors: factors.iter().map(|f| f.to_string()).collect(),
        client: crate::audit::current_client().map(|c| ClientFacts {
            address: c.address,
            user_agent: c.user_agent,
        }),
        time: signet_pki::time::format(now),
    };
    let text = serde_json::to_string(&record).map_err(ApiError::internal)?;
    let key = keys::newest_enabled(&state.db, KeyKind::Evidence)
        .await?
        .ok_or_else(|| ApiError::unavailable("no enabled evidence-seal key"))?;
    let signer_key = keys::signer(state, &key.id).await?;
    let ts = crate::revocation::TimeSource::of(state).await?;
    let sealed_text = text.clone();
    let cms = state
        .work
        .run(move || {
            let digest = signet_crypto::digest::hash(signer_key.signature_algorithm().hash(), sealed_text.as_bytes());
            let mut stamp = |sig: &[u8]| ts.stamp(sig);
            signet_cms::sign_digest_stamped(
                &digest,
                None,
                &*signer_key,
                &signet_cms::SignOptions {
                    signing_time: Some(now),
                    ..Default::default()
                },
                Some(&mut stamp),
            )
        })
        .await?
        .map_err(|e| ApiError::unavailable(format!("the evidence could not be sealed: {e}")))?;
    let file = Sealed {
        signet_evidence: 1,
        record: text,
        seal: base64::engine::general_purpose::STANDARD.encode(cms),
    }
    .to_json();
    let blobs = state.blobs.clone();
    let sha = tokio::task::spawn_blocking(move || blobs.put(&file))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the blob store cannot be written: {e}")))?;
    let id = crate::users::new_id()?;
    let (workflow_id, step_id) = match &record.step {
        Some(s) => (Some(s.workflow_id.clone()), Some(s.step_id.clone())),
        None => (None, None),
    };
    sqlx::query("INSERT INTO evidence (id, document_id, workflow_id, step_id, signer_id, blob_sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id)
        .bind(&doc.id)
        .bind(workflow_id)
        .bind(step_id)
        .bind(&signer.id)
        .bind(&sha)
        .bind(now)
        .execute(&state.db.writer)
        .await?;
    Ok(id)
}

fn row(r: &sqlx::any::AnyRow) -> Result<Evidence, sqlx::Error> {
    Ok(Evidence {
        id: r.try_get(0)?,
        document_id: r.try_get(1)?,
        workflow_id: r.try_get(2)?,
        step_id: r.try_get(3)?,
        signer_id: r.try_get(4)?,
        sha256: r.try_get(5)?,
        created_at: r.try_get(6)?,
    })
}

const COLUMNS: &str = "id, document_id, workflow_id, step_id, signer_id, blob_sha256, created_at";

/// An evidence record by id.
pub async fn get(state: &AppState, id: &str) -> ApiResult<Option<Evidence>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM evidence WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?;
    r.as_ref().map(row).transpose().map_err(ApiError::from)
}

/// The evidence records of a document, oldest first.
pub async fn of_document(state: &AppState, document_id: &str) -> ApiResult<Vec<Evidence>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM evidence WHERE document_id = $1 ORDER BY created_at, id"
    )))
    .bind(document_id)
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter().map(row).collect::<Result<_, _>>().map_err(ApiError::from)
}

/// The evidence file's bytes.
pub async fn content(state: &AppState, e: &Evidence) -> ApiResult<Vec<u8>> {
    let blobs = state.blobs.clone();
    let sha = e.sha256.clone();
    tokio::task::spawn_blocking(move || blobs.get(&sha))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(format!("the evidence cannot be read: {e}")))
}

/// Puts the evidence of `workflow_id`'s simple signatures into the document's PDF before the
/// organisation seals it: each evidence file embedded, and a page listing the signatures. Only
/// for a PDF that holds no signature yet. Returns whether a new version was made.
pub async fn attach_to_pdf(state: &AppState, doc: &Document, workflow_id: &str, system: &User) -> ApiResult<bool> {
    let current = doc.current()?.clone();
    // Attached already (a seal that failed after it is tried again on this version).
    if current.media_type != crate::documents::PDF || current.kind == "evidence" {
        return Ok(false);
    }
    // The evidence of the approved steps, about this very version: not that of an earlier
    // round's version, nor of an approval that failed after its evidence was made.
    let approved = crate::workflows::store::approved_evidence(&state.db, workflow_id).await?;
    let mut picked = Vec::new();
    for e in of_document(state, &doc.id).await? {
        if !approved.contains(&e.id) {
            continue;
        }
        let data = content(state, &e).await?;
        let sealed: Sealed = serde_json::from_slice(&data).map_err(ApiError::internal)?;
        let record: Record = serde_json::from_str(&sealed.record).map_err(ApiError::internal)?;
        if record.document.sha256 == current.sha256 {
            picked.push((e, data, record));
        }
    }
    if picked.is_empty() {
        return Ok(false);
    }
    let records: Vec<&Evidence> = picked.iter().map(|(e, _, _)| e).collect();
    let pdf = crate::documents::content(state, &current).await?;
    let mut files = Vec::new();
    let mut rows = Vec::new();
    for (i, (_, data, record)) in picked.iter().enumerate() {
        let data = data.clone();
        let name = format!("evidence-{}.json", i + 1);
        let who = match &record.acting_for {
            Some(p) => format!("{} (as deputy of {})", record.signer.display_name, p.display_name),
            None => record.signer.display_name.clone(),
        };
        let step = record.step.as_ref().map(|s| s.name.clone()).unwrap_or_default();
        rows.push(signet_render::Block::Heading(format!("{}. {step}", i + 1)));
        rows.push(signet_render::Block::Rows(vec![
            ("Signed by / Подписал".into(), who.clone()),
            (
                "Kind / Вид подписи".into(),
                "Simple electronic signature (password and one-time code) / Простая электронная подпись".into(),
            ),
            ("Decision / Решение".into(), record.decision.clone()),
            ("Time (UTC) / Время".into(), record.time.clone()),
            (
                "Document version / Версия".into(),
                format!("{} (SHA-256 {})", record.document.version, record.document.sha256),
            ),
            (
                "Evidence / Доказательство".into(),
                format!("{name}, sealed by {} with a time-stamp", state.config.organisation),
            ),
        ]));
        files.push(signet_pdf::appendix::Attachment {
            name,
            mime: "application/json".into(),
            description: format!("Sealed evidence of the simple signature of {who} ({step})"),
            data,
        });
    }
    let mut blocks = vec![signet_render::Block::Paragraph(format!(
        "The signatures below were made on the pages before this one. Each is backed by the sealed evidence embedded in this file ({}); check it with `signet verify` on this PDF. The organisation's seal that follows covers these pages.",
        files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
    ))];
    blocks.extend(rows);
    let sheet = signet_render::Sheet {
        organisation: state.config.organisation.clone(),
        title: "Signatures / Подписи".into(),
        subtitle: format!("{} {}", doc.number, doc.title).trim().to_string(),
        blocks,
        footer: format!("{} · {}", state.config.organisation, doc.number),
    };
    let appended = state
        .work
        .run(move || -> ApiResult<Option<Vec<u8>>> {
            let refused =
                |e: &dyn std::fmt::Display| ApiError::unprocessable(format!("the evidence cannot be attached: {e}"));
            let src: &[u8] = &pdf;
            let parsed =
                signet_pdf::document::PdfDocument::parse(&src, &Default::default()).map_err(|e| refused(&e))?;
            if !parsed.existing_signatures().is_empty() {
                return Ok(None);
            }
            let page = signet_render::render(&sheet).map_err(|e| refused(&e))?;
            let mut out = Vec::with_capacity(pdf.len() + page.len() + 64 * 1024);
            signet_pdf::appendix::append(&src, &mut out, Some(&page), &files).map_err(|e| refused(&e))?;
            Ok(Some(out))
        })
        .await??;
    let Some(out) = appended else { return Ok(false) };
    let change = crate::documents::VersionChange {
        kind: "evidence",
        data: out,
        media_type: crate::documents::PDF,
        filename: current.filename.clone(),
        action: "document.evidence-attach",
        details: serde_json::json!({"evidence": records.iter().map(|e| e.id.clone()).collect::<Vec<_>>()}),
    };
    crate::documents::add_current_version(state, system, doc, change).await?;
    Ok(true)
}
