//! CMS verification never panics and always yields a report.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = signet_pki::ValidationContext::new(Vec::new(), 1_800_000_000);
    let mut content: &[u8] = b"fuzz content";
    let report = signet_cms::verify(signet_cms::VerifyInput { cms: data, detached: Some(&mut content) }, &ctx);
    assert!(!report.signatures.is_empty());
    let _ = signet_cms::verify(signet_cms::VerifyInput { cms: data, detached: None }, &ctx);
});
