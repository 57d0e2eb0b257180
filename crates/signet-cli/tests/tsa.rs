//! `signet tsa reply` against OpenSSL: requests from `openssl ts -query`, our responses checked
//! by `openssl ts -verify` (issue 5: "our TSA's tokens pass openssl ts -verify").
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::pdf::*;
use common::*;

fn serial_of(text: &str) -> String {
    text.lines()
        .find(|l| l.trim_start().starts_with("Serial number:"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn openssl_verifies_our_time_stamps() {
    let env = Env::new();
    setup(&env);
    tsa_cert(&env);
    env.write("memo.txt", b"purchase request 42\n");
    ok_cmd(
        &env,
        "openssl",
        &[
            "ts", "-query", "-data", "memo.txt", "-sha256", "-cert", "-out", "req.tsq",
        ],
    );
    let mut serials = Vec::new();
    for out in ["a.tsr", "b.tsr"] {
        env.ok(&[
            "tsa", "reply", "--key", "tsa.key", "--cert", "tsa.crt", "-i", "req.tsq", "-o", out,
        ]);
        let v = ok_cmd(
            &env,
            "openssl",
            &[
                "ts",
                "-verify",
                "-in",
                out,
                "-queryfile",
                "req.tsq",
                "-CAfile",
                "ca/root.crt",
                "-untrusted",
                "tsa.crt",
            ],
        );
        assert!(v.contains("Verification: OK"), "{v}");
        let text = ok_cmd(&env, "openssl", &["ts", "-reply", "-in", out, "-text"]);
        assert!(text.contains("Status: Granted"), "{text}");
        assert!(text.contains("Policy OID: 1.3.6.1.4.1.58873.1.1"), "{text}");
        assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");
        serials.push(serial_of(&text));
    }
    assert_ne!(serials[0], serials[1], "serial numbers never repeat");
    // The data itself verifies too, and other data does not.
    let v = ok_cmd(
        &env,
        "openssl",
        &[
            "ts",
            "-verify",
            "-in",
            "a.tsr",
            "-data",
            "memo.txt",
            "-CAfile",
            "ca/root.crt",
            "-untrusted",
            "tsa.crt",
        ],
    );
    assert!(v.contains("Verification: OK"), "{v}");
    env.write("other.txt", b"purchase request 43\n");
    let o = std::process::Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-in",
            "a.tsr",
            "-data",
            "other.txt",
            "-CAfile",
            "ca/root.crt",
            "-untrusted",
            "tsa.crt",
        ])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    // A request that is not DER gets a rejection, which OpenSSL reads as such.
    env.write("junk.tsq", b"not a request");
    env.ok(&[
        "tsa", "reply", "--key", "tsa.key", "--cert", "tsa.crt", "-i", "junk.tsq", "-o", "junk.tsr",
    ]);
    let text = ok_cmd(&env, "openssl", &["ts", "-reply", "-in", "junk.tsr", "-text"]);
    assert!(text.contains("Status: Rejected"), "{text}");
    // A certificate without the timeStamping EKU cannot act as a TSA.
    let o = env.signet(&[
        "tsa",
        "reply",
        "--key",
        "alice.key",
        "--cert",
        "alice.crt",
        "-i",
        "req.tsq",
        "-o",
        "x.tsr",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("timeStamping"), "{}", stderr(&o));
}
