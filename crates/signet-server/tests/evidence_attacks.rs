//! Attacks on the evidence of simple signatures (found in review of issue "Approvals"): a
//! record sealed by anyone but the organisation's evidence seal — here a signer's organisation
//! signature over a made-up record — is refused; evidence of an earlier revision of a PDF does
//! not vouch for changes no signature covers (the approved revision cut out, changed and the
//! genuine evidence embedded again, or pages added after the seal). The genuine sealed file
//! passes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

/// A note through the author's simple signature and the server's seal: (original PDF, sealed
/// PDF, the evidence file, the CA).
struct Sealed {
    original: Vec<u8>,
    sealed: Vec<u8>,
    evidence: Vec<u8>,
    ca: String,
}

async fn sealed_note(t: &T, author: &Person) -> Sealed {
    let r = t
        .post(
            "/api/v1/document-types",
            &t.admin,
            json!({
                "id": "note", "name": "Internal note", "prefix": "SZ",
                "fields": [{"name": "text", "label": "Text", "type": "text", "required": true}],
                "route": {"stages": [
                    {"steps": [{"name": "Author", "assignee": "author", "signature": "ses"}]},
                    {"steps": [{"name": "Seal", "assignee": "system", "signature": "seal"}]}
                ]}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
    let r = t
        .post(
            "/api/v1/document-types/note/documents",
            &author.auth,
            json!({"values": {"text": "Pay 100 EUR to Acme"}, "password": PASSWORD, "totp_code": t.code(&author.secret)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
    assert_eq!(r.json()["workflow"]["state"], "approved");
    let doc = r.json()["document"]["id"].as_str().unwrap().to_string();
    let list = t
        .get(&format!("/api/v1/documents/{doc}/evidence"), &author.auth)
        .await
        .json();
    let ev = list["evidence"][0]["id"].as_str().unwrap().to_string();
    Sealed {
        original: t
            .get(&format!("/api/v1/documents/{doc}/versions/1"), &author.auth)
            .await
            .body,
        sealed: t
            .get(&format!("/api/v1/documents/{doc}/content"), &author.auth)
            .await
            .body,
        evidence: t.get(&format!("/api/v1/evidence/{ev}"), &author.auth).await.body,
        ca: t.ca_pem().await,
    }
}

fn evidence_entries(r: &signet_pki::ValidationReport) -> Vec<&signet_pki::SignatureReport> {
    r.signatures
        .iter()
        .filter(|s| s.format.starts_with("SES evidence"))
        .collect()
}

fn appended(base: &[u8], page_text: &str, evidence: Option<&[u8]>) -> Vec<u8> {
    let files: Vec<signet_pdf::appendix::Attachment> = evidence
        .map(|e| signet_pdf::appendix::Attachment {
            name: "evidence-genuine.json".into(),
            mime: "application/json".into(),
            description: "evidence".into(),
            data: e.to_vec(),
        })
        .into_iter()
        .collect();
    let mut out = Vec::new();
    signet_pdf::appendix::append(&base, &mut out, Some(&pdf(page_text)), &files).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_sealed_by_a_signing_key_is_not_evidence() {
    let t = T::new(&Backend::Sqlite).await;
    let alice = t.person("alice", &["signer"], None).await;
    let genuine = sealed_note(&t, &alice).await;
    // Mallory, a signer, writes a record saying the CEO approved the note, and signs it with
    // the organisation key her role may use — a valid CAdES signature from the same CA.
    let mallory = t.person("mallory", &["signer"], None).await;
    let file: Value = serde_json::from_slice(&genuine.evidence).unwrap();
    let record = file["record"]
        .as_str()
        .unwrap()
        .replace("alice Example", "Chief Executive");
    let up = t
        .upload(
            &mallory.auth,
            "Record",
            "record",
            "text/plain",
            record.clone().into_bytes(),
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.detail());
    let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
    let org = t.org_key().await;
    let r = t
        .post(
            &format!("/api/v1/documents/{doc}/sign"),
            &mallory.auth,
            json!({"key_id": org, "totp_code": t.code(&mallory.secret)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
    let p7s = t
        .get(&format!("/api/v1/documents/{doc}/versions/2"), &mallory.auth)
        .await
        .body;
    use base64::Engine;
    let forged = json!({
        "signet_evidence": 1,
        "record": record,
        "seal": base64::engine::general_purpose::STANDARD.encode(&p7s),
    })
    .to_string();
    let report = validate(forged.as_bytes(), None, &genuine.ca);
    assert_ne!(report.indication.as_str(), "TOTAL-PASSED", "{}", report.render_json());
    let s = &report.signatures[0];
    assert!(
        s.checks
            .iter()
            .any(|c| c.id == "evidence-sealer" && c.detail.contains("not an evidence seal")),
        "{}",
        report.render_json()
    );
    // The genuine evidence passes, and says who sealed it.
    let report = validate(&genuine.evidence, None, &genuine.ca);
    assert_eq!(report.indication.as_str(), "TOTAL-PASSED", "{}", report.render_json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_of_an_earlier_revision_does_not_cover_unsigned_changes() {
    let t = T::new(&Backend::Sqlite).await;
    let alice = t.person("alice", &["signer"], None).await;
    let g = sealed_note(&t, &alice).await;
    // The genuine file: the evidence names its first revision, and the seal covers the rest.
    let report = validate(&g.sealed, None, &g.ca);
    assert_eq!(report.indication.as_str(), "TOTAL-PASSED", "{}", report.render_json());
    assert_eq!(evidence_entries(&report).len(), 1);
    let report = validate(&g.sealed, Some(&g.evidence), &g.ca);
    assert_eq!(report.indication.as_str(), "TOTAL-PASSED", "{}", report.render_json());

    // The approved revision cut out, a page added ("Pay 100 000 EUR"), the genuine evidence
    // embedded again: no signature covers the change.
    let forged = appended(&g.original, "Pay 100 000 EUR to Mallory", Some(&g.evidence));
    let report = validate(&forged, None, &g.ca);
    let entries = evidence_entries(&report);
    assert_eq!(entries.len(), 1, "{}", report.render_json());
    assert!(!entries[0].passed(), "{}", report.render_json());
    assert_ne!(report.indication.as_str(), "TOTAL-PASSED");
    let report = validate(&forged, Some(&g.evidence), &g.ca);
    assert_ne!(report.indication.as_str(), "TOTAL-PASSED", "{}", report.render_json());

    // Pages added after the seal: the seal no longer covers everything, nor does the evidence.
    let after = appended(&g.sealed, "An extra page", None);
    let report = validate(&after, None, &g.ca);
    for e in evidence_entries(&report) {
        assert!(!e.passed(), "{}", report.render_json());
    }
    // The original itself is what the record names.
    let report = validate(&g.original, Some(&g.evidence), &g.ca);
    assert_eq!(report.indication.as_str(), "TOTAL-PASSED", "{}", report.render_json());
}
