//! The organisation key's policy made visible (issue "Server hardening", finding 9): the first
//! start and the key list say who may use the key for what, in words; an administrator narrows
//! it, and the narrower policy is what the list says and what signing enforces.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_use_the_organisation_key_is_said_and_can_be_narrowed() {
    let dir = tempfile::tempdir().unwrap();
    let p = signet_server::prepare(signet_server::Config {
        data_dir: dir.path().join("data"),
        ..Default::default()
    })
    .await
    .unwrap();
    let (_, said) = p.bootstrap.unwrap().organisation_key;
    assert!(
        said.contains("every user with role signer, approver, admin") && said.contains("documents of any type"),
        "{said}"
    );
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        let org = t.org_key().await;
        let listed = |auth: Auth| {
            let t = &t;
            async move { t.get("/api/v1/keys", &auth).await.json()["keys"].clone() }
        };
        let keys = listed(t.admin.clone()).await;
        let k = keys
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == org.as_str())
            .unwrap();
        assert!(
            k["usable_by"].as_str().unwrap().contains("every user with role signer"),
            "{k}"
        );
        // Narrowed to approvers and contracts.
        let r = t
            .req(
                "PUT",
                &format!("/api/v1/keys/{org}/policy"),
                &t.admin,
                Some("application/json"),
                json!({"allowed_roles": ["approver"], "allowed_doc_types": ["contract"], "allowed_services": []})
                    .to_string()
                    .into_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        let said = r.json()["key"]["usable_by"].as_str().unwrap().to_string();
        assert!(
            said.contains("every user with role approver") && said.contains("documents of type contract"),
            "{b:?}: {said}"
        );
        // A signer no longer sees it, nor can use it.
        assert!(
            listed(alice.clone())
                .await
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k["id"] != org.as_str())
        );
        let up = t
            .upload(&alice, "Leave", "leave", "application/pdf", pdf("Leave"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.detail());
    }
}
