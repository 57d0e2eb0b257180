//! Certificate, CRL, CSR and PEM parsing never panic; parsed certificates answer every accessor.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_pki::{Certificate, Crl};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Certificate::from_der(data) {
        let _ = c.basic_constraints();
        let _ = c.key_usage();
        let _ = c.extended_key_usage();
        let _ = c.subject_alt_names();
        let _ = c.crl_urls();
        let _ = c.authority_key_id();
        let _ = c.signature_algorithm();
        let _ = c.key_description();
        let _ = signet_pki::name::display(c.subject());
        let _ = c.is_self_issued();
        let opts = signet_pki::PathOptions::document_signing(1_800_000_000);
        let anchors = [c.clone()];
        let _ = signet_pki::path::Validator::new(&anchors, &[], &[], &opts).validate(&c);
    }
    if let Ok(crl) = Crl::from_der(data) {
        let _ = crl.lookup(&[1, 2, 3]);
        let _ = crl.unsupported_critical_extensions();
        let _ = crl.signature_algorithm();
    }
    let _ = signet_pki::issue::verify_csr(data);
    let _ = Certificate::parse_many(data);
    let _ = signet_crypto::pem::parse_blocks(data);
});
