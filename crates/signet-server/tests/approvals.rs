//! Approvals (issue "Approvals"): a leave application through employee SES → manager (away;
//! the deputy signs) → HR seal; a payment request whose amount adds a step; returned,
//! resubmitted, rejected; a deadline reminder; two approvers at the same instant; the sealed
//! evidence checked offline, tampering found; the generated PDFs read by pyHanko and poppler.
//! On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

fn tool(name: &str, args: &[&str], input: &std::path::Path) -> String {
    let o = std::process::Command::new(name)
        .args(args)
        .arg(input)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leave_application_goes_from_employee_to_deputy_to_seal() {
    for b in backends() {
        let t = T::new(&b).await;
        let boss = t.person("boss", &["approver"], None).await;
        let deputy = t.person("deputy", &["approver"], None).await;
        let emp = t.person("natalia", &["signer"], Some(&boss.id)).await;
        // The manager is away these weeks; the deputy stands in.
        let day = |d: i64| signet_pki::time::format(t.state.now() + d * 86_400)[..10].to_string();
        let r = t
            .post(
                "/api/v1/me/absences",
                &boss.auth,
                json!({"deputy_id": deputy.id, "from": day(-1), "until": day(30)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.detail());
        // The employee fills in the form and signs her own step at once.
        let r = t
            .post(
                "/api/v1/document-types/leave/documents",
                &emp.auth,
                json!({
                    "values": {"kind": "annual", "from": "2026-12-21", "to": "2027-01-08", "comment": "Отпуск — Наталья Иванова"},
                    "password": PASSWORD, "totp_code": t.code(&emp.secret)
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.detail());
        let doc = r.json()["document"].clone();
        let id = doc["id"].as_str().unwrap().to_string();
        let number = doc["number"].as_str().unwrap().to_string();
        assert!(number.starts_with("LV-20") && number.ends_with("-00001"), "{number}");
        let w = r.json()["workflow"].clone();
        let wid = w["id"].as_str().unwrap().to_string();
        assert_eq!(w["steps"][0]["state"], "approved", "{b:?}: {w}");
        // The deputy's inbox holds the manager's step, as the manager's deputy.
        let inbox = t.get("/api/v1/inbox?box=deputy", &deputy.auth).await.json();
        let items = inbox["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{b:?}: {inbox}");
        assert_eq!(items[0]["as_deputy_of"], boss.id.as_str());
        assert_eq!(items[0]["document"]["number"], number.as_str());
        let counts = t.get("/api/v1/inbox/counts", &deputy.auth).await.json();
        assert_eq!(counts["counts"]["deputy"], 1, "{counts}");
        // Someone else may not act on it.
        let stranger = t.person("stranger", &["signer"], None).await;
        let step = waiting_step(&w, "Manager");
        let r = t.approve_ses(&stranger, &wid, &step).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.detail());
        assert_eq!(
            audit_outcomes(&t, "step.approve", "denied").await,
            1,
            "{b:?}: refusals are audited"
        );
        // The deputy approves; the server then seals the document.
        let r = t.approve_ses(&deputy, &wid, &step).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        let w = r.json()["workflow"].clone();
        assert_eq!(w["state"], "approved", "{b:?}: {w}");
        let steps = w["steps"].as_array().unwrap();
        assert_eq!(steps[1]["acting_for"], boss.id.as_str());
        assert_eq!(steps[1]["acted_by"], deputy.id.as_str());
        assert_eq!(steps[2]["state"], "approved");
        assert!(steps[2]["version"].as_i64().unwrap() >= 2);
        // The sealed document validates, here and in pyHanko; poppler renders it and extracts
        // the Cyrillic text.
        let pdf = t.get(&format!("/api/v1/documents/{id}/content"), &emp.auth).await.body;
        let ca = t.ca_pem().await;
        let report = validate(&pdf, None, &ca);
        assert_eq!(
            report.indication.as_str(),
            "TOTAL-PASSED",
            "{b:?}: {}",
            report.render_json()
        );
        // It carries its own proof: the two pieces of evidence embedded, each checked, and a
        // page listing the signatures, all under the seal.
        let formats: Vec<&str> = report.signatures.iter().map(|s| s.format.as_str()).collect();
        assert_eq!(formats.len(), 3, "{b:?}: {formats:?}");
        assert_eq!(
            formats
                .iter()
                .filter(|f| f.starts_with("SES evidence (evidence-"))
                .count(),
            2,
            "{formats:?}"
        );
        let verdict = pyhanko_validate(t.dir.path(), &pdf, &ca);
        assert!(verdict.contains("INTACT") || verdict.contains("TRUSTED"), "{verdict}");
        let f = t.dir.path().join("leave.pdf");
        std::fs::write(&f, &pdf).unwrap();
        let text = tool("pdftotext", &[], &f);
        assert!(
            text.contains("Заявление на отпуск") && text.contains("Наталья Иванова") && text.contains(&number),
            "{text}"
        );
        assert!(
            text.contains("Signatures / Подписи") && text.contains("as deputy of boss Example"),
            "{text}"
        );
        // Two pieces of evidence, each checking out offline; the deputy's says so.
        let ev = t
            .get(&format!("/api/v1/documents/{id}/evidence"), &emp.auth)
            .await
            .json();
        let ev = ev["evidence"].as_array().unwrap().clone();
        assert_eq!(ev.len(), 2, "{b:?}");
        let original = t
            .get(&format!("/api/v1/documents/{id}/versions/1"), &emp.auth)
            .await
            .body;
        let mut deputy_evidence = None;
        for e in &ev {
            let file = t
                .get(&format!("/api/v1/evidence/{}", e["id"].as_str().unwrap()), &emp.auth)
                .await
                .body;
            let report = validate(&file, None, &ca);
            assert_eq!(
                report.indication.as_str(),
                "TOTAL-PASSED",
                "{b:?}: {}",
                report.render_json()
            );
            let s = &report.signatures[0];
            assert_eq!(s.format, "SES evidence");
            assert!(s.timestamp_time.is_some(), "the seal is time-stamped");
            let info = s.evidence.as_ref().unwrap();
            if let Some(boss_name) = &info.acting_for {
                assert!(info.signer.contains("deputy") && boss_name.contains("boss"), "{info:?}");
                deputy_evidence = Some(file.clone());
            }
            // With the document: the original form PDF is the version it names; the sealed
            // one carries that version as an earlier revision.
            for doc_bytes in [&original, &pdf] {
                let r = validate(doc_bytes, Some(&file), &ca);
                assert_eq!(r.indication.as_str(), "TOTAL-PASSED", "{b:?}: {}", r.render_json());
            }
            let r = validate(b"another document", Some(&file), &ca);
            assert_eq!(r.indication.as_str(), "TOTAL-FAILED", "{b:?}");
        }
        // One changed byte in the record: the seal no longer holds.
        let file = deputy_evidence.expect("the deputy's evidence");
        let text = String::from_utf8(file).unwrap();
        let forged = text.replacen("deputy", "Deputy", 1);
        assert_ne!(forged, text);
        let r = validate(forged.as_bytes(), None, &ca);
        assert_ne!(r.indication.as_str(), "TOTAL-PASSED", "{b:?}");
        // After a restart, all the same (the evidence needs nothing from the server).
        let again = signet_server::prepare(t.state.config.clone()).await.unwrap();
        let t2 = T::from_state(again.state, &t).await;
        let w2 = t2.get(&format!("/api/v1/workflows/{wid}"), &emp.auth).await.json();
        assert_eq!(w2["workflow"]["state"], "approved");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_request_over_the_threshold_adds_the_finance_director() {
    for b in backends() {
        let t = T::new(&b).await;
        let boss = t.person("boss", &["approver"], None).await;
        let cfo = t.person("cfo", &["approver"], None).await;
        let emp = t.person("emp", &["signer"], Some(&boss.id)).await;
        let r = t
            .post(
                "/api/v1/groups",
                &t.admin,
                json!({"name": "finance", "members": [cfo.id]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let make = |amount: &str| json!({"values": {"payee": "ООО «Ромашка»", "amount": {"amount": amount, "currency": "RUB"}, "purpose": "Office chairs"}});
        let small = t
            .post("/api/v1/document-types/payment/documents", &emp.auth, make("9999.99"))
            .await;
        assert_eq!(small.status, StatusCode::CREATED, "{}", small.detail());
        let names = |r: &Resp| -> Vec<String> {
            r.json()["workflow"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(&small), ["Requester", "Manager", "Seal"]);
        let big = t
            .post("/api/v1/document-types/payment/documents", &emp.auth, make("25000"))
            .await;
        assert_eq!(names(&big), ["Requester", "Manager", "Finance director", "Seal"]);
        // Numbers follow each other in the series, without gaps.
        let n1 = small.json()["document"]["number"].as_str().unwrap().to_string();
        let n2 = big.json()["document"]["number"].as_str().unwrap().to_string();
        assert!(n1.ends_with("-00001") && n2.ends_with("-00002"), "{n1} {n2}");
        // Through the whole route: the finance director signs after the manager.
        let w = big.json()["workflow"].clone();
        let wid = w["id"].as_str().unwrap().to_string();
        let r = t.approve_ses(&emp, &wid, &waiting_step(&w, "Requester")).await;
        let r = t
            .approve_ses(&boss, &wid, &waiting_step(&r.json()["workflow"], "Manager"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        let r = t
            .approve_ses(&cfo, &wid, &waiting_step(&r.json()["workflow"], "Finance director"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        assert_eq!(r.json()["workflow"]["state"], "approved", "{b:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returned_documents_are_resubmitted_and_rejected_ones_end() {
    for b in backends() {
        let t = T::new(&b).await;
        let boss = t.person("boss", &["approver"], None).await;
        let emp = t.person("emp", &["signer"], Some(&boss.id)).await;
        let form = |amount: &str| json!({"payee": "ACME", "amount": {"amount": amount, "currency": "RUB"}, "purpose": "Laptop"});
        let r = t
            .post(
                "/api/v1/document-types/payment/documents",
                &emp.auth,
                json!({"values": form("1200")}),
            )
            .await;
        let (doc, w) = (
            r.json()["document"]["id"].as_str().unwrap().to_string(),
            r.json()["workflow"].clone(),
        );
        let wid = w["id"].as_str().unwrap().to_string();
        let r = t.approve_ses(&emp, &wid, &waiting_step(&w, "Requester")).await;
        let step = waiting_step(&r.json()["workflow"], "Manager");
        // A return needs a reason.
        let r = t
            .post(
                &format!("/api/v1/workflows/{wid}/steps/{step}/return"),
                &boss.auth,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t
            .post(
                &format!("/api/v1/workflows/{wid}/steps/{step}/return"),
                &boss.auth,
                json!({"comment": "Too expensive: 1000 at most"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        assert_eq!(r.json()["workflow"]["state"], "returned");
        // Only the author resubmits; with new values the document gets a new version.
        let r = t
            .post(&format!("/api/v1/workflows/{wid}/resubmit"), &boss.auth, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t
            .post(
                &format!("/api/v1/workflows/{wid}/resubmit"),
                &emp.auth,
                json!({"values": form("999")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        let w = r.json()["workflow"].clone();
        assert_eq!(w["state"], "in_progress");
        assert_eq!(w["round"], 2);
        let d = t.get(&format!("/api/v1/documents/{doc}"), &emp.auth).await.json();
        assert_eq!(d["document"]["current_version"], 2, "{d}");
        let r = t.approve_ses(&emp, &wid, &waiting_step(&w, "Requester")).await;
        let r = t
            .approve_ses(&boss, &wid, &waiting_step(&r.json()["workflow"], "Manager"))
            .await;
        assert_eq!(r.json()["workflow"]["state"], "approved", "{b:?}");
        // The sealed PDF carries the evidence of this round's approvals of this version, not
        // the first round's (about the version that was returned), and validates.
        let pdf = t.get(&format!("/api/v1/documents/{doc}/content"), &emp.auth).await.body;
        let report = validate(&pdf, None, &t.ca_pem().await);
        assert_eq!(
            report.indication.as_str(),
            "TOTAL-PASSED",
            "{b:?}: {}",
            report.render_json()
        );
        let embedded = report
            .signatures
            .iter()
            .filter(|s| s.format.starts_with("SES evidence"))
            .count();
        assert_eq!(embedded, 2, "{b:?}: the requester's and the manager's of round 2");
        // A rejection ends it: the other steps are skipped.
        let r = t
            .post(
                "/api/v1/document-types/payment/documents",
                &emp.auth,
                json!({"values": form("50")}),
            )
            .await;
        let w = r.json()["workflow"].clone();
        let wid = w["id"].as_str().unwrap().to_string();
        let r = t.approve_ses(&emp, &wid, &waiting_step(&w, "Requester")).await;
        let step = waiting_step(&r.json()["workflow"], "Manager");
        let r = t
            .post(
                &format!("/api/v1/workflows/{wid}/steps/{step}/reject"),
                &boss.auth,
                json!({"comment": "No"}),
            )
            .await;
        let w = r.json()["workflow"].clone();
        assert_eq!(w["state"], "rejected", "{b:?}: {w}");
        assert!(w["steps"].as_array().unwrap().iter().any(|s| s["state"] == "skipped"));
        // Nothing more can be decided on it.
        let r = t.approve_ses(&boss, &wid, &step).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_step_is_reminded_once() {
    for b in backends() {
        let t = T::new(&b).await;
        let boss = t.person("boss", &["approver"], None).await;
        let emp = t.person("emp", &["signer"], Some(&boss.id)).await;
        let r = t
            .post(
                "/api/v1/document-types/leave/documents",
                &emp.auth,
                json!({"values": {"kind": "unpaid", "from": "2027-02-01", "to": "2027-02-03"}, "password": PASSWORD, "totp_code": t.code(&emp.secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        assert_eq!(
            signet_server::workflows::remind_due(&t.state).await.unwrap(),
            0,
            "not due yet"
        );
        t.state.clock.advance(49 * 3600);
        assert_eq!(
            signet_server::workflows::remind_due(&t.state).await.unwrap(),
            1,
            "{b:?}"
        );
        assert_eq!(signet_server::workflows::remind_due(&t.state).await.unwrap(), 0, "once");
        assert_eq!(audit_count(&t, &["step.remind"]).await, 1);
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE kind = 'step.overdue'")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
}

/// Two members of the group a step waits for approve at the same instant: one approval, one
/// conflict, one piece of evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_approvers_at_the_same_instant_resolve_once() {
    for b in backends() {
        let t = std::sync::Arc::new(T::new(&b).await);
        let a1 = t.person("a1", &["approver"], None).await;
        let a2 = t.person("a2", &["approver"], None).await;
        let emp = t.person("emp", &["signer"], None).await;
        let r = t
            .post(
                "/api/v1/groups",
                &t.admin,
                json!({"name": "procurement", "members": [a1.id, a2.id]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let def = json!({
            "id": "desk", "name": "Desk request", "prefix": "DK",
            "fields": [{"name": "what", "label": "What", "type": "text", "required": true}],
            "route": {"stages": [{"steps": [{"name": "Procurement", "assignee": {"group": "procurement"}, "signature": "ses"}]}]}
        });
        let r = t.post("/api/v1/document-types", &t.admin, def).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let r = t
            .post(
                "/api/v1/document-types/desk/documents",
                &emp.auth,
                json!({"values": {"what": "A standing desk"}}),
            )
            .await;
        let w = r.json()["workflow"].clone();
        let (wid, step) = (w["id"].as_str().unwrap().to_string(), waiting_step(&w, "Procurement"));
        let (c1, c2) = (t.code(&a1.secret), t.code(&a2.secret));
        let path = format!("/api/v1/workflows/{wid}/steps/{step}/approve");
        let (r1, r2) = tokio::join!(
            t.post(&path, &a1.auth, json!({"password": PASSWORD, "totp_code": c1})),
            t.post(&path, &a2.auth, json!({"password": PASSWORD, "totp_code": c2})),
        );
        let mut statuses = [r1.status, r2.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{b:?}: {} / {}",
            r1.detail(),
            r2.detail()
        );
        let w = t.get(&format!("/api/v1/workflows/{wid}"), &emp.auth).await.json();
        assert_eq!(w["workflow"]["state"], "approved");
        let doc = w["workflow"]["document_id"].as_str().unwrap();
        let ev = t
            .get(&format!("/api/v1/documents/{doc}/evidence"), &emp.auth)
            .await
            .json();
        assert_eq!(ev["evidence"].as_array().unwrap().len(), 1, "{b:?}");
        // The approval is audited once as done; the one that lost the race as refused.
        assert_eq!(audit_outcomes(&t, "step.approve", "ok").await, 1, "{b:?}");
        assert_eq!(audit_outcomes(&t, "step.approve", "denied").await, 1, "{b:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_routes_forms_and_deputies_are_refused_clearly() {
    for b in backends() {
        let t = T::new(&b).await;
        let p1 = t.person("p1", &["approver"], None).await;
        let p2 = t.person("p2", &["approver"], None).await;
        let emp = t.person("emp", &["signer"], None).await;
        let problem = |r: &Resp, status: StatusCode, word: &str| {
            assert_eq!(r.status, status, "{b:?}: {}", r.detail());
            assert!(r.is_problem());
            assert!(r.detail().contains(word), "{b:?}: {:?} lacks {word:?}", r.detail());
        };
        // A form with a broken field; a value of the wrong type; an unknown field.
        let bad = json!({"id": "bad", "name": "Bad", "prefix": "BD",
            "fields": [{"name": "when", "label": "When", "type": "choice"}],
            "route": {"stages": [{"steps": [{"name": "X", "assignee": "author", "signature": "ses"}]}]}});
        problem(
            &t.post("/api/v1/document-types", &t.admin, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "options",
        );
        let r = t
            .post(
                "/api/v1/document-types/leave/documents",
                &emp.auth,
                json!({"values": {"kind": "annual", "from": "soon", "to": "2027-01-01"}}),
            )
            .await;
        problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "date");
        let r = t
            .post(
                "/api/v1/document-types/leave/documents",
                &emp.auth,
                json!({"values": {"kind": "annual", "from": "2027-01-01", "to": "2027-01-02", "mood": "good"}}),
            )
            .await;
        problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "no such field");
        // The leave route needs the author's manager; emp has none.
        let r = t
            .post(
                "/api/v1/document-types/leave/documents",
                &emp.auth,
                json!({"values": {"kind": "annual", "from": "2027-01-01", "to": "2027-01-02"}}),
            )
            .await;
        problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "manager");
        // A route naming a user who is gone.
        let def = json!({"id": "memo", "name": "Memo", "prefix": "MM",
            "fields": [{"name": "text", "label": "Text", "type": "text"}],
            "route": {"stages": [{"steps": [{"name": "Reader", "assignee": {"user": p1.id}, "signature": "ses"}]}]}});
        assert_eq!(
            t.post("/api/v1/document-types", &t.admin, def).await.status,
            StatusCode::CREATED
        );
        let r = t
            .req(
                "PATCH",
                &format!("/api/v1/users/{}", p1.id),
                &t.admin,
                Some("application/json"),
                json!({"disabled": true}).to_string().into_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let before: i64 = sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM workflows")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap()
            .0;
        let r = t
            .post(
                "/api/v1/document-types/memo/documents",
                &emp.auth,
                json!({"values": {"text": "hi"}}),
            )
            .await;
        problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "disabled");
        let after: i64 = sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM workflows")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap()
            .0;
        assert_eq!(before, after, "no half-started workflow");
        // A deputy loop: p2 away with emp standing in, then emp away with p2 standing in.
        let r = t
            .post(
                "/api/v1/me/absences",
                &p2.auth,
                json!({"deputy_id": emp.id, "from": "2027-03-01", "until": "2027-03-10"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let r = t
            .post(
                "/api/v1/me/absences",
                &emp.auth,
                json!({"deputy_id": p2.id, "from": "2027-03-05", "until": "2027-03-20"}),
            )
            .await;
        problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "loop");
        // Outside the overlap it is fine.
        let r = t
            .post(
                "/api/v1/me/absences",
                &emp.auth,
                json!({"deputy_id": p2.id, "from": "2027-04-01", "until": "2027-04-02"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
        let r = t
            .post(
                "/api/v1/me/absences",
                &emp.auth,
                json!({"deputy_id": emp.id, "from": "2027-05-01", "until": "2027-05-02"}),
            )
            .await;
        problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "someone else");
        // A manager loop.
        let r = t
            .req(
                "PATCH",
                &format!("/api/v1/users/{}", p2.id),
                &t.admin,
                Some("application/json"),
                json!({"manager_id": emp.id}).to_string().into_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let r = t
            .req(
                "PATCH",
                &format!("/api/v1/users/{}", emp.id),
                &t.admin,
                Some("application/json"),
                json!({"manager_id": p2.id}).to_string().into_bytes(),
            )
            .await;
        problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "loop");
        // A refused absence is not in the log as set: only the two that were.
        assert_eq!(audit_outcomes(&t, "absence.set", "ok").await, 2, "{b:?}");
        // Every refusal is in the audit log, with what was refused and why.
        let refused: Vec<(String, String)> = sqlx::query_as(
            "SELECT target, details FROM audit_log WHERE action = 'request.refused' AND outcome = 'denied'",
        )
        .fetch_all(&t.state.db.pool)
        .await
        .unwrap();
        for (path, why) in [
            ("/api/v1/document-types", "options"),
            ("/api/v1/document-types/leave/documents", "no such field"),
            ("/api/v1/document-types/memo/documents", "disabled"),
            ("/api/v1/me/absences", "loop"),
            (&*format!("/api/v1/users/{}", emp.id), "loop"),
        ] {
            assert!(
                refused.iter().any(|(p, d)| p == path && d.contains(why)),
                "{b:?}: no refusal of {path} for {why:?} in {refused:?}"
            );
        }
        // A refused document took no number and left nothing behind.
        let (docs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents WHERE doc_type = 'memo'")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert_eq!(docs, 0, "{b:?}");
        let _ = Value::Null;
    }
}
