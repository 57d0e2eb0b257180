//! The rules of approval that a review of issue "Approvals" found missing, each test failing on
//! the code before its fix: four eyes (an author does not approve their own document as a
//! group member, role holder or deputy); a route restarted "from the stage that returned it"
//! counts stages as the route does, whatever the new values leave out; one open approval per
//! document, and a refused start changes nothing; a document made from its form changes only
//! through its form; a rejection waits while someone signs; the server's seal follows the key
//! policy; approvers read what they approve; the server's own account is not managed by hand.
//! On SQLite and PostgreSQL where the database matters.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

async fn group(t: &T, name: &str, members: &[&Person]) {
    let ids: Vec<&str> = members.iter().map(|p| p.id.as_str()).collect();
    let r = t
        .post("/api/v1/groups", &t.admin, json!({"name": name, "members": ids}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
}

async fn doc_type(t: &T, def: Value) {
    let r = t.post("/api/v1/document-types", &t.admin, def).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authors_do_not_approve_their_own_documents() {
    for b in backends() {
        let t = T::new(&b).await;
        let buyer = t.person("buyer", &["signer"], None).await;
        let other = t.person("other", &["signer"], None).await;
        group(&t, "procurement", &[&buyer, &other]).await;
        doc_type(
            &t,
            json!({"id": "desk", "name": "Desk request", "prefix": "DK",
                "fields": [{"name": "what", "label": "What", "type": "text", "required": true}],
                "route": {"stages": [{"steps": [{"name": "Procurement", "assignee": {"group": "procurement"}, "signature": "ses"}]}]}}),
        )
        .await;
        // The buyer is in the group their own request goes to: not theirs to approve.
        let r = t
            .post(
                "/api/v1/document-types/desk/documents",
                &buyer.auth,
                json!({"values": {"what": "A standing desk"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.detail());
        let w = r.json()["workflow"].clone();
        let (wid, step) = (w["id"].as_str().unwrap().to_string(), waiting_step(&w, "Procurement"));
        let r = t.approve_ses(&buyer, &wid, &step).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.detail());
        let inbox = t.get("/api/v1/inbox", &buyer.auth).await.json();
        assert_eq!(inbox["items"].as_array().unwrap().len(), 0, "{b:?}: {inbox}");
        let inbox = t.get("/api/v1/inbox", &other.auth).await.json();
        assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "{b:?}: {inbox}");
        assert_eq!(t.approve_ses(&other, &wid, &step).await.status, StatusCode::OK);
        // A group with nobody but the author cannot take the step at all.
        let lonely = t.person("lonely", &["signer"], None).await;
        group(&t, "solo", &[&lonely]).await;
        doc_type(
            &t,
            json!({"id": "solo", "name": "Solo", "prefix": "SO",
                "fields": [{"name": "what", "label": "What", "type": "text", "required": true}],
                "route": {"stages": [{"steps": [{"name": "Solo", "assignee": {"group": "solo"}, "signature": "ses"}]}]}}),
        )
        .await;
        let r = t
            .post(
                "/api/v1/document-types/solo/documents",
                &lonely.auth,
                json!({"values": {"what": "x"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.detail());
        assert!(r.detail().contains("but the author"), "{}", r.detail());
        // Standing in for one's own manager does not make one's request one's own to approve.
        let boss = t.person("boss", &["approver"], None).await;
        let emp = t.person("emp", &["signer"], Some(&boss.id)).await;
        let day = |d: i64| signet_pki::time::format(t.state.now() + d * 86_400)[..10].to_string();
        let r = t
            .post(
                "/api/v1/me/absences",
                &boss.auth,
                json!({"deputy_id": emp.id, "from": day(-1), "until": day(10)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let r = t
            .post(
                "/api/v1/document-types/leave/documents",
                &emp.auth,
                json!({"values": {"kind": "annual", "from": "2027-02-01", "to": "2027-02-05"}, "password": PASSWORD, "totp_code": t.code(&emp.secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.detail());
        let w = r.json()["workflow"].clone();
        let (wid, step) = (w["id"].as_str().unwrap().to_string(), waiting_step(&w, "Manager"));
        let r = t.approve_ses(&emp, &wid, &step).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.detail());
        // The manager, though away, still may.
        let r = t.approve_ses(&boss, &wid, &step).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_from_the_returning_stage_counts_stages_as_the_route_does() {
    for b in backends() {
        let t = T::new(&b).await;
        let boss = t.person("boss", &["approver"], None).await;
        let cfo = t.person("cfo", &["approver"], None).await;
        let emp = t.person("emp", &["signer"], Some(&boss.id)).await;
        group(&t, "cfo", &[&cfo]).await;
        doc_type(
            &t,
            json!({"id": "spend", "name": "Spending", "prefix": "SP",
            "fields": [{"name": "amount", "label": "Amount", "type": "amount", "required": true}],
            "route": {"restart": "current", "stages": [
                {"steps": [{"name": "Author", "assignee": "author", "signature": "ses"}]},
                {"when": {"field": "amount", "op": "gt", "value": "10000"},
                 "steps": [{"name": "CFO", "assignee": {"group": "cfo"}, "signature": "ses"}]},
                {"steps": [{"name": "Manager", "assignee": "manager", "signature": "ses"}]},
                {"steps": [{"name": "Seal", "assignee": "system", "signature": "seal"}]}
            ]}}),
        )
        .await;
        let amount = |a: &str| json!({"amount": {"amount": a, "currency": "RUB"}});
        let r = t
            .post(
                "/api/v1/document-types/spend/documents",
                &emp.auth,
                json!({"values": amount("20000"), "password": PASSWORD, "totp_code": t.code(&emp.secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.detail());
        let w = r.json()["workflow"].clone();
        let wid = w["id"].as_str().unwrap().to_string();
        let r = t.approve_ses(&cfo, &wid, &waiting_step(&w, "CFO")).await;
        let step = waiting_step(&r.json()["workflow"], "Manager");
        let r = t
            .post(
                &format!("/api/v1/workflows/{wid}/steps/{step}/return"),
                &boss.auth,
                json!({"comment": "Less, please"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        // Resubmitted at 500, the CFO's stage falls away; the manager's stage — the one that
        // returned it — runs again, and nothing is sealed before the manager approves.
        let r = t
            .post(
                &format!("/api/v1/workflows/{wid}/resubmit"),
                &emp.auth,
                json!({"values": amount("500")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        let w = r.json()["workflow"].clone();
        assert_eq!(w["state"], "in_progress", "{b:?}: {w}");
        let step = waiting_step(&w, "Manager");
        let r = t.approve_ses(&boss, &wid, &step).await;
        assert_eq!(r.json()["workflow"]["state"], "approved", "{b:?}: {}", r.json());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_open_approval_per_document_and_a_refused_start_changes_nothing() {
    for b in backends() {
        let t = std::sync::Arc::new(T::new(&b).await);
        let lawyer = t.person("lawyer", &["approver"], None).await;
        let _signatory = t.person("signatory", &["approver"], None).await;
        let author = t.person("author", &["signer"], None).await;
        group(&t, "legal", &[&lawyer]).await;
        let up = t
            .upload(
                &author.auth,
                "Supply",
                "contract",
                "application/pdf",
                pdf("Supply contract"),
            )
            .await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.detail());
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/documents/{doc}/workflow");
        let values = |who: &str| json!({"values": {"counterparty": who}});
        let (r1, r2) = tokio::join!(
            t.post(&path, &author.auth, values("Alpha")),
            t.post(&path, &author.auth, values("Beta")),
        );
        let mut statuses = [r1.status, r2.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "{b:?}: {} / {}",
            r1.detail(),
            r2.detail()
        );
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workflows WHERE document_id = $1")
            .bind(&doc)
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{b:?}");
        let winner = if r1.status == StatusCode::CREATED {
            "Alpha"
        } else {
            "Beta"
        };
        let form = || async {
            t.get(&format!("/api/v1/documents/{doc}"), &author.auth).await.json()["document"]["values"].clone()
        };
        assert!(form().await.to_string().contains(winner), "{b:?}: {}", form().await);
        // Once more, with other values: refused, and the values stay those approved.
        let r = t.post(&path, &author.auth, values("Gamma")).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b:?}: {}", r.detail());
        assert!(!form().await.to_string().contains("Gamma"), "{b:?}: {}", form().await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_documents_change_through_their_form_and_rejections_wait_for_signers() {
    let t = T::new(&Backend::Sqlite).await;
    let boss = t.person("boss", &["approver"], None).await;
    let emp = t.person("emp", &["signer"], Some(&boss.id)).await;
    let r = t
        .post(
            "/api/v1/document-types/leave/documents",
            &emp.auth,
            json!({"values": {"kind": "annual", "from": "2027-03-01", "to": "2027-03-05"}, "password": PASSWORD, "totp_code": t.code(&emp.secret)}),
        )
        .await;
    let doc = r.json()["document"]["id"].as_str().unwrap().to_string();
    let w = r.json()["workflow"].clone();
    let wid = w["id"].as_str().unwrap().to_string();
    let step = waiting_step(&w, "Manager");
    let r = t
        .post(
            &format!("/api/v1/workflows/{wid}/steps/{step}/return"),
            &boss.auth,
            json!({"comment": "Other dates"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A made-up PDF in place of the form's: refused; the form is the way.
    let r = t
        .req(
            "POST",
            &format!("/api/v1/documents/{doc}/versions"),
            &emp.auth,
            Some("application/pdf"),
            pdf("Something else entirely"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.detail());
    assert!(r.detail().contains("form"), "{}", r.detail());

    // A parallel stage: while one approver signs, the other cannot reject under them.
    let a = t.person("a", &["approver"], None).await;
    let c = t.person("c", &["approver"], None).await;
    doc_type(
        &t,
        json!({"id": "twin", "name": "Twin", "prefix": "TW",
        "fields": [{"name": "what", "label": "What", "type": "text", "required": true}],
        "route": {"stages": [{"steps": [
            {"name": "A", "assignee": {"user": a.id}, "signature": "ses"},
            {"name": "C", "assignee": {"user": c.id}, "signature": "ses"}
        ]}]}}),
    )
    .await;
    let r = t
        .post(
            "/api/v1/document-types/twin/documents",
            &emp.auth,
            json!({"values": {"what": "x"}}),
        )
        .await;
    let w = r.json()["workflow"].clone();
    let wid = w["id"].as_str().unwrap().to_string();
    let (sa, sc) = (waiting_step(&w, "A"), waiting_step(&w, "C"));
    // A's approval is under way (the step is claimed while the signature is made).
    assert!(
        signet_server::workflows::store::claim(&t.state.db, &sa, &a.id, t.state.now(), 300)
            .await
            .unwrap()
    );
    let r = t
        .post(
            &format!("/api/v1/workflows/{wid}/steps/{sc}/reject"),
            &c.auth,
            json!({"comment": "No"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.detail());
    assert!(r.detail().contains("signing"), "{}", r.detail());
    signet_server::workflows::store::release(&t.state.db, &sa, &a.id)
        .await
        .unwrap();
    let r = t
        .post(
            &format!("/api/v1/workflows/{wid}/steps/{sc}/reject"),
            &c.auth,
            json!({"comment": "No"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvers_read_what_they_approve_and_seals_follow_the_key_policy() {
    let t = T::new(&Backend::Sqlite).await;
    let boss = t.person("boss", &["signer"], None).await;
    let emp = t.person("emp", &["signer"], Some(&boss.id)).await;
    let stranger = t.person("stranger", &["signer"], None).await;
    // The organisation key may seal invoices only.
    let org = t.org_key().await;
    let p = t
        .req(
            "PUT",
            &format!("/api/v1/keys/{org}/policy"),
            &t.admin,
            Some("application/json"),
            json!({"allowed_roles": ["signer", "approver"], "allowed_doc_types": ["invoice"], "allowed_services": []})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.detail());
    let r = t
        .post(
            "/api/v1/document-types/leave/documents",
            &emp.auth,
            json!({"values": {"kind": "annual", "from": "2027-04-01", "to": "2027-04-03"}, "password": PASSWORD, "totp_code": t.code(&emp.secret)}),
        )
        .await;
    let doc = r.json()["document"]["id"].as_str().unwrap().to_string();
    let w = r.json()["workflow"].clone();
    let wid = w["id"].as_str().unwrap().to_string();
    // The manager (a signer, who sees only their own documents) reads what waits for them.
    for path in [
        format!("/api/v1/documents/{doc}"),
        format!("/api/v1/documents/{doc}/content"),
        format!("/api/v1/documents/{doc}/evidence"),
        format!("/api/v1/workflows/{wid}"),
    ] {
        assert_eq!(t.get(&path, &boss.auth).await.status, StatusCode::OK, "{path}");
        assert_eq!(
            t.get(&path, &stranger.auth).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = t.approve_ses(&boss, &wid, &waiting_step(&w, "Manager")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
    // The HR seal may not use a key whose policy excludes leave applications: it waits.
    let w = r.json()["workflow"].clone();
    assert_eq!(w["state"], "in_progress", "{w}");
    assert_eq!(
        t.get(&format!("/api/v1/documents/{doc}/content"), &boss.auth)
            .await
            .status,
        StatusCode::OK,
        "the manager still reads what they approved"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_account_is_not_managed_by_hand() {
    let t = T::new(&Backend::Sqlite).await;
    let r = t
        .post(
            "/api/v1/users",
            &t.admin,
            json!({"username": "signet-system", "display_name": "Impostor", "roles": ["service"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.detail());
    let system = signet_server::users::system_user(&t.state.db).await.unwrap();
    let r = t
        .post(
            &format!("/api/v1/users/{}/tokens", system.id),
            &t.admin,
            json!({"name": "steal", "scopes": ["sign"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.detail());
    let r = t
        .req(
            "PATCH",
            &format!("/api/v1/users/{}", system.id),
            &t.admin,
            Some("application/json"),
            json!({"roles": ["service", "admin"]}).to_string().into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.detail());
}
