//! The audit log: hash chain and seals catch edits, deletions, reordering and rewritten chains;
//! signing fails closed when the log cannot be written.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use signet_server::audit::{self, entry_hash};

/// A server with some history: users, uploads, signatures, failures; then sealed.
async fn busy(b: &Backend) -> T {
    let t = T::new(b).await;
    let (alice, _) = t.user("alice", &["signer"]).await;
    let secret = t.enrol(&alice).await;
    let org = t.org_key().await;
    for i in 0..3 {
        let up = t
            .upload(&alice, &format!("Doc {i}"), "leave", "application/pdf", pdf("x"))
            .await;
        let id = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t
            .post(
                &format!("/api/v1/documents/{id}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
    }
    t.login("alice", "wrong password!").await;
    let s = t.post("/api/v1/audit/seal", &t.admin, json!({})).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.detail());
    t
}

async fn check(t: &T) -> Option<(i64, String)> {
    let api = t.get("/api/v1/audit/verify", &t.admin).await.json();
    let direct = signet_server::verify_audit_log(&t.state.db).await.unwrap();
    direct
        .first_problem
        .inspect(|p| assert_eq!(api["first_problem"][0], p.0, "API and library agree: {api}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untouched_log_verifies_and_every_action_is_in_it() {
    for b in backends() {
        let t = busy(&b).await;
        assert_eq!(check(&t).await, None);
        let entries = audit::list(&t.state.db, 0, 1000).await.unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "user.create",
            "login",
            "totp.enrol",
            "document.upload",
            "signature.create",
            "password.change",
            "audit.seal",
        ] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        assert!(entries.iter().any(|e| e.action == "login" && e.outcome == "failed"));
        // Seqs have no gaps and each entry names its predecessor.
        for w in entries.windows(2) {
            assert_eq!(w[1].seq, w[0].seq + 1);
            assert_eq!(w[1].prev_hash, w[0].hash);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_deletions_and_reordering_are_found() {
    for b in backends() {
        let t = busy(&b).await;
        t.sql("UPDATE audit_log SET details = '{\"title\":\"forged\"}' WHERE seq = 7")
            .await;
        let p = check(&t).await.unwrap();
        assert_eq!(p.0, 7, "{p:?}");
        assert!(p.1.contains("modified"), "{p:?}");

        let t = busy(&b).await;
        t.sql("DELETE FROM audit_log WHERE seq = 5").await;
        let p = check(&t).await.unwrap();
        assert_eq!(p.0, 5, "{p:?}");
        assert!(p.1.contains("missing"), "{p:?}");

        let t = busy(&b).await;
        t.sql("UPDATE audit_log SET seq = -1 WHERE seq = 9").await;
        t.sql("UPDATE audit_log SET seq = 9 WHERE seq = 10").await;
        t.sql("UPDATE audit_log SET seq = 10 WHERE seq = -1").await;
        let p = check(&t).await.unwrap();
        assert_eq!(p.0, 9, "{p:?}");

        // Deleting the tail (sealed entries) is found through the seal.
        let t = busy(&b).await;
        let last = audit::list(&t.state.db, 0, 1000).await.unwrap().last().unwrap().seq;
        t.sql(&format!("DELETE FROM audit_log WHERE seq >= {}", last - 2)).await;
        let p = check(&t).await.unwrap();
        assert!(p.1.contains("deleted"), "{p:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_chain_is_caught_by_the_seal() {
    for b in backends() {
        let t = busy(&b).await;
        // The attacker edits entry 6 and recomputes every hash after it: the chain is
        // consistent again, but the seal signed the old tail.
        let entries = audit::list(&t.state.db, 0, 1000).await.unwrap();
        let mut prev = entries[4].hash.clone();
        for e in &entries[5..] {
            let mut f = e.clone();
            if e.seq == 6 {
                f.details = "{\"forged\":true}".to_string();
            }
            f.prev_hash = prev.clone();
            let details = f.details.clone();
            let h = entry_hash(&f);
            sqlx::query("UPDATE audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
                .bind(&details)
                .bind(&prev)
                .bind(&h)
                .bind(e.seq)
                .execute(&t.state.db.pool)
                .await
                .unwrap();
            prev = h;
        }
        let p = check(&t).await.unwrap();
        assert!(p.1.contains("seal"), "{p:?}");
        // A forged seal signature is found too.
        t.sql("UPDATE audit_seals SET hash = 'x'").await;
        assert!(check(&t).await.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_fails_closed_when_the_audit_log_cannot_be_written() {
    for b in backends() {
        let t = T::new(&b).await;
        let (alice, _) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        let org = t.org_key().await;
        let up = t
            .upload(&alice, "Contract", "contract", "application/pdf", pdf("Contract"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let blobs_before = count_files(&t.dir.path().join("data/blobs"));
        match b {
            Backend::Sqlite => {
                t.sql("CREATE TRIGGER audit_block BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit storage failure'); END")
                    .await
            }
            Backend::Postgres(_) => {
                t.sql("CREATE FUNCTION audit_block() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit storage failure'; END $$ LANGUAGE plpgsql").await;
                t.sql("CREATE TRIGGER audit_block BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_block()").await;
            }
        }
        let r = t
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": org, "totp_code": t.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.detail());
        assert!(r.detail().contains("audit"), "{}", r.detail());
        assert!(r.is_problem());
        assert_eq!(
            count_files(&t.dir.path().join("data/blobs")),
            blobs_before,
            "no signed file was written"
        );
        // Downloads are audited too, so they are refused as well; the database shows one version.
        assert_eq!(
            t.get(&format!("/api/v1/documents/{doc}/content"), &alice).await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM document_versions")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let (s,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM signatures")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert_eq!(s, 0);
    }
}

fn count_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += count_files(&p);
        } else {
            n += 1;
        }
    }
    n
}

/// Each writer chains on to the tail it last committed without reading it back; when another
/// writer (another node, or the console's password reset in another process) appended
/// meanwhile, the insert collides on seq and is retried on the real tail: the chain stays one,
/// gap-free and verifiable, whichever writer goes next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_that_interleave_keep_one_chain() {
    for b in backends() {
        let t = T::new(&b).await;
        let url = t.state.0.config.database_url();
        let other_db = signet_server::db::Db::connect(&url).await.unwrap();
        let other = signet_server::state::AuditLog::start(&other_db).await.unwrap();
        let ev = |actor: &'static str| audit::Event {
            actor,
            action: "test.append",
            target: "",
            outcome: "ok",
            details: json!({}),
        };
        let mut seqs = Vec::new();
        for i in 0..6 {
            // Alternate writers, and twice in a row on the same one.
            let log = if i % 3 == 0 { &other } else { &t.state.audit };
            seqs.push(
                log.append(&ev(if i % 3 == 0 { "node-b" } else { "node-a" }))
                    .await
                    .unwrap(),
            );
        }
        for w in seqs.windows(2) {
            assert_eq!(w[1], w[0] + 1, "{b:?}: {seqs:?}");
        }
        assert_eq!(check(&t).await, None, "{b:?}");
    }
}

/// A disabled seal key is never used again (finding 10): with the only seal key disabled the
/// log cannot be sealed (a clear 503, not a seal by a withdrawn key); after a new seal key is
/// made, seals are by it, and the log with seals by both verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_seal_key_is_never_used_again() {
    for b in backends() {
        let t = busy(&b).await;
        let old = signet_server::keys::newest_enabled(&t.state.db, signet_server::keys::KeyKind::Seal)
            .await
            .unwrap()
            .unwrap();
        let r = t.post("/api/v1/audit/seal", &t.admin, serde_json::json!({})).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.detail());
        t.sql(&format!("UPDATE keys SET disabled = 1 WHERE id = '{}'", old.id))
            .await;
        let r = t.post("/api/v1/audit/seal", &t.admin, serde_json::json!({})).await;
        assert_eq!(r.status, axum::http::StatusCode::SERVICE_UNAVAILABLE, "{}", r.detail());
        let subject = signet_pki::name::SubjectSpec {
            common_name: "Audit seal 2".into(),
            ..Default::default()
        };
        let new = signet_server::keys::create_certified(
            &t.state,
            signet_server::keys::KeyKind::Seal,
            None,
            "Audit log seal 2",
            subject,
            "",
            signet_crypto::KeyAlgorithm::EcdsaP256,
        )
        .await
        .unwrap();
        let r = t.post("/api/v1/audit/seal", &t.admin, serde_json::json!({})).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.detail());
        let (key,): (String,) = sqlx::query_as("SELECT key_id FROM audit_seals ORDER BY seq DESC LIMIT 1")
            .fetch_one(&t.state.db.pool)
            .await
            .unwrap();
        assert_eq!(key, new.id);
        assert!(check(&t).await.is_none(), "{:?}", check(&t).await);
    }
}

/// The insider's way around a rewritten chain (finding 8): edit an entry, recompute every hash
/// after it, and delete the seals. The chain is consistent again; what gives it away is a tail
/// older than any running server leaves unsealed.
async fn rewrite_and_drop_seals(t: &T) {
    let entries = audit::list(&t.state.db, 0, 1000).await.unwrap();
    let mut prev = entries[4].hash.clone();
    for e in &entries[5..] {
        let mut f = e.clone();
        if e.seq == 6 {
            f.details = "{\"forged\":true}".to_string();
        }
        f.prev_hash = prev.clone();
        let h = entry_hash(&f);
        sqlx::query("UPDATE audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&f.details)
            .bind(&prev)
            .bind(&h)
            .bind(e.seq)
            .execute(&t.state.db.pool)
            .await
            .unwrap();
        prev = h;
    }
    t.sql("DELETE FROM audit_seals").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_seals_leave_an_unsealed_tail_that_is_reported() {
    use signet_server::sealing::{SealTrust, verify_log};
    for b in backends() {
        let t = busy(&b).await;
        rewrite_and_drop_seals(&t).await;
        let now = signet_pki::time::now();
        // Minutes later (the server seals at least every audit_seal_interval_secs): reported.
        let v = verify_log(&t.state.db, &SealTrust::Database, now + 3600, 600, None)
            .await
            .unwrap();
        let (seq, what) = v.first_problem.expect("an unsealed old tail is a problem");
        assert_eq!(seq, 1, "{b:?}: {what}");
        assert!(what.contains("not sealed"), "{b:?}: {what}");
        // Right away it is not (yet) distinguishable from a server about to seal.
        let v = verify_log(&t.state.db, &SealTrust::Database, now, 600, None)
            .await
            .unwrap();
        assert_eq!(v.first_problem, None, "{b:?}");
    }
}

/// An insider who cannot read the KEK makes a seal key of their own, lists it in the database
/// and seals the rewritten chain with it: a check that trusts the database's seal keys is
/// fooled; one against the seal certificate pinned outside the database is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seal_key_written_into_the_database_does_not_pass_the_pinned_check() {
    use signet_server::sealing::{SealTrust, seal_certificates, verify_log};
    for b in backends() {
        let t = busy(&b).await;
        let pinned = seal_certificates(&t.state.db).await.unwrap();
        assert_eq!(pinned.len(), 1);
        rewrite_and_drop_seals(&t).await;
        // The insider's own key, certificate and seal.
        let key = signet_crypto::PrivateKey::generate(signet_crypto::KeyAlgorithm::EcdsaP256).unwrap();
        let signer = signet_crypto::SoftwareSigner::new(key);
        let now = signet_pki::time::now();
        let name = signet_pki::name::SubjectSpec {
            common_name: "Signet Organisation audit seal".into(),
            ..Default::default()
        }
        .to_name()
        .unwrap();
        let tpl = signet_pki::issue::Template::new(
            name,
            signet_crypto::Signer::public_key_der(&signer).unwrap(),
            signet_pki::issue::Profile::AuditSeal,
            now - 60,
            now + 86_400,
        );
        let cert = signet_pki::issue::issue(&tpl, None, &signer).unwrap();
        sqlx::query("INSERT INTO keys (id, kind, label, algorithm, encrypted_key, chain_pem, created_at) VALUES ('insider', 'seal', 'x', 'ecdsa-p256', $1, $2, $3)")
            .bind(vec![0u8])
            .bind(cert.to_pem().unwrap())
            .bind(now)
            .execute(&t.state.db.pool)
            .await
            .unwrap();
        let tail = audit::list(&t.state.db, 0, 1000).await.unwrap().pop().unwrap();
        let sig = signet_crypto::Signer::sign(&signer, &audit::seal_message(tail.seq, &tail.hash, now)).unwrap();
        sqlx::query("INSERT INTO audit_seals (seq, at, hash, signature, key_id) VALUES ($1, $2, $3, $4, 'insider')")
            .bind(tail.seq)
            .bind(now)
            .bind(&tail.hash)
            .bind(sig)
            .execute(&t.state.db.pool)
            .await
            .unwrap();
        let fooled = verify_log(&t.state.db, &SealTrust::Database, now + 3600, 600, None)
            .await
            .unwrap();
        assert_eq!(
            fooled.first_problem, None,
            "{b:?}: the database's own seal keys are fooled"
        );
        assert_eq!(fooled.seal_trust, "database");
        let v = verify_log(&t.state.db, &SealTrust::Pinned(pinned), now + 3600, 600, None)
            .await
            .unwrap();
        let (seq, what) = v.first_problem.expect("the pinned check catches the insider's seal");
        assert_eq!(seq, tail.seq, "{b:?}");
        assert!(what.contains("not by a pinned seal key"), "{b:?}: {what}");
    }
}

/// The seal certificate is issued by the organisation CA for audit seals only, and its
/// fingerprint is the one printed at first start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seal_certificate_is_the_cas_and_for_audit_seals_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = signet_server::prepare(signet_server::Config {
        data_dir: dir.path().join("data"),
        ..Default::default()
    })
    .await
    .unwrap();
    let printed = p.bootstrap.unwrap().seal_fingerprint;
    let certs = signet_server::sealing::seal_certificates(&p.state.db).await.unwrap();
    let seal = &certs[0];
    assert_eq!(seal.fingerprint(), printed);
    assert!(seal.is_audit_seal() && seal.extended_key_usage_critical());
    let ca = signet_server::keys::of_kind(&p.state.db, signet_server::keys::KeyKind::Ca)
        .await
        .unwrap()
        .unwrap();
    let ca = signet_pki::Certificate::parse_many(ca.chain_pem.as_bytes())
        .unwrap()
        .remove(0);
    assert!(seal.is_issued_by(&ca, &Default::default()));
}

/// A quiet server seals on a timer (no 100 entries needed) and once more at shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_server_seals_on_a_timer_and_at_shutdown() {
    for b in backends() {
        let t = T::with(&b, |c| c.audit_seal_interval_secs = 1).await;
        let live = Live::start(&t).await;
        let sealed_through = || async {
            let (n,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit_seals")
                .fetch_one(&t.state.db.pool)
                .await
                .unwrap();
            n
        };
        let tail = || async { audit::list(&t.state.db, 0, 1000).await.unwrap().last().unwrap().seq };
        let mut waited = 0;
        while sealed_through().await < tail().await {
            assert!(waited < 100, "{b:?}: nothing sealed the quiet tail within 10 s");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            waited += 1;
        }
        // New entries right before shutdown are sealed by the shutdown.
        let body = json!({"username": "admin", "password": "wrong"}).to_string();
        live.status(
            "POST",
            "/api/v1/auth/login",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await;
        live.stop().await;
        assert_eq!(sealed_through().await, tail().await, "{b:?}");
        assert_eq!(check(&t).await, None, "{b:?}");
    }
}

/// Entries made through the API carry the client's address and user agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_carry_the_client_address_and_user_agent() {
    let t = T::new(&Backend::Sqlite).await;
    let live = Live::start(&t).await;
    let body = json!({"username": "admin", "password": "not the password"}).to_string();
    live.status(
        "POST",
        "/api/v1/auth/login",
        &[
            ("Content-Type", "application/json"),
            ("User-Agent", "Signet-Test/1.0 (audit)"),
        ],
        body.as_bytes(),
    )
    .await;
    let e = audit::list(&t.state.db, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.action == "login" && e.outcome == "failed")
        .unwrap();
    let d: serde_json::Value = serde_json::from_str(&e.details).unwrap();
    assert_eq!(d["client"]["address"], "127.0.0.1", "{d}");
    assert_eq!(d["client"]["user_agent"], "Signet-Test/1.0 (audit)", "{d}");
    live.stop().await;
}

/// A tail cut off together with its seals leaves a log that is consistent in itself; what gives
/// it away is that its newest (signed) seal is older than a running server ever lets it get,
/// thanks to heartbeat entries on a quiet log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tail_cut_off_with_its_seals_is_caught_by_the_seal_age() {
    use signet_server::sealing::{SealTrust, verify_log};
    for b in backends() {
        let t = busy(&b).await;
        let now = signet_pki::time::now();
        // A later seal, then the insider removes it and everything after the earlier one.
        let first = audit::list(&t.state.db, 0, 1000).await.unwrap().last().unwrap().seq;
        t.login("alice", "another wrong one").await;
        let r = t.post("/api/v1/audit/seal", &t.admin, json!({})).await;
        assert_eq!(r.status, StatusCode::OK);
        t.sql(&format!("DELETE FROM audit_log WHERE seq > {first}")).await;
        t.sql(&format!("DELETE FROM audit_seals WHERE seq > {first}")).await;
        // Signed in the seal: its time cannot be moved.
        t.sql("UPDATE audit_seals SET at = at + 3600").await;
        let v = verify_log(&t.state.db, &SealTrust::Database, now + 3600, 600, Some(600))
            .await
            .unwrap();
        let (_, what) = v
            .first_problem
            .expect("an old newest seal is a problem for a running server");
        assert!(
            what.contains("invalid signature") || what.contains("s old"),
            "{b:?}: {what}"
        );
        t.sql("UPDATE audit_seals SET at = at - 3600").await;
        let v = verify_log(&t.state.db, &SealTrust::Database, now + 3600, 600, Some(600))
            .await
            .unwrap();
        let (_, what) = v
            .first_problem
            .expect("an old newest seal is a problem for a running server");
        assert!(what.contains("cut off"), "{b:?}: {what}");
        // A stopped server's log is judged without the age rule.
        let v = verify_log(&t.state.db, &SealTrust::Database, now + 3600, 600, None)
            .await
            .unwrap();
        assert_eq!(v.first_problem, None, "{b:?}");
    }
}

/// A quiet running server writes a heartbeat entry and seals it, so its newest seal stays recent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_server_keeps_its_newest_seal_recent() {
    let t = T::with(&Backend::Sqlite, |c| {
        c.audit_seal_interval_secs = 1;
        c.audit_max_unsealed_secs = 2;
    })
    .await;
    let live = Live::start(&t).await;
    let mut beats = 0;
    for _ in 0..80 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        beats = audit_count(&t, &["audit.heartbeat"]).await;
        if beats >= 2 {
            break;
        }
    }
    live.stop().await;
    assert!(beats >= 2, "{beats} heartbeats in 8 s");
    let v = signet_server::sealing::verify_log(
        &t.state.db,
        &signet_server::sealing::SealTrust::Database,
        signet_pki::time::now(),
        2,
        Some(3),
    )
    .await
    .unwrap();
    assert_eq!(v.first_problem, None);
}

/// A server set up by an earlier version sealed with a document-signing certificate: at the
/// next start its seal key is replaced by one certified for audit seals only (the old one
/// disabled, audited), and the log — old seals and new — still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_seal_certificate_is_replaced_at_start() {
    let t = busy(&Backend::Sqlite).await;
    let old = signet_server::keys::create_certified(
        &t.state,
        signet_server::keys::KeyKind::Organisation,
        None,
        "old-style seal",
        signet_pki::name::SubjectSpec {
            common_name: "Old seal".into(),
            ..Default::default()
        },
        "",
        signet_crypto::KeyAlgorithm::EcdsaP256,
    )
    .await
    .unwrap();
    t.sql("UPDATE keys SET disabled = 1 WHERE kind = 'seal'").await;
    t.sql(&format!("UPDATE keys SET kind = 'seal' WHERE id = '{}'", old.id))
        .await;
    let r = t.post("/api/v1/audit/seal", &t.admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
    let again = signet_server::prepare(t.state.config.clone()).await.unwrap();
    let fp = again.seal_replaced.expect("the old-style seal certificate is replaced");
    let newest = signet_server::keys::newest_enabled(&again.state.db, signet_server::keys::KeyKind::Seal)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest.fingerprint, fp);
    assert_ne!(newest.id, old.id);
    assert!(audit_count(&t, &["key.rotate"]).await == 1);
    let r = signet_server::sealing::seal(&again.state, true).await.unwrap();
    assert!(r.is_some());
    assert_eq!(check(&t).await, None);
    // And a start after that replaces nothing.
    assert!(
        signet_server::prepare(t.state.config.clone())
            .await
            .unwrap()
            .seal_replaced
            .is_none()
    );
}
