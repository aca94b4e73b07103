//! Core API v2 (`/core/v2`, Bearer token of a partner): endpoints, trunk groups and their
//! trunks, phone numbers, storage containers and files, call detail records. A partner sees and changes only its own objects: another partner's
//! SID answers 404, exactly like a SID that does not exist. Choices the reference leaves open
//! are written down in `docs/core-api.md`.

mod call_drs;
mod containers;
mod dids;
mod endpoints;
mod fields;
mod files;
mod trunk_groups;
mod trunks;

use crate::auth;
use crate::routes::{Op, Payload, Routes, Verb};

/// The Core API's routes (Bearer token of a partner).
pub fn routes(r: Routes) -> Routes {
    use Verb::*;
    let r = r.add(
        Get,
        "/core/v2/oauth/whoami",
        auth::whoami,
        Op::get("The partner the token belongs to", "Partner"),
    );
    let r = crud(
        r,
        "/core/v2/endpoints",
        "/core/v2/endpoints/{endpoint_sid}",
        "Endpoint",
        (
            endpoints::list,
            endpoints::create,
            endpoints::get_one,
            endpoints::update,
            endpoints::delete,
        ),
    );
    let r = crud(
        r,
        "/core/v2/trunk_groups",
        "/core/v2/trunk_groups/{trunk_group_sid}",
        "TrunkGroup",
        (
            trunk_groups::list,
            trunk_groups::create,
            trunk_groups::get_one,
            trunk_groups::update,
            trunk_groups::delete,
        ),
    );
    let r = crud(
        r,
        "/core/v2/trunk_groups/{trunk_group_sid}/trunks",
        "/core/v2/trunk_groups/{trunk_group_sid}/trunks/{trunk_sid}",
        "Trunk",
        (
            trunks::list,
            trunks::create,
            trunks::get_one,
            trunks::update,
            trunks::delete,
        ),
    );
    let r = crud(
        r,
        "/core/v2/phonenumber/dids",
        "/core/v2/phonenumber/dids/{did_sid}",
        "CoreDid",
        (
            dids::list,
            dids::create,
            dids::get_one,
            dids::update,
            dids::delete,
        ),
    );
    let r = crud(
        r,
        "/core/v2/storage/containers",
        "/core/v2/storage/containers/{container_sid}",
        "Container",
        (
            containers::list,
            containers::create,
            containers::get_one,
            containers::update,
            containers::delete,
        ),
    );
    let r = r
        .add(
            Get,
            "/core/v2/calls/call_drs",
            call_drs::list,
            Op::list(
                "List Call Detail Records (total is null; page with after/before in date_stop order)",
                "CallDr",
            ),
        )
        .add(
            Get,
            "/core/v2/calls/call_drs/{dr_sid}",
            call_drs::get_one,
            Op::get("Get a Call Detail Record", "CallDr"),
        );
    let one = "/core/v2/storage/files/{file_sid}";
    r.add(
        Get,
        "/core/v2/storage/files",
        files::list,
        Op::list("List File objects", "File"),
    )
    .add(
        Post,
        "/core/v2/storage/files",
        files::create,
        Op::new("Upload a file", Payload::Upload, Payload::Object("File")).status(201),
    )
    .add(
        Get,
        one,
        files::get_one,
        Op::get("Get a File object", "File"),
    )
    .add(
        Patch,
        one,
        files::update,
        Op::write("Change a File object", "File"),
    )
    .add(
        Put,
        one,
        files::update,
        Op::write("Replace a File object's settings", "File"),
    )
    .add(
        Delete,
        one,
        files::delete,
        Op::delete("Delete a file and its bytes"),
    )
    .add(
        Get,
        "/core/v2/storage/files/{file_sid}/data",
        files::download,
        Op::new("Download a file's bytes", Payload::Nothing, Payload::Bytes),
    )
    .add(
        Get,
        "/f/{file_access_name}",
        files::public,
        Op::new(
            "A published file's bytes, without credentials",
            Payload::Nothing,
            Payload::Bytes,
        ),
    )
}

/// The five routes of a Core object: list and create on the collection; get, PATCH, PUT and
/// delete on one object.
fn crud<L, C, G, U, D, TL, TC, TG, TU, TD>(
    r: Routes,
    collection: &'static str,
    one: &'static str,
    schema: &'static str,
    (list, create, get_one, update, delete): (L, C, G, U, D),
) -> Routes
where
    L: axum::handler::Handler<TL, crate::ApiState>,
    C: axum::handler::Handler<TC, crate::ApiState>,
    G: axum::handler::Handler<TG, crate::ApiState>,
    U: axum::handler::Handler<TU, crate::ApiState>,
    D: axum::handler::Handler<TD, crate::ApiState>,
    TL: 'static,
    TC: 'static,
    TG: 'static,
    TU: 'static,
    TD: 'static,
{
    use Verb::*;
    r.add(Get, collection, list, Op::list("List objects", schema))
        .add(
            Post,
            collection,
            create,
            Op::write("Create an object", schema),
        )
        .add(Get, one, get_one, Op::get("Get an object by SID", schema))
        .add(
            Patch,
            one,
            update.clone(),
            Op::write("Change an object (merge)", schema),
        )
        .add(
            Put,
            one,
            update,
            Op::write("Replace an object's settings", schema),
        )
        .add(Delete, one, delete, Op::delete("Delete an object"))
}
