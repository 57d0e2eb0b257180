//! The evidence of a simple signature checks out offline with the CLI alone (issue
//! "Approvals"): a zero-configuration `signet serve` takes a document of an admin-defined type
//! through the author's simple signature and the server's seal; `signet verify evidence.json`,
//! `signet verify note.pdf --signature evidence.json` and `signet verify` of the sealed PDF that
//! carries the evidence pass with nothing but the organisation CA, while a changed byte in the
//! record, or another document, fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

mod common;

use common::node::*;
use common::{Env, code as exit_code};
use serde_json::{Value, json};

#[test]
fn ses_evidence_verifies_offline_and_tampering_is_found() {
    let env = Env::new();
    let node = Node::start(&env, &[], &[], true);
    let admin = session_token(&node, "admin", node.admin_password.as_deref().unwrap());
    let (alice, secret) = signer(&node, &admin, "alice");
    let (s, v) = node.post(
        "/api/v1/document-types",
        Some(&admin),
        json!({
            "id": "note", "name": "Internal note", "name_ru": "Служебная записка", "prefix": "SZ",
            "fields": [{"name": "text", "label": "Text", "label_ru": "Текст", "type": "text", "required": true}],
            "route": {"stages": [
                {"steps": [{"name": "Author", "assignee": "author", "signature": "ses"}]},
                {"steps": [{"name": "Seal", "assignee": "system", "signature": "seal"}]}
            ]}
        }),
    );
    assert_eq!(s, 201, "{v}");
    let (s, v) = node.post(
        "/api/v1/document-types/note/documents",
        Some(&alice),
        json!({"values": {"text": "Прошу выдать ноутбук"}, "password": NEW_PASSWORD, "totp_code": code(&secret, 1)}),
    );
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["workflow"]["state"], "approved", "{v}");
    let doc = v["document"]["id"].as_str().unwrap().to_string();

    let get = |path: &str| {
        let (s, _, body) = node.call("GET", path, Some(&alice), None, &[]);
        assert_eq!(s, 200, "{path}: {}", String::from_utf8_lossy(&body));
        body
    };
    let list: Value = serde_json::from_slice(&get(&format!("/api/v1/documents/{doc}/evidence"))).unwrap();
    let evidence_id = list["evidence"][0]["id"].as_str().unwrap().to_string();
    env.write("evidence.json", &get(&format!("/api/v1/evidence/{evidence_id}")));
    env.write("note-v1.pdf", &get(&format!("/api/v1/documents/{doc}/versions/1")));
    env.write("note.pdf", &get(&format!("/api/v1/documents/{doc}/content")));
    env.write("ca.pem", &get("/api/v1/ca/certificate"));
    node.stop();

    // Offline, with the CA alone: the record and its seal; the record against the document it
    // names, and against the sealed PDF that grew from it; the sealed PDF with the evidence in it.
    let out = env.ok(&["verify", "evidence.json", "--trust", "ca.pem"]);
    assert!(out.contains("alice"), "{out}");
    env.ok(&[
        "verify",
        "note-v1.pdf",
        "--signature",
        "evidence.json",
        "--trust",
        "ca.pem",
    ]);
    env.ok(&[
        "verify",
        "note.pdf",
        "--signature",
        "evidence.json",
        "--trust",
        "ca.pem",
    ]);
    let out = env.ok(&["verify", "note.pdf", "--trust", "ca.pem", "--format", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let formats: Vec<&str> = report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["format"].as_str().unwrap())
        .collect();
    assert!(formats.iter().any(|f| f.starts_with("SES evidence")), "{formats:?}");

    // One changed byte in the record (the document's hash in it): the seal no longer holds.
    let text = std::fs::read_to_string(env.path("evidence.json")).unwrap();
    let mut file: Value = serde_json::from_str(&text).unwrap();
    let record = file["record"].as_str().unwrap().to_string();
    let key = record.find("\"sha256\"").unwrap() + "\"sha256\"".len();
    let at = key + record[key..].find(|c: char| c.is_ascii_hexdigit()).unwrap() + 4;
    let mut bytes = record.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    file["record"] = Value::String(String::from_utf8(bytes).unwrap());
    env.write("tampered.json", file.to_string().as_bytes());
    let o = env.signet(&["verify", "tampered.json", "--trust", "ca.pem"]);
    assert_ne!(exit_code(&o), 0, "a changed record passed");
    // Another document: the record does not name it.
    let other = common::pdf::raw_pdf(&[common::pdf::CATALOG, common::pdf::PAGES, common::pdf::PAGE], b"");
    env.write("other.pdf", &other);
    let o = env.signet(&[
        "verify",
        "other.pdf",
        "--signature",
        "evidence.json",
        "--trust",
        "ca.pem",
    ]);
    assert_ne!(exit_code(&o), 0, "evidence passed for another document");
}
