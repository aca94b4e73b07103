//! What both APIs read from a request: the JSON body (415 / 400 as the reference words them),
//! body fields applied one by one with every field error collected (422), query strings that
//! answer a bad parameter in the reference's error shape, and field selection on one object.

use crate::listing::select_fields;
use crate::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The request body as a JSON object, or the reference's 415/400 errors. A body without a
/// Content-Type, or with curl's default `application/x-www-form-urlencoded`, is read as JSON,
/// so the reference's curl examples work with or without their `-H`.
pub fn json_object(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if let Some(ct) = headers.get("content-type").and_then(|v| v.to_str().ok()) {
        if !ct.to_ascii_lowercase().contains("json")
            && !ct.starts_with("application/x-www-form-urlencoded")
        {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadJson(
            "cannot parse json: expected a JSON object".into(),
        )),
        Err(e) => Err(ApiError::BadJson(format!("cannot parse json: {e}"))),
    }
}

/// Applies the body's fields through `apply`, collecting every field error before failing.
/// Read-only fields are skipped, so an object read with GET can be sent back with PUT; `apply`
/// answers `Ok(false)` for a field it does not know.
pub fn apply_fields(
    body: Map<String, Value>,
    read_only: &[&str],
    mut apply: impl FnMut(&str, Value) -> Result<bool, String>,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for (key, value) in body {
        if read_only.contains(&key.as_str()) {
            continue;
        }
        match apply(&key, value) {
            Ok(true) => {}
            Ok(false) => errors.push((key, "field is unknown or cannot be changed".to_string())),
            Err(message) => errors.push((key, message)),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// `include_fields` / `exclude_fields` of a request for one object.
#[derive(Debug, Default, serde::Deserialize)]
pub struct FieldQuery {
    pub include_fields: Option<String>,
    pub exclude_fields: Option<String>,
}

pub fn selected<T: serde::Serialize>(item: T, q: &FieldQuery) -> Json<Value> {
    let value = serde_json::to_value(item).unwrap_or(Value::Null);
    Json(select_fields(
        value,
        q.include_fields.as_deref(),
        q.exclude_fields.as_deref(),
    ))
}

/// Like axum's `Query`, but a query string that does not deserialise (a repeated parameter,
/// say) is a 400 in the reference's error shape rather than axum's plain-text one.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::BadQuery {
                parameter: "query",
                message: e.body_text(),
            })
    }
}
