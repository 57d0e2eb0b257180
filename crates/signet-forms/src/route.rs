//! A route: the stages a document goes through, each with steps that run in parallel (all must
//! approve), each step naming who acts (a person, a group, a role, the author's manager, the
//! author, or the system for a seal) and what signature it takes; conditions on the form's
//! values add or leave out stages and steps ("amount > 10,000 adds the finance director").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::form::{Field, FieldType, amount_cents};

/// A route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Stages, in order.
    pub stages: Vec<Stage>,
    /// Where a document returned for changes starts again when resubmitted.
    #[serde(default)]
    pub restart: Restart,
}

/// Where a resubmitted document's route starts again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Restart {
    /// From the first stage: everyone approves the new version.
    #[default]
    Start,
    /// From the stage that returned it.
    Current,
}

/// Steps that run together; the stage is done when all of them approved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// The steps.
    pub steps: Vec<StepDef>,
    /// Only when this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

/// One step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// What people see ("Manager", "Finance director").
    pub name: String,
    /// Who acts.
    pub assignee: Assignee,
    /// The signature the step takes.
    pub signature: SignatureKind,
    /// Hours after the step starts waiting by which it should be done (reminders after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_hours: Option<i64>,
    /// Only when this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// For `organisation` and `seal` signatures: the organisation key to sign with (default:
    /// the first organisation key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// Who acts on a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assignee {
    /// The person who started the document.
    Author,
    /// The author's manager.
    Manager,
    /// One user (id).
    User(String),
    /// Any member of a group (id).
    Group(String),
    /// Anyone holding a Signet role.
    Role(String),
    /// Nobody: the server, for a seal.
    System,
}

/// The signature a step takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureKind {
    /// Simple electronic signature: password and one-time code, sealed evidence.
    Ses,
    /// Advanced: the person's own key (one-time code).
    Aes,
    /// The organisation key (one-time code).
    Organisation,
    /// The organisation's seal, by the server (no person).
    Seal,
}

impl SignatureKind {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureKind::Ses => "ses",
            SignatureKind::Aes => "aes",
            SignatureKind::Organisation => "organisation",
            SignatureKind::Seal => "seal",
        }
    }

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<SignatureKind> {
        [Self::Ses, Self::Aes, Self::Organisation, Self::Seal]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A test on a form value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The field.
    pub field: String,
    /// The comparison.
    pub op: Op,
    /// What to compare with (amounts: a decimal string such as "10000").
    pub value: Value,
    /// Amounts: the currency `value` is in. An amount in another currency cannot be compared,
    /// so it counts as larger than any threshold: `gt`/`gte`/`ne` hold, `lt`/`lte`/`eq` do not
    /// — a route that adds approvers above a threshold adds them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
}

/// Why a route was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("route: {0}")]
pub struct RouteError(pub String);

fn err(s: impl Into<String>) -> RouteError {
    RouteError(s.into())
}

/// Most stages in a route, and steps in a stage.
pub const MAX_STAGES: usize = 20;

/// Checks a route against the form it belongs to; `known_role` says which role names exist.
pub fn check(route: &Route, fields: &[Field], known_role: &dyn Fn(&str) -> bool) -> Result<(), RouteError> {
    if route.stages.is_empty() || route.stages.len() > MAX_STAGES {
        return Err(err(format!("a route has 1 to {MAX_STAGES} stages")));
    }
    let check_cond = |c: &Condition| -> Result<(), RouteError> {
        let f = fields.iter().find(|f| f.name == c.field).ok_or_else(|| {
            err(format!(
                "a condition names the field {:?}, which the form lacks",
                c.field
            ))
        })?;
        if let Some(cur) = &c.currency
            && (f.kind != FieldType::Amount || cur.len() != 3 || !cur.chars().all(|x| x.is_ascii_uppercase()))
        {
            return Err(err(format!(
                "the condition on {:?}: a currency (three capital letters) is for amount fields",
                c.field
            )));
        }
        match (&f.kind, &c.value) {
            (FieldType::Amount, Value::String(s))
                if crate::form::amount_cents(&serde_json::json!({"amount": s})).is_some() =>
            {
                Ok(())
            }
            (FieldType::Amount, Value::Number(_)) => Ok(()),
            (FieldType::Amount, _) => Err(err(format!(
                "the condition on {:?} compares with an amount (\"10000\")",
                c.field
            ))),
            (FieldType::Number, Value::Number(_)) => Ok(()),
            (FieldType::Number, _) => Err(err(format!("the condition on {:?} compares with a number", c.field))),
            (_, Value::String(_)) => Ok(()),
            _ => Err(err(format!("the condition on {:?} compares with text", c.field))),
        }
    };
    for (i, stage) in route.stages.iter().enumerate() {
        if stage.steps.is_empty() || stage.steps.len() > MAX_STAGES {
            return Err(err(format!("stage {} has 1 to {MAX_STAGES} steps", i + 1)));
        }
        if let Some(c) = &stage.when {
            check_cond(c)?;
        }
        for s in &stage.steps {
            if s.name.trim().is_empty() || s.name.chars().count() > 100 {
                return Err(err("a step's name has 1 to 100 characters"));
            }
            if let Some(c) = &s.when {
                check_cond(c)?;
            }
            if s.due_hours.is_some_and(|h| !(1..=8760).contains(&h)) {
                return Err(err(format!("step {:?}: due_hours is 1 to 8760", s.name)));
            }
            match (&s.assignee, s.signature) {
                (Assignee::System, SignatureKind::Seal) => {}
                (Assignee::System, _) | (_, SignatureKind::Seal) => {
                    return Err(err(format!(
                        "step {:?}: a seal is made by the system, and the system makes only seals",
                        s.name
                    )));
                }
                (Assignee::Role(r), _) if !known_role(r) => {
                    return Err(err(format!("step {:?}: no role {r:?}", s.name)));
                }
                _ => {}
            }
            if s.key_id.is_some() && !matches!(s.signature, SignatureKind::Organisation | SignatureKind::Seal) {
                return Err(err(format!(
                    "step {:?}: key_id is for organisation and seal signatures",
                    s.name
                )));
            }
        }
    }
    Ok(())
}

/// Whether `c` holds for `values`. A missing value holds for nothing but `ne`.
pub fn holds(c: &Condition, values: &Map<String, Value>, fields: &[Field]) -> bool {
    let Some(v) = values.get(&c.field) else {
        return c.op == Op::Ne;
    };
    let kind = fields.iter().find(|f| f.name == c.field).map(|f| f.kind.clone());
    let ord = match kind {
        Some(FieldType::Amount) => {
            let other_currency = c
                .currency
                .as_deref()
                .is_some_and(|cur| v.get("currency").and_then(Value::as_str) != Some(cur));
            if other_currency {
                return matches!(c.op, Op::Gt | Op::Gte | Op::Ne);
            }
            let want = match &c.value {
                Value::String(s) => amount_cents(&serde_json::json!({"amount": s})),
                Value::Number(n) => n.as_i64().map(|n| n.saturating_mul(100)),
                _ => None,
            };
            match (amount_cents(v), want) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => return false,
            }
        }
        Some(FieldType::Number) => match (v.as_i64(), c.value.as_i64()) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => return false,
        },
        _ => match (v.as_str(), c.value.as_str()) {
            (Some(a), Some(b)) => a.cmp(b),
            _ => return false,
        },
    };
    use std::cmp::Ordering::*;
    match c.op {
        Op::Gt => ord == Greater,
        Op::Gte => ord != Less,
        Op::Lt => ord == Less,
        Op::Lte => ord != Greater,
        Op::Eq => ord == Equal,
        Op::Ne => ord != Equal,
    }
}

/// The route for these values: each stage that stays, with its index in the route (so a
/// stage keeps its number whatever the values leave out) and its steps; stages and steps whose
/// conditions do not hold left out, and stages left without steps.
pub fn resolve(route: &Route, values: &Map<String, Value>, fields: &[Field]) -> Vec<(usize, Vec<StepDef>)> {
    route
        .stages
        .iter()
        .enumerate()
        .filter(|(_, s)| s.when.as_ref().is_none_or(|c| holds(c, values, fields)))
        .map(|(i, s)| {
            let steps = s
                .steps
                .iter()
                .filter(|st| st.when.as_ref().is_none_or(|c| holds(c, values, fields)))
                .cloned()
                .collect::<Vec<_>>();
            (i, steps)
        })
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> Vec<Field> {
        serde_json::from_value(json!([
            {"name": "amount", "label": "Amount", "type": "amount", "required": true},
            {"name": "purpose", "label": "Purpose", "type": "text"}
        ]))
        .unwrap()
    }

    fn payment() -> Route {
        serde_json::from_value(json!({
            "stages": [
                {"steps": [{"name": "Author", "assignee": "author", "signature": "ses"}]},
                {"steps": [{"name": "Manager", "assignee": "manager", "signature": "ses", "due_hours": 48}]},
                {"when": {"field": "amount", "op": "gt", "value": "10000"},
                 "steps": [{"name": "Finance director", "assignee": {"group": "finance"}, "signature": "organisation"}]},
                {"steps": [{"name": "Seal", "assignee": "system", "signature": "seal"}]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn an_amount_over_the_threshold_adds_a_stage() {
        let f = fields();
        let r = payment();
        check(&r, &f, &|r| r == "approver").unwrap();
        let small =
            crate::form::check_values(&f, &json!({"amount": {"amount": "9999.99", "currency": "EUR"}})).unwrap();
        let big = crate::form::check_values(&f, &json!({"amount": {"amount": "10000.01", "currency": "EUR"}})).unwrap();
        let small_stages = resolve(&r, &small, &f);
        assert_eq!(small_stages.len(), 3);
        assert_eq!(
            small_stages.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 1, 3],
            "stages keep their numbers in the route"
        );
        let stages = resolve(&r, &big, &f);
        assert_eq!(stages.len(), 4);
        assert_eq!(stages[2].1[0].name, "Finance director");
        assert_eq!(stages[2].1[0].assignee, Assignee::Group("finance".into()));
    }

    #[test]
    fn an_amount_in_another_currency_counts_as_over_the_threshold() {
        let f = fields();
        let r: Route = serde_json::from_value(json!({"stages": [
            {"steps": [{"name": "Manager", "assignee": "manager", "signature": "ses"}]},
            {"when": {"field": "amount", "op": "gt", "value": "10000", "currency": "RUB"},
             "steps": [{"name": "CFO", "assignee": {"group": "finance"}, "signature": "ses"}]}
        ]}))
        .unwrap();
        check(&r, &f, &|_| true).unwrap();
        let v = |amount: &str, currency: &str| {
            crate::form::check_values(&f, &json!({"amount": {"amount": amount, "currency": currency}})).unwrap()
        };
        assert_eq!(resolve(&r, &v("500", "RUB"), &f).len(), 1);
        assert_eq!(resolve(&r, &v("10000.01", "RUB"), &f).len(), 2);
        assert_eq!(
            resolve(&r, &v("500", "EUR"), &f).len(),
            2,
            "another currency: the CFO too"
        );
        assert_eq!(resolve(&r, &v("9999999", "XAU"), &f).len(), 2);
        // Negative amounts are refused unless the form allows them.
        assert!(crate::form::check_values(&f, &json!({"amount": {"amount": "-5", "currency": "RUB"}})).is_err());
    }

    #[test]
    fn bad_routes_are_refused() {
        let f = fields();
        for (bad, why) in [
            (json!({"stages": []}), "1 to"),
            (
                json!({"stages": [{"steps": [{"name": "x", "assignee": "system", "signature": "ses"}]}]}),
                "seal",
            ),
            (
                json!({"stages": [{"steps": [{"name": "x", "assignee": "author", "signature": "seal"}]}]}),
                "seal",
            ),
            (
                json!({"stages": [{"steps": [{"name": "x", "assignee": {"role": "king"}, "signature": "ses"}]}]}),
                "no role",
            ),
            (
                json!({"stages": [{"when": {"field": "nope", "op": "gt", "value": "1"}, "steps": [{"name": "x", "assignee": "author", "signature": "ses"}]}]}),
                "lacks",
            ),
            (
                json!({"stages": [{"steps": [{"name": "x", "assignee": "author", "signature": "ses", "due_hours": 0}]}]}),
                "due_hours",
            ),
            (
                json!({"stages": [{"when": {"field": "amount", "op": "gt", "value": "1", "currency": "euro"}, "steps": [{"name": "x", "assignee": "author", "signature": "ses"}]}]}),
                "currency",
            ),
        ] {
            let r: Route = serde_json::from_value(bad.clone()).unwrap();
            let e = check(&r, &f, &|r| r == "approver").unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
