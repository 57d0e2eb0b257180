//! `signet quickstart`: Signet's main job on embedded defaults, with no configuration: an
//! organisation CA (root + issuing), an organisation signing key and certificate, then a
//! sample document signed (CAdES) and verified, and a sample PDF signed with a visible stamp
//! (PAdES). The generated passphrase is printed once.

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
        ocsp_url: None,
        root_crl_url: None,
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
    let ctx = signet_pki::ValidationContext::new(anchors, signet_pki::time::now());
    let report = signet_validate::validate(
        signet_validate::Input {
            content: signet_validate::Content::File(&sample),
            signature: Some(&der),
        },
        &ctx,
    )
    .map_err(CliError::internal)?;
    // And a PDF with a visible stamp (PAdES B-B).
    let pdf = sample_pdf();
    let mut opts = signet_pdf::PadesOptions::new(signet_pki::time::now());
    opts.reason = Some("Approved".into());
    opts.stamp = Some(signet_pdf::appearance::Stamp {
        rect: [330.0, 40.0, 230.0, 64.0],
        lines: vec![
            format!("Digitally signed by {}", cert.display_name()),
            signet_pki::time::format(opts.signing_time)
                .replace('T', " ")
                .replace('Z', " UTC"),
            "Reason: Approved".into(),
        ],
        image: None,
    });
    let signed = signet_pdf::sign_pdf(&pdf, &signer, &opts).map_err(CliError::internal)?;
    let pdf_path = a.dir.join("sample-purchase-request-signed.pdf");
    inputs::write_atomic(&a.dir.join("sample-purchase-request.pdf"), &pdf, false)?;
    inputs::write_atomic(&pdf_path, &signed, false)?;
    // The signed PDF goes through the PDF validator (bytes, CMS, chain, revisions) too.
    let pdf_report = signet_validate::validate(
        signet_validate::Input {
            content: signet_validate::Content::Bytes(&signed),
            signature: None,
        },
        &ctx,
    )
    .map_err(CliError::internal)?;
    println!();
    print!("{}", report.render_text());
    println!(
        "Signed PDF (PAdES B-B, visible stamp): {} — verified: {}\n",
        pdf_path.display(),
        pdf_report.indication.as_str()
    );
    println!("Keys are encrypted with this passphrase, shown once. Keep it in a password manager:\n");
    println!("    {}\n", pass.as_str());
    print_next_steps(&a.dir);
    let passed = signet_pki::Indication::TotalPassed;
    Ok(if report.indication == passed && pdf_report.indication == passed {
        Exit::Ok
    } else {
        Exit::Internal
    })
}

/// A one-page purchase request.
fn sample_pdf() -> Vec<u8> {
    use signet_pdf::build::{classic_pdf, stream};
    let text = b"BT /F1 20 Tf 60 760 Td (Purchase request 2026-117) Tj /F1 12 Tf 0 -40 Td (Item: 3 laptops, 4,350.00 EUR) Tj 0 -20 Td (Requested by: Natalia Ivanova) Tj ET";
    classic_pdf(
        "1.7",
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_vec(),
            stream("", text),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        ],
        b"",
    )
}

fn print_next_steps(dir: &std::path::Path) {
    let d = dir.display();
    println!("Next steps (set SIGNET_PASSPHRASE and SIGNET_CA_PASSPHRASE to that passphrase, or you will be asked):");
    println!("  signet sign FILE.pdf --visible --key {d}/organisation.key --cert {d}/organisation.crt");
    println!("  signet sign --detached FILE --key {d}/organisation.key --cert {d}/organisation.crt");
    println!("  signet verify FILE-signed.pdf --trust {d}/ca/root.crt [--format html > report.html]");
    println!("  signet verify FILE --signature FILE.p7s --trust {d}/ca/root.crt");
    println!("  signet key generate --alg ecdsa-p256 -o alice.key");
    println!(
        "  signet cert issue --ca {d}/ca --key alice.key --cn 'Alice Example' --email alice@example.com -o alice.crt"
    );
}
