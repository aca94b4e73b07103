//! `/core/v2/storage/files`: upload (multipart `file_object` + `data` parts, or the raw bytes
//! with the fields in the query, as CarrierX takes them), list, get, PATCH/PUT, delete, the
//! bytes at `/files/{sid}/data`, and the public `/f/{file_sid}` address of published files.

use super::fields;
use crate::auth::CorePartner;
use crate::listing::{envelope, ListQuery};
use crate::multipart::{self, Part};
use crate::request::{apply_fields, json_object, selected, ApiQuery, FieldQuery};
use crate::{ApiError, ApiState};
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};
use store::{StoredFile, StoredFileFields, PUBLISH_MODES};

/// The largest upload one request takes; the container's quota is checked on top of it.
pub const UPLOAD_MAX_BYTES: usize = 100 * 1024 * 1024;

const READ_ONLY: &[&str] = &[
    "content_format",
    "date_created",
    "date_modified",
    "file_access_name",
    "file_bytes",
    "file_sid",
    "partner_sid",
    "publish_uri",
    "type",
];

fn not_found() -> ApiError {
    ApiError::NotFound("cannot find file".into())
}

/// The File object as shown: the stored fields plus `publish_uri`, on the host the request
/// came to (null while the file or its container is not published).
fn shown(file: StoredFile, headers: &HeaderMap) -> Value {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let uri = file
        .published
        .then(|| Value::String(format!("http://{host}/f/{}", file.file_sid)));
    let mut value = serde_json::to_value(file).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("publish_uri".into(), uri.unwrap_or(Value::Null));
    }
    value
}

/// The fields of an upload or update. `container_sid` is only taken at upload.
fn apply_body(
    body: Map<String, Value>,
    fields: &mut StoredFileFields,
    container_sid: Option<&mut Option<String>>,
) -> Result<(), ApiError> {
    let mut container_sid = container_sid;
    let read_only: Vec<&str> = match container_sid {
        Some(_) => READ_ONLY.to_vec(),
        None => [READ_ONLY, &["container_sid"]].concat(),
    };
    apply_fields(body, &read_only, |key, value| {
        match key {
            "name" => fields.name = fields::text(value)?,
            "mime_type" => fields.mime_type = fields::text(value)?,
            "publish" => fields.publish = fields::one_of(value, &PUBLISH_MODES)?,
            "container_sid" => match container_sid.as_deref_mut() {
                Some(slot) => *slot = fields::optional_sid(value)?,
                None => return Ok(false),
            },
            _ => return Ok(false),
        }
        Ok(true)
    })
}

/// The query of a raw-bytes upload (and defaults for a multipart one).
#[derive(Debug, Default, serde::Deserialize)]
pub struct UploadQuery {
    container_sid: Option<String>,
    name: Option<String>,
    mime_type: Option<String>,
    publish: Option<String>,
}

impl UploadQuery {
    fn into_body(self) -> Map<String, Value> {
        [
            ("container_sid", self.container_sid),
            ("name", self.name),
            ("mime_type", self.mime_type),
            ("publish", self.publish),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), Value::String(v?))))
        .collect()
    }
}

/// A declared type worth keeping as the file's: not the generic ones clients send by default.
fn specific_type(content_type: Option<&str>) -> Option<String> {
    let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    let generic = essence.is_empty()
        || essence == "application/octet-stream"
        || essence == "application/x-www-form-urlencoded";
    (!generic).then_some(essence)
}

/// The multipart upload's fields (from `file_object`) and bytes (from `data`).
fn from_parts(parts: Vec<Part>, body: &mut Map<String, Value>) -> Result<Bytes, ApiError> {
    let mut data = None;
    for part in parts {
        match part.name.as_str() {
            "file_object" => match serde_json::from_slice::<Value>(&part.body) {
                Ok(Value::Object(map)) => body.extend(map),
                _ => {
                    return Err(ApiError::BadMultipart(
                        "the file_object part must be a JSON object of the File's fields".into(),
                    ))
                }
            },
            "data" => {
                if let Some(name) = part.filename.filter(|n| !n.is_empty()) {
                    body.entry("name").or_insert(Value::String(name));
                }
                if let Some(mime) = specific_type(part.content_type.as_deref()) {
                    body.entry("mime_type").or_insert(Value::String(mime));
                }
                data = Some(part.body);
            }
            other => {
                return Err(ApiError::BadMultipart(format!(
                    "unknown part {other:?}: an upload has a file_object part (JSON) and a data part (the bytes)"
                )))
            }
        }
    }
    data.ok_or_else(|| {
        ApiError::BadMultipart("the upload has no data part with the file's bytes".into())
    })
}

pub async fn create(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Read here rather than through `Bytes`, whose default limit (2 MB) is too small for audio.
    let raw = axum::body::to_bytes(body, UPLOAD_MAX_BYTES)
        .await
        .map_err(|_| {
            ApiError::TooLarge(format!(
                "an upload is at most {UPLOAD_MAX_BYTES} bytes (or the body was cut short)"
            ))
        })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let mut fields_body = q.into_body();
    let bytes = match content_type.and_then(multipart::boundary) {
        Some(boundary) => {
            let boundary = boundary.map_err(ApiError::BadMultipart)?;
            let parts = multipart::parse(&raw, &boundary).map_err(ApiError::BadMultipart)?;
            from_parts(parts, &mut fields_body)?
        }
        None => {
            if let Some(mime) = specific_type(content_type) {
                fields_body
                    .entry("mime_type")
                    .or_insert(Value::String(mime));
            }
            raw
        }
    };
    let mut fields = StoredFileFields::default();
    let mut container_sid = None;
    apply_body(fields_body, &mut fields, Some(&mut container_sid))?;
    let container_sid = container_sid.ok_or_else(|| {
        ApiError::Invalid(vec![(
            "container_sid".into(),
            "is required: the container to store the file in".into(),
        )])
    })?;
    let file = state
        .store
        .save_file(
            &partner.partner_sid,
            &container_sid,
            &fields,
            bytes.to_vec(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(shown(file, &headers))).into_response())
}

pub async fn list(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = q.params()?;
    let (items, total) = state.store.files(&partner.partner_sid, &params).await?;
    let items: Vec<Value> = items.into_iter().map(|f| shown(f, &headers)).collect();
    Ok(Json(envelope(items, total, &params, &q, &uri, &headers)))
}

pub async fn get_one(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    ApiQuery(q): ApiQuery<FieldQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let file = state
        .store
        .file(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(selected(shown(file, &headers), &q))
}

/// PATCH and PUT alike: a File's settable fields have no defaults worth returning to.
pub async fn update(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
    _method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let current = state
        .store
        .file(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    let mut fields = StoredFileFields::from(&current);
    let mut body = json_object(&headers, &body)?;
    // Sent back unchanged (a PUT of what GET returned) it is fine; moving a file is not.
    if body.get("container_sid") == Some(&Value::String(current.container_sid.clone())) {
        body.remove("container_sid");
    }
    apply_body(body, &mut fields, None)?;
    let file = state
        .store
        .update_file(&partner.partner_sid, &sid, &fields)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(shown(file, &headers)))
}

pub async fn delete(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let found = state.store.delete_file(&partner.partner_sid, &sid).await?;
    found
        .then_some(StatusCode::NO_CONTENT)
        .ok_or_else(not_found)
}

fn bytes_response(file: StoredFile, bytes: Vec<u8>) -> Response {
    let mut resp = bytes.into_response();
    let headers = resp.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(&file.mime_type) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    let name: String = file
        .name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    if let Ok(disposition) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    resp
}

/// The file's bytes, with its MIME type.
pub async fn download(
    State(state): State<ApiState>,
    CorePartner(partner): CorePartner,
    Path(sid): Path<String>,
) -> Result<Response, ApiError> {
    let (file, bytes) = state
        .store
        .file_data(&partner.partner_sid, &sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(bytes_response(file, bytes))
}

/// `/f/{file_sid}` (or `/f/{file_access_name}`, the SID with an extension), without
/// credentials, for published files: what `publish_uri`, RecordingUrl and PlaybackUrl point to.
pub async fn public(
    State(state): State<ApiState>,
    Path(access_name): Path<String>,
) -> Result<Response, ApiError> {
    let sid = access_name.split('.').next().unwrap_or_default();
    let (file, bytes) = state
        .store
        .published_file_data(sid)
        .await?
        .ok_or_else(not_found)?;
    Ok(bytes_response(file, bytes))
}
