//! What a document type says, without I/O: its form ([`form`]: typed fields — text, dates,
//! amounts with a currency, people, numbers, choices — and the checking and normalising of the
//! values people enter) and its approval route ([`route`]: stages of parallel steps, who acts
//! and with which signature, conditions on the form's values, deadlines).
//!
//! Both are read from JSON that administrators and API clients send, so both are fuzzed
//! (`fuzz/fuzz_targets/forms.rs`). The server (`signet-server`'s `doc_types` and `workflows`)
//! stores them, resolves people and groups, and runs the workflows.
#![forbid(unsafe_code)]

pub mod form;
pub mod route;
