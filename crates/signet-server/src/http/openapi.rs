//! The OpenAPI 3.1 document, generated from the route table.

use serde_json::{Map, Value, json};

use super::routes::{Access, BodyKind, table};

/// The document.
pub fn document(server_url: &str) -> Value {
    let mut paths = Map::new();
    for r in table() {
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": r.summary,
            "operationId": format!("{}_{}", r.method.to_lowercase(), r.path.trim_start_matches('/').replace(['/', '{', '}', '.'], "_")),
            "responses": {
                "200": {"description": "success", "content": {r.produces: {}}},
                "default": {"description": "error", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            },
        });
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        match r.body {
            BodyKind::None => {}
            BodyKind::Json => {
                op["requestBody"] =
                    json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
            }
            BodyKind::File => {
                op["requestBody"] =
                    json!({"required": true, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}});
            }
        }
        match r.access {
            Access::Public => op["security"] = json!([]),
            Access::SelfService => op["x-signet-roles"] = json!(["any logged-in user"]),
            Access::Roles(roles) => {
                op["x-signet-roles"] = Value::Array(roles.iter().map(|r| json!(r.as_str())).collect());
            }
        }
        let path_item = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        path_item[r.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Signet API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Electronic signatures: users, TOTP step-up, keys, documents, signatures, audit log. Errors are RFC 9457 problem+json."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "security": [{"session": []}, {"token": []}],
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "signet_session", "description": "Unsafe requests also need the X-CSRF-Token header from the login answer."},
                "token": {"type": "http", "scheme": "bearer"}
            },
            "schemas": {
                "Problem": {"type": "object", "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"}
                }}
            }
        }
    })
}
