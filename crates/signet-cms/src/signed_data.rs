//! Decoding a SignedData together with its revocation information.
//!
//! CAdES baseline B-LT (ETSI EN 319 122-1 §5.5.2) carries OCSP responses in SignedData's
//! `crls` field as `other` RevocationInfoChoices (RFC 5940, id-ri-ocsp-response). The `cms`
//! crate models OtherRevocationInfoFormat's format identifier as an AlgorithmIdentifier instead
//! of an OBJECT IDENTIFIER, so such a SignedData does not decode with it at all. The field is
//! covered by no signature, so it is read here from the bytes and taken out before the crate
//! sees the structure; everything else is decoded as before.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
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

/// The elements inside the constructed element that `data` is, with their ranges.
fn children(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (Some(outer), Some((h, _))) = (raw::element(data, 0), raw::header(data, 0)) else {
        return out;
    };
    let mut pos = h;
    while pos < outer.end {
        match raw::element(data, pos) {
            Some(r) if r.end <= outer.end => {
                pos = r.end;
                out.push(r);
            }
            _ => break,
        }
    }
    out
}

/// Decodes the SignedData in `ci`; see the module documentation.
pub fn decode(ci: &ContentInfo) -> Result<Decoded, String> {
    let sd_der = ci.content.to_der().map_err(|e| e.to_string())?;
    let parts = children(&sd_der);
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
    for r in children(field) {
        let choice = &field[r];
        match choice.first() {
            Some(0x30) => crls.extend(Crl::from_der(choice).ok()),
            // other [1] IMPLICIT SEQUENCE { otherRevInfoFormat OID, otherRevInfo ANY }
            Some(0xa1) => {
                let inner = children(choice);
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
