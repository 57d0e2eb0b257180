//! Revocation checking for the path validator (RFC 5280 §6.1.3 (a)(3), §6.3): the status of a
//! certificate from the CRLs and OCSP answers at hand, and from the fetcher when those say
//! nothing usable; CRL scopes, indirect and delta CRLs; who may sign a CRL.

use super::{PathError, PathErrorKind, Purpose, RevocationSource, RevocationStatus, Validator, who};
use crate::crl::{self, Revocation};
use crate::name::names_match;
use crate::time::{UnixTime, format};
use crate::{Certificate, Crl, ocsp};

/// How deep the search for a CRL signer's own path may nest.
const MAX_CRL_SIGNER_DEPTH: usize = 2;

impl Validator<'_> {
    /// Establishes the revocation status of `cert` from what is known, and when that says
    /// nothing usable, from what the fetcher can get (the certificate's signature has been
    /// verified up to the anchor by now). Also says whether any revocation data concerning the
    /// certificate was at hand (for [`super::RevocationMode::RequireWhereSupplied`]).
    pub(super) fn revocation_status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        pos: usize,
        depth: usize,
    ) -> Result<(RevocationStatus, bool), PathError> {
        let supplied = |crls: &[Crl], ocsps: &[ocsp::Response]| {
            crls.iter()
                .any(|c| names_match(c.issuer(), cert.issuer()) || c.scope_for(cert).is_ok_and(|r| r.is_some()))
                || ocsps.iter().any(|r| r.single_for(cert, issuer).is_some())
        };
        let known = self.known_revocation_status(cert, issuer, pos, depth)?;
        let Some(fetcher) = self.fetcher else {
            return Ok((known, supplied(self.crls, self.ocsps)));
        };
        if !matches!(known, RevocationStatus::Unknown(_)) {
            return Ok((known, supplied(self.crls, self.ocsps)));
        }
        let fetched = fetcher.fetch(cert, issuer);
        if fetched.crls.is_empty() && fetched.ocsps.is_empty() {
            return Ok((known, supplied(self.crls, self.ocsps)));
        }
        let crls: Vec<Crl> = self.crls.iter().cloned().chain(fetched.crls).collect();
        let ocsps: Vec<ocsp::Response> = self.ocsps.iter().cloned().chain(fetched.ocsps).collect();
        let v = Validator {
            crls: &crls,
            ocsps: &ocsps,
            fetcher: None,
            ..*self
        };
        let status = v.known_revocation_status(cert, issuer, pos, depth)?;
        Ok((status, supplied(&crls, &ocsps)))
    }

    /// The revocation status of `cert` from the CRLs of its issuer and the OCSP responses
    /// about it that are known: a revocation before the validation time in either fails;
    /// otherwise a usable "good" from either proves it good.
    fn known_revocation_status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        pos: usize,
        depth: usize,
    ) -> Result<RevocationStatus, PathError> {
        let by_crl = self.crl_status(cert, issuer, pos, depth)?;
        let Some(by_ocsp) = self.ocsp_status(cert, issuer, pos, depth)? else {
            return Ok(by_crl);
        };
        use RevocationStatus::{Good, RevokedLater, Unknown};
        Ok(match (by_crl, by_ocsp) {
            (RevokedLater(r), _) | (_, RevokedLater(r)) => RevokedLater(r),
            (g @ Good { .. }, _) | (_, g @ Good { .. }) => g,
            (Unknown(a), Unknown(b)) => Unknown(format!("{a}; {b}")),
            (other, _) => other,
        })
    }

    /// The status of `cert` from the OCSP responses about it (`None`: there are none). A
    /// response counts when it is signed by the issuer or by a responder the issuer authorised
    /// (with id-pkix-ocsp-nocheck, or itself proven good by a CRL), and speaks for the
    /// validation time: thisUpdate not after it (unless the time is a proven past time, when a
    /// later answer is evidence too), and nextUpdate not before it (an hour without nextUpdate).
    fn ocsp_status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        pos: usize,
        depth: usize,
    ) -> Result<Option<RevocationStatus>, PathError> {
        use RevocationStatus::{Good, RevokedLater, Unknown};
        let t = self.opts.time;
        let mut why: Option<String> = None;
        let (mut good, mut revoked, mut later, mut concerned) = (None, None, None, false);
        for r in self.ocsps {
            let Some(a) = r.single_for(cert, issuer) else { continue };
            concerned = true;
            match r.signer(issuer, self.pool, &self.opts.algorithm_policy) {
                Err(e) => {
                    why = Some(format!("OCSP: {e}"));
                    continue;
                }
                Ok(ocsp::ResponseSigner::Delegated(rc)) if !rc.has_ocsp_nocheck() => {
                    if !matches!(
                        self.crl_status(&rc, issuer, pos, depth),
                        Ok(Good { .. } | RevokedLater(_))
                    ) {
                        why = Some(format!(
                            "OCSP: the responder certificate {} has no id-pkix-ocsp-nocheck and no CRL proves it unrevoked",
                            rc.display_name()
                        ));
                        continue;
                    }
                }
                Ok(_) => {}
            }
            if a.this_update > t + ocsp::SKEW_SECS && !self.opts.past_time {
                why = Some(format!(
                    "the OCSP response was produced after the validation time ({})",
                    format(a.this_update)
                ));
                continue;
            }
            if a.this_update < t {
                match a.next_update {
                    Some(n) if n < t => {
                        why = Some(format!(
                            "the OCSP response is not recent: its nextUpdate {} is before the validation time",
                            format(n)
                        ));
                        continue;
                    }
                    None if t - a.this_update > ocsp::MAX_AGE_SECS => {
                        why = Some(
                            "the OCSP response has no nextUpdate and is over an hour older than the validation time"
                                .into(),
                        );
                        continue;
                    }
                    _ => {}
                }
            }
            match a.status {
                ocsp::CertStatus::Good => good = good.max(Some(a.this_update)),
                ocsp::CertStatus::Revoked { time, reason } => {
                    let rev = Revocation { time, reason };
                    if time <= t {
                        revoked = Some((rev, a.this_update));
                    } else {
                        later = Some(rev);
                    }
                }
                ocsp::CertStatus::Unknown => why = Some("the OCSP responder does not know the certificate".into()),
            }
        }
        // As with CRLs, any usable answer of "revoked before the validation time" fails,
        // except a certificateHold that a newer "good" lifted.
        if let Some((rev, answered)) = revoked
            && !(rev.reason == Some(6) && good.is_some_and(|g| g > answered))
        {
            let reason = rev.reason.map(crl::reason_name).unwrap_or("no reason given");
            let mut e = PathError::new(
                PathErrorKind::Revoked,
                pos,
                format!(
                    "the OCSP response says {} was revoked at {} ({reason})",
                    who(cert, pos),
                    format(rev.time)
                ),
            );
            e.revocation = Some(rev);
            return Err(e);
        }
        if let Some(rev) = later {
            return Ok(Some(RevokedLater(rev)));
        }
        if let Some(this_update) = good {
            return Ok(Some(Good {
                this_update,
                source: RevocationSource::Ocsp,
            }));
        }
        Ok(concerned.then(|| Unknown(why.unwrap_or_else(|| "no usable OCSP response".into()))))
    }

    /// The status of `cert` from the CRLs at hand, by RFC 5280 §6.3: every complete CRL whose
    /// scope covers the certificate (its issuer, or an indirect CRL issuer its distribution
    /// points name; matching issuingDistributionPoint) and that is fresh and verifies counts,
    /// with a matching delta CRL where one is at hand (§6.3.3 (c)); the reasons they cover must
    /// add up to all reasons for "good". A revocation before the validation time in any usable
    /// CRL fails, in any order, except a certificateHold that the newest CRL no longer lists
    /// and entries a delta removes (removeFromCRL).
    fn crl_status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        pos: usize,
        depth: usize,
    ) -> Result<RevocationStatus, PathError> {
        let t = self.opts.time;
        let mut why = format!("no CRL from {}", crate::name::display(cert.issuer()));
        let fresh = |c: &Crl| -> Result<(), String> {
            let u = c.unsupported_critical_extensions();
            if !u.is_empty() {
                return Err(format!("a CRL has critical extensions Signet does not process ({u:?})"));
            }
            if c.this_update() > t && !self.opts.past_time {
                return Err(format!(
                    "the CRL was issued after the validation time ({})",
                    format(c.this_update())
                ));
            }
            if let Some(nu) = c.next_update()
                && nu < t
            {
                return Err(format!(
                    "the CRL is not recent: its nextUpdate {} is before the validation time",
                    format(nu)
                ));
            }
            Ok(())
        };
        let deltas: Vec<&Crl> = self.crls.iter().filter(|c| c.delta_base().is_some()).collect();
        // (this_update, reasons covered, what the CRL and its delta say about the certificate)
        let mut usable: Vec<(UnixTime, u16, Option<Revocation>)> = Vec::new();
        for c in self.crls.iter().filter(|c| c.delta_base().is_none()) {
            let reasons = match c.scope_for(cert) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    if names_match(c.issuer(), cert.issuer()) {
                        why = "the CRL's issuingDistributionPoint scope does not cover this certificate".into();
                    }
                    continue;
                }
                Err(e) => {
                    why = e;
                    continue;
                }
            };
            if let Err(e) = fresh(c).and_then(|_| self.crl_usable(c, issuer, depth)) {
                why = e;
                continue;
            }
            // The newest matching, usable delta CRL speaks first (§6.3.3 (c), (i), (j)).
            let delta = deltas
                .iter()
                .filter(|d| c.matches_delta(d))
                .filter(|d| fresh(d).is_ok() && self.crl_usable(d, issuer, depth).is_ok())
                .max_by(|a, b| a.compare_number(b));
            let looked_up = match delta {
                Some(d) => d.lookup_issued_by(cert.serial(), cert.issuer()).and_then(|e| match e {
                    Some(e) => Ok(Some(e)),
                    None => c.lookup_issued_by(cert.serial(), cert.issuer()),
                }),
                None => c.lookup_issued_by(cert.serial(), cert.issuer()),
            };
            let entry = match looked_up {
                Ok(e) => e.filter(|r| r.reason != Some(8)),
                Err(e) => {
                    why = e;
                    continue;
                }
            };
            usable.push((delta.map_or(c.this_update(), |d| d.this_update()), reasons, entry));
        }
        let newest = usable.iter().map(|u| u.0).max();
        // A hold is lifted only by a newer CRL that also speaks for holds (a CRL partitioned by
        // reason that leaves certificateHold out says nothing about it).
        const HOLD: u16 = 1 << 6;
        let newest_hold = usable.iter().filter(|u| u.1 & HOLD != 0).map(|u| u.0).max();
        let mut later = None;
        let mut covered = 0u16;
        for (this_update, reasons, entry) in &usable {
            covered |= reasons;
            match entry {
                Some(r) if r.reason == Some(6) && Some(*this_update) != newest_hold => {}
                Some(r) if r.time <= t => {
                    let reason = r.reason.map(crl::reason_name).unwrap_or("no reason given");
                    let mut e = PathError::new(
                        PathErrorKind::Revoked,
                        pos,
                        format!(
                            "the CRL says {} was revoked at {} ({reason})",
                            who(cert, pos),
                            format(r.time)
                        ),
                    );
                    e.revocation = Some(r.clone());
                    return Err(e);
                }
                Some(r) => later = Some(r.clone()),
                None => {}
            }
        }
        if let Some(r) = later {
            return Ok(RevocationStatus::RevokedLater(r));
        }
        match newest {
            Some(this_update) if covered & crl::ALL_REASONS == crl::ALL_REASONS => Ok(RevocationStatus::Good {
                this_update,
                source: RevocationSource::Crl,
            }),
            Some(_) => Ok(RevocationStatus::Unknown(
                "the CRLs at hand cover only some revocation reasons".into(),
            )),
            None => Ok(RevocationStatus::Unknown(why)),
        }
    }

    /// Whether a CRL can be relied on for certificates of `issuer`: a supported structure and a
    /// signature by the issuer's key, or by another certificate of the same CA name that is
    /// allowed to sign CRLs and itself validates.
    fn crl_usable(&self, c: &Crl, issuer: &Certificate, depth: usize) -> Result<(), String> {
        let unsupported = c.unsupported_critical_extensions();
        if !unsupported.is_empty() {
            return Err(format!("the CRL has unsupported critical extensions {unsupported:?}"));
        }
        let alg = c
            .signature_algorithm()
            .map_err(|e| format!("CRL signature algorithm: {e}"))?;
        let verifies = |signer: &Certificate| -> bool {
            signer
                .spki_der()
                .ok()
                .map(|k| {
                    self.verify_signature(&k, alg, c.tbs_der(), c.signature_value(), &self.opts.algorithm_policy)
                        .is_ok()
                })
                .unwrap_or(false)
        };
        let may_sign_crls = |signer: &Certificate| -> bool {
            match signer.key_usage() {
                Ok(Some(ku)) => ku.crl_sign(),
                Ok(None) => true,
                Err(_) => false,
            }
        };
        if verifies(issuer) {
            return if may_sign_crls(issuer) {
                Ok(())
            } else {
                Err("the CRL issuer certificate is not allowed to sign CRLs (keyUsage)".into())
            };
        }
        if depth < MAX_CRL_SIGNER_DEPTH {
            for other in self.pool.iter().chain(self.anchors.iter()) {
                if other != issuer
                    && names_match(other.subject(), c.issuer())
                    && may_sign_crls(other)
                    && verifies(other)
                {
                    let mut opts = self.opts.clone();
                    opts.purpose = Purpose::Any;
                    let v = Validator { opts: &opts, ..*self };
                    if v.validate_at_depth(other, depth + 1).is_ok() {
                        return Ok(());
                    }
                }
            }
        }
        Err("the CRL signature could not be verified with the issuer's key".into())
    }
}
