//! RFC 5280 §6.1 certification path building and validation.
//!
//! Paths are built from the end-entity certificate upwards through a pool of intermediates to
//! a trust anchor (name chaining per §7.1, keyIdentifier matches tried first), then each
//! candidate path is validated top-down:
//! signatures (with an algorithm policy), validity at the validation time, CRL revocation,
//! name constraints, basicConstraints and pathLenConstraint, CA keyUsage, unknown critical
//! extensions, and the end-entity's key usage and extended key usage for its purpose.
//!
//! Certificate policies are processed as §6.1 specifies (see [`crate::policy`]).
//!
//! CRLs are processed as §6.3 says: a CRL's scope ([`Crl::scope_for`]: the issuer or an
//! indirect CRL issuer named as cRLIssuer, issuingDistributionPoint names including those
//! relative to the CRL issuer, user/CA-only, onlySomeReasons) decides whether it speaks for a
//! certificate; certificateIssuer entries of indirect CRLs are followed; a matching delta CRL
//! is applied on top of its complete CRL; "good" needs CRLs covering every reason.
//!
//! Not implemented: DSA.

use const_oid::AssociatedOid;
use const_oid::ObjectIdentifier;
use signet_crypto::AlgorithmPolicy;
use signet_crypto::verify::{VerifyError, verify_signature};
use x509_cert::ext::pkix::{
    BasicConstraints, CertificatePolicies, ExtendedKeyUsage, InhibitAnyPolicy, KeyUsage, PolicyConstraints,
    PolicyMappings, SubjectAltName,
};

use crate::policy::{PolicyParams, PolicyState};

use crate::context::{RevocationFetcher, SignatureCache, ValidationContext};
use crate::crl::Revocation;
use crate::name::names_match;
use crate::name_constraints;
use crate::oids::{
    ANY_EXTENDED_KEY_USAGE, KP_ADOBE_PDF_SIGNING, KP_DOCUMENT_SIGNING, KP_EMAIL_PROTECTION, KP_MS_DOCUMENT_SIGNING,
};
use crate::report::SubIndication;
use crate::time::{UnixTime, format};
use crate::{Certificate, Crl, ocsp};

mod revocation;
use x509_cert::ext::pkix::NameConstraints as NameConstraintsExt;

/// How revocation is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationMode {
    /// Not at all.
    Off,
    /// With the CRLs given; a certificate whose issuer has no usable CRL is noted, not failed.
    IfAvailable,
    /// A certificate whose issuer has CRLs among those given needs a usable one (a stale or
    /// unverifiable CRL is not ignored); certificates of issuers without CRLs are noted.
    RequireWhereSupplied,
    /// Every certificate on the path needs a usable CRL.
    Require,
}

/// What the end-entity certificate must be fit for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// No key usage requirement (generic RFC 5280 validation, e.g. PKITS).
    Any,
    /// Signing documents: keyUsage digitalSignature or nonRepudiation if present; extKeyUsage,
    /// if present, must allow document signing (documentSigning, emailProtection, Adobe, MS
    /// or anyExtendedKeyUsage).
    DocumentSigning,
    /// RFC 3161 time-stamping: extKeyUsage present, critical and only timeStamping.
    TimeStamping,
    /// Sealing the evidence of simple signatures: extKeyUsage present, critical and only
    /// Signet evidence seal.
    EvidenceSeal,
}

/// Parameters of one validation.
#[derive(Clone, Debug)]
pub struct PathOptions {
    /// The time the path must be valid at.
    pub time: UnixTime,
    /// Accepted algorithms and key sizes.
    pub algorithm_policy: AlgorithmPolicy,
    /// Revocation checking.
    pub revocation: RevocationMode,
    /// Required end-entity usage.
    pub purpose: Purpose,
    /// Most intermediate certificates on a path.
    pub max_intermediates: usize,
    /// Certificate policy inputs (anyPolicy, nothing required, by default).
    pub policy: PolicyParams,
    /// `time` is a proven past time (a time-stamp's): CRLs issued after it count as evidence
    /// of the status at that time (a revocation dated after `time` does not invalidate).
    pub past_time: bool,
}

impl PathOptions {
    /// Document-signing validation at `time`, strict algorithms, revocation required for every
    /// certificate whose issuer's CRLs were supplied.
    pub fn document_signing(time: UnixTime) -> Self {
        PathOptions {
            time,
            algorithm_policy: AlgorithmPolicy::STRICT,
            revocation: RevocationMode::RequireWhereSupplied,
            purpose: Purpose::DocumentSigning,
            max_intermediates: 8,
            policy: PolicyParams::default(),
            past_time: false,
        }
    }
}

/// Why a path is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathErrorKind {
    /// No chain to a trust anchor could be built.
    NoPath,
    /// A certificate's signature does not verify.
    Signature,
    /// An algorithm or key is below the policy.
    WeakAlgorithm,
    /// An algorithm or key type Signet cannot verify (e.g. DSA).
    UnsupportedAlgorithm,
    /// A certificate had expired at the validation time.
    Expired,
    /// A certificate was not yet valid at the validation time.
    NotYetValid,
    /// A certificate was revoked at the validation time.
    Revoked,
    /// Revocation status required but unknown (no CRL, stale CRL, bad CRL signature, …).
    RevocationUnknown,
    /// An intermediate is not a CA (basicConstraints).
    NotCa,
    /// pathLenConstraint exceeded.
    PathLength,
    /// An intermediate's keyUsage does not allow certificate signing.
    CaKeyUsage,
    /// A name violates name constraints.
    NameConstraints,
    /// A critical extension Signet does not process.
    UnknownCriticalExtension,
    /// The end-entity certificate is not fit for the purpose (keyUsage/extKeyUsage).
    EndEntityUsage,
    /// Certificate policy processing failed (no valid set of policies, mapping of anyPolicy,
    /// or a policy tree too large).
    PolicyProcessing,
    /// A certificate could not be decoded.
    Malformed,
}

/// A path validation failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// The kind.
    pub kind: PathErrorKind,
    /// Position of the offending certificate counted from the end entity (0).
    pub position: usize,
    /// What went wrong, in words.
    pub message: String,
    /// For [`PathErrorKind::Revoked`]: when and why.
    pub revocation: Option<Revocation>,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PathError {}

impl PathError {
    fn new(kind: PathErrorKind, position: usize, message: impl Into<String>) -> Self {
        PathError {
            kind,
            position,
            message: message.into(),
            revocation: None,
        }
    }

    /// The ETSI EN 319 102-1 sub-indication for this failure of the signer's chain (X.509
    /// certificate validation block; without proof of existence, time-related failures are
    /// INDETERMINATE).
    pub fn sub_indication(&self) -> SubIndication {
        use PathErrorKind::*;
        match self.kind {
            NoPath => SubIndication::NO_CERTIFICATE_CHAIN_FOUND,
            Signature | Malformed | UnsupportedAlgorithm => SubIndication::CERTIFICATE_CHAIN_GENERAL_FAILURE,
            WeakAlgorithm => SubIndication::CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
            Expired | NotYetValid => SubIndication::OUT_OF_BOUNDS_NO_POE,
            Revoked if self.position == 0 => SubIndication::REVOKED_NO_POE,
            Revoked => SubIndication::REVOKED_CA_NO_POE,
            RevocationUnknown => SubIndication::TRY_LATER,
            NotCa
            | PathLength
            | CaKeyUsage
            | NameConstraints
            | UnknownCriticalExtension
            | EndEntityUsage
            | PolicyProcessing => SubIndication::CHAIN_CONSTRAINTS_FAILURE,
        }
    }
}

/// The revocation status established for one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    /// A usable CRL from the issuer does not list the certificate, or a usable OCSP response
    /// says it is good.
    Good {
        /// thisUpdate of the CRL or OCSP response used.
        this_update: UnixTime,
        /// Which kind of revocation data proved it.
        source: RevocationSource,
    },
    /// Listed, but with a revocation time after the validation time.
    RevokedLater(Revocation),
    /// Not established (why).
    Unknown(String),
    /// Revocation checking was off.
    NotChecked,
}

/// The kind of revocation data a status comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationSource {
    /// A CRL.
    Crl,
    /// An OCSP response.
    Ocsp,
}

impl RevocationSource {
    /// "CRL" or "OCSP response".
    pub fn name(self) -> &'static str {
        match self {
            RevocationSource::Crl => "CRL",
            RevocationSource::Ocsp => "OCSP response",
        }
    }
}

/// A validated path.
#[derive(Clone, Debug)]
pub struct ValidatedPath {
    /// End entity first, trust anchor last.
    pub certificates: Vec<Certificate>,
    /// Revocation status of each non-anchor certificate, in the same order.
    pub revocation: Vec<RevocationStatus>,
}

/// Builds and validates paths for end-entity certificates.
#[derive(Clone, Copy)]
pub struct Validator<'a> {
    anchors: &'a [Certificate],
    pool: &'a [Certificate],
    crls: &'a [Crl],
    ocsps: &'a [ocsp::Response],
    fetcher: Option<&'a dyn RevocationFetcher>,
    signatures: Option<&'a SignatureCache>,
    opts: &'a PathOptions,
}

const MAX_CANDIDATE_PATHS: usize = 16;

impl<'a> Validator<'a> {
    /// A validator over trust anchors, a pool of other certificates and CRLs.
    pub fn new(anchors: &'a [Certificate], pool: &'a [Certificate], crls: &'a [Crl], opts: &'a PathOptions) -> Self {
        Validator {
            anchors,
            pool,
            crls,
            ocsps: &[],
            fetcher: None,
            signatures: None,
            opts,
        }
    }

    /// A validator over everything a [`ValidationContext`] knows, pulling missing revocation
    /// data from its fetcher.
    pub fn from_context(ctx: &'a ValidationContext, opts: &'a PathOptions) -> Self {
        Validator {
            anchors: &ctx.trust_anchors,
            pool: &ctx.certificates,
            crls: &ctx.crls,
            ocsps: &ctx.ocsps,
            fetcher: ctx.fetcher(),
            signatures: Some(&ctx.signatures),
            opts,
        }
    }

    /// Also uses these OCSP responses as revocation data (next to the CRLs).
    pub fn with_ocsp(mut self, ocsps: &'a [ocsp::Response]) -> Self {
        self.ocsps = ocsps;
        self
    }

    /// Pulls revocation data from `fetcher` for path certificates the known data says nothing
    /// usable about.
    pub fn with_fetcher(mut self, fetcher: Option<&'a dyn RevocationFetcher>) -> Self {
        self.fetcher = fetcher;
        self
    }

    /// A signature check, through the context's cache when there is one.
    fn verify_signature(
        &self,
        spki: &[u8],
        alg: signet_crypto::SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
        policy: &AlgorithmPolicy,
    ) -> Result<(), VerifyError> {
        match self.signatures {
            Some(c) => c.verify(spki, alg, message, signature, policy),
            None => verify_signature(spki, alg, message, signature, policy),
        }
    }

    /// Finds a valid path for `leaf`, or reports why none is valid (the error of the most
    /// promising candidate path).
    pub fn validate(&self, leaf: &Certificate) -> Result<ValidatedPath, PathError> {
        self.validate_at_depth(leaf, 0)
    }

    fn validate_at_depth(&self, leaf: &Certificate, depth: usize) -> Result<ValidatedPath, PathError> {
        let paths = self.candidate_paths(leaf);
        if paths.is_empty() {
            return Err(PathError::new(
                PathErrorKind::NoPath,
                0,
                format!(
                    "no chain from {} to a trusted certificate (issuer {} not found among the trust anchors or supplied certificates)",
                    leaf.display_name(),
                    crate::name::display(leaf.issuer())
                ),
            ));
        }
        let mut first_err = None;
        for p in paths {
            match self.check_path(&p, depth) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    if first_err.is_none() {
                        first_err = Some(e);
                    }
                }
            }
        }
        Err(first_err.unwrap_or_else(|| PathError::new(PathErrorKind::NoPath, 0, "no path")))
    }

    /// Candidate paths, end entity first, anchor last.
    fn candidate_paths(&self, leaf: &'a Certificate) -> Vec<Vec<&'a Certificate>>
    where
        'a: 'a,
    {
        let mut out = Vec::new();
        if self.anchors.iter().any(|a| a == leaf) {
            out.push(vec![leaf]);
            return out;
        }
        let mut stack = vec![leaf];
        self.extend(&mut stack, &mut out);
        out
    }

    fn issuers_of(&self, cert: &Certificate, from: &'a [Certificate]) -> Vec<&'a Certificate> {
        let aki = cert.authority_key_id().ok().flatten();
        let mut v: Vec<&Certificate> = from
            .iter()
            .filter(|c| names_match(c.subject(), cert.issuer()))
            .collect();
        // Candidates whose subjectKeyIdentifier matches the authorityKeyIdentifier first.
        v.sort_by_key(|c| {
            let ski = c.subject_key_id().ok().flatten();
            match (&aki, ski) {
                (Some(a), Some(s)) if *a == s => 0,
                (Some(_), Some(_)) => 2,
                _ => 1,
            }
        });
        v
    }

    fn extend(&self, stack: &mut Vec<&'a Certificate>, out: &mut Vec<Vec<&'a Certificate>>) {
        let Some(&cur) = stack.last() else { return };
        for a in self.issuers_of(cur, self.anchors) {
            if out.len() >= MAX_CANDIDATE_PATHS {
                return;
            }
            if stack.contains(&a) {
                continue;
            }
            let mut p = stack.clone();
            p.push(a);
            out.push(p);
        }
        if stack.len() > self.opts.max_intermediates {
            return;
        }
        for c in self.issuers_of(cur, self.pool) {
            if out.len() >= MAX_CANDIDATE_PATHS {
                return;
            }
            if stack.contains(&c) || self.anchors.contains(c) {
                continue;
            }
            stack.push(c);
            self.extend(stack, out);
            stack.pop();
        }
    }

    fn check_path(&self, path: &[&Certificate], depth: usize) -> Result<ValidatedPath, PathError> {
        use PathErrorKind::*;
        let n = path.len() - 1; // certificates below the anchor
        let t = self.opts.time;
        let anchor = path[n];
        let mut statuses = vec![RevocationStatus::NotChecked; n];
        if n == 0 {
            // The end-entity certificate is itself trusted (e.g. a self-signed signer certificate).
            check_validity(anchor, 0, t)?;
            self.check_purpose(anchor)?;
            return Ok(ValidatedPath {
                certificates: vec![anchor.clone()],
                revocation: vec![],
            });
        }
        let mut working_key = anchor
            .spki_der()
            .map_err(|e| PathError::new(Malformed, n, e.to_string()))?;
        let mut working_issuer: &Certificate = anchor;
        let mut max_path_length = n;
        let mut nc = name_constraints::State::default();
        let mut policies = PolicyState::new(n, &self.opts.policy);

        for pos in (0..n).rev() {
            let cert = path[pos];
            let is_leaf = pos == 0;
            let who = if is_leaf {
                "the end-entity certificate".to_string()
            } else {
                format!("intermediate certificate {} ({})", n - pos, cert.display_name())
            };

            // (a)(1) signature
            let alg = cert
                .signature_algorithm()
                .map_err(|e| PathError::new(UnsupportedAlgorithm, pos, format!("{who}: {e}")))?;
            self.verify_signature(
                &working_key,
                alg,
                cert.tbs_der(),
                cert.signature_value(),
                &self.opts.algorithm_policy,
            )
            .map_err(|e| {
                let kind = match e {
                    VerifyError::Weak(_) => WeakAlgorithm,
                    VerifyError::Unsupported(_) | VerifyError::MalformedKey(_) => UnsupportedAlgorithm,
                    _ => Signature,
                };
                PathError::new(kind, pos, format!("the signature of {who} could not be verified: {e}"))
            })?;
            // (a)(2) validity
            check_validity(cert, pos, t)?;
            // (a)(3) revocation
            if self.opts.revocation != RevocationMode::Off {
                let (status, supplied) = self.revocation_status(cert, working_issuer, pos, depth)?;
                statuses[pos] = status;
                let required = match self.opts.revocation {
                    RevocationMode::Require => true,
                    RevocationMode::RequireWhereSupplied => supplied,
                    _ => false,
                };
                if let RevocationStatus::Unknown(why) = &statuses[pos]
                    && required
                {
                    return Err(PathError::new(
                        RevocationUnknown,
                        pos,
                        format!("no usable revocation information for {who}: {why}"),
                    ));
                }
            }
            // (a)(4) name chaining is established by construction; re-check defensively.
            if !names_match(cert.issuer(), working_issuer.subject()) {
                return Err(PathError::new(
                    NoPath,
                    pos,
                    format!("{who}: issuer name does not match"),
                ));
            }
            // (b)(c) name constraints (not for self-issued intermediates)
            if is_leaf || !cert.is_self_issued() {
                nc.check(cert)
                    .map_err(|m| PathError::new(NameConstraints, pos, format!("{who}: {m}")))?;
            }
            // critical extensions
            for ext in cert.extensions() {
                if ext.critical && !handled_extension(&ext.extn_id) {
                    return Err(PathError::new(
                        UnknownCriticalExtension,
                        pos,
                        format!("{who} has the unsupported critical extension {}", ext.extn_id),
                    ));
                }
            }
            // §6.1.3 (d)–(f) certificate policies
            let i = n - pos;
            policies
                .process(cert, i)
                .map_err(|m| PathError::new(PolicyProcessing, pos, format!("{who}: {m}")))?;
            if is_leaf {
                policies
                    .wrap_up(cert, &self.opts.policy)
                    .map_err(|m| PathError::new(PolicyProcessing, pos, format!("{who}: {m}")))?;
            } else {
                policies
                    .prepare_next(cert, i)
                    .map_err(|m| PathError::new(PolicyProcessing, pos, format!("{who}: {m}")))?;
            }
            if !is_leaf {
                // §6.1.4 preparation for the next certificate
                let bc = cert
                    .basic_constraints()
                    .map_err(|e| PathError::new(Malformed, pos, e.to_string()))?;
                match bc {
                    Some((true, _)) if cert.version() == 3 => {}
                    _ => {
                        return Err(PathError::new(
                            NotCa,
                            pos,
                            format!("{who} is not a CA (basicConstraints cA is not set)"),
                        ));
                    }
                }
                if !cert.is_self_issued() {
                    if max_path_length == 0 {
                        return Err(PathError::new(
                            PathLength,
                            pos,
                            format!("the path exceeds the maximum path length at {who}"),
                        ));
                    }
                    max_path_length -= 1;
                }
                if let Some((_, Some(pl))) = bc {
                    max_path_length = max_path_length.min(pl as usize);
                }
                if let Some(ku) = cert
                    .key_usage()
                    .map_err(|e| PathError::new(Malformed, pos, e.to_string()))?
                    && !ku.key_cert_sign()
                {
                    return Err(PathError::new(
                        CaKeyUsage,
                        pos,
                        format!("{who} is not allowed to sign certificates (keyUsage)"),
                    ));
                }
                if let Some((_, ncx)) = cert
                    .extension::<NameConstraintsExt>()
                    .map_err(|e| PathError::new(Malformed, pos, e.to_string()))?
                {
                    nc.add(ncx.permitted_subtrees, ncx.excluded_subtrees);
                }
                working_key = cert
                    .spki_der()
                    .map_err(|e| PathError::new(Malformed, pos, e.to_string()))?;
                working_issuer = cert;
            }
        }
        self.check_purpose(path[0])?;
        Ok(ValidatedPath {
            certificates: path.iter().map(|c| (*c).clone()).collect(),
            revocation: statuses,
        })
    }

    fn check_purpose(&self, leaf: &Certificate) -> Result<(), PathError> {
        use PathErrorKind::*;
        let ku = leaf
            .key_usage()
            .map_err(|e| PathError::new(Malformed, 0, e.to_string()))?;
        let eku = leaf
            .extended_key_usage()
            .map_err(|e| PathError::new(Malformed, 0, e.to_string()))?;
        match self.opts.purpose {
            Purpose::Any => Ok(()),
            Purpose::DocumentSigning => {
                if let Some(ku) = ku
                    && !ku.digital_signature()
                    && !ku.non_repudiation()
                {
                    return Err(PathError::new(
                        EndEntityUsage,
                        0,
                        "the signer certificate's keyUsage allows neither digitalSignature nor nonRepudiation",
                    ));
                }
                if let Some(eku) = eku {
                    let ok = [
                        KP_DOCUMENT_SIGNING,
                        KP_EMAIL_PROTECTION,
                        KP_ADOBE_PDF_SIGNING,
                        KP_MS_DOCUMENT_SIGNING,
                        ANY_EXTENDED_KEY_USAGE,
                    ];
                    if !eku.iter().any(|p| ok.contains(p)) {
                        return Err(PathError::new(
                            EndEntityUsage,
                            0,
                            "the signer certificate's extKeyUsage does not allow document signing",
                        ));
                    }
                }
                Ok(())
            }
            Purpose::TimeStamping => match eku {
                Some(_) if leaf.is_time_stamping() => Ok(()),
                _ => Err(PathError::new(
                    EndEntityUsage,
                    0,
                    "a TSA certificate needs a critical extKeyUsage of timeStamping only (RFC 3161 §2.3)",
                )),
            },
            Purpose::EvidenceSeal => match eku {
                Some(_) if leaf.is_evidence_seal() => Ok(()),
                _ => Err(PathError::new(
                    EndEntityUsage,
                    0,
                    "not an evidence seal: the certificate needs a critical extKeyUsage of Signet evidence seal (1.3.6.1.4.1.58873.2.2) only",
                )),
            },
        }
    }
}

/// How a certificate on the path is named in messages.
fn who(cert: &Certificate, pos: usize) -> String {
    if pos == 0 {
        "the end-entity certificate".to_string()
    } else {
        format!("intermediate certificate {}", cert.display_name())
    }
}

fn check_validity(cert: &Certificate, pos: usize, t: UnixTime) -> Result<(), PathError> {
    let who = who(cert, pos);
    if t < cert.not_before() {
        return Err(PathError::new(
            PathErrorKind::NotYetValid,
            pos,
            format!("{who} is not valid until {}", format(cert.not_before())),
        ));
    }
    if t > cert.not_after() {
        return Err(PathError::new(
            PathErrorKind::Expired,
            pos,
            format!("{who} expired {}", format(cert.not_after())),
        ));
    }
    Ok(())
}

fn handled_extension(oid: &ObjectIdentifier) -> bool {
    [
        BasicConstraints::OID,
        KeyUsage::OID,
        ExtendedKeyUsage::OID,
        SubjectAltName::OID,
        NameConstraintsExt::OID,
        CertificatePolicies::OID,
        PolicyConstraints::OID,
        PolicyMappings::OID,
        InhibitAnyPolicy::OID,
    ]
    .contains(oid)
}
