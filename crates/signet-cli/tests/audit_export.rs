//! The audit log checked without Signet (issue "Server hardening", finding 8): `signet audit
//! export` writes the log, its seals and certificates; the recipe in docs/audit.md — python3
//! and openssl only — checks them against the seal certificate pinned with `signet audit
//! seal-cert`, and fails on a tampered export; `signet audit verify --seal-cert` agrees.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;

fn signet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(args)
        .env_remove("SIGNET_KEK")
        .output()
        .unwrap()
}

/// The shell script between the recipe markers of docs/audit.md.
fn recipe() -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit.md")).unwrap();
    let block = doc
        .split("<!-- recipe:begin -->")
        .nth(1)
        .and_then(|s| s.split("<!-- recipe:end -->").next())
        .unwrap();
    block
        .trim()
        .trim_start_matches("```sh")
        .trim_end_matches("```")
        .to_string()
}

fn run_recipe(dir: &Path) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(recipe())
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn an_export_checks_out_with_python_and_openssl_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // A server's history: first start, a few entries, sealed.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let p = signet_server::prepare(signet_server::Config {
            data_dir: data.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
        for i in 0..5 {
            p.state
                .audit
                .append(&signet_server::audit::Event {
                    actor: "system",
                    action: "test.entry",
                    target: "",
                    outcome: "ok",
                    details: serde_json::json!({"n": i, "text": "Наталья, Đorđe"}),
                })
                .await
                .unwrap();
        }
        signet_server::sealing::seal(&p.state, true).await.unwrap();
    });
    let d = data.to_str().unwrap();
    let pin = signet(&["audit", "seal-cert", "--data-dir", d]);
    assert!(pin.status.success(), "{}", String::from_utf8_lossy(&pin.stderr));
    let export = tmp.path().join("export");
    let o = signet(&["audit", "export", "--data-dir", d, "--out", export.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(export.join("pinned-seal.pem"), &pin.stdout).unwrap();
    let r = run_recipe(&export);
    let out = String::from_utf8_lossy(&r.stdout).into_owned() + &String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{out}");
    assert!(
        out.contains("chain intact") && out.contains("every seal verifies"),
        "{out}"
    );
    // Signet's own check against the same pin agrees.
    let pinned = tmp.path().join("pinned.pem");
    std::fs::write(&pinned, &pin.stdout).unwrap();
    let v = signet(&[
        "audit",
        "verify",
        "--data-dir",
        d,
        "--seal-cert",
        pinned.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&v.stdout);
    assert!(v.status.success() && said.contains("seal keys: pinned"), "{said}");

    // One changed character in an entry: the recipe fails.
    let entries = std::fs::read_to_string(export.join("entries.jsonl")).unwrap();
    std::fs::write(
        export.join("entries.jsonl"),
        entries.replacen("test.entry", "test.entrx", 1),
    )
    .unwrap();
    let r = run_recipe(&export);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("was modified"));
    std::fs::write(export.join("entries.jsonl"), entries).unwrap();
    // A seal whose signature is not the pinned key's: the recipe fails.
    let seals = std::fs::read_to_string(export.join("seals.txt")).unwrap();
    let mut fields: Vec<String> = seals.lines().last().unwrap().split(' ').map(String::from).collect();
    fields[2] =
        "MEUCIQDrFa9xB0v2JbGkKqvZq3TQnAnlZCqb0G0OjK3vMZ8DMAIgV0mIKPrk9zW0QBn7Zi9F2m4d3X7dN8OZ1GQe7cK9ZcE=".into();
    std::fs::write(export.join("seals.txt"), fields.join(" ") + "\n").unwrap();
    assert!(!run_recipe(&export).status.success());
}
