//! The HTTP face of flexvox: the FlexML API v1 (`/flexml/v1`, HTTP Basic with an endpoint's
//! login/password), the Core API (`/core/v2`, Bearer token), the built-in demo app and health.

mod auth;
mod calls;
mod core;
mod cors;
mod demo;
mod error;
mod flexml;
mod listing;
mod request;

pub use error::ApiError;

use axum::routing::get;
use axum::Router;
use store::Store;

#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .nest("/flexml/v1", flexml::routes())
        .nest("/core/v2", core::routes())
        .route("/demo/hello", get(demo::hello).post(demo::hello))
        .route("/health", get(|| async { "ok" }))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::from_fn(cors::cors))
        .with_state(state)
}
