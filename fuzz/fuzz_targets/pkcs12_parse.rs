//! PKCS#12 and key-file parsing never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = signet_crypto::pkcs12::parse(data, b"fuzz");
    let _ = signet_crypto::keyfile::load_private_key(data, Some(b"fuzz"));
    let _ = signet_crypto::PrivateKey::from_pkcs8_der(data);
});
