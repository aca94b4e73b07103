//! Core API v2 (`/core/v2`, Bearer token of a partner): endpoints, trunk groups and their
//! trunks, phone numbers. A partner sees and changes only its own objects: another partner's
//! SID answers 404, exactly like a SID that does not exist. Choices the reference leaves open
//! are written down in `docs/core-api.md`.

mod dids;
mod endpoints;
mod fields;
mod trunk_groups;
mod trunks;

use crate::{auth, ApiState};
use axum::routing::get;
use axum::Router;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/oauth/whoami", get(auth::whoami))
        .route("/endpoints", get(endpoints::list).post(endpoints::create))
        .route(
            "/endpoints/{endpoint_sid}",
            get(endpoints::get_one)
                .patch(endpoints::update)
                .put(endpoints::update)
                .delete(endpoints::delete),
        )
        .route(
            "/trunk_groups",
            get(trunk_groups::list).post(trunk_groups::create),
        )
        .route(
            "/trunk_groups/{trunk_group_sid}",
            get(trunk_groups::get_one)
                .patch(trunk_groups::update)
                .put(trunk_groups::update)
                .delete(trunk_groups::delete),
        )
        .route(
            "/trunk_groups/{trunk_group_sid}/trunks",
            get(trunks::list).post(trunks::create),
        )
        .route(
            "/trunk_groups/{trunk_group_sid}/trunks/{trunk_sid}",
            get(trunks::get_one)
                .patch(trunks::update)
                .put(trunks::update)
                .delete(trunks::delete),
        )
        .route("/phonenumber/dids", get(dids::list).post(dids::create))
        .route(
            "/phonenumber/dids/{did_sid}",
            get(dids::get_one)
                .patch(dids::update)
                .put(dids::update)
                .delete(dids::delete),
        )
}
