//! Distinguished names: building them for certificates, comparing them as RFC 5280 §7.1 asks,
//! and showing them to people.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519;
use der::asn1::{Ia5String, PrintableString, Utf8StringRef};
use der::{Any, Decode, Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use crate::PkiError;
use crate::oids::AT_TITLE;

/// PKCS#9 emailAddress (legacy, still read by many tools).
pub const AT_EMAIL_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// The parts of a subject Signet puts in certificates.
#[derive(Clone, Debug, Default)]
pub struct SubjectSpec {
    /// Common name (person's or CA's name). Required.
    pub common_name: String,
    /// Organisation.
    pub organization: Option<String>,
    /// Organisational unit.
    pub organizational_unit: Option<String>,
    /// Title (job title).
    pub title: Option<String>,
    /// Two-letter country code.
    pub country: Option<String>,
    /// Email address (also put in subjectAltName by the signer profile).
    pub email: Option<String>,
}

fn utf8(oid: ObjectIdentifier, v: &str) -> Result<AttributeTypeAndValue, PkiError> {
    if v.is_empty() || v.chars().count() > 256 {
        return Err(PkiError::Invalid(format!(
            "name attribute {oid} must have 1 to 256 characters"
        )));
    }
    Ok(AttributeTypeAndValue {
        oid,
        value: Any::from(Utf8StringRef::new(v)?),
    })
}

impl SubjectSpec {
    /// Encodes the subject (C, O, OU, title, CN, emailAddress order, most significant first).
    pub fn to_name(&self) -> Result<Name, PkiError> {
        let mut atvs = Vec::new();
        if let Some(c) = &self.country {
            if c.len() != 2 || !c.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(PkiError::Invalid(format!(
                    "country {c:?} must be two capital letters (ISO 3166)"
                )));
            }
            atvs.push(AttributeTypeAndValue {
                oid: rfc4519::C,
                value: Any::encode_from(&PrintableString::new(c)?)?,
            });
        }
        if let Some(o) = &self.organization {
            atvs.push(utf8(rfc4519::O, o)?);
        }
        if let Some(ou) = &self.organizational_unit {
            atvs.push(utf8(rfc4519::OU, ou)?);
        }
        if let Some(t) = &self.title {
            atvs.push(utf8(AT_TITLE, t)?);
        }
        atvs.push(utf8(rfc4519::CN, &self.common_name)?);
        if let Some(e) = &self.email {
            if !e.contains('@') || !e.is_ascii() {
                return Err(PkiError::Invalid(format!("{e:?} is not an ASCII email address")));
            }
            atvs.push(AttributeTypeAndValue {
                oid: AT_EMAIL_ADDRESS,
                value: Any::encode_from(&Ia5String::new(e)?)?,
            });
        }
        let mut seq = RdnSequence::default();
        for atv in atvs {
            seq.push(RelativeDistinguishedName::try_from(vec![atv])?);
        }
        Ok(Name::from_der(&seq.to_der()?)?)
    }
}

/// Decodes a directory string value to text, if it is one of the string types.
pub fn attribute_text(value: &Any) -> Option<String> {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            String::from_utf8(bytes.to_vec()).ok()
        }
        // T.61: treat as Latin-1, which is what it holds in practice.
        Tag::TeletexString => Some(bytes.iter().map(|&b| b as char).collect()),
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// RFC 4518-style preparation, simplified: case-folded, leading/trailing spaces removed,
/// internal runs of whitespace collapsed to one space.
fn prepare(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn atv_matches(a: &AttributeTypeAndValue, b: &AttributeTypeAndValue) -> bool {
    if a.oid != b.oid {
        return false;
    }
    match (attribute_text(&a.value), attribute_text(&b.value)) {
        (Some(x), Some(y)) if a.oid != AT_EMAIL_ADDRESS => prepare(&x) == prepare(&y),
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(&y),
        _ => a.value == b.value,
    }
}

fn rdn_matches(a: &RelativeDistinguishedName, b: &RelativeDistinguishedName) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| atv_matches(x, y)))
}

/// Whether two names are the same name under RFC 5280 §7.1 matching rules.
pub fn names_match(a: &Name, b: &Name) -> bool {
    a.len() == b.len() && a.iter_rdn().zip(b.iter_rdn()).all(|(x, y)| rdn_matches(x, y))
}

/// Whether `prefix` is an initial sequence of `name`'s RDNs (directoryName subtrees).
pub fn is_prefix(prefix: &Name, name: &Name) -> bool {
    prefix.len() <= name.len() && prefix.iter_rdn().zip(name.iter_rdn()).all(|(x, y)| rdn_matches(x, y))
}

/// The first value of an attribute as text.
pub fn attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.iter()
        .find(|atv| atv.oid == oid)
        .and_then(|atv| attribute_text(&atv.value))
}

/// The common name, or the whole name when there is none.
pub fn display_name(name: &Name) -> String {
    attribute(name, rfc4519::CN).unwrap_or_else(|| display(name))
}

/// RFC 4514 text, most significant RDN last (`CN=…,O=…,C=…`).
pub fn display(name: &Name) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter_rdn() {
        let inner: Vec<String> = rdn
            .iter()
            .map(|atv| {
                let key = short_name(&atv.oid);
                let val =
                    attribute_text(&atv.value).unwrap_or_else(|| "#".to_string() + &hex::encode(atv.value.value()));
                format!("{key}={}", escape(&val))
            })
            .collect();
        parts.push(inner.join("+"));
    }
    parts.reverse();
    parts.join(",")
}

fn escape(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') || (i == 0 && (c == '#' || c == ' ')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn short_name(oid: &ObjectIdentifier) -> String {
    let known = [
        (rfc4519::CN, "CN"),
        (rfc4519::O, "O"),
        (rfc4519::OU, "OU"),
        (rfc4519::C, "C"),
        (rfc4519::L, "L"),
        (rfc4519::ST, "ST"),
        (rfc4519::SERIAL_NUMBER, "serialNumber"),
        (rfc4519::DC, "DC"),
        (rfc4519::UID, "UID"),
        (AT_TITLE, "title"),
        (AT_EMAIL_ADDRESS, "emailAddress"),
    ];
    known
        .iter()
        .find(|(o, _)| o == oid)
        .map(|(_, s)| s.to_string())
        .unwrap_or_else(|| oid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cn: &str) -> SubjectSpec {
        SubjectSpec {
            common_name: cn.into(),
            organization: Some("Acme".into()),
            ..Default::default()
        }
    }

    #[test]
    fn names_match_ignoring_case_and_whitespace() {
        let a = spec("Natalia  Ivanova").to_name().unwrap();
        let b = spec(" natalia ivanova ").to_name().unwrap();
        assert!(names_match(&a, &b));
        let c = spec("Natalia Petrova").to_name().unwrap();
        assert!(!names_match(&a, &c));
    }

    #[test]
    fn cyrillic_names_survive_round_trip() {
        let n = spec("Наталья Иванова").to_name().unwrap();
        assert_eq!(display_name(&n), "Наталья Иванова");
        assert!(names_match(&n, &spec("НАТАЛЬЯ ИВАНОВА").to_name().unwrap()));
        assert_eq!(display(&n), "CN=Наталья Иванова,O=Acme");
    }

    #[test]
    fn rejects_bad_country() {
        let s = SubjectSpec {
            common_name: "x".into(),
            country: Some("Germany".into()),
            ..Default::default()
        };
        assert!(s.to_name().is_err());
    }
}
