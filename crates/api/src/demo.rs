//! The sample app the demo DID points at on first start, so a fresh install answers a call.

use axum::http::header;
use axum::response::IntoResponse;

pub const HELLO_DOCUMENT: &str = "<Response><Say>Hello, and welcome to flexvox. \
Your call reached the built-in demo application. Goodbye.</Say></Response>";

pub async fn hello() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/xml")], HELLO_DOCUMENT)
}
