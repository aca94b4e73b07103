//! `/core/v2/calls/call_drs`: the partner's call detail records. Uncountable as CarrierX's
//! (`total` is null); paged in `date_stop` order with `after`/`before` a record's SID, whose
//! links the envelope's `pagination` gives, or by `offset` under another `order`.

use crate::auth::CorePartner;
use crate::listing::{select_fields, ListQuery};
use crate::request::{selected, ApiQuery, FieldQuery};
use crate::{ApiError, ApiState};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::Json;
use serde_json::{json, Map, Value};
use store::{DrAnchor, DrPage, ListParams, StoreError};

fn not_found() -> ApiError {
    ApiError::NotFound("cannot find call detail record".into())
}

/// `after`/`before` from the query; blank counts as absent, both at once is refused.
fn anchor(q: &ListQuery) -> Result<DrAnchor, ApiError> {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    match (given(&q.after), given(&q.before)) {
        (Some(_), Some(_)) => Err(ApiError::Invalid(vec![(
            "before".into(),
            "after and before cannot be used together".into(),
        )])),
        (Some(sid), None) => Ok(DrAnchor::After(sid.into())),
        (None, Some(sid)) => Ok(DrAnchor::Before(sid.into())),
        (None, None) => Ok(DrAnchor::Start),
    }
}

/// An anchor that is not one of the partner's records names itself in the error.
fn anchor_error(e: StoreError) -> ApiError {
    match e {
        StoreError::UnknownReference { field, sid } => ApiError::InvalidReference {
            field: field.into(),
            message: format!("cannot find call detail record {sid}"),
            reference_sid: sid,
        },
        other => other.into(),
    }
}

pub async fn list(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let anchor = anchor(&q)?;
    let page = state
        .store
        .call_drs(&partner.partner_sid, &params, &anchor)
        .await
        .map_err(anchor_error)?;
    Ok(Json(envelope(page, &params, &anchor, &q, &uri, &headers)))
}

pub async fn get_one(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    ApiQuery(q): ApiQuery<FieldQuery>,
) -> Result<Json<Value>, ApiError> {
    let dr = state
        .store
        .call_dr(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(dr, &q))
}

/// The reference's envelope with `total: null`. In `date_stop` order the links page by
/// `after` the last item and `before` the first (with `offset=0`), as the SMS DR example
/// does; `has_more` says whether records lie beyond the page in the direction it was read.
fn envelope(
    page: DrPage,
    params: &ListParams,
    anchor: &DrAnchor,
    q: &ListQuery,
    uri: &Uri,
    headers: &HeaderMap,
) -> Value {
    let (limit, offset) = (params.limit, params.offset);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let link = |paging: String| {
        let mut parts: Vec<String> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| {
                let name = p.split('=').next().unwrap_or("");
                !p.is_empty() && !["after", "before", "limit", "offset"].contains(&name)
            })
            .map(str::to_string)
            .collect();
        parts.push(paging);
        format!("http://{host}{}?{}", uri.path(), parts.join("&"))
    };
    let mut pagination = Map::new();
    let (first, last) = (page.items.first(), page.items.last());
    if page.keyset {
        if let (true, Some(last)) = (page.more_after, last) {
            let url = link(format!("after={}&limit={limit}&offset=0", last.dr_sid));
            pagination.insert("next".into(), json!(url));
        }
        if let (true, Some(first)) = (page.more_before, first) {
            let url = link(format!("before={}&limit={limit}&offset=0", first.dr_sid));
            pagination.insert("previous".into(), json!(url));
        }
    } else {
        if page.more_after {
            let url = link(format!("limit={limit}&offset={}", offset + limit));
            pagination.insert("next".into(), json!(url));
        }
        if page.more_before {
            let url = link(format!("limit={limit}&offset={}", (offset - limit).max(0)));
            pagination.insert("previous".into(), json!(url));
        }
    }
    let has_more = match anchor {
        DrAnchor::Before(_) => page.more_before,
        _ => page.more_after,
    };
    let items: Vec<Value> = page
        .items
        .into_iter()
        .map(|dr| {
            select_fields(
                serde_json::to_value(dr).unwrap_or(Value::Null),
                q.include_fields.as_deref(),
                q.exclude_fields.as_deref(),
            )
        })
        .collect();
    json!({
        "count": items.len(),
        "has_more": has_more,
        "items": items,
        "limit": limit,
        "offset": offset,
        "pagination": pagination,
        "total": null,
    })
}
