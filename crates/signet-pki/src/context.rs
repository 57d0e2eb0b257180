//! What a validation is judged against, besides the signed bytes: trust anchors, further
//! certificates, known CRLs and OCSP answers, the validation time, the algorithm policy, and a
//! [`RevocationFetcher`] that path validation pulls from when it lacks revocation data for a
//! certificate on a path it is validating (pyHanko's `ValidationContext` is the model).
//!
//! Every caller — the CLI, the server, the benches — builds one and hands it to the one
//! validation entry point (`signet_validate::validate`); nobody gathers certificates or
//! revocation data by hand. A format validator adds what the signed file itself carries (the
//! CMS certificate bag, a PDF's DSS) with [`ValidationContext::extended`].

use std::sync::Arc;

use signet_crypto::AlgorithmPolicy;

use crate::time::UnixTime;
use crate::{Certificate, Crl, ocsp};

/// Revocation data fetched for one certificate.
#[derive(Clone, Debug, Default)]
pub struct Fetched {
    /// CRLs from its distribution points.
    pub crls: Vec<Crl>,
    /// OCSP responses about it.
    pub ocsps: Vec<ocsp::Response>,
}

/// Fetches revocation data on demand. Path validation calls it only for a certificate on a
/// candidate path whose signature has already been verified up to a trust anchor, and only
/// when the data it was given says nothing usable about that certificate — so the URLs an
/// untrusted signature carries are never contacted.
pub trait RevocationFetcher: Send + Sync {
    /// CRLs and OCSP answers for `cert`, issued by `issuer` (whatever can be had; failures are
    /// the implementation's to log).
    fn fetch(&self, cert: &Certificate, issuer: &Certificate) -> Fetched;
}

/// Signatures already verified in this context (of certificates and CRLs, which recur in every
/// file a batch validates): a success is a pure function of the key, algorithm, policy, message
/// and signature value, so it is remembered under the SHA-256 of them all. Failures are not
/// remembered. Bounded; when full, nothing more is added.
#[derive(Default)]
pub struct SignatureCache {
    ok: std::sync::Mutex<std::collections::HashSet<Vec<u8>>>,
}

/// Most signatures a [`SignatureCache`] remembers.
const SIGNATURE_CACHE_MAX: usize = 65_536;

impl SignatureCache {
    /// [`signet_crypto::verify::verify_signature`], remembered.
    pub fn verify(
        &self,
        spki: &[u8],
        alg: signet_crypto::SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
        policy: &AlgorithmPolicy,
    ) -> Result<(), signet_crypto::verify::VerifyError> {
        let mut h = signet_crypto::digest::Hasher::new(signet_crypto::HashAlgorithm::Sha256);
        for part in [
            spki,
            alg.name().as_bytes(),
            format!("{policy:?}").as_bytes(),
            &(message.len() as u64).to_be_bytes(),
            message,
            signature,
        ] {
            h.update(&(part.len() as u64).to_be_bytes());
            h.update(part);
        }
        let key = h.finish();
        if self.ok.lock().is_ok_and(|s| s.contains(&key)) {
            return Ok(());
        }
        signet_crypto::verify::verify_signature(spki, alg, message, signature, policy)?;
        if let Ok(mut s) = self.ok.lock()
            && s.len() < SIGNATURE_CACHE_MAX
        {
            s.insert(key);
        }
        Ok(())
    }
}

/// Everything validation needs besides the signed file.
#[derive(Clone)]
pub struct ValidationContext {
    /// Trust anchors.
    pub trust_anchors: Vec<Certificate>,
    /// Further certificates for building paths.
    pub certificates: Vec<Certificate>,
    /// Known CRLs.
    pub crls: Vec<Crl>,
    /// Known OCSP responses.
    pub ocsps: Vec<ocsp::Response>,
    /// The validation time.
    pub time: UnixTime,
    /// Accepted algorithms and key sizes.
    pub algorithm_policy: AlgorithmPolicy,
    /// Where missing revocation data is pulled from (none: only what is known).
    pub fetcher: Option<Arc<dyn RevocationFetcher>>,
    /// Certificate and CRL signatures verified so far (shared by the contexts
    /// [`ValidationContext::extended`] derives, so a batch verifies each CA signature once).
    pub signatures: Arc<SignatureCache>,
}

impl std::fmt::Debug for ValidationContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidationContext")
            .field("trust_anchors", &self.trust_anchors.len())
            .field("certificates", &self.certificates.len())
            .field("crls", &self.crls.len())
            .field("ocsps", &self.ocsps.len())
            .field("time", &self.time)
            .field("fetcher", &self.fetcher.is_some())
            .finish()
    }
}

impl ValidationContext {
    /// A context with these trust anchors, as of `time`, the strict algorithm policy, nothing
    /// else known and nothing fetched.
    pub fn new(trust_anchors: Vec<Certificate>, time: UnixTime) -> Self {
        ValidationContext {
            trust_anchors,
            certificates: Vec::new(),
            crls: Vec::new(),
            ocsps: Vec::new(),
            time,
            algorithm_policy: AlgorithmPolicy::STRICT,
            fetcher: None,
            signatures: Arc::default(),
        }
    }

    /// Adds certificates for path building.
    pub fn with_certificates(mut self, certs: impl IntoIterator<Item = Certificate>) -> Self {
        self.certificates.extend(certs);
        self
    }

    /// Adds known CRLs.
    pub fn with_crls(mut self, crls: impl IntoIterator<Item = Crl>) -> Self {
        self.crls.extend(crls);
        self
    }

    /// Adds known OCSP responses.
    pub fn with_ocsps(mut self, ocsps: impl IntoIterator<Item = ocsp::Response>) -> Self {
        self.ocsps.extend(ocsps);
        self
    }

    /// Pulls missing revocation data from `fetcher`.
    pub fn with_fetcher(mut self, fetcher: Arc<dyn RevocationFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// This context plus what a signed file carries (its certificates, CRLs and OCSP
    /// answers, all self-authenticating: they are used only where their signatures verify).
    pub fn extended(&self, certs: &[Certificate], crls: &[Crl], ocsps: &[ocsp::Response]) -> ValidationContext {
        let mut c = self.clone();
        for cert in certs {
            if !c.certificates.contains(cert) {
                c.certificates.push(cert.clone());
            }
        }
        c.crls.extend(crls.iter().cloned());
        c.ocsps.extend(ocsps.iter().cloned());
        c
    }

    /// The fetcher, as path validation takes it.
    pub fn fetcher(&self) -> Option<&dyn RevocationFetcher> {
        self.fetcher.as_deref()
    }
}
