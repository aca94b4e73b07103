//! `/core/v2/storage/containers`: create, list, get, PATCH/PUT, delete (only when empty).

use super::fields;
use crate::auth::CorePartner;
use crate::listing::{envelope, ListQuery};
use crate::request::{apply_fields, json_object, selected, ApiQuery, FieldQuery};
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use serde_json::{Map, Value};
use store::ContainerFields;

const READ_ONLY: &[&str] = &[
    "available_bytes_percent",
    "available_files_percent",
    "container_sid",
    "date_created",
    "partner_sid",
    "total_bytes",
    "total_files",
    "type",
];

/// 1 PiB: far above any disk, and low enough that percentages computed in SQL cannot overflow.
const MAX_QUOTA_BYTES: i64 = 1 << 50;

fn not_found() -> ApiError {
    ApiError::NotFound("cannot find container".into())
}

fn apply_body(body: Map<String, Value>, fields: &mut ContainerFields) -> Result<(), ApiError> {
    apply_fields(body, READ_ONLY, |key, value| {
        match key {
            "name" => fields.name = fields::text(value)?,
            "allow_publish" => fields.allow_publish = fields::boolean(value)?,
            "quota_bytes" => fields.quota_bytes = fields::integer(value, MAX_QUOTA_BYTES)?,
            "quota_files" => fields.quota_files = fields::integer(value, i64::from(i32::MAX))?,
            _ => return Ok(false),
        }
        Ok(true)
    })
}

pub async fn create(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut fields = ContainerFields::default();
    apply_body(json_object(&headers, &body)?, &mut fields)?;
    let container = state
        .store
        .create_container(&partner.partner_sid, &fields)
        .await?;
    Ok(selected(container, &FieldQuery::default()))
}

pub async fn list(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let (items, total) = state
        .store
        .containers(&partner.partner_sid, &params)
        .await?;
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

pub async fn get_one(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    ApiQuery(q): ApiQuery<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    let container = state
        .store
        .container(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(container, &q))
}

/// PATCH changes what is sent; PUT also returns the fields not sent to their defaults.
pub async fn update(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let current = state
        .store
        .container(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    let mut fields = if method == Method::PUT {
        ContainerFields::default()
    } else {
        ContainerFields::from(&current)
    };
    apply_body(json_object(&headers, &body)?, &mut fields)?;
    let container = state
        .store
        .update_container(&partner.partner_sid, &sid, &fields)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(container, &FieldQuery::default()))
}

pub async fn delete(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let found = state
        .store
        .delete_container(&partner.partner_sid, &sid)
        .await?;
    found
        .then_some(StatusCode::NO_CONTENT)
        .ok_or_else(not_found)
}
