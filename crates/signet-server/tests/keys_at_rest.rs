//! Keys at rest (issue "Server hardening", finding 7): the data directory and everything in it
//! are the owner's alone, whatever the umask; the key-encryption key can live outside it — a
//! file elsewhere, or a passphrase stretched with Argon2id — so that a copy of the directory
//! opens nothing; a wrong passphrase is refused before anything is used.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::os::unix::fs::PermissionsExt;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_the_owners_alone() {
    let t = T::new(&Backend::Sqlite).await;
    let (alice, _) = t.user("alice", &["signer"]).await;
    let r = t
        .upload(&alice, "Leave", "leave", "application/pdf", pdf("Leave"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.detail());
    let sha = r.json()["document"]["versions"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let data = &t.state.config.data_dir;
    assert_eq!(mode(data), 0o700);
    assert_eq!(mode(&data.join("kek.hex")), 0o600);
    assert_eq!(mode(&data.join("signet.db")), 0o600);
    for journal in ["signet.db-wal", "signet.db-shm"] {
        if data.join(journal).exists() {
            assert_eq!(mode(&data.join(journal)), 0o600, "{journal}");
        }
    }
    let blobs = data.join("blobs");
    assert_eq!(mode(&blobs), 0o700);
    assert_eq!(mode(&blobs.join(&sha[..2])), 0o700);
    assert_eq!(mode(&blobs.join(&sha[..2]).join(&sha[2..])), 0o600);
}

/// Zero configuration says where the KEK is, and that it sits in the data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_configuration_says_where_the_kek_is() {
    let dir = tempfile::tempdir().unwrap();
    let c = signet_server::Config {
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    let p = signet_server::prepare(c).await.unwrap();
    let said = p.kek_source.describe();
    assert!(
        said.contains("kek.hex") && said.contains("inside the data directory"),
        "{said}"
    );
}

/// A passphrase instead of a key file: nothing in the data directory opens the keys; the same
/// passphrase opens them after a restart (a signature works), a wrong one is refused, and a
/// copy of the directory started without the passphrase is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kek_from_a_passphrase_keeps_the_data_directory_useless_alone() {
    for b in backends() {
        let passphrase = "correct horse battery staple, twice";
        let t = T::with(&b, |c| c.kek_passphrase = Some(passphrase.to_string().into())).await;
        let data = t.state.config.data_dir.clone();
        assert!(
            !data.join("kek.hex").exists(),
            "{b:?}: no key file in the data directory"
        );
        let (alice, _) = t.user("alice", &["signer"]).await;
        let secret = t.enrol(&alice).await;
        let config = t.state.config.clone();
        // A restart with the same passphrase: the keys open, alice signs.
        let again = signet_server::prepare(config.clone()).await.unwrap();
        assert_eq!(again.kek_source, signet_server::kek::KekSource::Passphrase);
        let t2 = T::from_state(again.state, &t).await;
        let up = t2
            .upload(&alice, "Leave", "leave", "application/pdf", pdf("Leave"))
            .await;
        let doc = up.json()["document"]["id"].as_str().unwrap().to_string();
        let r = t2
            .post(
                &format!("/api/v1/documents/{doc}/sign"),
                &alice,
                json!({"key_id": t2.org_key().await, "totp_code": t2.code(&secret)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.detail());
        // A wrong passphrase, and none at all (the directory alone): refused at start.
        let wrong = signet_server::Config {
            kek_passphrase: Some("a different passphrase entirely".to_string().into()),
            ..config.clone()
        };
        let e = signet_server::prepare(wrong).await.err().unwrap();
        assert!(e.contains("not the one this database was set up with"), "{b:?}: {e}");
        let copy = tempfile::tempdir().unwrap();
        let bare = signet_server::Config {
            kek_passphrase: None,
            data_dir: copy.path().join("data"),
            ..config.clone()
        };
        if let Backend::Sqlite = b {
            let ok = std::process::Command::new("cp")
                .arg("-a")
                .arg(&data)
                .arg(copy.path().join("data"))
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let bare = signet_server::Config {
            database_url: match b {
                Backend::Sqlite => None,
                Backend::Postgres(_) => config.database_url.clone(),
            },
            ..bare
        };
        let e = signet_server::prepare(bare).await.err().unwrap();
        assert!(e.contains("not the one this database was set up with"), "{b:?}: {e}");
        // Too short a passphrase is refused outright.
        let short = signet_server::Config {
            kek_passphrase: Some("short".to_string().into()),
            ..config
        };
        assert!(
            signet_server::prepare(short)
                .await
                .err()
                .unwrap()
                .contains("at least 12")
        );
    }
}

/// A KEK file outside the data directory: the directory holds no key material, and a named
/// file that does not exist is an error, not a new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kek_file_outside_the_data_directory() {
    let keys = tempfile::tempdir().unwrap();
    let kek = keys.path().join("signet.kek");
    std::fs::write(&kek, "ab".repeat(32)).unwrap();
    let k = kek.clone();
    let t = T::with(&Backend::Sqlite, move |c| c.kek_file = Some(k)).await;
    assert!(!t.state.config.data_dir.join("kek.hex").exists());
    let missing = signet_server::Config {
        kek_file: Some(keys.path().join("nope.kek")),
        ..t.state.config.clone()
    };
    let e = signet_server::prepare(missing).await.err().unwrap();
    assert!(e.contains("does not exist"), "{e}");
}
