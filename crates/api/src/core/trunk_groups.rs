//! `/core/v2/trunk_groups`: create, list, get, PATCH/PUT, delete. `endpoint_sid` must be one
//! of the partner's endpoints (or null); the nested `trunks` are read-only here and managed
//! under `/trunk_groups/{sid}/trunks`.

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
use store::{TrunkGroupFields, ROUTING_TYPES};

const READ_ONLY: &[&str] = &["date_created", "partner_sid", "trunk_group_sid", "trunks"];

pub(super) fn not_found() -> ApiError {
    ApiError::NotFound("cannot find trunk group".into())
}

fn apply_body(body: Map<String, Value>, fields: &mut TrunkGroupFields) -> Result<(), ApiError> {
    apply_fields(body, READ_ONLY, |key, value| {
        match key {
            "name" => fields.name = fields::text(value)?,
            "endpoint_sid" => fields.endpoint_sid = fields::optional_sid(value)?,
            "routing_type" => fields.routing_type = fields::one_of(value, &ROUTING_TYPES)?,
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
    let body = json_object(&headers, &body)?;
    let mut fields = TrunkGroupFields::default();
    apply_body(body, &mut fields)?;
    let group = state
        .store
        .create_trunk_group(&partner.partner_sid, &fields)
        .await?;
    Ok(selected(group, &FieldQuery::default()))
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
        .trunk_groups(&partner.partner_sid, &params)
        .await?;
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

pub async fn get_one(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    ApiQuery(q): ApiQuery<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    let group = state
        .store
        .trunk_group(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(group, &q))
}

/// PATCH and PUT (a trunk group has no nested objects of its own to merge).
pub async fn update(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    method: Method,
    ApiQuery(q): ApiQuery<fields::UpdateQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let current = state
        .store
        .trunk_group(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    q.mode(&method)?;
    let body = json_object(&headers, &body)?;
    let mut fields = if method == Method::PUT {
        TrunkGroupFields::default()
    } else {
        TrunkGroupFields::from(&current)
    };
    apply_body(body, &mut fields)?;
    let group = state
        .store
        .update_trunk_group(&partner.partner_sid, &sid, &fields)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(group, &FieldQuery::default()))
}

pub async fn delete(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let found = state
        .store
        .delete_trunk_group(&partner.partner_sid, &sid)
        .await?;
    found
        .then_some(StatusCode::NO_CONTENT)
        .ok_or_else(not_found)
}
