//! The HTTP face of flexvox: the FlexML API v1 (`/flexml/v1`, HTTP Basic with an endpoint's
//! login/password), the Core API (`/core/v2`, Bearer token), published storage files (`/f/`),
//! the built-in demo app, health, and `/openapi.json` describing all of them.

pub mod admission;
mod auth;
mod calls;
mod core;
mod cors;
mod demo;
mod error;
mod flexml;
mod listing;
mod multipart;
mod openapi;
mod request;
mod routes;

pub use error::ApiError;
pub use openapi::document as openapi_document;

use axum::Router;
use routes::{Op, Payload, Routes, Verb};
use store::Store;

#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    /// Live calls per account, shared with the call layer.
    pub admission: admission::Admission,
}

impl ApiState {
    pub fn new(store: Store) -> ApiState {
        ApiState {
            store,
            admission: admission::Admission::default(),
        }
    }
}

/// Every route the server serves, with its description.
pub(crate) fn table() -> Routes {
    use Verb::*;
    let r = Routes::new();
    let r = flexml::routes(r);
    let r = core::routes(r);
    r.add(
        Get,
        "/demo/hello",
        demo::hello,
        Op::new("The built-in demo app", Payload::Nothing, Payload::Flexml),
    )
    .add(
        Post,
        "/demo/hello",
        demo::hello,
        Op::new("The built-in demo app", Payload::Nothing, Payload::Flexml),
    )
    .add(
        Get,
        "/health",
        || async { "ok" },
        Op::new("Liveness: answers ok", Payload::Nothing, Payload::Text),
    )
    .add(
        Get,
        "/openapi.json",
        openapi::serve,
        Op::new("This document", Payload::Nothing, Payload::OpenApi),
    )
}

pub fn router(state: ApiState) -> Router {
    let (routes, _) = table().into_router();
    routes
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::from_fn(cors::cors))
        .with_state(state)
}
