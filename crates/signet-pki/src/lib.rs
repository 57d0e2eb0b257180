//! X.509 for Signet.
//!
//! - [`Certificate`] and [`Crl`]: parsed certificates and CRLs that keep their original bytes
//!   (signatures are always checked over what was received, never a re-encoding);
//! - [`issue`]: certificate profiles for the internal CA (root, issuing CA, signer, self-signed)
//!   signed through [`signet_crypto::Signer`], and CSR intake;
//! - [`crl`]: CRL building and revocation lookup;
//! - [`coverage`]: whether revocation data is at hand for every certificate of a path (B-LT);
//! - [`context`]: the [`ValidationContext`] every validation is judged against, with the
//!   [`RevocationFetcher`] that path validation pulls missing revocation data from;
//! - [`path`]: RFC 5280 §6.1 path building and validation with CRL revocation;
//! - [`report`]: the validation result model shared by CMS, PAdES and SES (ETSI EN 319 102-1
//!   indications and sub-indications plus the facts behind them), rendered as text and JSON.
//!
//! It does no network or database I/O: callers hand in bytes.
#![forbid(unsafe_code)]

pub mod cert;
pub mod context;
pub mod coverage;
pub mod crl;
mod error;
pub mod gentime;
pub mod issue;
pub mod name;
mod name_constraints;
pub mod ocsp;
pub mod path;
pub mod policy;
pub mod raw;
pub mod report;
pub mod time;

pub use gentime::PreciseTime;

pub use cert::Certificate;
pub use context::{Fetched, RevocationFetcher, ValidationContext};
pub use crl::Crl;
pub use error::PkiError;
pub use path::{PathError, PathErrorKind, PathOptions, RevocationMode, ValidatedPath};
pub use report::{
    Check, CheckStatus, EmbeddedInfo, EvidenceInfo, Indication, SignatureReport, SubIndication, ValidationReport,
};

/// Well-known object identifiers used across Signet.
pub mod oids {
    use const_oid::ObjectIdentifier;
    /// id-kp-documentSigning (RFC 9336).
    pub const KP_DOCUMENT_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.36");
    /// id-kp-emailProtection.
    pub const KP_EMAIL_PROTECTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
    /// id-kp-timeStamping.
    pub const KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
    /// Signet's audit-log seal (Signet's private arc, beside its TSA policy): the only use of
    /// a seal certificate, so that no signing certificate can pass for one.
    pub const KP_SIGNET_AUDIT_SEAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.58873.2.1");
    /// Signet's seal of simple-signature evidence: the only use of an evidence-seal
    /// certificate, so that no person's signing certificate can pass for the organisation's
    /// word that someone approved a document.
    pub const KP_SIGNET_EVIDENCE_SEAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.58873.2.2");
    /// id-kp-OCSPSigning.
    pub const KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
    /// id-pkix-ocsp-nocheck.
    pub const PKIX_OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
    /// Adobe Authentic Documents Trust (PDF signing).
    pub const KP_ADOBE_PDF_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.5");
    /// Microsoft document signing.
    pub const KP_MS_DOCUMENT_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.3.12");
    /// anyExtendedKeyUsage.
    pub const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
    /// The title attribute (X.520).
    pub const AT_TITLE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.12");
}
