//! Whether revocation data is at hand for a certificate: what PAdES B-LT (and CAdES B-LT)
//! promise for every certificate of a signature's path but the trust anchor. Presence only —
//! freshness and what the data says are path validation's business ([`crate::path`]).

use signet_crypto::AlgorithmPolicy;

use crate::ocsp::Response;
use crate::{Certificate, Crl};

/// Whether `crls` or `ocsps` hold revocation data for `cert`. With its `issuer` known: an
/// OCSP answer for `cert` signed by the issuer or by a responder it authorised (the responder
/// certificate in the answer or among `certs`), or a CRL signed by the issuer's key in whose
/// scope `cert` lies. Without it (a chain that stops below its root): a CRL under `cert`'s
/// issuer name in whose scope it lies.
pub fn has_revocation_data(
    cert: &Certificate,
    issuer: Option<&Certificate>,
    crls: &[Crl],
    ocsps: &[Response],
    certs: &[Certificate],
) -> bool {
    let policy = AlgorithmPolicy::default();
    let crl_ok = |c: &Crl| {
        crate::name::names_match(c.issuer(), cert.issuer())
            && c.covers(cert).unwrap_or(false)
            && issuer.is_none_or(|i| {
                i.spki_der().is_ok_and(|k| {
                    c.signature_algorithm().is_ok_and(|alg| {
                        signet_crypto::verify::verify_signature(&k, alg, c.tbs_der(), c.signature_value(), &policy)
                            .is_ok()
                    })
                })
            })
    };
    let ocsp_ok =
        |o: &Response| issuer.is_some_and(|i| o.single_for(cert, i).is_some() && o.signer(i, certs, &policy).is_ok());
    crls.iter().any(crl_ok) || ocsps.iter().any(ocsp_ok)
}

/// The certificates among `certs` (self-issued roots aside) that [`has_revocation_data`] finds
/// nothing for, each checked against its issuer when that is among `certs` too — for a set of
/// certificates gathered from signatures rather than a validated path.
pub fn uncovered_among<'a>(certs: &'a [Certificate], crls: &[Crl], ocsps: &[Response]) -> Vec<&'a Certificate> {
    let policy = AlgorithmPolicy::default();
    certs
        .iter()
        .filter(|c| !crate::name::names_match(c.subject(), c.issuer()))
        .filter(|c| {
            let issuer = certs.iter().find(|i| c.is_issued_by(i, &policy));
            !has_revocation_data(c, issuer, crls, ocsps, certs)
        })
        .collect()
}

/// The certificates of `path` (leaf first, each issued by the next; the last is the trust
/// anchor and needs nothing) that [`has_revocation_data`] finds nothing for.
pub fn uncovered<'a>(
    path: &[&'a Certificate],
    crls: &[Crl],
    ocsps: &[Response],
    certs: &[Certificate],
) -> Vec<&'a Certificate> {
    path.windows(2)
        .filter(|w| !has_revocation_data(w[0], Some(w[1]), crls, ocsps, certs))
        .map(|w| w[0])
        .collect()
}
