//! RFC 5280 §4.2.1.10 / §6.1.3 (b)(c): name constraints for directoryName, rfc822Name,
//! dNSName, URI and iPAddress. Constraints of other name forms are applied conservatively: a
//! certificate carrying a name of a constrained but unsupported form is rejected.

use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::Certificate;
use crate::name::{AT_EMAIL_ADDRESS, attribute_text, is_prefix};

/// The name forms, for grouping subtrees.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Form {
    Dn,
    Email,
    Dns,
    Uri,
    Ip,
    Other(u8),
}

fn form(n: &GeneralName) -> Form {
    match n {
        GeneralName::DirectoryName(_) => Form::Dn,
        GeneralName::Rfc822Name(_) => Form::Email,
        GeneralName::DnsName(_) => Form::Dns,
        GeneralName::UniformResourceIdentifier(_) => Form::Uri,
        GeneralName::IpAddress(_) => Form::Ip,
        GeneralName::OtherName(_) => Form::Other(0),
        GeneralName::EdiPartyName(_) => Form::Other(5),
        GeneralName::RegisteredId(_) => Form::Other(8),
    }
}

/// Accumulated constraints along a path.
#[derive(Default, Debug)]
pub(crate) struct State {
    /// One entry per CA that set permitted subtrees; every one must be satisfied.
    permitted: Vec<Vec<GeneralSubtree>>,
    excluded: Vec<GeneralSubtree>,
}

/// A name of a certificate being checked.
enum Subject<'a> {
    Dn(&'a Name),
    General(&'a GeneralName),
    Email(String),
}

impl State {
    pub(crate) fn add(&mut self, permitted: Option<Vec<GeneralSubtree>>, excluded: Option<Vec<GeneralSubtree>>) {
        if let Some(p) = permitted {
            self.permitted.push(p);
        }
        if let Some(e) = excluded {
            self.excluded.extend(e);
        }
    }

    /// Checks a certificate's subject and subjectAltNames; `Err` names the offending name.
    pub(crate) fn check(&self, cert: &Certificate) -> Result<(), String> {
        if self.permitted.is_empty() && self.excluded.is_empty() {
            return Ok(());
        }
        let sans = cert.subject_alt_names().map_err(|e| e.to_string())?;
        let mut names: Vec<Subject> = Vec::new();
        if !cert.subject().is_empty() {
            names.push(Subject::Dn(cert.subject()));
        }
        // Legacy emailAddress attributes in the subject are constrained as rfc822Names when
        // the certificate has no rfc822Name in subjectAltName (RFC 5280 §4.2.1.10).
        if !sans.iter().any(|n| matches!(n, GeneralName::Rfc822Name(_))) {
            for atv in cert.subject().iter().filter(|a| a.oid == AT_EMAIL_ADDRESS) {
                if let Some(t) = attribute_text(&atv.value) {
                    names.push(Subject::Email(t));
                }
            }
        }
        for n in &sans {
            names.push(Subject::General(n));
        }
        for n in &names {
            let (f, shown) = describe(n);
            for set in &self.permitted {
                let relevant: Vec<_> = set.iter().filter(|s| form(&s.base) == f).collect();
                if !relevant.is_empty() && !relevant.iter().any(|s| within(n, &s.base) == Some(true)) {
                    return Err(format!("{shown} is not in the permitted names"));
                }
            }
            for s in &self.excluded {
                if form(&s.base) == f {
                    match within(n, &s.base) {
                        Some(false) => {}
                        Some(true) => return Err(format!("{shown} is in an excluded subtree")),
                        None => return Err(format!("{shown} cannot be checked against an excluded subtree")),
                    }
                }
            }
        }
        Ok(())
    }
}

fn describe(n: &Subject) -> (Form, String) {
    match n {
        Subject::Dn(d) => (Form::Dn, format!("name {}", crate::name::display(d))),
        Subject::Email(e) => (Form::Email, format!("email {e}")),
        Subject::General(g) => (form(g), format!("{g:?}")),
    }
}

/// Whether `n` lies in the subtree `base`; `None` when the form cannot be judged.
fn within(n: &Subject, base: &GeneralName) -> Option<bool> {
    match (n, base) {
        (Subject::Dn(d), GeneralName::DirectoryName(b)) => Some(is_prefix(b, d)),
        (Subject::General(GeneralName::DirectoryName(d)), GeneralName::DirectoryName(b)) => Some(is_prefix(b, d)),
        (Subject::Email(e), GeneralName::Rfc822Name(b)) => Some(email_within(e, b.as_str())),
        (Subject::General(GeneralName::Rfc822Name(e)), GeneralName::Rfc822Name(b)) => {
            Some(email_within(e.as_str(), b.as_str()))
        }
        (Subject::General(GeneralName::DnsName(d)), GeneralName::DnsName(b)) => {
            Some(dns_within(d.as_str(), b.as_str()))
        }
        (Subject::General(GeneralName::UniformResourceIdentifier(u)), GeneralName::UniformResourceIdentifier(b)) => {
            uri_host(u.as_str()).map(|h| host_within_uri_constraint(&h, b.as_str()))
        }
        (Subject::General(GeneralName::IpAddress(ip)), GeneralName::IpAddress(b)) => {
            let (ip, b) = (ip.as_bytes(), b.as_bytes());
            if b.len() != ip.len() * 2 {
                return Some(false);
            }
            let (net, mask) = b.split_at(ip.len());
            Some(ip.iter().zip(net).zip(mask).all(|((a, n), m)| a & m == n & m))
        }
        _ => None,
    }
}

fn email_within(email: &str, c: &str) -> bool {
    let email = email.to_ascii_lowercase();
    let c = c.to_ascii_lowercase();
    let Some((_, host)) = email.rsplit_once('@') else {
        return false;
    };
    if c.contains('@') {
        email == c
    } else if let Some(suffix) = c.strip_prefix('.') {
        host.ends_with(&format!(".{suffix}"))
    } else {
        host == c
    }
}

fn dns_within(name: &str, c: &str) -> bool {
    let name = name.to_ascii_lowercase().trim_end_matches('.').to_string();
    let c = c.to_ascii_lowercase().trim_end_matches('.').to_string();
    if c.is_empty() {
        return true;
    }
    if let Some(suffix) = c.strip_prefix('.') {
        return name.ends_with(&format!(".{suffix}"));
    }
    name == c || name.ends_with(&format!(".{c}"))
}

fn uri_host(uri: &str) -> Option<String> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn host_within_uri_constraint(host: &str, c: &str) -> bool {
    let c = c.to_ascii_lowercase();
    match c.strip_prefix('.') {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => host == c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_constraints_respect_label_boundaries() {
        assert!(dns_within("www.example.com", "example.com"));
        assert!(dns_within("example.com", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(!dns_within("example.com", ".example.com"));
    }

    #[test]
    fn email_constraints_cover_mailbox_host_and_domain() {
        assert!(email_within("a@mail.example.com", ".example.com"));
        assert!(!email_within("a@example.com", ".example.com"));
        assert!(email_within("a@example.com", "example.com"));
        assert!(email_within("A@Example.com", "a@example.com"));
    }

    #[test]
    fn uri_hosts_are_extracted() {
        assert_eq!(
            uri_host("http://user@Host.example.com:8080/x").as_deref(),
            Some("host.example.com")
        );
        assert_eq!(uri_host("urn:isbn:123"), None);
    }
}
