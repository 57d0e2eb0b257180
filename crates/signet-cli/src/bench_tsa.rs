//! `signet bench tsa`: time-stamp tokens per second from our TSA on one core (ECDSA P-256), next
//! to `openssl ts -reply` producing the same kind of token in the same run. OpenSSL's figure
//! has its process start removed as far as possible: the mean time of `openssl ts -reply` minus
//! the mean time of starting `openssl version`, over the same number of runs.

use std::process::Command;
use std::time::Instant;

use signet_crypto::{KeyAlgorithm, PrivateKey, Signer, SoftwareSigner};
use signet_pki::issue::{self, Profile, Template};
use signet_pki::name::SubjectSpec;

use crate::bench::rate;
use crate::exit::{CliError, CliResult, Exit};

fn tsa() -> CliResult<(SoftwareSigner, SoftwareSigner, signet_pki::Certificate)> {
    let now = signet_pki::time::now();
    let name = |cn: &str| {
        SubjectSpec {
            common_name: cn.into(),
            ..Default::default()
        }
        .to_name()
    };
    let root_key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256)?);
    let t = Template::new(
        name("Bench Root")?,
        root_key.public_key_der()?,
        Profile::RootCa { path_len: None },
        now - 60,
        now + 86_400,
    );
    let root = issue::issue(&t, None, &root_key)?;
    let key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256)?);
    let t = Template::new(
        name("Bench TSA")?,
        key.public_key_der()?,
        Profile::TimeStamping,
        now - 60,
        now + 86_400,
    );
    let cert = issue::issue(&t, Some(&root), &root_key)?;
    Ok((key.with_chain(vec![cert.der().to_vec()]), root_key, cert))
}

fn mean_secs(runs: usize, mut f: impl FnMut() -> bool) -> Option<f64> {
    let t = Instant::now();
    for _ in 0..runs {
        if !f() {
            return None;
        }
    }
    Some(t.elapsed().as_secs_f64() / runs as f64)
}

pub fn run(seconds: u64, runs: usize) -> CliResult<Exit> {
    let (signer, _, cert) = tsa()?;
    let imprint = signet_crypto::digest::hash(signet_crypto::HashAlgorithm::Sha256, b"bench");
    let req = signet_cms::timestamp::request(signet_crypto::HashAlgorithm::Sha256, &imprint, &[0x42; 8])?;
    let policy = signet_cms::timestamp::TsaPolicy::new(crate::cmd_tsa::DEFAULT_POLICY).map_err(CliError::internal)?;
    println!("signet bench tsa: ECDSA P-256 TSA, SHA-256 requests with nonce and certReq, one core\n");
    let ours = rate(seconds, || {
        let serial = crate::cmd_tsa::serial()?;
        signet_cms::timestamp::respond(&req, &signer, &policy, &serial, signet_pki::time::now())?;
        Ok(())
    })?;
    println!("  signet respond:        {ours:>9.0} tokens/s (target >= 2000)");
    // OpenSSL with the same key, certificate and request.
    let dir = std::env::temp_dir().join(format!("signet-bench-tsa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(CliError::internal)?;
    let key_pem = signet_crypto::pem::encode("PRIVATE KEY", &signer.key().to_pkcs8_der()?)?;
    std::fs::write(dir.join("tsa.key"), key_pem.as_bytes()).map_err(CliError::internal)?;
    std::fs::write(dir.join("tsa.crt"), cert.to_pem()?.as_bytes()).map_err(CliError::internal)?;
    std::fs::write(dir.join("req.tsq"), &req).map_err(CliError::internal)?;
    std::fs::write(dir.join("serial"), "01\n").map_err(CliError::internal)?;
    let cnf = format!(
        "[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = {d}/serial\ncrypto_device = builtin\nsigner_cert = {d}/tsa.crt\nsigner_key = {d}/tsa.key\nsigner_digest = sha256\ndefault_policy = {p}\ndigests = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\n",
        d = dir.display(),
        p = crate::cmd_tsa::DEFAULT_POLICY
    );
    std::fs::write(dir.join("tsa.cnf"), cnf).map_err(CliError::internal)?;
    let reply = || {
        Command::new("openssl")
            .args(["ts", "-reply", "-config"])
            .arg(dir.join("tsa.cnf"))
            .arg("-queryfile")
            .arg(dir.join("req.tsq"))
            .arg("-out")
            .arg(dir.join("resp.tsr"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let start = || {
        Command::new("openssl")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let measured = (mean_secs(runs, reply), mean_secs(runs, start));
    let _ = std::fs::remove_dir_all(&dir);
    match measured {
        (Some(r), Some(s)) => {
            let corrected = (r - s).max(1e-6);
            println!(
                "  openssl ts -reply:     {:>9.0} tokens/s per process ({runs} runs, {:.1} ms each)",
                1.0 / r,
                r * 1e3
            );
            println!(
                "  process start removed: {:>9.0} tokens/s (`openssl version` takes {:.1} ms)",
                1.0 / corrected,
                s * 1e3
            );
            println!("  ratio signet/openssl (start removed): {:.1}", ours * corrected);
        }
        _ => println!("  openssl ts: not available"),
    }
    Ok(Exit::Ok)
}
