//! Document-type definitions and the values people enter never panic or hang: a form and a
//! route read from JSON and checked, values checked and normalised against the form, the route
//! resolved for them, and the result laid out and drawn as a PDF (wrapping, page breaks and
//! shaping of any text). `{"fields": […], "route": {…}, "values": {…}}`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_forms::{form, route};
use signet_render::{Block, Sheet};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else { return };
    let Ok(fields) = serde_json::from_value::<Vec<form::Field>>(v["fields"].clone()) else { return };
    let defined = form::check_definition(&fields).is_ok();
    let route = serde_json::from_value::<route::Route>(v["route"].clone())
        .ok()
        .filter(|r| route::check(r, &fields, &|r| r == "approver").is_ok());
    if !defined {
        return;
    }
    let Ok(values) = form::check_values(&fields, &v["values"]) else { return };
    // Normalised values check again to themselves.
    let again = form::check_values(&fields, &Value::Object(values.clone()));
    assert_eq!(again.ok().as_ref(), Some(&values), "normalised values must be a fixed point");
    if let Some(r) = &route {
        let _ = route::resolve(r, &values, &fields);
    }
    let rows = fields
        .iter()
        .filter_map(|f| values.get(&f.name).map(|x| (f.label.clone(), form::display(&f.kind, x))))
        .collect();
    let _ = signet_render::render(&Sheet {
        organisation: "Fuzz".into(),
        title: fields.first().map(|f| f.label.clone()).unwrap_or_default(),
        subtitle: "No. FZ-2026-00001 of 2026-12-07".into(),
        blocks: vec![Block::Rows(rows)],
        footer: "Fuzz".into(),
    });
});
