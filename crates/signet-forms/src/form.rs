//! A document type's form: typed fields, and the checking of values people enter.
//!
//! Values arrive as JSON and leave normalised: dates as `YYYY-MM-DD`, amounts as a decimal
//! string with the currency's two decimals (`{"amount": "1250.00", "currency": "EUR"}`),
//! people as user ids (the caller checks that they exist), numbers as integers, text trimmed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What kind of value a field takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Free text (one line or several).
    Text,
    /// A calendar date.
    Date,
    /// Money: an amount and an ISO 4217 currency code.
    Amount,
    /// A person: a Signet user.
    Person,
    /// A whole number.
    Number,
    /// One of the field's `options`.
    Choice,
}

/// One field of a form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Name in the form's values (`[a-z][a-z0-9_]*`).
    pub name: String,
    /// What people read.
    pub label: String,
    /// The label in Russian, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_ru: Option<String>,
    /// Kind of value.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Must have a value.
    #[serde(default)]
    pub required: bool,
    /// Text: most characters (default 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Choice: the allowed values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Amount: the allowed currencies (any ISO code when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub currencies: Vec<String>,
    /// Date: not before the date in this other field (a leave's end after its start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// Number and amount: the least value (amounts: 0 when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
}

/// Why a form or its values were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormError {
    /// The form's definition is wrong.
    #[error("field {field:?}: {reason}")]
    Definition {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A value is wrong.
    #[error("{field}: {reason}")]
    Value {
        /// The field's label.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// Most fields a form may have.
pub const MAX_FIELDS: usize = 100;
const DEFAULT_MAX_TEXT: usize = 2000;
const MAX_TEXT: usize = 20_000;

fn def_err(field: &str, reason: impl Into<String>) -> FormError {
    FormError::Definition {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// Checks a form's definition: names, kinds and their options.
pub fn check_definition(fields: &[Field]) -> Result<(), FormError> {
    if fields.len() > MAX_FIELDS {
        return Err(def_err("", format!("a form has at most {MAX_FIELDS} fields")));
    }
    for (i, f) in fields.iter().enumerate() {
        let ok_name = f.name.len() <= 64
            && f.name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && f.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok_name {
            return Err(def_err(
                &f.name,
                "a field name is 1 to 64 of a-z, 0-9 and _, starting with a letter",
            ));
        }
        if fields[..i].iter().any(|g| g.name == f.name) {
            return Err(def_err(&f.name, "the name is used twice"));
        }
        if f.label.trim().is_empty() || f.label.chars().count() > 200 {
            return Err(def_err(&f.name, "a label has 1 to 200 characters"));
        }
        if f.max_length.is_some_and(|m| m == 0 || m > MAX_TEXT) {
            return Err(def_err(&f.name, format!("max_length is 1 to {MAX_TEXT}")));
        }
        match f.kind {
            FieldType::Choice if f.options.is_empty() => {
                return Err(def_err(&f.name, "a choice needs options"));
            }
            FieldType::Amount => {
                for c in &f.currencies {
                    if !is_currency(c) {
                        return Err(def_err(&f.name, format!("{c:?} is not an ISO 4217 code")));
                    }
                }
            }
            _ => {}
        }
        if let Some(other) = &f.not_before {
            let target = fields.iter().find(|g| &g.name == other);
            if f.kind != FieldType::Date || target.is_none_or(|g| g.kind != FieldType::Date) {
                return Err(def_err(&f.name, "not_before names another date field of the form"));
            }
        }
    }
    Ok(())
}

fn is_currency(c: &str) -> bool {
    c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase())
}

/// A date `YYYY-MM-DD` that exists.
fn parse_date(s: &str) -> Option<String> {
    let d = time::Date::parse(s.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.to_string())
}

/// A decimal amount with at most two decimals, as cents.
fn parse_cents(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 15 || frac.len() > 2 || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut cents = whole.parse::<i64>().ok()?.checked_mul(100)?;
    let f = format!("{frac:0<2}");
    cents = cents.checked_add(f.parse::<i64>().ok()?)?;
    Some(if neg { -cents } else { cents })
}

/// An amount in cents as text with two decimals.
pub fn format_cents(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    let a = c.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// The amount of a normalised amount value, in cents.
pub fn amount_cents(v: &Value) -> Option<i64> {
    v.get("amount").and_then(Value::as_str).and_then(parse_cents)
}

/// Checks `values` against `fields`; returns them normalised (unknown names refused, empty
/// optional fields left out).
pub fn check_values(fields: &[Field], values: &Value) -> Result<Map<String, Value>, FormError> {
    let empty = Map::new();
    let given = match values {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => {
            return Err(FormError::Value {
                field: "form".into(),
                reason: "the form's values are an object of field names".into(),
            });
        }
    };
    for k in given.keys() {
        if !fields.iter().any(|f| &f.name == k) {
            return Err(FormError::Value {
                field: k.clone(),
                reason: "the form has no such field".into(),
            });
        }
    }
    let mut out = Map::new();
    for f in fields {
        let bad = |reason: &str| FormError::Value {
            field: f.label.clone(),
            reason: reason.to_string(),
        };
        let v = given.get(&f.name).filter(|v| !v.is_null() && v.as_str() != Some(""));
        let Some(v) = v else {
            if f.required {
                return Err(bad("a value is required"));
            }
            continue;
        };
        let normal = match f.kind {
            FieldType::Text => {
                let s = v.as_str().ok_or_else(|| bad("must be text"))?.trim();
                let max = f.max_length.unwrap_or(DEFAULT_MAX_TEXT);
                if s.chars().count() > max {
                    return Err(bad(&format!("at most {max} characters")));
                }
                if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    return Err(bad("control characters are not allowed"));
                }
                if s.is_empty() && f.required {
                    return Err(bad("a value is required"));
                }
                Value::String(s.to_string())
            }
            FieldType::Date => {
                let s = v.as_str().ok_or_else(|| bad("must be a date (YYYY-MM-DD)"))?;
                Value::String(parse_date(s).ok_or_else(|| bad("must be a date (YYYY-MM-DD)"))?)
            }
            FieldType::Amount => {
                let (amount, currency) = match v {
                    Value::Object(m) => (
                        m.get("amount").and_then(|a| match a {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        }),
                        m.get("currency").and_then(Value::as_str).map(str::to_string),
                    ),
                    _ => (None, None),
                };
                let cents = amount.as_deref().and_then(parse_cents).ok_or_else(|| {
                    bad("must be {\"amount\": \"1250.00\", \"currency\": \"EUR\"} with at most two decimals")
                })?;
                let currency = currency
                    .filter(|c| is_currency(c))
                    .ok_or_else(|| bad("needs an ISO 4217 currency code such as EUR or RUB"))?;
                if !f.currencies.is_empty() && !f.currencies.contains(&currency) {
                    return Err(bad(&format!("the currency must be one of {}", f.currencies.join(", "))));
                }
                // Amounts are not negative unless the form says how low they may go.
                let min = f.min.unwrap_or(0);
                if cents < min.saturating_mul(100) {
                    return Err(bad(&format!("must be at least {min}")));
                }
                serde_json::json!({"amount": format_cents(cents), "currency": currency})
            }
            FieldType::Person => {
                let s = v.as_str().ok_or_else(|| bad("must name a user"))?.trim();
                if s.is_empty() || s.len() > 64 {
                    return Err(bad("must name a user"));
                }
                Value::String(s.to_string())
            }
            FieldType::Number => {
                let n = v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .ok_or_else(|| bad("must be a whole number"))?;
                if f.min.is_some_and(|m| n < m) {
                    return Err(bad(&format!("must be at least {}", f.min.unwrap_or(0))));
                }
                Value::from(n)
            }
            FieldType::Choice => {
                let s = v.as_str().ok_or_else(|| bad("must be one of the options"))?;
                if !f.options.iter().any(|o| o == s) {
                    return Err(bad(&format!("must be one of: {}", f.options.join(", "))));
                }
                Value::String(s.to_string())
            }
        };
        out.insert(f.name.clone(), normal);
    }
    for f in fields {
        if let (Some(other), Some(Value::String(mine))) = (&f.not_before, out.get(&f.name))
            && let Some(Value::String(theirs)) = out.get(other)
            && mine < theirs
        {
            let other_label = fields
                .iter()
                .find(|g| &g.name == other)
                .map(|g| g.label.clone())
                .unwrap_or_default();
            return Err(FormError::Value {
                field: f.label.clone(),
                reason: format!("must not be before {other_label}"),
            });
        }
    }
    Ok(out)
}

/// A value as people read it (amounts with their currency, dates as they are).
pub fn display(kind: &FieldType, v: &Value) -> String {
    match (kind, v) {
        (FieldType::Amount, Value::Object(m)) => format!(
            "{} {}",
            m.get("amount").and_then(Value::as_str).unwrap_or(""),
            m.get("currency").and_then(Value::as_str).unwrap_or("")
        ),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn leave() -> Vec<Field> {
        serde_json::from_value(json!([
            {"name": "from", "label": "From", "type": "date", "required": true},
            {"name": "to", "label": "To", "type": "date", "required": true, "not_before": "from"},
            {"name": "amount", "label": "Amount", "type": "amount", "currencies": ["EUR", "RUB"]},
            {"name": "kind", "label": "Kind", "type": "choice", "options": ["annual", "unpaid"]},
            {"name": "days", "label": "Days", "type": "number", "min": 1},
            {"name": "note", "label": "Note", "type": "text", "max_length": 10}
        ]))
        .unwrap()
    }

    #[test]
    fn values_are_checked_and_normalised() {
        let f = leave();
        check_definition(&f).unwrap();
        let v = check_values(
            &f,
            &json!({"from": "2026-12-21", "to": "2027-01-08", "amount": {"amount": "1250.5", "currency": "EUR"}, "kind": "annual", "days": "14", "note": " ok "}),
        )
        .unwrap();
        assert_eq!(v["amount"], json!({"amount": "1250.50", "currency": "EUR"}));
        assert_eq!(v["days"], json!(14));
        assert_eq!(v["note"], json!("ok"));
        assert_eq!(amount_cents(&v["amount"]), Some(125_050));
        for (bad, why) in [
            (json!({"to": "2027-01-08"}), "required"),
            (json!({"from": "2026-02-30", "to": "2027-01-08"}), "date"),
            (json!({"from": "2027-01-09", "to": "2027-01-08"}), "not be before"),
            (
                json!({"from": "2026-12-21", "to": "2027-01-08", "amount": {"amount": "1.005", "currency": "EUR"}}),
                "two decimals",
            ),
            (
                json!({"from": "2026-12-21", "to": "2027-01-08", "amount": {"amount": "1", "currency": "USD"}}),
                "one of EUR",
            ),
            (
                json!({"from": "2026-12-21", "to": "2027-01-08", "kind": "sabbatical"}),
                "one of",
            ),
            (json!({"from": "2026-12-21", "to": "2027-01-08", "days": 0}), "at least"),
            (
                json!({"from": "2026-12-21", "to": "2027-01-08", "note": "far too long"}),
                "at most 10",
            ),
            (
                json!({"from": "2026-12-21", "to": "2027-01-08", "extra": 1}),
                "no such field",
            ),
            (json!([1]), "object"),
        ] {
            let e = check_values(&f, &bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn definitions_are_checked() {
        let bad: Vec<Field> = serde_json::from_value(json!([{"name": "A b", "label": "x", "type": "text"}])).unwrap();
        assert!(check_definition(&bad).is_err());
        let bad: Vec<Field> = serde_json::from_value(json!([{"name": "c", "label": "x", "type": "choice"}])).unwrap();
        assert!(check_definition(&bad).unwrap_err().to_string().contains("options"));
        let bad: Vec<Field> =
            serde_json::from_value(json!([{"name": "d", "label": "x", "type": "date", "not_before": "nope"}])).unwrap();
        assert!(check_definition(&bad).is_err());
        let twice: Vec<Field> = serde_json::from_value(
            json!([{"name": "a", "label": "x", "type": "text"}, {"name": "a", "label": "y", "type": "text"}]),
        )
        .unwrap();
        assert!(check_definition(&twice).unwrap_err().to_string().contains("twice"));
        assert!(serde_json::from_value::<Vec<Field>>(json!([{"name": "a", "label": "x", "type": "colour"}])).is_err());
    }

    #[test]
    fn cents() {
        assert_eq!(parse_cents("0.5"), Some(50));
        assert_eq!(parse_cents("-12.34"), Some(-1234));
        assert_eq!(parse_cents("1e3"), None);
        assert_eq!(parse_cents(".5"), None);
        assert_eq!(format_cents(-1234), "-12.34");
    }
}
