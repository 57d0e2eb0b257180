//! RFC 3161 messages never panic: a TSA's reply as the client checks it, a request as our TSA
//! answers it, and GeneralizedTime with fractions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let imprint = [0u8; 32];
    let _ = signet_cms::timestamp::token_from_response(
        data,
        signet_crypto::HashAlgorithm::Sha256,
        &imprint,
        &[1, 2, 3],
        1_800_000_000,
    );
    let _ = signet_cms::timestamp::tst_info(data);
    let _ = signet_pki::PreciseTime::parse(data);
    thread_local! {
        static TSA: signet_crypto::SoftwareSigner = signet_crypto::SoftwareSigner::new(
            signet_crypto::PrivateKey::generate(signet_crypto::KeyAlgorithm::EcdsaP256).expect("key"),
        );
    }
    let policy = signet_cms::timestamp::TsaPolicy::new("1.2.3.4").expect("policy");
    TSA.with(|tsa| {
        let _ = signet_cms::timestamp::respond(data, tsa, &policy, &[1], 1_800_000_000);
    });
});
