//! Parsers behind the server's public endpoints, the OCSP client and the authenticator
//! enrolment never panic: OCSP requests (answered by the responder with a fixed CA), OCSP
//! responses (checked by the client), base32 secrets, and TOTP codes.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use signet_crypto::{KeyAlgorithm, PrivateKey, Signer, SoftwareSigner};
use signet_pki::Certificate;
use signet_pki::issue::{Profile, Template};

fn ca() -> &'static (Certificate, SoftwareSigner) {
    static CA: OnceLock<(Certificate, SoftwareSigner)> = OnceLock::new();
    CA.get_or_init(|| {
        let signer = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
        let name = signet_pki::name::SubjectSpec {
            common_name: "Fuzz CA".into(),
            ..Default::default()
        }
        .to_name()
        .unwrap();
        let t = Template::new(name, signer.public_key_der().unwrap(), Profile::RootCa { path_len: None }, 0, 4_000_000_000);
        let cert = signet_pki::issue::issue(&t, None, &signer).unwrap();
        (cert, signer)
    })
}

fuzz_target!(|data: &[u8]| {
    let (cert, signer) = ca();
    let lookup = |s: &[u8]| {
        if s.first().is_some_and(|b| b % 2 == 0) {
            signet_pki::ocsp::CertStatus::Good
        } else {
            signet_pki::ocsp::CertStatus::Revoked { time: 1_700_000_000, reason: Some(1) }
        }
    };
    let _ = signet_pki::ocsp::respond(data, cert, signer, &lookup, 1_800_000_000, 3600);
    // The client side: any bytes as a response about the CA's own certificate.
    let _ = signet_pki::ocsp::verify_response(data, cert, cert, Some(b"nonce"), 1_800_000_000);
    // Embedded responses (DSS, CMS): decoded, then asked about a certificate and its signer.
    if let Ok(r) = signet_pki::ocsp::Response::from_der(data) {
        let _ = r.single_for(cert, cert);
        let _ = r.signer(cert, &[], &Default::default());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = signet_crypto::otp::base32_decode(text);
        let _ = signet_crypto::otp::code_matches(text, 123_456, 6);
    }
});
