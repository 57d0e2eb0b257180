//! `signet quickstart`: Signet's main job on embedded defaults, with no configuration: an
//! organisation CA (root + issuing), an organisation signing key and certificate, then a
//! sample document signed and verified. The generated passphrase is printed once.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use signet_crypto::{KeyAlgorithm, PrivateKey, SoftwareSigner, keyfile};
use signet_pki::issue::Profile;
use signet_pki::name::SubjectSpec;

use crate::castore::CaStore;
use crate::cmd_ca::{self, InitArgs};
use crate::exit::{CliError, CliResult, Exit};
use crate::{inputs, passphrase};

#[derive(ClapArgs)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "signet-data")]
    pub dir: PathBuf,
    /// Organisation name.
    #[arg(long, default_value = "Example Organisation")]
    pub org: String,
}

pub fn run(a: Args) -> CliResult<Exit> {
    let ca_dir = a.dir.join("ca");
    if CaStore::state_path(&ca_dir).exists() {
        println!("{} is already initialised.", a.dir.display());
        print_next_steps(&a.dir);
        return Ok(Exit::Ok);
    }
    std::fs::create_dir_all(&a.dir).map_err(|e| CliError::input(format!("cannot create {}: {e}", a.dir.display())))?;
    let pass = passphrase::generate()?;
    let init = InitArgs {
        dir: ca_dir.clone(),
        name: format!("{} Root CA", a.org),
        org: Some(a.org.clone()),
        country: None,
        alg: "ecdsa-p384".into(),
        issuing: Some(format!("{} Issuing CA", a.org)),
        crl_url: None,
        days: 7300,
        passphrase_file: None,
        force: false,
    };
    let mut store = cmd_ca::init(&init, pass.as_bytes())?;
    let ca_signer = {
        let key = keyfile::load_private_key(
            &inputs::read(&ca_dir.join("issuing.key"), "key")?,
            Some(pass.as_bytes()),
        )?;
        SoftwareSigner::new(key)
    };
    let org_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).map_err(CliError::internal)?;
    let subject = SubjectSpec {
        common_name: format!("{} Seal", a.org),
        organization: Some(a.org.clone()),
        ..Default::default()
    }
    .to_name()?;
    let cert = cmd_ca::issue_from_store(
        &mut store,
        &ca_signer,
        subject,
        None,
        org_key.public_key_der()?,
        Profile::Signer,
        730,
    )?;
    let key_path = a.dir.join("organisation.key");
    let cert_path = a.dir.join("organisation.crt");
    inputs::write_atomic(
        &key_path,
        keyfile::to_encrypted_pem(&org_key, pass.as_bytes())?.as_bytes(),
        true,
    )?;
    let mut chain_pem = cert.to_pem()?;
    chain_pem.push_str(&store.signing_cert()?.to_pem()?);
    inputs::write_atomic(&cert_path, chain_pem.as_bytes(), false)?;
    println!(
        "organisation signing certificate: {} ({})",
        cert.display_name(),
        cert.key_description()
    );

    // Sign and verify a sample document.
    let sample = a.dir.join("sample-leave-application.txt");
    inputs::write_atomic(
        &sample,
        b"Leave application\nEmployee: Natalia Ivanova\nFrom 2026-12-21 to 2027-01-08\n",
        false,
    )?;
    let mut chain = vec![cert.der().to_vec()];
    chain.extend(store.chain()?.iter().map(|c| c.der().to_vec()));
    let signer = SoftwareSigner::new(org_key).with_chain(chain);
    let sig_path = a.dir.join("sample-leave-application.txt.p7s");
    let f = std::fs::File::open(&sample).map_err(CliError::internal)?;
    let der = signet_cms::sign_detached_reader(f, &signer, &signet_cms::SignOptions::default())?;
    inputs::write_atomic(&sig_path, &der, false)?;
    let anchors = vec![store.root_cert()?];
    let mut content = std::fs::File::open(&sample).map_err(CliError::internal)?;
    let report = signet_cms::verify(
        signet_cms::VerifyInput {
            cms: &der,
            detached: Some(&mut content),
            trust_anchors: &anchors,
            extra_certs: &[],
            crls: &[],
        },
        &signet_cms::VerifyOptions::new(signet_pki::time::now()),
    );
    println!();
    print!("{}", report.render_text());
    println!("Keys are encrypted with this passphrase, shown once. Keep it in a password manager:\n");
    println!("    {}\n", pass.as_str());
    print_next_steps(&a.dir);
    Ok(if report.indication == signet_pki::Indication::TotalPassed {
        Exit::Ok
    } else {
        Exit::Internal
    })
}

fn print_next_steps(dir: &std::path::Path) {
    let d = dir.display();
    println!("Next steps (set SIGNET_PASSPHRASE and SIGNET_CA_PASSPHRASE to that passphrase, or you will be asked):");
    println!("  signet sign --detached FILE --key {d}/organisation.key --cert {d}/organisation.crt");
    println!("  signet verify FILE --signature FILE.p7s --trust {d}/ca/root.crt");
    println!("  signet key generate --alg ecdsa-p256 -o alice.key");
    println!(
        "  signet cert issue --ca {d}/ca --key alice.key --cn 'Alice Example' --email alice@example.com -o alice.crt"
    );
}
