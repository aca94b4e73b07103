//! List responses: paging, filter and order parameters, the envelope of the reference (count,
//! has_more, items, limit, offset, pagination, total) and field selection (include_fields /
//! exclude_fields).

use crate::ApiError;
use axum::http::{HeaderMap, Uri};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use store::query::{Filter, Order, ParseError};
use store::ListParams;

pub const DEFAULT_LIMIT: i64 = 10;
pub const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub include_fields: Option<String>,
    pub exclude_fields: Option<String>,
    pub filter: Option<String>,
    pub order: Option<String>,
    /// Keyset paging of the uncountable lists (call detail records): a record's SID.
    pub after: Option<String>,
    pub before: Option<String>,
}

impl ListQuery {
    pub fn paging(&self) -> Result<(i64, i64), ApiError> {
        let number = |name: &str, raw: &Option<String>, default: i64, max: i64| match raw {
            None => Ok(default),
            Some(r) => match r.parse::<i64>() {
                Ok(v) if (0..=max).contains(&v) => Ok(v),
                _ => Err(ApiError::Invalid(vec![(
                    name.into(),
                    format!("must be an integer between 0 and {max}"),
                )])),
            },
        };
        Ok((
            number("limit", &self.limit, DEFAULT_LIMIT, MAX_LIMIT)?,
            number("offset", &self.offset, 0, i64::MAX)?,
        ))
    }

    /// Paging plus the parsed filter and order. A blank `filter=` or `order=` counts as
    /// absent, as clients that build URLs from empty form fields send them.
    pub fn params(&self) -> Result<ListParams, ApiError> {
        let (limit, offset) = self.paging()?;
        Ok(ListParams {
            filter: parse_param("filter", &self.filter, Filter::parse)?,
            order: parse_param("order", &self.order, Order::parse)?,
            limit,
            offset,
        })
    }
}

fn parse_param<T>(
    parameter: &'static str,
    raw: &Option<String>,
    parse: fn(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse(text).map(Some).map_err(|e| ApiError::BadQuery {
            parameter,
            message: e.to_string(),
        }),
    }
}

/// Keeps or drops top-level fields of one serialised object.
pub fn select_fields(mut value: Value, include: Option<&str>, exclude: Option<&str>) -> Value {
    if let Value::Object(map) = &mut value {
        if let Some(include) = include {
            let keep: Vec<&str> = include.split(',').map(str::trim).collect();
            map.retain(|k, _| keep.contains(&k.as_str()));
        }
        if let Some(exclude) = exclude {
            for field in exclude.split(',').map(str::trim) {
                map.remove(field);
            }
        }
    }
    value
}

pub fn envelope<T: serde::Serialize>(
    items: Vec<T>,
    total: i64,
    params: &ListParams,
    query: &ListQuery,
    uri: &Uri,
    headers: &HeaderMap,
) -> Value {
    let (limit, offset) = (params.limit, params.offset);
    let items: Vec<Value> = items
        .into_iter()
        .map(|i| {
            let v = serde_json::to_value(i).unwrap_or(Value::Null);
            select_fields(
                v,
                query.include_fields.as_deref(),
                query.exclude_fields.as_deref(),
            )
        })
        .collect();
    let count = items.len() as i64;
    let has_more = offset + count < total;
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let page_url = |new_offset: i64| {
        let mut params: Vec<String> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("offset=") && !p.starts_with("limit="))
            .map(str::to_string)
            .collect();
        params.push(format!("limit={limit}"));
        params.push(format!("offset={new_offset}"));
        format!("http://{host}{}?{}", uri.path(), params.join("&"))
    };
    let mut pagination = Map::new();
    if has_more {
        pagination.insert("next".into(), json!(page_url(offset + limit)));
    }
    if offset > 0 {
        pagination.insert("previous".into(), json!(page_url((offset - limit).max(0))));
    }
    json!({
        "count": count,
        "has_more": has_more,
        "items": items,
        "limit": limit,
        "offset": offset,
        "pagination": pagination,
        "total": total,
    })
}
