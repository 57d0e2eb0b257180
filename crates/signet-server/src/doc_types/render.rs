//! A document of a type, as a sheet to render: the organisation, the type's name (in both
//! languages when it has a Russian one), number and date, the author and every filled-in field.

use serde_json::{Map, Value};

use super::DocType;
use super::form::{FieldType, display};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::users::User;
use signet_render::{Block, Sheet};

/// The sheet for a document of type `t` with `values`.
pub async fn sheet(
    state: &AppState,
    t: &DocType,
    values: &Map<String, Value>,
    number: &str,
    date: &str,
    author: &User,
) -> ApiResult<Sheet> {
    let both = |en: &str, ru: Option<&String>| match ru {
        Some(r) if r != en => format!("{en} / {r}"),
        _ => en.to_string(),
    };
    let mut rows = vec![(both("Author", Some(&"Автор".to_string())), author.display_name.clone())];
    for f in &t.fields {
        let Some(v) = values.get(&f.name) else { continue };
        let shown = if f.kind == FieldType::Person {
            match v.as_str() {
                Some(id) => crate::users::get(&state.db, id)
                    .await?
                    .map(|u| u.display_name)
                    .unwrap_or_else(|| id.to_string()),
                None => display(&f.kind, v),
            }
        } else {
            display(&f.kind, v)
        };
        rows.push((both(&f.label, f.label_ru.as_ref()), shown));
    }
    Ok(Sheet {
        organisation: state.config.organisation.clone(),
        title: both(&t.name, t.name_ru.as_ref()),
        subtitle: format!("No. {number} of {date}"),
        blocks: vec![Block::Rows(rows)],
        footer: format!("{} · {number}", state.config.organisation),
    })
}
