//! The PDF validator never panics or hangs on any input: the revision splitter (`%%EOF`
//! markers, per-revision sections), the byte-range coverage checks, the CMS verifier behind
//! them and the difference engine between revisions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = signet_cms::VerifyOptions::new(1_800_000_000);
    let inputs = signet_pdf::validate::Inputs {
        trust_anchors: &[],
        extra_certs: &[],
        crls: &[],
        ocsps: &[],
    };
    let _ = signet_pdf::validate::validate(&data, &inputs, &opts);
    let _ = signet_pdf::validate::revisions::eof_markers(&data);
});
