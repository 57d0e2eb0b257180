//! Sealed evidence of simple electronic signatures: the server writes the record (see
//! `signet_validate::evidence`), seals it with the organisation key and a time-stamp from its
//! TSA, and keeps the file as a blob; anyone checks it offline with `signet verify`.

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
    let key = keys::newest_enabled(&state.db, KeyKind::Organisation)
        .await?
        .ok_or_else(|| ApiError::unavailable("no enabled organisation key seals the evidence"))?;
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
