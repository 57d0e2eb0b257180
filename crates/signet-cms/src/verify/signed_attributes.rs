//! The signed attributes of one SignerInfo (RFC 5652 §5.3, §11; RFC 5035; RFC 6211):
//! content-type and message-digest once and single-valued, signing-time, the ESS
//! signing-certificate(-v2) binding to the signer, CMSAlgorithmProtection.

use cms::signed_data::{SignedData, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use signet_crypto::HashAlgorithm;
use signet_pki::{Certificate, SignatureReport, SubIndication, name};
use x509_cert::ext::pkix::name::GeneralName;

use super::{ContentDigests, same_digest_alg};
use crate::attributes::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn check_attributes(
    si: &SignerInfo,
    sd: &SignedData,
    attrs: &cms::signed_data::SignedAttributes,
    content: &ContentDigests,
    digest_alg: HashAlgorithm,
    signer: &Certificate,
    r: &mut SignatureReport,
    has_ess: &mut bool,
) -> bool {
    let mut seen: Vec<ObjectIdentifier> = Vec::new();
    for a in attrs.iter() {
        if seen.contains(&a.oid) {
            r.fail(
                "signed-attributes",
                SubIndication::FORMAT_FAILURE,
                format!("attribute {} appears more than once", a.oid),
            );
            return false;
        }
        seen.push(a.oid);
    }
    let single = |oid: ObjectIdentifier| -> Result<Option<&der::Any>, String> {
        match attrs.iter().find(|a| a.oid == oid) {
            None => Ok(None),
            Some(a) if a.values.len() == 1 => Ok(a.values.iter().next()),
            Some(_) => Err(format!("attribute {oid} must have exactly one value")),
        }
    };
    // content-type
    match single(ID_CONTENT_TYPE) {
        Ok(Some(v)) => match v.decode_as::<ObjectIdentifier>() {
            Ok(ct) if ct == sd.encap_content_info.econtent_type => {
                r.pass("content-type", "content-type matches the encapsulated content type")
            }
            Ok(ct) => {
                r.fail(
                    "content-type",
                    SubIndication::FORMAT_FAILURE,
                    format!(
                        "content-type attribute {ct} differs from the encapsulated content type {}",
                        sd.encap_content_info.econtent_type
                    ),
                );
                return false;
            }
            Err(_) => {
                r.fail(
                    "content-type",
                    SubIndication::FORMAT_FAILURE,
                    "content-type attribute is not an OID",
                );
                return false;
            }
        },
        Ok(None) => {
            r.fail(
                "content-type",
                SubIndication::FORMAT_FAILURE,
                "the content-type signed attribute is missing (RFC 5652 §5.3)",
            );
            return false;
        }
        Err(m) => {
            r.fail("content-type", SubIndication::FORMAT_FAILURE, m);
            return false;
        }
    }
    // message-digest
    let expected = content.digest(digest_alg).unwrap_or_default();
    match single(ID_MESSAGE_DIGEST) {
        Ok(Some(v)) => match v.decode_as::<OctetString>() {
            Ok(d) if d.as_bytes() == expected => r.pass(
                "message-digest",
                format!("{} of the content matches the signed message-digest", digest_alg.name()),
            ),
            Ok(_) => {
                r.fail(
                    "message-digest",
                    SubIndication::HASH_FAILURE,
                    "the content was changed after signing: its digest does not match the signed message-digest",
                );
                return false;
            }
            Err(_) => {
                r.fail(
                    "message-digest",
                    SubIndication::FORMAT_FAILURE,
                    "message-digest is not an OCTET STRING",
                );
                return false;
            }
        },
        Ok(None) => {
            r.fail(
                "message-digest",
                SubIndication::FORMAT_FAILURE,
                "the message-digest signed attribute is missing",
            );
            return false;
        }
        Err(m) => {
            r.fail("message-digest", SubIndication::FORMAT_FAILURE, m);
            return false;
        }
    }
    // signing-time
    match single(ID_SIGNING_TIME) {
        Ok(Some(v)) => match v.decode_as::<x509_cert::time::Time>() {
            Ok(t) => r.claimed_signing_time = Some(signet_pki::time::format(signet_pki::time::from_x509(&t))),
            Err(_) => {
                r.fail(
                    "signing-time",
                    SubIndication::FORMAT_FAILURE,
                    "signing-time is not a Time",
                );
                return false;
            }
        },
        Ok(None) => {}
        Err(m) => {
            r.fail("signing-time", SubIndication::FORMAT_FAILURE, m);
            return false;
        }
    }
    // CMSAlgorithmProtection
    match single(ID_AA_CMS_ALGORITHM_PROTECTION) {
        Ok(Some(v)) => match v.decode_as::<CmsAlgorithmProtection>() {
            Ok(p) => {
                let sig_ok = p
                    .signature_algorithm
                    .as_ref()
                    .map(|s| *s == si.signature_algorithm)
                    .unwrap_or(false);
                if !same_digest_alg(&p.digest_algorithm, &si.digest_alg) || !sig_ok {
                    r.fail(
                        "algorithm-protection",
                        SubIndication::FORMAT_FAILURE,
                        "CMSAlgorithmProtection names other algorithms than the SignerInfo (RFC 6211)",
                    );
                    return false;
                }
                r.pass(
                    "algorithm-protection",
                    "CMSAlgorithmProtection matches the SignerInfo algorithms",
                );
            }
            Err(_) => {
                r.fail(
                    "algorithm-protection",
                    SubIndication::FORMAT_FAILURE,
                    "malformed CMSAlgorithmProtection",
                );
                return false;
            }
        },
        Ok(None) => {}
        Err(m) => {
            r.fail("algorithm-protection", SubIndication::FORMAT_FAILURE, m);
            return false;
        }
    }
    // ESS signing-certificate(-v2)
    let v2 = single(ID_AA_SIGNING_CERTIFICATE_V2);
    let v1 = single(ID_AA_SIGNING_CERTIFICATE);
    let (hash_alg, cert_hash, issuer_serial) = match (v2, v1) {
        (Err(m), _) | (_, Err(m)) => {
            r.fail("signing-certificate", SubIndication::FORMAT_FAILURE, m);
            return false;
        }
        (Ok(Some(v)), _) => match v.decode_as::<SigningCertificateV2>() {
            Ok(sc) if !sc.certs.is_empty() => {
                let id = &sc.certs[0];
                let h = match &id.hash_algorithm {
                    None => Some(HashAlgorithm::Sha256),
                    Some(a) => HashAlgorithm::from_oid(&a.oid),
                };
                let Some(h) = h else {
                    r.fail(
                        "signing-certificate",
                        SubIndication::FORMAT_FAILURE,
                        "unsupported hash in signing-certificate-v2",
                    );
                    return false;
                };
                (h, id.cert_hash.as_bytes().to_vec(), id.issuer_serial.clone())
            }
            _ => {
                r.fail(
                    "signing-certificate",
                    SubIndication::FORMAT_FAILURE,
                    "malformed signing-certificate-v2",
                );
                return false;
            }
        },
        (Ok(None), Ok(Some(v))) => match v.decode_as::<SigningCertificate>() {
            Ok(sc) if !sc.certs.is_empty() => (
                HashAlgorithm::Sha1,
                sc.certs[0].cert_hash.as_bytes().to_vec(),
                sc.certs[0].issuer_serial.clone(),
            ),
            _ => {
                r.fail(
                    "signing-certificate",
                    SubIndication::FORMAT_FAILURE,
                    "malformed signing-certificate",
                );
                return false;
            }
        },
        (Ok(None), Ok(None)) => {
            r.warn("signing-certificate", "no ESS signing-certificate attribute: the signer's certificate is not bound to the signature (not CAdES baseline)");
            return true;
        }
    };
    if signet_crypto::digest::hash(hash_alg, signer.der()) != cert_hash {
        r.fail(
            "signing-certificate",
            SubIndication::NO_SIGNING_CERTIFICATE_FOUND,
            "the signing-certificate attribute names a different certificate than the one identified as signer",
        );
        return false;
    }
    if let Some(is) = issuer_serial {
        let issuer_ok = is
            .issuer
            .iter()
            .any(|g| matches!(g, GeneralName::DirectoryName(n) if name::names_match(n, signer.issuer())));
        if !issuer_ok || is.serial_number.as_bytes() != signer.serial() {
            r.fail(
                "signing-certificate",
                SubIndication::NO_SIGNING_CERTIFICATE_FOUND,
                "the signing-certificate attribute's issuer/serial does not match the signer's certificate",
            );
            return false;
        }
    }
    *has_ess = true;
    r.pass(
        "signing-certificate",
        format!("the signed {} hash binds the signer's certificate", hash_alg.name()),
    );
    true
}
