//! `/core/v2/phonenumber/dids`: the partner's phone numbers. `phonenumber` (E.164 digits without
//! `+`) is given once, at creation, and is unique across the server (409). Assigning
//! `trunk_group_sid` routes the number's inbound calls to that trunk group's endpoint.

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
use store::{CoreDid, CoreDidFields, CAPABILITIES_ALL};

const READ_ONLY: &[&str] = &[
    "country_code",
    "date_created",
    "did_sid",
    "in_country_format",
    "international_format",
    "partner_sid",
];

fn not_found() -> ApiError {
    ApiError::NotFound("cannot find did".into())
}

/// E.164 without the `+`: 2 to 15 digits, the first not 0 (no country code starts with 0).
fn phonenumber(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some(n)
            if (2..=15).contains(&n.len())
                && n.bytes().all(|b| b.is_ascii_digit())
                && !n.starts_with('0') =>
        {
            Ok(n.to_string())
        }
        _ => Err("must be an E.164 number without the +: 2 to 15 digits, the first not 0".into()),
    }
}

/// Applies the body to `fields`. `current` is the DID being updated (its number cannot
/// change), `None` on creation, where the number is returned.
fn apply_body(
    body: Map<String, Value>,
    fields: &mut CoreDidFields,
    current: Option<&CoreDid>,
    mode: Nested,
) -> Result<Option<String>, ApiError> {
    let mut number = None;
    let missing = current.is_none() && !body.contains_key("phonenumber");
    let applied = apply_fields(body, READ_ONLY, |key, value| {
        match key {
            "phonenumber" => match current {
                Some(c) if value.as_str() != Some(c.phonenumber.as_str()) => {
                    return Err("cannot be changed; delete the DID and create another".into())
                }
                Some(_) => {}
                None => number = Some(phonenumber(&value)?),
            },
            "name" => fields.name = fields::text(value)?,
            "attributes" => fields.attributes = fields::nested(&fields.attributes, value, mode)?,
            "capabilities" => fields.capabilities = fields::integer(value, CAPABILITIES_ALL)?,
            "trunk_group_sid" => fields.trunk_group_sid = fields::optional_sid(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    });
    let required = || ("phonenumber".to_string(), "is required".to_string());
    match (applied, missing) {
        (Ok(()), false) => Ok(number),
        (Ok(()), true) => Err(ApiError::Invalid(vec![required()])),
        (Err(ApiError::Invalid(mut errors)), true) => {
            errors.insert(0, required());
            Err(ApiError::Invalid(errors))
        }
        (Err(e), _) => Err(e),
    }
}

pub async fn create(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_object(&headers, &body)?;
    let mut fields = CoreDidFields::default();
    let number = apply_body(body, &mut fields, None, Nested::Replace)?
        .ok_or_else(|| ApiError::Invalid(vec![("phonenumber".into(), "is required".into())]))?;
    let did = state
        .store
        .create_core_did(&partner.partner_sid, &number, &fields)
        .await?;
    Ok(selected(did, &FieldQuery::default()))
}

pub async fn list(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let (items, total) = state.store.core_dids(&partner.partner_sid, &params).await?;
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

pub async fn get_one(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    ApiQuery(q): ApiQuery<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    let did = state
        .store
        .core_did(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(did, &q))
}

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
        .core_did(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    let mode = q.mode(&method)?;
    let body = json_object(&headers, &body)?;
    let mut fields = if method == Method::PUT {
        CoreDidFields::default()
    } else {
        CoreDidFields::from(&current)
    };
    apply_body(body, &mut fields, Some(&current), mode)?;
    let did = state
        .store
        .update_core_did(&partner.partner_sid, &sid, &fields)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(did, &FieldQuery::default()))
}

pub async fn delete(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let found = state
        .store
        .delete_core_did(&partner.partner_sid, &sid)
        .await?;
    found
        .then_some(StatusCode::NO_CONTENT)
        .ok_or_else(not_found)
}
