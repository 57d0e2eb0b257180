//! Long-term validation data (ETSI EN 319 142-1 §5.4, PAdES B-LT): a document security store
//! (`/DSS` in the catalog) with the certificates and revocation data a validator needs later,
//! added in an incremental update. A document timestamp over it ([`crate::timestamp_to`])
//! makes B-LTA.

use std::io::Write;

use lopdf::{Dictionary, Object, Stream};

use crate::PdfError;
use crate::document::{Limits, PdfDocument};
use crate::incremental::IncrementalUpdate;
use crate::source::Source;

/// Validation data to store.
#[derive(Clone, Debug, Default)]
pub struct ValidationData {
    /// DER certificates.
    pub certs: Vec<Vec<u8>>,
    /// DER CRLs.
    pub crls: Vec<Vec<u8>>,
    /// DER OCSP responses.
    pub ocsps: Vec<Vec<u8>>,
}

/// Appends an update that adds `data` to the document security store (creating it, or keeping
/// everything already in it). Returns the bytes written.
pub fn add_dss(src: &dyn Source, out: &mut dyn Write, data: &ValidationData) -> Result<u64, PdfError> {
    let doc = PdfDocument::parse(src, &Limits::default())?;
    let mut up = IncrementalUpdate::new(&doc);
    let root = doc.root_ref()?;
    let mut catalog = doc.catalog()?;
    let existing = catalog.get(b"DSS").ok().cloned();
    let mut dss = existing.as_ref().and_then(|d| doc.resolve_dict(d)).unwrap_or_default();
    for (key, items) in [("Certs", &data.certs), ("CRLs", &data.crls), ("OCSPs", &data.ocsps)] {
        let mut list = dss
            .get(key.as_bytes())
            .ok()
            .and_then(|a| doc.resolve_array(a))
            .unwrap_or_default();
        for der in items {
            let id = up.allocate();
            up.set_object(id, &Object::Stream(Stream::new(Dictionary::new(), der.clone())))?;
            list.push(Object::Reference(id));
        }
        if !list.is_empty() {
            dss.set(key, Object::Array(list));
        }
    }
    match existing {
        Some(Object::Reference(r)) => up.set_object(r, &Object::Dictionary(dss))?,
        _ => {
            let id = up.allocate();
            up.set_object(id, &Object::Dictionary(dss))?;
            catalog.set("DSS", Object::Reference(id));
            up.set_object(root, &Object::Dictionary(catalog))?;
        }
    }
    up.write_after(src, out)
}

/// The newest document timestamp of a PDF: its token and the end of its TSA certificate's
/// validity (when that approaches, the archive needs a fresh timestamp: `ltv renew`).
#[derive(Clone, Debug)]
pub struct LastTimestamp {
    /// The time-stamp token (CMS DER).
    pub token: Vec<u8>,
    /// Its genTime.
    pub gen_time: i64,
    /// notAfter of the TSA certificate it carries.
    pub tsa_not_after: i64,
}

/// The document timestamp with the latest genTime, if the PDF has one.
pub fn last_document_timestamp(doc: &crate::document::PdfDocument<'_>) -> Option<LastTimestamp> {
    crate::validate::signature_contents(doc)
        .into_iter()
        .filter_map(|der| {
            let info = signet_cms::timestamp::tst_info(&der).ok()?;
            let tsa = signet_cms::certificates_of(&der)
                .iter()
                .filter_map(|c| signet_pki::Certificate::from_der(c).ok())
                .find(|c| c.is_time_stamping())?;
            Some(LastTimestamp {
                token: der,
                gen_time: info.gen_time,
                tsa_not_after: tsa.not_after(),
            })
        })
        .max_by_key(|t| t.gen_time)
}

/// Every certificate the PDF's signatures and document timestamps carry (their time-stamp
/// tokens' included), each once: what a document security store should hold for them.
pub fn signature_certificates(doc: &crate::document::PdfDocument<'_>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for cms in crate::validate::signature_contents(doc) {
        for c in signet_cms::certificates_of(&cms) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}
