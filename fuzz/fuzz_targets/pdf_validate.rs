//! The validation entry point never panics or hangs on any input: the file-kind rule, the PDF
//! revision splitter (`%%EOF` markers, per-revision sections), the byte-range coverage checks,
//! the CMS verifier behind them and the difference engine between revisions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = signet_pki::ValidationContext::new(Vec::new(), 1_800_000_000);
    let _ = signet_validate::validate(
        signet_validate::Input { content: signet_validate::Content::Bytes(data), signature: None },
        &ctx,
    );
    let _ = signet_pdf::validate::revisions::eof_markers(&data);
});
