//! Decoding a SignedData together with its revocation information.
//!
//! CAdES baseline B-LT (ETSI EN 319 122-1 §5.5.2) carries OCSP responses in SignedData's
//! `crls` field as `other` RevocationInfoChoices (RFC 5940, id-ri-ocsp-response). The `cms`
//! crate models OtherRevocationInfoFormat's format identifier as an AlgorithmIdentifier instead
//! of an OBJECT IDENTIFIER, so such a SignedData does not decode with it at all. The field is
//! covered by no signature, so it is read here from the bytes and taken out before the crate
//! sees the structure; everything else is decoded as before.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfo};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use signet_pki::ocsp::Response;
use signet_pki::{Crl, raw};

/// id-ri-ocsp-response (RFC 5940).
pub const ID_RI_OCSP_RESPONSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");

/// A SignedData and the CRLs and OCSP responses of its `crls` field.
pub struct Decoded {
    /// The SignedData (its `crls` field emptied when it was read here).
    pub signed_data: SignedData,
    /// CRLs (`crl` choices).
    pub crls: Vec<Crl>,
    /// OCSP responses (`other` choices with id-ri-ocsp-response).
    pub ocsps: Vec<Response>,
}

/// Decodes the SignedData in `ci`; see the module documentation.
pub fn decode(ci: &ContentInfo) -> Result<Decoded, String> {
    let sd_der = ci.content.to_der().map_err(|e| e.to_string())?;
    let parts = raw::children(&sd_der);
    let Some(crls_at) = parts.iter().position(|r| sd_der[r.start] == 0xa1) else {
        return SignedData::from_der(&sd_der)
            .map(|signed_data| Decoded {
                signed_data,
                crls: Vec::new(),
                ocsps: Vec::new(),
            })
            .map_err(|e| e.to_string());
    };
    let field = &sd_der[parts[crls_at].clone()];
    let (mut crls, mut ocsps) = (Vec::new(), Vec::new());
    for r in raw::children(field) {
        let choice = &field[r];
        match choice.first() {
            Some(0x30) => crls.extend(Crl::from_der(choice).ok()),
            // other [1] IMPLICIT SEQUENCE { otherRevInfoFormat OID, otherRevInfo ANY }
            Some(0xa1) => {
                let inner = raw::children(choice);
                if let [format, info, ..] = inner.as_slice()
                    && ObjectIdentifier::from_der(&choice[format.clone()]).ok() == Some(ID_RI_OCSP_RESPONSE)
                {
                    ocsps.extend(Response::from_der(&choice[info.clone()]).ok());
                }
            }
            _ => {}
        }
    }
    let rest: Vec<&[u8]> = parts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != crls_at)
        .map(|(_, r)| &sd_der[r.clone()])
        .collect();
    let signed_data = SignedData::from_der(&raw::sequence(&rest)).map_err(|e| e.to_string())?;
    Ok(Decoded {
        signed_data,
        crls,
        ocsps,
    })
}

/// The CRLs and OCSP responses in a signer's adbe-revocationInfoArchival signed attribute
/// (what Acrobat and pyHanko's non-PAdES mode embed):
/// `SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CRL OPTIONAL, ocsp [1] EXPLICIT SEQUENCE OF
/// OCSPResponse OPTIONAL, … }`. Unreadable items are skipped; everything is verified on use.
pub fn adobe_revocation_info(si: &SignerInfo, crls: &mut Vec<Crl>, ocsps: &mut Vec<Response>) {
    let values = si
        .signed_attrs
        .iter()
        .flat_map(|a| a.iter())
        .filter(|a| a.oid == crate::attributes::ADBE_REVOCATION_INFO_ARCHIVAL)
        .flat_map(|a| a.values.iter());
    for v in values {
        if let Ok(der) = v.to_der() {
            read_revocation_info_archival(&der, crls, ocsps);
        }
    }
}

/// Reads one RevocationInfoArchival value (DER).
fn read_revocation_info_archival(der: &[u8], crls: &mut Vec<Crl>, ocsps: &mut Vec<Response>) {
    for part in raw::children(der) {
        let part = &der[part];
        // [0] or [1] EXPLICIT around a SEQUENCE OF the items.
        let Some(list) = raw::children(part).into_iter().next().map(|r| &part[r]) else {
            continue;
        };
        let items = raw::children(list).into_iter().map(|r| &list[r]);
        match part.first() {
            Some(0xa0) => crls.extend(items.filter_map(|c| Crl::from_der(c).ok())),
            Some(0xa1) => ocsps.extend(items.filter_map(|o| Response::from_der(o).ok())),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_crypto::{KeyAlgorithm, PrivateKey, Signer, SoftwareSigner};
    use signet_pki::issue::{Profile, Template, issue};
    use signet_pki::ocsp::{self, CertStatus};

    #[test]
    fn adobe_revocation_archival_yields_its_crls_and_ocsp_responses() {
        let key = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
        let name = signet_pki::name::SubjectSpec {
            common_name: "Archival CA".into(),
            ..Default::default()
        }
        .to_name()
        .unwrap();
        let t = Template::new(
            name,
            key.public_key_der().unwrap(),
            Profile::RootCa { path_len: None },
            0,
            4_000_000_000,
        );
        let ca = issue(&t, None, &key).unwrap();
        let crl = signet_pki::crl::build(&ca, &key, &[], 1_000, 2_000, 1).unwrap();
        let req = ocsp::request(&ca, &ca, b"n").unwrap();
        let resp = ocsp::respond(&req, &ca, &key, &|_| CertStatus::Good, 1_000, 60).unwrap();
        // SEQUENCE { crl [0] { SEQUENCE OF CRL }, ocsp [1] { SEQUENCE OF OCSPResponse }, junk }
        let value = raw::sequence(&[
            &raw::tlv(0xa0, &raw::sequence(&[crl.der()])),
            &raw::tlv(0xa1, &raw::sequence(&[&resp, b"\x30\x00"])),
            &raw::tlv(0xa2, &raw::sequence(&[])),
        ]);
        let (mut crls, mut ocsps) = (Vec::new(), Vec::new());
        read_revocation_info_archival(&value, &mut crls, &mut ocsps);
        assert_eq!(crls.len(), 1);
        assert_eq!(ocsps.len(), 1);
        assert_eq!(ocsps[0].der(), resp.as_slice());
        // Truncated or foreign bytes: nothing, no panic.
        for bad in [&value[..value.len() / 2], b"\x04\x00".as_slice(), b"".as_slice()] {
            let (mut c, mut o) = (Vec::new(), Vec::new());
            read_revocation_info_archival(bad, &mut c, &mut o);
            assert!(c.len() <= 1 && o.is_empty());
        }
    }
}
