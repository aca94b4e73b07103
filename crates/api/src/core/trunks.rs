//! `/core/v2/trunk_groups/{trunk_group_sid}/trunks`: a trunk group's trunks. A trunk created
//! without `endpoint_sid` takes its trunk group's, so the reference's `POST … --data '{}'`
//! makes a trunk that leads where the group does.

use super::fields;
use super::trunk_groups::not_found as group_not_found;
use crate::auth::CorePartner;
use crate::listing::{envelope, ListQuery};
use crate::request::{apply_fields, json_object, selected, ApiQuery, FieldQuery};
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use serde_json::{Map, Value};
use store::TrunkFields;

const READ_ONLY: &[&str] = &["date_created", "trunk_group_sid", "trunk_sid"];

fn not_found() -> ApiError {
    ApiError::NotFound("cannot find trunk".into())
}

fn apply_body(body: Map<String, Value>, fields: &mut TrunkFields) -> Result<(), ApiError> {
    apply_fields(body, READ_ONLY, |key, value| {
        match key {
            "name" => fields.name = fields::text(value)?,
            "endpoint_sid" => fields.endpoint_sid = fields::optional_sid(value)?,
            "allow_transfer" => fields.allow_transfer = fields::boolean(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    })
}

pub async fn create(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(group_sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let group = state
        .store
        .trunk_group(&partner.partner_sid, &group_sid)
        .await?
        .ok_or_else(group_not_found)?;
    let body = json_object(&headers, &body)?;
    let mut fields = TrunkFields {
        endpoint_sid: group.endpoint_sid.clone(),
        ..TrunkFields::default()
    };
    apply_body(body, &mut fields)?;
    let trunk = state
        .store
        .create_trunk(&partner.partner_sid, &group_sid, &fields)
        .await?
        .ok_or_else(group_not_found)?;
    Ok(selected(trunk, &FieldQuery::default()))
}

pub async fn list(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(group_sid): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let (items, total) = state
        .store
        .trunks(&partner.partner_sid, &group_sid, &params)
        .await?
        .ok_or_else(group_not_found)?;
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

pub async fn get_one(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path((group_sid, sid)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    let trunk = state
        .store
        .trunk(&partner.partner_sid, &group_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(trunk, &q))
}

pub async fn update(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path((group_sid, sid)): Path<(String, String)>,
    method: Method,
    ApiQuery(q): ApiQuery<fields::UpdateQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let current = state
        .store
        .trunk(&partner.partner_sid, &group_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    q.mode(&method)?;
    let body = json_object(&headers, &body)?;
    let mut fields = if method == Method::PUT {
        TrunkFields::default()
    } else {
        TrunkFields::from(&current)
    };
    apply_body(body, &mut fields)?;
    let trunk = state
        .store
        .update_trunk(&partner.partner_sid, &group_sid, &sid, &fields)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(trunk, &FieldQuery::default()))
}

pub async fn delete(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path((group_sid, sid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let found = state
        .store
        .delete_trunk(&partner.partner_sid, &group_sid, &sid)
        .await?;
    found
        .then_some(StatusCode::NO_CONTENT)
        .ok_or_else(not_found)
}
