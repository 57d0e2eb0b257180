//! Helpers for the CLI tests: run `signet` and `openssl` in a scratch directory.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs,
    missing_docs
)]

pub mod node;
pub mod pdf;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const PASS: &str = "correct horse battery staple";
pub const CA_PASS: &str = "ca passphrase 2026";

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        let e = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(e.path("pw.txt"), format!("{PASS}\n")).unwrap();
        std::fs::write(e.path("capw.txt"), format!("{CA_PASS}\n")).unwrap();
        std::fs::write(e.path("wrong.txt"), "not it\n").unwrap();
        e
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn p(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    /// Runs signet with the key passphrases in the environment.
    pub fn signet(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(args)
            .current_dir(self.dir.path())
            .env("SIGNET_PASSPHRASE", PASS)
            .env("SIGNET_CA_PASSPHRASE", CA_PASS)
            .env_remove("SIGNET_IMPORT_PASSPHRASE")
            .env_remove("SIGNET_P12_PASSPHRASE")
            .output()
            .unwrap()
    }

    /// Runs signet, asserting exit code 0.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.signet(args);
        assert!(
            o.status.success(),
            "signet {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Runs signet as a fetching command: its own fetch cache `cache` in the test directory,
    /// no proxy or CA bundle from the environment.
    pub fn signet_fetching(&self, args: &[&str], cache: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(args)
            .current_dir(self.dir.path())
            .env("SIGNET_PASSPHRASE", PASS)
            .env("SIGNET_CACHE_DIR", self.path(cache))
            .env_remove("SIGNET_CA_BUNDLE")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .output()
            .unwrap()
    }

    pub fn openssl(&self, args: &[&str]) -> Output {
        Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("openssl must be installed")
    }

    pub fn openssl_ok(&self, args: &[&str]) -> String {
        let o = self.openssl(args);
        assert!(
            o.status.success(),
            "openssl {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
    }

    pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }
}

/// Exit code of a finished process.
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// stderr as one string.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Verdict fields from `signet verify --format json` output.
pub fn json_verdict(o: &Output) -> (String, Option<String>) {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)));
    let s = &v["signatures"][0];
    (
        s["indication"].as_str().unwrap().to_string(),
        s["sub_indication"].as_str().map(|x| x.to_string()),
    )
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
