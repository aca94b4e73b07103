//! `GET /core/v2/calls/call_drs`: the uncountable envelope (`total: null`), after/before paging
//! both ways through the `pagination` links, filters, field selection, another partner's
//! record answering 404, and an unknown after/before SID answering 422 naming it.

use api::{router, ApiState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use store::testing::{self, Backend, TestStore};
use store::{NewCallDr, Store};
use tower::ServiceExt;

struct Env {
    app: axum::Router,
    auth: String,
    other: String,
    /// The records' SIDs in date_stop order.
    sids: Vec<String>,
    _db: TestStore,
}

async fn setup(backend: Backend, name: &str) -> Env {
    let db = testing::open(backend, name).await.unwrap();
    let store: Store = db.store();
    let demo = store
        .provision_demo(None, "15162065319", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    let (_, other_token) = store.create_partner("other", None).await.unwrap();
    let mut drs = Vec::new();
    for i in 0..5u32 {
        let new = NewCallDr {
            call_sid: format!("call-{i}"),
            account_sid: demo.account_sid.clone(),
            direction: if i == 2 { "outbound" } else { "inbound" }.into(),
            number_src: "15162065338".into(),
            number_dst: "15162065319".into(),
            date_start: "2024-05-01T10:00:00.000Z".into(),
            // Records 1 and 2 end at the same instant: the SID breaks the tie.
            date_stop: format!("2024-05-01T10:00:{:02}.000Z", [5, 9, 9, 20, 31][i as usize]),
            status: "completed".into(),
            timeline: json!([{"time": "2024-05-01T10:00:00.000Z", "event": "answered"}]),
            ..NewCallDr::default()
        };
        let dr = store.insert_call_dr(&new).await.unwrap().unwrap();
        drs.push((dr.date_stop, dr.dr_sid));
    }
    drs.sort();
    Env {
        app: router(ApiState::new(store)),
        auth: format!("Bearer {}", demo.token),
        other: format!("Bearer {other_token}"),
        sids: drs.into_iter().map(|(_, s)| s).collect(),
        _db: db,
    }
}

async fn get(env: &Env, uri: &str, auth: &str) -> (StatusCode, Value) {
    let req = Request::get(uri)
        .header("host", "127.0.0.1:8080")
        .header("authorization", auth)
        .body(Body::empty())
        .unwrap();
    let resp = env.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn sids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["dr_sid"].as_str().unwrap().to_string())
        .collect()
}

/// The path and query of a pagination link, for the next request.
fn follow(page: &Value, key: &str) -> String {
    let url = page["pagination"][key].as_str().unwrap();
    url.strip_prefix("http://127.0.0.1:8080")
        .unwrap()
        .to_string()
}

const BASE: &str = "/core/v2/calls/call_drs";

async fn the_envelope_is_uncountable_and_pages_forward_and_back(backend: Backend) {
    let env = setup(backend, "cdr_paging").await;
    let (status, first) = get(&env, &format!("{BASE}?limit=2"), &env.auth).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["total"], Value::Null);
    assert_eq!(
        (
            first["count"].clone(),
            first["limit"].clone(),
            first["offset"].clone()
        ),
        (json!(2), json!(2), json!(0))
    );
    assert_eq!(first["has_more"], true);
    assert_eq!(sids(&first), env.sids[0..2]);
    assert_eq!(
        first["pagination"],
        json!({"next": format!("http://127.0.0.1:8080{BASE}?after={}&limit=2&offset=0", env.sids[1])})
    );
    let item = &first["items"][0];
    for field in [
        "account_sid",
        "call_sid",
        "callbacks",
        "date_insert",
        "date_start",
        "date_stop",
        "date_talk",
        "direction",
        "dr_sid",
        "duration",
        "hangup_by",
        "number_dst",
        "number_src",
        "parent_call_sid",
        "partner_sid",
        "sip_status",
        "status",
        "timeline",
    ] {
        assert!(item.get(field).is_some(), "missing {field} in {item}");
    }
    assert_eq!(item["timeline"][0]["event"], "answered");

    // Forward across the tie, then to the end.
    let (_, second) = get(&env, &follow(&first, "next"), &env.auth).await;
    assert_eq!(sids(&second), env.sids[2..4]);
    assert!(second["pagination"]["previous"]
        .as_str()
        .unwrap()
        .contains(&format!("before={}&limit=2&offset=0", env.sids[2])));
    let (_, third) = get(&env, &follow(&second, "next"), &env.auth).await;
    assert_eq!(sids(&third), env.sids[4..5]);
    assert_eq!(third["has_more"], false);
    assert!(third["pagination"].get("next").is_none());

    // And back again with before.
    let (_, back) = get(&env, &follow(&third, "previous"), &env.auth).await;
    assert_eq!(sids(&back), env.sids[2..4]);
    assert_eq!(back["has_more"], true);
    let (_, start) = get(&env, &follow(&back, "previous"), &env.auth).await;
    assert_eq!(sids(&start), env.sids[0..2]);
    assert_eq!(start["has_more"], false);
    assert!(start["pagination"].get("previous").is_none());

    // Filter and field selection are kept in the links.
    let (_, inbound) = get(
        &env,
        &format!("{BASE}?filter=direction+eq+inbound&limit=1&include_fields=dr_sid,direction"),
        &env.auth,
    )
    .await;
    assert_eq!(inbound["items"][0].as_object().unwrap().len(), 2);
    let next = follow(&inbound, "next");
    assert!(next.contains("filter=direction+eq+inbound"), "{next}");
    let mut seen = sids(&inbound);
    let mut url = next;
    loop {
        let (_, page) = get(&env, &url, &env.auth).await;
        assert!(page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["direction"] == "inbound"));
        seen.extend(sids(&page));
        match page["pagination"].get("next") {
            Some(_) => url = follow(&page, "next"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "each inbound record once: {seen:?}");
    seen.dedup();
    assert_eq!(seen.len(), 4);
}

async fn other_partners_and_bad_anchors_are_refused(backend: Backend) {
    let env = setup(backend, "cdr_errors").await;
    let one = format!("{BASE}/{}", env.sids[0]);
    let (status, dr) = get(&env, &one, &env.auth).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dr["dr_sid"], env.sids[0].as_str());
    let (status, body) = get(&env, &one, &env.other).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, theirs) = get(&env, BASE, &env.other).await;
    assert_eq!(theirs["count"], 0);
    assert_eq!(theirs["total"], Value::Null);

    let (status, body) = get(&env, &format!("{BASE}?after=no-such-sid"), &env.auth).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "after");
    assert_eq!(body["errors"][0]["reference_sid"], "no-such-sid");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-sid"));
    // Another partner's record is no anchor for this partner.
    let (status, body) = get(&env, &format!("{BASE}?before={}", env.sids[0]), &env.other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "before");

    let both = format!("{BASE}?after={}&before={}", env.sids[0], env.sids[1]);
    let (status, _) = get(&env, &both, &env.auth).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = get(
        &env,
        &format!("{BASE}?order=duration+desc&after={}", env.sids[0]),
        &env.auth,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = get(&env, &format!("{BASE}?filter=timeline+eq+x"), &env.auth).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = get(&env, BASE, "Bearer nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another order pages by offset.
    let (status, page) = get(
        &env,
        &format!("{BASE}?order=date_stop+desc&limit=2"),
        &env.auth,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sids(&page), [env.sids[4].clone(), env.sids[3].clone()]);
    let (status, page) = get(
        &env,
        &format!("{BASE}?order=direction+asc&limit=4"),
        &env.auth,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(follow(&page, "next").ends_with("limit=4&offset=4"));
}

#[tokio::test]
async fn openapi_describes_the_records() {
    let doc = api::openapi_document();
    let list = &doc["paths"][BASE]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"after") && names.contains(&"before"));
    let schema = &doc["components"]["schemas"]["CallDr"]["properties"];
    for field in ["dr_sid", "date_stop", "timeline", "callbacks", "status"] {
        assert!(schema.get(field).is_some(), "{field}");
    }
    assert!(doc["paths"][format!("{BASE}/{{dr_sid}}")]["get"].is_object());
}

store::backend_tests!(
    the_envelope_is_uncountable_and_pages_forward_and_back,
    other_partners_and_bad_anchors_are_refused
);
