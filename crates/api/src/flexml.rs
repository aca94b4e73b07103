//! FlexML API v1: Accounts and DIDs here, Calls in `calls.rs`. Each account sees only its
//! own objects: another account's SID answers 404, exactly like a SID that does not exist.

use crate::auth::FlexmlAccount;
use crate::listing::{envelope, ListQuery};
use crate::request::{apply_fields, json_object, selected, FieldQuery};
use crate::routes::{Op, Routes, Verb};
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use serde_json::Value;
use store::{AccountUpdate, DidUpdate};

/// The FlexML API's routes (HTTP Basic with an endpoint's login and password).
pub fn routes(r: Routes) -> Routes {
    use crate::calls;
    use Verb::*;
    r.add(
        Get,
        "/flexml/v1/accounts",
        list_accounts,
        Op::list("The caller's own account", "Account"),
    )
    .add(
        Get,
        "/flexml/v1/accounts/{account_sid}",
        get_account,
        Op::get("An account", "Account"),
    )
    .add(
        Patch,
        "/flexml/v1/accounts/{account_sid}",
        update_account,
        Op::write("Change an account", "Account"),
    )
    .add(
        Put,
        "/flexml/v1/accounts/{account_sid}",
        update_account,
        Op::write("Replace an account's settings", "Account"),
    )
    .add(
        Get,
        "/flexml/v1/dids",
        list_dids,
        Op::list("The account's phone numbers", "Did"),
    )
    .add(
        Get,
        "/flexml/v1/dids/{did_sid}",
        get_did,
        Op::get("A phone number", "Did"),
    )
    .add(
        Patch,
        "/flexml/v1/dids/{did_sid}",
        update_did,
        Op::write("Change a phone number's app", "Did"),
    )
    .add(
        Put,
        "/flexml/v1/dids/{did_sid}",
        update_did,
        Op::write("Replace a phone number's app", "Did"),
    )
    .add(
        Get,
        "/flexml/v1/calls",
        calls::list,
        Op::list("Scheduled outbound calls", "Call"),
    )
    .add(
        Post,
        "/flexml/v1/calls",
        calls::create,
        Op::write("Place an outbound call", "Call"),
    )
    .add(
        Get,
        "/flexml/v1/calls/{call_sid}",
        calls::get_one,
        Op::get("A scheduled call", "Call"),
    )
    .add(
        Patch,
        "/flexml/v1/calls/{call_sid}",
        calls::update,
        Op::write("Change a scheduled call", "Call"),
    )
    .add(
        Put,
        "/flexml/v1/calls/{call_sid}",
        calls::update,
        Op::write("Replace a scheduled call", "Call"),
    )
    .add(
        Delete,
        "/flexml/v1/calls/{call_sid}",
        calls::delete,
        Op::delete("Cancel a scheduled call"),
    )
}

pub(crate) fn optional_url(value: Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => Ok(Some(s)),
        _ => Err("must be an http:// or https:// URL, or null".into()),
    }
}

pub(crate) fn http_method(value: Value) -> Result<String, String> {
    match value.as_str().map(str::to_ascii_uppercase).as_deref() {
        Some(m @ ("GET" | "POST")) => Ok(m.to_string()),
        _ => Err("must be GET or POST".into()),
    }
}

/// The caller's own account, if it matches the filter: an endpoint's credentials see one.
async fn list_accounts(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Query(q): Query<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let (items, total) = state.store.accounts(&account.account_sid, &params).await?;
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

async fn get_account(
    FlexmlAccount(account): FlexmlAccount,
    Path(sid): Path<String>,
    Query(q): Query<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    if sid != account.account_sid {
        return Err(ApiError::NotFound("cannot find account".into()));
    }
    Ok(selected(account, &q))
}

async fn update_account(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Path(sid): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if sid != account.account_sid {
        return Err(ApiError::NotFound("cannot find account".into()));
    }
    let body = json_object(&headers, &body)?;
    let mut update = AccountUpdate::from(&account);
    if method == Method::PUT {
        update = AccountUpdate {
            name: account.name.clone(),
            url: None,
            method: "POST".into(),
            error_handler: "basic".into(),
        };
    }
    apply_fields(
        body,
        &["account_sid", "date_created", "login", "password"],
        |key, value| {
            match key {
                "name" => update.name = value.as_str().ok_or("must be a string")?.to_string(),
                "url" => update.url = optional_url(value)?,
                "method" => update.method = http_method(value)?,
                "error_handler" => match value.as_str() {
                    Some(h @ ("basic" | "none")) => update.error_handler = h.to_string(),
                    _ => return Err("must be basic or none".into()),
                },
                _ => return Ok(false),
            }
            Ok(true)
        },
    )?;
    let updated = state
        .store
        .update_account(&sid, &update)
        .await?
        .ok_or(ApiError::NotFound("cannot find account".into()))?;
    Ok(Json(serde_json::to_value(updated).unwrap_or(Value::Null)))
}

async fn list_dids(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Query(q): Query<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let (items, total) = state.store.dids(&account.account_sid, &params).await?;
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

async fn get_did(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Path(sid): Path<String>,
    Query(q): Query<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    let did = state
        .store
        .did(&account.account_sid, &sid)
        .await?
        .ok_or(ApiError::NotFound("cannot find did".into()))?;
    Ok(selected(did, &q))
}

async fn update_did(
    State(state): State<ApiState>,
    FlexmlAccount(account): FlexmlAccount,
    Path(sid): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let did = state
        .store
        .did(&account.account_sid, &sid)
        .await?
        .ok_or(ApiError::NotFound("cannot find did".into()))?;
    let body = json_object(&headers, &body)?;
    let mut update = DidUpdate::from(&did);
    if method == Method::PUT {
        update = DidUpdate {
            url: None,
            method: "POST".into(),
            status_callback_url: None,
            status_callback_method: "POST".into(),
        };
    }
    let read_only = [
        "account_sid",
        "country_code",
        "did_sid",
        "in_country_format",
        "international_format",
        "phonenumber",
    ];
    apply_fields(body, &read_only, |key, value| {
        match key {
            "url" => update.url = optional_url(value)?,
            "method" => update.method = http_method(value)?,
            "status_callback_url" => update.status_callback_url = optional_url(value)?,
            "status_callback_method" => update.status_callback_method = http_method(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let updated = state
        .store
        .update_did(&account.account_sid, &sid, &update)
        .await?
        .ok_or(ApiError::NotFound("cannot find did".into()))?;
    Ok(Json(serde_json::to_value(updated).unwrap_or(Value::Null)))
}
