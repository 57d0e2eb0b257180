//! BER normalisation never panics, and its output is stable DER.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(der) = signet_crypto::ber::to_der(data) {
        assert_eq!(signet_crypto::ber::to_der(&der).as_deref(), Ok(der.as_slice()));
    }
});
