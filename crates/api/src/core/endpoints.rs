//! `/core/v2/endpoints`: create, list, get, PATCH/PUT, delete. The type is chosen once, at
//! creation (`third_party` if not given); application endpoints' generated properties
//! (`login`, `password`, `api_url`, `account_sid`) cannot be set or changed.

use super::fields::{self, Nested, UpdateQuery};
use crate::auth::CorePartner;
use crate::listing::{envelope, ListQuery};
use crate::request::{apply_fields, json_object, selected, ApiQuery, FieldQuery};
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use serde_json::{Map, Value};
use store::{Endpoint, EndpointFields, EndpointType, SYSTEM_PROPERTIES};

const READ_ONLY: &[&str] = &["date_created", "endpoint_sid", "partner_sid"];

fn not_found() -> ApiError {
    ApiError::NotFound("cannot find endpoint".into())
}

fn endpoint_type(value: Value) -> Result<EndpointType, String> {
    value.as_str().and_then(EndpointType::parse).ok_or_else(|| {
        let all: Vec<&str> = EndpointType::ALL.iter().map(|t| t.as_str()).collect();
        format!("must be one of {}", all.join(", "))
    })
}

/// A generated property may be sent back unchanged (a PUT of what GET returned) or as null
/// (ignored), never set to something else.
fn check_system_properties(
    value: &Value,
    endpoint_type: EndpointType,
    current: Option<&Endpoint>,
) -> Result<(), String> {
    let (Value::Object(incoming), true) = (value, endpoint_type.is_application()) else {
        return Ok(());
    };
    for key in SYSTEM_PROPERTIES {
        let Some(sent) = incoming.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        if current.and_then(|c| c.properties.get(key)) != Some(sent) {
            return Err(format!(
                "{key} is generated for {endpoint_type} endpoints and cannot be set"
            ));
        }
    }
    Ok(())
}

/// Applies the body to `fields`, starting from the current endpoint (PATCH), or from the
/// defaults (POST, PUT). Returns the endpoint's type.
fn apply_body(
    body: Map<String, Value>,
    fields: &mut EndpointFields,
    current: Option<&Endpoint>,
    mode: Nested,
) -> Result<EndpointType, ApiError> {
    // The type decides which properties are the system's, whatever order the keys come in.
    let mut kind = match current {
        Some(c) => c.endpoint_type,
        None => body
            .get("type")
            .and_then(Value::as_str)
            .and_then(EndpointType::parse)
            .unwrap_or(EndpointType::ThirdParty),
    };
    apply_fields(body, READ_ONLY, |key, value| {
        match key {
            "type" => {
                let requested = endpoint_type(value)?;
                match current {
                    Some(c) if c.endpoint_type != requested => {
                        return Err("cannot be changed once the endpoint exists".into())
                    }
                    _ => kind = requested,
                }
            }
            "name" => fields.name = fields::text(value)?,
            "capacity" => fields.capacity = fields::integer(value, i64::from(i32::MAX))?,
            "addresses" => fields.addresses = fields::objects(value)?,
            "transformations" => fields.transformations = fields::objects(value)?,
            "attributes" => fields.attributes = fields::nested(&fields.attributes, value, mode)?,
            "properties" => {
                check_system_properties(&value, kind, current)?;
                fields.properties = fields::nested(&fields.properties, value, mode)?;
            }
            "out_sip_username" => fields.out_sip_username = fields::optional_text(value)?,
            "out_sip_password" => fields.out_sip_password = fields::optional_text(value)?,
            "voip_token" => fields.voip_token = fields::optional_text(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(kind)
}

pub async fn create(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_object(&headers, &body)?;
    let mut fields = EndpointFields::default();
    let kind = apply_body(body, &mut fields, None, Nested::Replace)?;
    let endpoint = state
        .store
        .create_endpoint(&partner.partner_sid, kind, &fields)
        .await?;
    Ok(selected(endpoint, &FieldQuery::default()))
}

pub async fn list(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let (items, total) = state.store.endpoints(&partner.partner_sid, &params).await?;
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

pub async fn get_one(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    ApiQuery(q): ApiQuery<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    let endpoint = state
        .store
        .endpoint(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(endpoint, &q))
}

/// PATCH (merge) and PUT (replace the whole object; fields not sent return to defaults).
pub async fn update(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    method: Method,
    ApiQuery(q): ApiQuery<UpdateQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let current = state
        .store
        .endpoint(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    let mode = q.mode(&method)?;
    let body = json_object(&headers, &body)?;
    let mut fields = if method == Method::PUT {
        EndpointFields::default()
    } else {
        EndpointFields::from(&current)
    };
    apply_body(body, &mut fields, Some(&current), mode)?;
    let endpoint = state
        .store
        .update_endpoint(&partner.partner_sid, &sid, &fields)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(endpoint, &FieldQuery::default()))
}

pub async fn delete(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let found = state
        .store
        .delete_endpoint(&partner.partner_sid, &sid)
        .await?;
    found
        .then_some(StatusCode::NO_CONTENT)
        .ok_or_else(not_found)
}
