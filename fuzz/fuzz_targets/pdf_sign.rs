//! PDF reading (cross-reference sections, objects, object streams, filters), the shadow-attack
//! preflight, signing and the strict object parser never panic
//! on any input.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use signet_crypto::{KeyAlgorithm, PrivateKey, Signer, SoftwareSigner};
use signet_pki::issue::{self, Profile, Template};
use signet_pki::name::SubjectSpec;

fn signer() -> &'static SoftwareSigner {
    static S: OnceLock<SoftwareSigner> = OnceLock::new();
    S.get_or_init(|| {
        let k = SoftwareSigner::new(PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key"));
        let name = SubjectSpec { common_name: "Fuzz".into(), ..Default::default() }.to_name().expect("name");
        let t = Template::new(name, k.public_key_der().expect("spki"), Profile::Signer, 0, 4_000_000_000);
        let c = issue::issue(&t, None, &k).expect("cert");
        k.with_chain(vec![c.der().to_vec()])
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = signet_pdf::document::PdfDocument::parse(&data, &Default::default()) {
        let _ = signet_pdf::preflight::inspect(&doc);
        let _ = signet_pdf::preflight::overlay_warnings(&doc);
        let _ = doc.existing_signatures();
        let _ = doc.certification_level();
        let _ = doc.pages();
        for n in doc.reader.object_numbers().into_iter().take(256) {
            if let Some(g) = doc.reader.generation(n) {
                let _ = doc.reader.decoded_stream((n, g), 1 << 20);
            }
        }
    }
    let _ = signet_pdf::sign_pdf(data, signer(), &signet_pdf::PadesOptions::new(1_800_000_000));
    // Per-revision cross-reference sections.
    let _ = signet_pdf::xref::revisions(&data);
    // The strict object parser: never panics, always makes progress or stops.
    let mut p = signet_pdf::syntax::Parser::new(data, 0);
    for _ in 0..64 {
        let before = p.position();
        if p.indirect_object(None, &|_| None).is_err() && p.object().is_err() {
            break;
        }
        if p.position() == before {
            break;
        }
    }
});
