//! FlexML API v1 Calls (`/flexml/v1/calls`): schedule an outbound call now or `delay` seconds
//! later, list the calls still to fire (with `delay` counting down), change or cancel one
//! before it fires. Dialing is the binary's scheduler's; choices are in `docs/calls-api.md`.

use crate::admission::AccountLimits;
use crate::auth::FlexmlAccount;
use crate::flexml::{http_method, optional_url};
use crate::listing::{envelope, ListQuery};
use crate::request::{apply_fields, json_object, selected, FieldQuery};
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use serde_json::{Map, Value};
use store::{Call, CallFields, Utc, MAX_DELAY};

const READ_ONLY: &[&str] = &["account_sid", "call_sid", "date_created"];

/// E.164 digits (a leading `+` is dropped), or a `sip:` URI.
fn called_did(value: Value) -> Result<String, String> {
    let s = value.as_str().ok_or("must be a string")?.trim();
    if let Some(rest) = s.strip_prefix("sip:") {
        let ok = !rest.is_empty()
            && rest.len() <= 256
            && rest
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '<' && c != '>');
        return if ok {
            Ok(s.to_string())
        } else {
            Err("must be a sip: URI without spaces or control characters".into())
        };
    }
    e164(s).ok_or_else(|| "must be a phone number in E.164 format or a sip: URI".into())
}

fn e164(s: &str) -> Option<String> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    (digits.len() >= 2 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.to_string())
}

fn calling_did(value: Value) -> Result<String, String> {
    value
        .as_str()
        .and_then(|s| e164(s.trim()))
        .ok_or_else(|| "must be one of the account's DIDs, in E.164 format".into())
}

fn delay(value: Value) -> Result<i64, String> {
    match value.as_i64() {
        Some(d) if (0..=MAX_DELAY).contains(&d) => Ok(d),
        _ => Err(format!(
            "must be an integer between 0 and {MAX_DELAY} (seconds)"
        )),
    }
}

/// `cnam` and `sip_header_X-…` string values, safe to put in a SIP INVITE.
fn attributes(value: Value) -> Result<Map<String, Value>, String> {
    let Value::Object(map) = value else {
        return Err("must be an object".into());
    };
    for (key, value) in &map {
        let header = key.strip_prefix("sip_header_");
        let known = key == "cnam"
            || header.is_some_and(|h| {
                h.len() > 2
                    && h[..2].eq_ignore_ascii_case("x-")
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.!%*+`'~".contains(&b))
            });
        if !known {
            return Err(format!(
                "unknown attribute {key:?}: attributes are cnam or sip_header_X-<name>"
            ));
        }
        match value.as_str() {
            Some(v) if v.len() <= 1024 && !v.chars().any(char::is_control) => {}
            _ => {
                return Err(format!(
                    "attribute {key:?} must be a string without control characters"
                ))
            }
        }
    }
    Ok(map)
}

/// The call as the API shows it: `delay` is the seconds still to wait.
fn present(mut call: Call) -> Call {
    call.delay = call.remaining_delay(Utc::now());
    call
}

/// Applies the body to `fields`, then checks `calling_did` is one of the account's DIDs.
/// Every error is collected into one 422. Returns whether `delay` was given.
async fn apply_body(
    state: &ApiState,
    account_sid: &str,
    body: Map<String, Value>,
    fields: &mut CallFields,
    required: bool,
) -> Result<bool, ApiError> {
    let mut delay_given = false;
    let (mut calling_given, mut called_given) = (false, false);
    let result = apply_fields(body, READ_ONLY, |key, value| {
        match key {
            "calling_did" => {
                calling_given = true;
                fields.calling_did = calling_did(value)?
            }
            "called_did" => {
                called_given = true;
                fields.called_did = called_did(value)?
            }
            "url" => fields.url = optional_url(value)?,
            "method" => fields.method = http_method(value)?,
            "status_callback_url" => fields.status_callback_url = optional_url(value)?,
            "status_callback_method" => fields.status_callback_method = http_method(value)?,
            "delay" => {
                delay_given = true;
                fields.delay = delay(value)?
            }
            "attributes" => fields.attributes = attributes(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    });
    let mut errors = match result {
        Ok(()) => Vec::new(),
        Err(ApiError::Invalid(errors)) => errors,
        Err(other) => return Err(other),
    };
    let failed = |field: &str, errors: &[(String, String)]| errors.iter().any(|(f, _)| f == field);
    if required {
        for (field, given) in [("calling_did", calling_given), ("called_did", called_given)] {
            if !given {
                errors.push((field.into(), "field is required".into()));
            }
        }
    }
    if calling_given
        && !failed("calling_did", &errors)
        && state
            .store
            .did_by_number(account_sid, &fields.calling_did)
            .await?
            .is_none()
    {
        errors.push((
            "calling_did".into(),
            format!("{} is not one of the account's DIDs", fields.calling_did),
        ));
    }
    if errors.is_empty() {
        Ok(delay_given)
    } else {
        Err(ApiError::Invalid(errors))
    }
}

pub async fn create(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_object(&headers, &body)?;
    let mut fields = defaults(String::new(), String::new());
    apply_body(&state, &account.account_sid, body, &mut fields, true).await?;
    admit(&state, &account.account_sid, &fields).await?;
    let call = state
        .store
        .create_call(&account.account_sid, &fields, Utc::now())
        .await?;
    Ok(selected(present(call), &FieldQuery::default()))
}

/// The operator's limits on the account: where it may call (422 on `called_did`), how fast
/// (429) and, for a call placed now, how many at once (429).
async fn admit(state: &ApiState, account_sid: &str, fields: &CallFields) -> Result<(), ApiError> {
    let Some(endpoint) = state.store.account_endpoint(account_sid).await? else {
        return Ok(());
    };
    let limits = AccountLimits::from_endpoint(endpoint.capacity, &endpoint.properties);
    if !limits.destination_allowed(&fields.called_did) {
        return Err(ApiError::Invalid(vec![(
            "called_did".into(),
            format!(
                "{} is not in the destinations allowed for this account (allowed_prefixes {:?})",
                fields.called_did, limits.allowed_prefixes
            ),
        )]));
    }
    let now = std::time::Instant::now();
    if fields.delay == 0 && state.admission.at_capacity(account_sid, &limits) {
        return Err(ApiError::TooManyRequests(format!(
            "the account has {} calls up, its limit of concurrent calls",
            limits.capacity
        )));
    }
    state
        .admission
        .take_rate(account_sid, &limits, now)
        .map_err(|refusal| ApiError::TooManyRequests(refusal.to_string()))
}

fn defaults(calling_did: String, called_did: String) -> CallFields {
    CallFields {
        calling_did,
        called_did,
        url: None,
        method: "POST".into(),
        status_callback_url: None,
        status_callback_method: "POST".into(),
        delay: 0,
        attributes: Map::new(),
    }
}

pub async fn list(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Query(q): Query<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let (items, total) = state
        .store
        .scheduled_calls(&account.account_sid, &params, Utc::now())
        .await?;
    let items: Vec<Call> = items.into_iter().map(present).collect();
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

async fn find(state: &ApiState, account_sid: &str, sid: &str) -> Result<Call, ApiError> {
    state
        .store
        .call(account_sid, sid)
        .await?
        .ok_or(ApiError::NotFound("cannot find call".into()))
}

pub async fn get_one(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Path(sid): Path<String>,
    Query(q): Query<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    let call = find(&state, &account.account_sid, &sid).await?;
    Ok(selected(present(call), &q))
}

/// PATCH changes the fields it names; PUT resets the others to their defaults but keeps the
/// DIDs, and the call's time unless `delay` is given. A new `delay` counts from now.
pub async fn update(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Path(sid): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let call = find(&state, &account.account_sid, &sid).await?;
    let body = json_object(&headers, &body)?;
    let mut fields = CallFields::from(&call);
    if method == Method::PUT {
        fields = CallFields {
            delay: call.delay,
            ..defaults(call.calling_did.clone(), call.called_did.clone())
        };
    }
    let delay_given = apply_body(&state, &account.account_sid, body, &mut fields, false).await?;
    let reschedule = delay_given.then(Utc::now);
    let updated = state
        .store
        .update_call(&account.account_sid, &sid, &fields, reschedule)
        .await?
        .ok_or(ApiError::NotFound("cannot find call".into()))?;
    Ok(selected(present(updated), &FieldQuery::default()))
}

pub async fn delete(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Path(sid): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.cancel_call(&account.account_sid, &sid).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("cannot find call".into()))
    }
}
