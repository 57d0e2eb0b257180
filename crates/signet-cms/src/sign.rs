//! Building CAdES baseline B-B SignedData.

use std::io::Read;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use signet_crypto::{HashAlgorithm, Signer};
use signet_pki::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

use crate::CmsError;
use crate::attributes::*;

/// How to build the signature.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// Add a signing-time attribute (CAdES allows it; PAdES forbids it).
    pub signing_time: Option<signet_pki::time::UnixTime>,
    /// Embed the whole certificate chain the signer has (otherwise only the signer's).
    pub include_chain: bool,
    /// Add CMSAlgorithmProtection (RFC 6211).
    pub algorithm_protection: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            signing_time: None,
            include_chain: true,
            algorithm_protection: true,
        }
    }
}

fn attr(oid: der::asn1::ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// Signs a detached content, hashing it as a stream from `reader`. Returns ContentInfo DER.
pub fn sign_detached_reader<R: Read>(reader: R, signer: &dyn Signer, opts: &SignOptions) -> Result<Vec<u8>, CmsError> {
    let hash = signer.signature_algorithm().hash();
    let (digest, _) = signet_crypto::digest::hash_reader(hash, reader)?;
    sign_digest(&digest, None, signer, opts)
}

/// Builds SignedData over a content whose digest (with the signer's digest algorithm) is
/// `digest`. With `attached = Some(content)` the content is encapsulated.
pub fn sign_digest(
    digest: &[u8],
    attached: Option<&[u8]>,
    signer: &dyn Signer,
    opts: &SignOptions,
) -> Result<Vec<u8>, CmsError> {
    sign_digest_stamped(digest, attached, signer, opts, None)
}

/// Obtains a signature time-stamp token for a signature value (e.g. from an RFC 3161 TSA).
pub type Stamper<'a> = &'a mut dyn FnMut(&[u8]) -> Result<Vec<u8>, String>;

/// Like [`sign_digest`]; with `stamper`, the signature value is time-stamped and the token
/// added as the unsigned signature-time-stamp attribute (CAdES-T / PAdES B-T).
pub fn sign_digest_stamped(
    digest: &[u8],
    attached: Option<&[u8]>,
    signer: &dyn Signer,
    opts: &SignOptions,
    stamper: Option<Stamper<'_>>,
) -> Result<Vec<u8>, CmsError> {
    build(digest, attached, ID_DATA, signer, opts, stamper, true)
}

/// The SignedData builder behind the public functions: `econtent_type` is id-data for
/// documents and id-ct-TSTInfo for time-stamp tokens; `with_certs` false leaves the
/// certificate set out (RFC 3161 certReq false).
pub(crate) fn build(
    digest: &[u8],
    attached: Option<&[u8]>,
    econtent_type: der::asn1::ObjectIdentifier,
    signer: &dyn Signer,
    opts: &SignOptions,
    stamper: Option<Stamper<'_>>,
    with_certs: bool,
) -> Result<Vec<u8>, CmsError> {
    let chain = signer.certificate_chain();
    let leaf_der = chain
        .first()
        .ok_or_else(|| CmsError::Invalid("the signer has no certificate".into()))?;
    let leaf = Certificate::from_der(leaf_der)?;
    if leaf.spki_der()? != signer.public_key_der()? {
        return Err(CmsError::Invalid(
            "the certificate does not belong to the signing key".into(),
        ));
    }
    let sig_alg = signer.signature_algorithm();
    let hash = sig_alg.hash();
    if digest.len() != hash.output_len() {
        return Err(CmsError::Invalid(format!(
            "digest must be {} bytes for {}",
            hash.output_len(),
            hash.name()
        )));
    }
    let digest_alg = hash.algorithm_identifier();
    let sig_alg_id = sig_alg.algorithm_identifier()?;

    let issuer_serial = IssuerSerial {
        issuer: vec![GeneralName::DirectoryName(leaf.issuer().clone())],
        serial_number: leaf.inner().tbs_certificate().serial_number().clone(),
    };
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None, // SHA-256, the default
            cert_hash: OctetString::new(signet_crypto::digest::hash(HashAlgorithm::Sha256, leaf.der()))?,
            issuer_serial: Some(issuer_serial),
        }],
        policies: None,
    };
    let mut attrs = vec![
        attr(ID_CONTENT_TYPE, Any::encode_from(&econtent_type)?)?,
        attr(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(digest)?)?)?,
        attr(ID_AA_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ];
    if let Some(t) = opts.signing_time {
        attrs.push(attr(
            ID_SIGNING_TIME,
            Any::encode_from(&signet_pki::time::to_x509(t)?)?,
        )?);
    }
    if opts.algorithm_protection {
        let p = CmsAlgorithmProtection {
            digest_algorithm: digest_alg.clone(),
            signature_algorithm: Some(sig_alg_id.clone()),
            mac_algorithm: None,
        };
        attrs.push(attr(ID_AA_CMS_ALGORITHM_PROTECTION, Any::encode_from(&p)?)?);
    }
    let signed_attrs: SetOfVec<Attribute> = SetOfVec::try_from(attrs)?;
    // RFC 5652 §5.4: the signature covers the DER of the SET OF (tag 0x31).
    let to_sign = signed_attrs.to_der()?;
    let signature = signer.sign(&to_sign)?;
    let unsigned_attrs = match stamper {
        Some(stamp) => {
            let token = stamp(&signature).map_err(CmsError::Invalid)?;
            Some(SetOfVec::try_from(vec![attr(
                ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
                Any::from_der(&token)?,
            )?])?)
        }
        None => None,
    };

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.issuer().clone(),
            serial_number: leaf.inner().tbs_certificate().serial_number().clone(),
        }),
        digest_alg: digest_alg.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: sig_alg_id,
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let certs: Vec<&Vec<u8>> = if opts.include_chain {
        chain.iter().collect()
    } else {
        vec![leaf_der]
    };
    let mut choices = Vec::new();
    for c in certs {
        choices.push(CertificateChoices::Certificate(x509_cert::Certificate::from_der(c)?));
    }
    let sd = SignedData {
        // RFC 5652 §5.1: version 3 when the content is anything but id-data (a TSTInfo, say);
        // PKCS #7 readers (asn1crypto, hence pyHanko) take a version 1 SignedData's content
        // as not wrapped in an OCTET STRING and cannot find the TSTInfo.
        version: if econtent_type == ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: SetOfVec::try_from(vec![digest_alg])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type,
            econtent: match attached {
                Some(c) => Some(Any::encode_from(&OctetString::new(c)?)?),
                None => None,
            },
        },
        certificates: if with_certs {
            Some(CertificateSet(SetOfVec::try_from(choices)?))
        } else {
            None
        },
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    let ci = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd)?,
    };
    Ok(ci.to_der()?)
}
