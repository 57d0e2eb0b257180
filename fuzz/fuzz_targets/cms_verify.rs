//! CMS verification never panics and always yields a report.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut content: &[u8] = b"fuzz content";
    let report = signet_cms::verify(
        signet_cms::VerifyInput { cms: data, detached: Some(&mut content), trust_anchors: &[], extra_certs: &[], crls: &[], ocsps: &[] },
        &signet_cms::VerifyOptions::new(1_800_000_000),
    );
    assert!(!report.signatures.is_empty());
    let mut attached = signet_cms::VerifyInput { cms: data, detached: None, trust_anchors: &[], extra_certs: &[], crls: &[], ocsps: &[] };
    attached.detached = None;
    let _ = signet_cms::verify(attached, &signet_cms::VerifyOptions::new(1_800_000_000));
});
