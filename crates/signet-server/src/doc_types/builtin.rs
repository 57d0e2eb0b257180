//! The four built-in document types: leave application, payment request, purchase request and
//! contract, with forms and routes an organisation can use at once and change later.

use serde_json::json;

use super::DocType;

fn parse(v: serde_json::Value) -> Option<DocType> {
    serde_json::from_value(v).ok()
}

/// The built-in types.
pub fn all() -> Vec<DocType> {
    [
        json!({
            "id": "leave", "name": "Leave application", "name_ru": "Заявление на отпуск", "prefix": "LV",
            "source": "form", "built_in": true,
            "fields": [
                {"name": "kind", "label": "Kind of leave", "label_ru": "Вид отпуска", "type": "choice", "required": true,
                 "options": ["annual", "unpaid", "study", "other"]},
                {"name": "from", "label": "First day", "label_ru": "Первый день", "type": "date", "required": true},
                {"name": "to", "label": "Last day", "label_ru": "Последний день", "type": "date", "required": true, "not_before": "from"},
                {"name": "deputy", "label": "Stands in during the leave", "label_ru": "Замещает на время отпуска", "type": "person"},
                {"name": "comment", "label": "Comment", "label_ru": "Комментарий", "type": "text"}
            ],
            "route": {"stages": [
                {"steps": [{"name": "Employee", "assignee": "author", "signature": "ses"}]},
                {"steps": [{"name": "Manager", "assignee": "manager", "signature": "ses", "due_hours": 48}]},
                {"steps": [{"name": "HR seal", "assignee": "system", "signature": "seal"}]}
            ]}
        }),
        json!({
            "id": "payment", "name": "Payment request", "name_ru": "Заявка на оплату", "prefix": "PR",
            "source": "form", "built_in": true,
            "fields": [
                {"name": "payee", "label": "Payee", "label_ru": "Получатель", "type": "text", "required": true, "max_length": 300},
                {"name": "amount", "label": "Amount", "label_ru": "Сумма", "type": "amount", "required": true},
                {"name": "purpose", "label": "Purpose", "label_ru": "Назначение платежа", "type": "text", "required": true},
                {"name": "due", "label": "Pay by", "label_ru": "Оплатить до", "type": "date"}
            ],
            "route": {"stages": [
                {"steps": [{"name": "Requester", "assignee": "author", "signature": "ses"}]},
                {"steps": [{"name": "Manager", "assignee": "manager", "signature": "ses", "due_hours": 48}]},
                {"when": {"field": "amount", "op": "gt", "value": "10000", "currency": "RUB"},
                 "steps": [{"name": "Finance director", "assignee": {"group": "finance"}, "signature": "ses", "due_hours": 48}]},
                {"steps": [{"name": "Seal", "assignee": "system", "signature": "seal"}]}
            ]}
        }),
        json!({
            "id": "purchase", "name": "Purchase request", "name_ru": "Заявка на закупку", "prefix": "PU",
            "source": "form", "built_in": true,
            "fields": [
                {"name": "item", "label": "What", "label_ru": "Что закупить", "type": "text", "required": true, "max_length": 500},
                {"name": "quantity", "label": "Quantity", "label_ru": "Количество", "type": "number", "required": true, "min": 1},
                {"name": "amount", "label": "Estimated cost", "label_ru": "Ориентировочная стоимость", "type": "amount", "required": true},
                {"name": "reason", "label": "Why", "label_ru": "Обоснование", "type": "text"}
            ],
            "route": {"stages": [
                {"steps": [{"name": "Requester", "assignee": "author", "signature": "ses"}]},
                {"steps": [{"name": "Manager", "assignee": "manager", "signature": "ses", "due_hours": 72}]},
                {"steps": [{"name": "Procurement", "assignee": {"group": "procurement"}, "signature": "ses", "due_hours": 72}]}
            ]}
        }),
        json!({
            "id": "contract", "name": "Contract", "name_ru": "Договор", "prefix": "CT",
            "source": "upload", "built_in": true,
            "fields": [
                {"name": "counterparty", "label": "Counterparty", "label_ru": "Контрагент", "type": "text", "required": true, "max_length": 300},
                {"name": "amount", "label": "Value", "label_ru": "Сумма договора", "type": "amount"},
                {"name": "until", "label": "Valid until", "label_ru": "Действует до", "type": "date"}
            ],
            "route": {"stages": [
                {"steps": [{"name": "Legal review", "assignee": {"group": "legal"}, "signature": "ses", "due_hours": 72}]},
                {"steps": [{"name": "Signatory", "assignee": {"role": "approver"}, "signature": "organisation"}]}
            ]}
        }),
    ]
    .into_iter()
    .filter_map(parse)
    .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_type_is_valid() {
        let all = super::all();
        assert_eq!(all.len(), 4, "a built-in definition does not parse");
        for t in &all {
            super::super::check(t).unwrap_or_else(|e| panic!("{}: {}", t.id, e.detail));
        }
    }
}
