//! `GET /openapi.json`: an OpenAPI 3.0 document built from the route table (`routes.rs`) and
//! the objects' field lists the store declares for filtering, so it describes exactly what
//! the router serves. Fields an object shows but cannot be filtered on are listed here.

use crate::routes::{Operation, Payload};
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use store::query::{FieldKind, FieldSpec};

/// One object of the API: the store's field list plus the fields it shows but does not let
/// a filter reach (arrays, computed values).
struct Object {
    name: &'static str,
    fields: &'static [FieldSpec],
    extra: &'static [(&'static str, &'static str)],
}

const OBJECTS: &[Object] = &[
    Object {
        name: "Account",
        fields: store::ACCOUNT_FIELDS,
        extra: &[],
    },
    Object {
        name: "Did",
        fields: store::DID_FIELDS,
        extra: &[],
    },
    Object {
        name: "Call",
        fields: store::CALL_FIELDS,
        extra: &[],
    },
    Object {
        name: "Partner",
        fields: &[],
        extra: &[
            ("date_created", "date"),
            ("name", "string"),
            ("partner_sid", "string"),
        ],
    },
    Object {
        name: "Endpoint",
        fields: store::ENDPOINT_FIELDS,
        extra: &[("addresses", "array"), ("transformations", "array")],
    },
    Object {
        name: "TrunkGroup",
        fields: store::TRUNK_GROUP_FIELDS,
        extra: &[("trunks", "array")],
    },
    Object {
        name: "Trunk",
        fields: store::TRUNK_FIELDS,
        extra: &[],
    },
    Object {
        name: "CoreDid",
        fields: store::CORE_DID_FIELDS,
        extra: &[],
    },
    Object {
        name: "Container",
        fields: store::CONTAINER_FIELDS,
        extra: &[("type", "string")],
    },
    Object {
        name: "CallDr",
        fields: store::CALL_DR_FIELDS,
        extra: &[("callbacks", "array"), ("timeline", "array")],
    },
    Object {
        name: "File",
        fields: store::FILE_FIELDS,
        extra: &[("publish_uri", "string"), ("type", "string")],
    },
];

/// Lists whose `total` is null and that page with `after`/`before` (the reference's
/// "uncountable" objects).
const UNCOUNTABLE: &[&str] = &["CallDr"];

fn kind_schema(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Text => json!({"type": "string"}),
        FieldKind::Integer => json!({"type": "integer"}),
        FieldKind::Boolean => json!({"type": "boolean"}),
        FieldKind::Date => json!({"type": "string", "format": "date-time"}),
        FieldKind::Object => json!({"type": "object", "additionalProperties": true}),
    }
}

fn extra_schema(kind: &str) -> Value {
    match kind {
        "array" => json!({"type": "array", "items": {"type": "object"}}),
        "date" => kind_schema(FieldKind::Date),
        other => json!({ "type": other }),
    }
}

fn object_schema(o: &Object) -> Value {
    let mut properties = Map::new();
    for f in o.fields {
        properties.insert(f.name.to_string(), kind_schema(f.kind));
    }
    for (name, kind) in o.extra {
        properties.insert(name.to_string(), extra_schema(kind));
    }
    json!({"type": "object", "properties": properties})
}

fn schemas() -> Value {
    let mut out: Map<String, Value> = OBJECTS
        .iter()
        .map(|o| (o.name.to_string(), object_schema(o)))
        .collect();
    out.insert(
        "Error".into(),
        json!({"type": "object", "properties": {
            "message": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string", "nullable": true},
                "message": {"type": "string"},
                "reference_sid": {"type": "string", "nullable": true},
            }}},
        }}),
    );
    Value::Object(out)
}

fn reference(schema: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{schema}") })
}

fn query(name: &str, about: &str, kind: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": about, "schema": {"type": kind}})
}

fn parameters(op: &Operation) -> Vec<Value> {
    let mut out: Vec<Value> = op
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let selection = [
        query("include_fields", "comma-separated fields to keep", "string"),
        query("exclude_fields", "comma-separated fields to drop", "string"),
    ];
    match op.response {
        Payload::List(schema) => {
            out.push(query(
                "limit",
                "items per page (default 10, at most 1000)",
                "integer",
            ));
            out.push(query("offset", "items to skip", "integer"));
            out.push(query(
                "filter",
                "e.g. name eq 'x' and capacity gt 2",
                "string",
            ));
            out.push(query("order", "e.g. date_created desc", "string"));
            if UNCOUNTABLE.contains(&schema) {
                out.push(query("after", "the records following this SID", "string"));
                out.push(query("before", "the records preceding this SID", "string"));
            }
            out.extend(selection);
        }
        Payload::Object(_) if op.request == Payload::Nothing => out.extend(selection),
        _ => {}
    }
    if op.request == Payload::Upload {
        for name in ["container_sid", "name", "mime_type", "publish"] {
            out.push(query(
                name,
                "with a raw-bytes upload: the File field",
                "string",
            ));
        }
    }
    out
}

fn content(payload: Payload) -> Option<Value> {
    Some(match payload {
        Payload::Nothing => return None,
        Payload::Object(s) => json!({"application/json": {"schema": reference(s)}}),
        Payload::List(s) => {
            let total = match UNCOUNTABLE.contains(&s) {
                true => json!({"type": "integer", "nullable": true}),
                false => json!({"type": "integer"}),
            };
            json!({"application/json": {"schema": {"type": "object", "properties": {
                "count": {"type": "integer"}, "has_more": {"type": "boolean"},
                "items": {"type": "array", "items": reference(s)},
                "limit": {"type": "integer"}, "offset": {"type": "integer"},
                "pagination": {"type": "object", "properties": {"next": {"type": "string"}, "previous": {"type": "string"}}},
                "total": total,
            }}}})
        }
        Payload::Upload => json!({
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file_object": {"type": "string", "description": "JSON object of the File's fields (container_sid required)"},
                "data": {"type": "string", "format": "binary"},
            }, "required": ["data"]}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }),
        Payload::Bytes => {
            json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}})
        }
        Payload::Text => json!({"text/plain": {"schema": {"type": "string"}}}),
        Payload::Flexml => json!({"application/xml": {"schema": {"type": "string"}}}),
        Payload::OpenApi => json!({"application/json": {"schema": {"type": "object"}}}),
    })
}

fn security(path: &str) -> Option<Value> {
    if path.starts_with("/core/v2/") {
        Some(json!([{"bearer": []}]))
    } else if path.starts_with("/flexml/v1/") {
        Some(json!([{"basic": []}]))
    } else {
        None
    }
}

fn operation(op: &Operation) -> Value {
    let mut response = json!({"description": op.summary});
    if let Some(c) = content(op.response) {
        response["content"] = c;
    }
    let mut out = json!({
        "summary": op.summary,
        "tags": [op.path.split('/').nth(1).unwrap_or_default()],
        "parameters": parameters(op),
        "responses": {
            op.status.to_string(): response,
            "default": {"description": "an error", "content": {"application/json": {"schema": reference("Error")}}},
        },
    });
    if let Some(c) = content(op.request) {
        out["requestBody"] = json!({"required": true, "content": c});
    }
    if let Some(s) = security(op.path) {
        out["security"] = s;
    }
    out
}

/// The whole document for `operations`.
pub fn build(operations: &[Operation]) -> Value {
    let mut paths = Map::new();
    for op in operations {
        if let Value::Object(item) = paths.entry(op.path).or_insert_with(|| json!({})) {
            item.insert(op.verb.as_str().into(), operation(op));
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "flexvox",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "FlexML API v1 (HTTP Basic: an endpoint's login and password) and Core API v2 (Bearer token of a partner).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    })
}

/// The document of the server's own route table.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| build(crate::table().operations()))
}

pub async fn serve() -> Json<Value> {
    Json(document().clone())
}
