//! Every API error, and the one place that maps it to a status code and the seed's body:
//! `{"message": …, "errors": [{"field", "message", "reference_sid"}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("permission denied")]
    PermissionDenied,
    #[error("no item error")]
    NotFound(String),
    #[error("cannot parse json")]
    BadJson(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// An upload whose multipart body cannot be read, or lacks a part it needs.
    #[error("cannot parse multipart body")]
    BadMultipart(String),
    /// An upload larger than the server takes in one request.
    #[error("payload too large")]
    TooLarge(String),
    /// A per-account limit (calls per second, concurrent calls) the request would break.
    #[error("too many requests")]
    TooManyRequests(String),
    /// A query parameter (filter, order) that does not parse.
    #[error("cannot parse {parameter}")]
    BadQuery {
        parameter: &'static str,
        message: String,
    },
    #[error("object validation error")]
    Invalid(Vec<(String, String)>),
    /// A field naming an object the caller cannot use (another partner's, or none at all);
    /// the error's `reference_sid` is that SID.
    #[error("object validation error")]
    InvalidReference {
        field: String,
        message: String,
        reference_sid: String,
    },
    /// A value that must be unique and is taken (a DID's number).
    #[error("conflict error")]
    Conflict { field: String, message: String },
    #[error("internal error")]
    Internal(String),
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        use store::StoreError;
        match e {
            // A filter or order that parses but asks for what the object cannot answer
            // (unknown field, wrong operator or value for the field's type) is the client's.
            StoreError::InvalidFilter(e) => {
                ApiError::Invalid(vec![("filter".into(), e.to_string())])
            }
            StoreError::InvalidOrder(e) => ApiError::Invalid(vec![("order".into(), e.to_string())]),
            StoreError::Conflict { field, message } => ApiError::Conflict {
                field: field.into(),
                message,
            },
            StoreError::UnknownReference { field, sid } => ApiError::InvalidReference {
                field: field.into(),
                // `endpoint_sid` → "cannot find endpoint", as the reference's 404 words it.
                message: format!(
                    "cannot find {}",
                    field.trim_end_matches("_sid").replace('_', " ")
                ),
                reference_sid: sid,
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<store::StorageError> for ApiError {
    fn from(e: store::StorageError) -> Self {
        use store::StorageError;
        match e {
            StorageError::Store(e) => e.into(),
            // A full container is a condition the request does not meet: the seed's 422.
            StorageError::QuotaExceeded { field, message }
            | StorageError::Invalid { field, message } => {
                ApiError::Invalid(vec![(field.into(), message)])
            }
            StorageError::NotEmpty { files } => ApiError::Conflict {
                field: "total_files".into(),
                message: format!(
                    "the container holds {files} files; delete them before the container"
                ),
            },
            other @ StorageError::Io { .. } => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::PermissionDenied => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadJson(_) | ApiError::BadQuery { .. } | ApiError::BadMultipart(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid(_) | ApiError::InvalidReference { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let errors = match &self {
            ApiError::Unauthenticated | ApiError::PermissionDenied => {
                json!([{ "field": "cause", "message": message, "reference_sid": null }])
            }
            ApiError::NotFound(what)
            | ApiError::BadJson(what)
            | ApiError::BadMultipart(what)
            | ApiError::TooLarge(what)
            | ApiError::TooManyRequests(what)
            | ApiError::Internal(what) => {
                json!([{ "field": null, "message": what, "reference_sid": null }])
            }
            ApiError::BadQuery { parameter, message } => {
                json!([{ "field": parameter, "message": message, "reference_sid": null }])
            }
            ApiError::UnsupportedMediaType => {
                json!([{ "field": null, "message": "the body must be application/json", "reference_sid": null }])
            }
            ApiError::InvalidReference {
                field,
                message,
                reference_sid,
            } => json!([{ "field": field, "message": message, "reference_sid": reference_sid }]),
            ApiError::Conflict { field, message } => {
                json!([{ "field": field, "message": message, "reference_sid": null }])
            }
            ApiError::Invalid(fields) => fields
                .iter()
                .map(|(f, m)| json!({ "field": f, "message": m, "reference_sid": null }))
                .collect(),
        };
        if let ApiError::Internal(why) = &self {
            tracing::error!(%why, "API internal error");
        }
        let mut resp = (
            self.status(),
            axum::Json(json!({ "message": message, "errors": errors })),
        )
            .into_response();
        if self.status() == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                "WWW-Authenticate",
                axum::http::HeaderValue::from_static("Basic realm=\"flexvox\""),
            );
        }
        resp
    }
}
