//! The Core API requests of the seeds (endpoints, trunk groups and trunks, phone numbers),
//! replayed against the router on a real SQLite file, end to end: a FlexML endpoint created
//! over the Core API answers the FlexML API with its own credentials and receives the calls of
//! the number assigned to its trunk group. Then every error case.

use api::{router, ApiState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use serde_json::{json, Value};
use store::testing::{self, Backend, TestStore};
use store::{DemoCredentials, Store};
use tower::ServiceExt;

struct Env {
    app: axum::Router,
    store: Store,
    demo: DemoCredentials,
    /// Bearer header of the demo partner.
    auth: String,
    /// Bearer header of a second partner.
    other: String,
    /// Keeps the test's database until the test ends.
    _db: TestStore,
}

async fn setup(backend: Backend, name: &str) -> Env {
    let db = testing::open(backend, name).await.unwrap();
    let store = db.store();
    let demo = store
        .provision_demo(None, "15162065319", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    let (_, other_token) = store.create_partner("other", None).await.unwrap();
    Env {
        app: router(ApiState::new(store.clone())),
        auth: format!("Bearer {}", demo.token),
        other: format!("Bearer {other_token}"),
        store,
        demo,
        _db: db,
    }
}

fn basic(login: &str, password: &str) -> String {
    let raw = format!("{login}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A request with an optional body sent as `content_type`.
async fn raw(
    app: &axum::Router,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<(&str, &str)>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:8080");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some((content_type, _)) = body {
        req = req.header("content-type", content_type);
    }
    let body = body.map(|(_, b)| b.to_string()).unwrap_or_default();
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    if status == StatusCode::NO_CONTENT {
        assert!(bytes.is_empty(), "204 has an empty body");
    }
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

impl Env {
    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string());
        raw(
            &self.app,
            method,
            uri,
            Some(&self.auth),
            body.as_deref().map(|b| ("application/json", b)),
        )
        .await
    }

    async fn call_as(
        &self,
        auth: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string());
        raw(
            &self.app,
            method,
            uri,
            Some(auth),
            body.as_deref().map(|b| ("application/json", b)),
        )
        .await
    }

    /// POSTs `body` and returns the created object, asserting 200.
    async fn create(&self, uri: &str, body: Value) -> Value {
        let (status, created) = self.call("POST", uri, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        created
    }
}

fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

fn sid<'a>(object: &'a Value, field: &str) -> &'a str {
    object[field].as_str().unwrap()
}

fn error_fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("<null>"))
        .collect()
}

/// The keys of the seed's endpoint under `exclude_fields=properties`, plus `date_created`.
const ENDPOINT_KEYS_WITHOUT_PROPERTIES: [&str; 12] = [
    "addresses",
    "attributes",
    "capacity",
    "date_created",
    "endpoint_sid",
    "name",
    "out_sip_password",
    "out_sip_username",
    "partner_sid",
    "transformations",
    "type",
    "voip_token",
];

async fn the_quick_start_end_to_end(backend: Backend) {
    let env = setup(backend, "quickstart").await;

    // I. Create a FlexML endpoint.
    let endpoint = env
        .create(
            "/core/v2/endpoints",
            json!({"name": "flexml", "type": "flexml"}),
        )
        .await;
    let endpoint_sid = sid(&endpoint, "endpoint_sid");
    assert_eq!(endpoint["type"], "flexml");
    assert_eq!(endpoint["partner_sid"], env.demo.partner_sid.as_str());
    assert_eq!(endpoint["capacity"], 0);
    assert_eq!(endpoint["addresses"], json!([]));
    assert_eq!(endpoint["attributes"], json!({}));
    assert_eq!(endpoint["transformations"], json!([]));
    assert_eq!(endpoint["out_sip_username"], Value::Null);
    assert_eq!(endpoint["voip_token"], Value::Null);
    let date = endpoint["date_created"].as_str().unwrap();
    assert!(chrono_like(date), "{date}");
    let props = &endpoint["properties"];
    assert_eq!(keys(props), ["account_sid", "api_url", "login", "password"]);
    assert_eq!(props["api_url"], "/flexml/v1");
    let (login, password) = (sid(props, "login"), sid(props, "password"));

    // The seed's list with exclude_fields=properties (the demo endpoint is there too).
    let (status, list) = env
        .call("GET", "/core/v2/endpoints?exclude_fields=properties", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&list["count"], &list["has_more"], &list["total"]),
        (&json!(2), &json!(false), &json!(2))
    );
    assert_eq!((&list["limit"], &list["offset"]), (&json!(10), &json!(0)));
    assert_eq!(list["pagination"], json!({}));
    for item in list["items"].as_array().unwrap() {
        assert_eq!(keys(item), ENDPOINT_KEYS_WITHOUT_PROPERTIES);
    }
    // And the seed's "find the credentials" request: the full object has them.
    let (_, list) = env
        .call(
            "GET",
            &format!("/core/v2/endpoints?filter=properties.login+eq+{login}"),
            None,
        )
        .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["properties"]["password"], password);

    // A trunk group to route to it, with a trunk as in the seed's sample POST.
    let group = env
        .create(
            "/core/v2/trunk_groups",
            json!({"name": "flexml", "endpoint_sid": endpoint_sid}),
        )
        .await;
    let group_sid = sid(&group, "trunk_group_sid");
    assert_eq!(
        keys(&group),
        [
            "date_created",
            "endpoint_sid",
            "name",
            "partner_sid",
            "routing_type",
            "trunk_group_sid",
            "trunks"
        ]
    );
    assert_eq!(group["routing_type"], "failover");
    let trunk = env
        .create(
            &format!("/core/v2/trunk_groups/{group_sid}/trunks"),
            json!({}),
        )
        .await;
    assert_eq!(
        trunk["endpoint_sid"], endpoint_sid,
        "a trunk leads where its group does"
    );
    assert_eq!(trunk["trunk_group_sid"], group_sid);
    assert_eq!(trunk["allow_transfer"], false);
    assert_eq!(trunk["name"], "N/A");

    // II. Assign a phone number to the trunk group.
    let did = env
        .create(
            "/core/v2/phonenumber/dids",
            json!({"phonenumber": "15162065320", "trunk_group_sid": group_sid}),
        )
        .await;
    assert_eq!(
        keys(&did),
        [
            "attributes",
            "capabilities",
            "country_code",
            "date_created",
            "did_sid",
            "in_country_format",
            "international_format",
            "name",
            "partner_sid",
            "phonenumber",
            "trunk_group_sid"
        ]
    );
    assert_eq!(did["in_country_format"], "(516) 206-5320");
    assert_eq!(did["international_format"], "+1 516-206-5320");
    assert_eq!(did["country_code"], "USA");
    assert_eq!(did["trunk_group_sid"], group_sid);

    // Inbound calls to the number reach the new endpoint's account.
    let (routed, account) = env
        .store
        .route_number("15162065320")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(routed.did_sid, sid(&did, "did_sid"));
    assert_eq!(account.login, login);
    assert_eq!(account.account_sid, sid(props, "account_sid"));

    // V. The endpoint's credentials work on the FlexML API at once and see only its DID.
    let flexml = basic(login, password);
    let (status, dids) = raw(&env.app, "GET", "/flexml/v1/dids", Some(&flexml), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dids["total"], 1);
    assert_eq!(dids["items"][0]["phonenumber"], "15162065320");
    assert_eq!(
        dids["items"][0]["account_sid"],
        account.account_sid.as_str()
    );
    // IV. The inbound handler URL on the number.
    let uri = format!("/flexml/v1/dids/{}", sid(&did, "did_sid"));
    let (status, body) = raw(
        &env.app,
        "PATCH",
        &uri,
        Some(&flexml),
        Some((
            "application/json",
            r#"{"url":"https://fdc4165a.ngrok.io/hello"}"#,
        )),
    )
    .await;
    assert_eq!(
        (status, &body["url"]),
        (StatusCode::OK, &json!("https://fdc4165a.ngrok.io/hello"))
    );
    let (routed, _) = env
        .store
        .route_number("15162065320")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        routed.url.as_deref(),
        Some("https://fdc4165a.ngrok.io/hello")
    );
    let (_, accounts) = raw(&env.app, "GET", "/flexml/v1/accounts", Some(&flexml), None).await;
    assert_eq!(accounts["items"][0]["account_sid"], props["account_sid"]);
    assert_eq!(accounts["items"][0]["name"], "flexml");

    // The demo endpoint's credentials do not see the new DID.
    let demo = basic(&env.demo.login, &env.demo.password);
    let (_, dids) = raw(&env.app, "GET", "/flexml/v1/dids", Some(&demo), None).await;
    assert_eq!(dids["total"], 1);
    assert_eq!(dids["items"][0]["phonenumber"], "15162065319");

    // Deleting the endpoint deletes its account: the credentials stop working, the number
    // stops routing, the trunk group stays without an endpoint.
    let (status, body) = env
        .call(
            "DELETE",
            &format!("/core/v2/endpoints/{endpoint_sid}"),
            None,
        )
        .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _) = raw(&env.app, "GET", "/flexml/v1/dids", Some(&flexml), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(env
        .store
        .route_number("15162065320")
        .await
        .unwrap()
        .is_none());
    let (_, group) = env
        .call("GET", &format!("/core/v2/trunk_groups/{group_sid}"), None)
        .await;
    assert_eq!(group["endpoint_sid"], Value::Null);
    assert_eq!(group["trunks"][0]["endpoint_sid"], Value::Null);
    // The demo still answers.
    assert!(env
        .store
        .route_number("15162065319")
        .await
        .unwrap()
        .is_some());
}

/// `2018-10-16T20:59:18.094Z`.
fn chrono_like(date: &str) -> bool {
    let b = date.as_bytes();
    date.len() == 24
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && date.ends_with('Z')
        && date
            .bytes()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10 | 13 | 16 | 19 | 23) || c.is_ascii_digit())
}

async fn patch_follows_the_seeds_rules_for_nested_objects(backend: Backend) {
    let env = setup(backend, "patch").await;
    let endpoint = env
        .create(
            "/core/v2/endpoints",
            json!({"name": "conf", "type": "conference", "capacity": 10}),
        )
        .await;
    let uri = format!("/core/v2/endpoints/{}", sid(&endpoint, "endpoint_sid"));
    let patch = |body: Value, query: &'static str| {
        let uri = format!("{uri}{query}");
        let env = &env;
        async move {
            let (status, body) = env.call("PATCH", &uri, Some(body)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let body = patch(json!({"attributes": {"name": "New Partner Name"}}), "").await;
    assert_eq!(body["attributes"], json!({"name": "New Partner Name"}));
    let body = patch(json!({"attributes": {"name2": "New Partner Name 2"}}), "").await;
    assert_eq!(
        body["attributes"],
        json!({"name": "New Partner Name", "name2": "New Partner Name 2"})
    );
    let body = patch(
        json!({"attributes": {"name3": "New Partner Name 3"}}),
        "?nested_objects=replace",
    )
    .await;
    assert_eq!(body["attributes"], json!({"name3": "New Partner Name 3"}));
    let body = patch(json!({"attributes": {"name3": null, "k": "v"}}), "").await;
    assert_eq!(body["attributes"], json!({"k": "v"}));
    let body = patch(json!({"attributes": null, "name": "conf2"}), "").await;
    assert_eq!(
        body["attributes"],
        json!({}),
        "null for the whole object empties it"
    );
    let body = patch(json!({"attributes": {"k": "v"}}), "").await;
    assert_eq!(body["name"], "conf2");
    assert_eq!(body["capacity"], 10, "PATCH keeps fields it does not name");

    // properties merge too, and the generated ones stay whatever the mode.
    let before = endpoint["properties"].clone();
    let body = patch(json!({"properties": {"container_sid": "c1"}}), "").await;
    assert_eq!(body["properties"]["container_sid"], "c1");
    assert_eq!(body["properties"]["login"], before["login"]);
    let body = patch(
        json!({"properties": {"room": "1"}}),
        "?nested_objects=replace",
    )
    .await;
    assert_eq!(
        keys(&body["properties"]),
        ["account_sid", "api_url", "login", "password", "room"]
    );
    let body = patch(json!({"properties": {"login": null, "password": null}}), "").await;
    assert_eq!(
        body["properties"]["login"], before["login"],
        "null cannot remove them"
    );
    let (status, err) = env
        .call(
            "PATCH",
            &uri,
            Some(json!({"properties": {"login": "mine"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&err), ["properties"]);

    // PUT replaces the object: what it does not send returns to the default.
    let (status, put) = env
        .call(
            "PUT",
            &uri,
            Some(json!({"name": "renamed", "attributes": {"a": "b"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["name"], "renamed");
    assert_eq!(put["capacity"], 0);
    assert_eq!(put["attributes"], json!({"a": "b"}));
    assert_eq!(put["type"], "conference");
    assert_eq!(
        keys(&put["properties"]),
        ["account_sid", "api_url", "login", "password"]
    );
    // A PUT of what GET returned changes nothing.
    let (_, got) = env.call("GET", &uri, None).await;
    let (status, again) = env.call("PUT", &uri, Some(got.clone())).await;
    assert_eq!((status, &again), (StatusCode::OK, &got));
    // GET one with field selection.
    let (_, some) = env
        .call("GET", &format!("{uri}?include_fields=name,type"), None)
        .await;
    assert_eq!(some, json!({"name": "renamed", "type": "conference"}));
}

async fn endpoint_types_and_fields_are_validated(backend: Backend) {
    let env = setup(backend, "types").await;
    for kind in [
        "flexml",
        "conference",
        "conference_playback",
        "mediator",
        "voicemail",
    ] {
        let e = env
            .create("/core/v2/endpoints", json!({"name": kind, "type": kind}))
            .await;
        assert_eq!(e["properties"]["api_url"], format!("/{kind}/v1"));
        assert!(e["properties"]["login"].as_str().unwrap().starts_with(kind));
    }
    let third = env
        .create(
            "/core/v2/endpoints",
            json!({"name": "pbx", "addresses": [{"ip": "192.0.2.1", "port": 5060}],
                   "properties": {"login": "free"}, "out_sip_username": "u",
                   "out_sip_password": "p", "voip_token": "t"}),
        )
        .await;
    assert_eq!(third["type"], "third_party", "the default type");
    assert_eq!(third["properties"], json!({"login": "free"}));
    assert_eq!(third["addresses"][0]["port"], 5060);
    assert_eq!(
        (
            &third["out_sip_username"],
            &third["out_sip_password"],
            &third["voip_token"]
        ),
        (&json!("u"), &json!("p"), &json!("t"))
    );
    let (_, e) = env
        .call("GET", "/core/v2/endpoints?filter=name+eq+flexml", None)
        .await;
    assert_eq!(e["total"], 1);

    let (status, body) = env
        .call(
            "POST",
            "/core/v2/endpoints",
            Some(json!({"name": "x", "type": "sip"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["message"], "object validation error");
    assert_eq!(error_fields(&body), ["type"]);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("flexml, conference, conference_playback, mediator, voicemail, third_party"));
    assert_eq!(body["errors"][0]["reference_sid"], Value::Null);

    // Every bad field is reported at once.
    let (status, body) = env
        .call(
            "POST",
            "/core/v2/endpoints",
            Some(
                json!({"name": 5, "capacity": -1, "addresses": "x", "attributes": [1],
                        "type": 7, "colour": "red", "endpoint_sid": "ignored"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&body),
        [
            "addresses",
            "attributes",
            "capacity",
            "colour",
            "name",
            "type"
        ]
    );
    // Generated properties cannot be chosen for an application endpoint.
    let (status, body) = env
        .call(
            "POST",
            "/core/v2/endpoints",
            Some(json!({"type": "flexml", "properties": {"password": "p"}})),
        )
        .await;
    assert_eq!(
        (status, error_fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["properties"])
    );
    // The type is chosen once.
    let uri = format!("/core/v2/endpoints/{}", sid(&third, "endpoint_sid"));
    let (status, body) = env
        .call("PATCH", &uri, Some(json!({"type": "flexml"})))
        .await;
    assert_eq!(
        (status, error_fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["type"])
    );
    let (status, _) = env
        .call(
            "PATCH",
            &uri,
            Some(json!({"type": "third_party", "capacity": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn lists_filter_order_page_and_select(backend: Backend) {
    let env = setup(backend, "lists").await;
    for (name, kind) in [
        ("a", "conference"),
        ("b", "third_party"),
        ("c", "conference"),
        ("d", "mediator"),
    ] {
        env.create("/core/v2/endpoints", json!({"name": name, "type": kind}))
            .await;
    }
    let (status, body) = env
        .call(
            "GET",
            "/core/v2/endpoints?filter=type+eq+conference&order=name+desc",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c", "a"]);

    let (_, page) = env
        .call(
            "GET",
            "/core/v2/endpoints?order=name&limit=2&offset=2",
            None,
        )
        .await;
    assert_eq!(
        (&page["count"], &page["total"], &page["has_more"]),
        (&json!(2), &json!(5), &json!(true))
    );
    assert_eq!(page["items"][0]["name"], "c");
    assert_eq!(
        page["pagination"]["next"],
        "http://127.0.0.1:8080/core/v2/endpoints?order=name&limit=2&offset=4"
    );
    assert_eq!(
        page["pagination"]["previous"],
        "http://127.0.0.1:8080/core/v2/endpoints?order=name&limit=2&offset=0"
    );
    let (_, some) = env
        .call(
            "GET",
            "/core/v2/endpoints?include_fields=name,type&limit=1",
            None,
        )
        .await;
    assert_eq!(keys(&some["items"][0]), ["name", "type"]);
    let (_, big) = env
        .call(
            "GET",
            "/core/v2/endpoints?filter=capacity+ge+0+and+properties.api_url+ne+null",
            None,
        )
        .await;
    assert_eq!(
        big["total"], 4,
        "the demo endpoint and the three application endpoints"
    );

    // Trunk groups, trunks and DIDs list the same way.
    let group = env
        .create(
            "/core/v2/trunk_groups",
            json!({"name": "g1", "routing_type": "round_robin"}),
        )
        .await;
    env.create("/core/v2/trunk_groups", json!({"name": "g2"}))
        .await;
    let (_, groups) = env
        .call(
            "GET",
            "/core/v2/trunk_groups?filter=routing_type+eq+round_robin",
            None,
        )
        .await;
    assert_eq!(groups["total"], 1);
    assert_eq!(groups["items"][0]["name"], "g1");
    let (_, groups) = env.call("GET", "/core/v2/trunk_groups", None).await;
    assert_eq!(groups["total"], 3, "with the demo's");
    let trunks = format!(
        "/core/v2/trunk_groups/{}/trunks",
        sid(&group, "trunk_group_sid")
    );
    env.create(&trunks, json!({"name": "t1"})).await;
    env.create(&trunks, json!({"name": "t2", "allow_transfer": true}))
        .await;
    let (_, list) = env
        .call(
            "GET",
            &format!("{trunks}?filter=allow_transfer+eq+true"),
            None,
        )
        .await;
    assert_eq!(
        (list["total"].clone(), list["items"][0]["name"].clone()),
        (json!(1), json!("t2"))
    );
    let (_, got) = env
        .call(
            "GET",
            &format!("/core/v2/trunk_groups/{}", sid(&group, "trunk_group_sid")),
            None,
        )
        .await;
    assert_eq!(got["trunks"].as_array().unwrap().len(), 2);

    for (number, capabilities) in [("15162065330", 4), ("442071234567", 3)] {
        env.create(
            "/core/v2/phonenumber/dids",
            json!({"phonenumber": number, "capabilities": capabilities}),
        )
        .await;
    }
    let (_, dids) = env
        .call(
            "GET",
            "/core/v2/phonenumber/dids?filter=capabilities+bit+4",
            None,
        )
        .await;
    let numbers: Vec<&str> = dids["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["phonenumber"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        ["15162065319", "15162065330"],
        "the demo DID is voice"
    );
    let (_, dids) = env
        .call(
            "GET",
            "/core/v2/phonenumber/dids?filter=international_format+like+%22%2B44%25%22",
            None,
        )
        .await;
    assert_eq!(dids["total"], 1);

    // Bad list parameters: 400 for what does not parse, 422 for what the object lacks.
    for (query, status, field) in [
        ("filter=type+zz+x", StatusCode::BAD_REQUEST, "filter"),
        ("order=name+up", StatusCode::BAD_REQUEST, "order"),
        (
            "filter=colour+eq+red",
            StatusCode::UNPROCESSABLE_ENTITY,
            "filter",
        ),
        (
            "filter=capacity+eq+abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "filter",
        ),
        ("order=addresses", StatusCode::UNPROCESSABLE_ENTITY, "order"),
        ("limit=1001", StatusCode::UNPROCESSABLE_ENTITY, "limit"),
        ("offset=-1", StatusCode::UNPROCESSABLE_ENTITY, "offset"),
        ("limit=1&limit=2", StatusCode::BAD_REQUEST, "query"),
    ] {
        let (got, body) = env
            .call("GET", &format!("/core/v2/endpoints?{query}"), None)
            .await;
        assert_eq!(got, status, "{query}: {body}");
        assert_eq!(error_fields(&body), [field], "{query}");
    }
}

async fn trunk_groups_trunks_and_dids_update_and_delete(backend: Backend) {
    let env = setup(backend, "crud").await;
    let endpoint = env
        .create("/core/v2/endpoints", json!({"name": "f", "type": "flexml"}))
        .await;
    let endpoint_sid = sid(&endpoint, "endpoint_sid");
    let group = env.create("/core/v2/trunk_groups", json!({})).await;
    assert_eq!(
        (&group["name"], &group["endpoint_sid"]),
        (&json!("N/A"), &Value::Null)
    );
    let group_uri = format!("/core/v2/trunk_groups/{}", sid(&group, "trunk_group_sid"));

    let (status, body) = env
        .call("PATCH", &group_uri, Some(json!({"routing_type": "random"})))
        .await;
    assert_eq!(
        (status, error_fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["routing_type"])
    );
    let (status, body) = env
        .call(
            "PATCH",
            &group_uri,
            Some(json!({"endpoint_sid": endpoint_sid, "name": "main", "trunks": []})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["endpoint_sid"], &body["name"]),
        (&json!(endpoint_sid), &json!("main"))
    );

    // A DID assigned later routes too; its attributes merge like an endpoint's.
    let did = env
        .create(
            "/core/v2/phonenumber/dids",
            json!({"phonenumber": "15162065321", "name": "line", "attributes": {"a": "1"}}),
        )
        .await;
    assert_eq!(did["trunk_group_sid"], Value::Null);
    assert!(env
        .store
        .route_number("15162065321")
        .await
        .unwrap()
        .is_none());
    let did_uri = format!("/core/v2/phonenumber/dids/{}", sid(&did, "did_sid"));
    let (status, body) = env
        .call(
            "PATCH",
            &did_uri,
            Some(json!({"trunk_group_sid": group["trunk_group_sid"], "attributes": {"b": "2"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["attributes"], json!({"a": "1", "b": "2"}));
    assert_eq!(body["name"], "line");
    let (_, account) = env
        .store
        .route_number("15162065321")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        account.login,
        endpoint["properties"]["login"].as_str().unwrap()
    );
    // The number is fixed; sending it unchanged (a PUT of GET's output) is fine.
    let (status, body) = env
        .call(
            "PATCH",
            &did_uri,
            Some(json!({"phonenumber": "15162065399"})),
        )
        .await;
    assert_eq!(
        (status, error_fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["phonenumber"])
    );
    let (_, got) = env.call("GET", &did_uri, None).await;
    let (status, put) = env.call("PUT", &did_uri, Some(got.clone())).await;
    assert_eq!((status, &put), (StatusCode::OK, &got));
    let (status, body) = env
        .call("PATCH", &did_uri, Some(json!({"capabilities": 32})))
        .await;
    assert_eq!(
        (status, error_fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["capabilities"])
    );

    // Trunks: update, get, delete.
    let trunk = env
        .create(
            &format!("{group_uri}/trunks"),
            json!({"name": "t", "endpoint_sid": null}),
        )
        .await;
    assert_eq!(
        trunk["endpoint_sid"],
        Value::Null,
        "an explicit null is kept"
    );
    let trunk_uri = format!("{group_uri}/trunks/{}", sid(&trunk, "trunk_sid"));
    let (status, body) = env
        .call(
            "PATCH",
            &trunk_uri,
            Some(json!({"allow_transfer": true, "endpoint_sid": endpoint_sid})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["allow_transfer"], &body["endpoint_sid"]),
        (&json!(true), &json!(endpoint_sid))
    );
    let (status, body) = env
        .call("PATCH", &trunk_uri, Some(json!({"allow_transfer": "yes"})))
        .await;
    assert_eq!(
        (status, error_fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["allow_transfer"])
    );
    let (status, _) = env.call("DELETE", &trunk_uri, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = env.call("GET", &trunk_uri, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deleting the group unassigns its DIDs; deleting a DID frees its number.
    let (status, _) = env.call("DELETE", &group_uri, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = env.call("GET", &did_uri, None).await;
    assert_eq!(got["trunk_group_sid"], Value::Null);
    assert!(env
        .store
        .route_number("15162065321")
        .await
        .unwrap()
        .is_none());
    let (status, _) = env.call("DELETE", &did_uri, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = env.call("DELETE", &did_uri, None).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::NOT_FOUND, &json!("no item error"))
    );
    env.create(
        "/core/v2/phonenumber/dids",
        json!({"phonenumber": "15162065321"}),
    )
    .await;
}

async fn another_partners_objects_are_invisible(backend: Backend) {
    let env = setup(backend, "partners").await;
    let endpoint = env
        .create(
            "/core/v2/endpoints",
            json!({"name": "mine", "type": "flexml"}),
        )
        .await;
    let group = env
        .create(
            "/core/v2/trunk_groups",
            json!({"endpoint_sid": endpoint["endpoint_sid"]}),
        )
        .await;
    let trunk = env
        .create(
            &format!(
                "/core/v2/trunk_groups/{}/trunks",
                sid(&group, "trunk_group_sid")
            ),
            json!({}),
        )
        .await;
    let did = env
        .create(
            "/core/v2/phonenumber/dids",
            json!({"phonenumber": "15162065322", "trunk_group_sid": group["trunk_group_sid"]}),
        )
        .await;
    let objects = [
        format!("/core/v2/endpoints/{}", sid(&endpoint, "endpoint_sid")),
        format!("/core/v2/trunk_groups/{}", sid(&group, "trunk_group_sid")),
        format!(
            "/core/v2/trunk_groups/{}/trunks/{}",
            sid(&group, "trunk_group_sid"),
            sid(&trunk, "trunk_sid")
        ),
        format!("/core/v2/phonenumber/dids/{}", sid(&did, "did_sid")),
    ];
    for uri in &objects {
        for (method, body) in [
            ("GET", None),
            ("PATCH", Some(json!({"name": "x"}))),
            ("PUT", Some(json!({}))),
            ("DELETE", None),
        ] {
            let (status, err) = env.call_as(&env.other, method, uri, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}: {err}");
            assert_eq!(err["message"], "no item error");
            assert_eq!(err["errors"][0]["field"], Value::Null);
        }
        // Still there for the owner.
        assert_eq!(env.call("GET", uri, None).await.0, StatusCode::OK, "{uri}");
    }
    let trunks = format!(
        "/core/v2/trunk_groups/{}/trunks",
        sid(&group, "trunk_group_sid")
    );
    for method in ["GET", "POST"] {
        let body = (method == "POST").then(|| json!({}));
        let (status, _) = env.call_as(&env.other, method, &trunks, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {trunks}");
    }
    for list in [
        "/core/v2/endpoints",
        "/core/v2/trunk_groups",
        "/core/v2/phonenumber/dids",
    ] {
        let (status, body) = env.call_as(&env.other, "GET", list, None).await;
        assert_eq!(
            (status, &body["total"]),
            (StatusCode::OK, &json!(0)),
            "{list}"
        );
    }

    // References to my objects from the other partner are 422s naming the SID.
    let (status, err) = env
        .call_as(
            &env.other,
            "POST",
            "/core/v2/trunk_groups",
            Some(json!({"endpoint_sid": endpoint["endpoint_sid"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        err["errors"][0],
        json!({"field": "endpoint_sid", "message": "cannot find endpoint",
               "reference_sid": endpoint["endpoint_sid"]})
    );
    let (status, err) = env
        .call_as(
            &env.other,
            "POST",
            "/core/v2/phonenumber/dids",
            Some(
                json!({"phonenumber": "15162065323", "trunk_group_sid": group["trunk_group_sid"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["field"], "trunk_group_sid");
    assert_eq!(err["errors"][0]["message"], "cannot find trunk group");
    assert_eq!(err["errors"][0]["reference_sid"], group["trunk_group_sid"]);
    // An unknown endpoint on my own trunk and trunk group too.
    let (status, err) = env
        .call(
            "PATCH",
            &objects[1],
            Some(json!({"endpoint_sid": "00000000-0000-0000-0000-000000000000"})),
        )
        .await;
    assert_eq!(
        (status, error_fields(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["endpoint_sid"])
    );
    let (status, _) = env
        .call("PATCH", &objects[2], Some(json!({"endpoint_sid": "nope"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A number is the server's once: taken by another partner is a conflict too.
    let (status, err) = env
        .call_as(
            &env.other,
            "POST",
            "/core/v2/phonenumber/dids",
            Some(json!({"phonenumber": "15162065322"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["errors"][0]["field"], "phonenumber");
}

async fn every_error_uses_the_reference_shape(backend: Backend) {
    let env = setup(backend, "errors").await;
    let endpoint = env
        .create("/core/v2/endpoints", json!({"name": "e", "type": "flexml"}))
        .await;
    let endpoint_uri = format!("/core/v2/endpoints/{}", sid(&endpoint, "endpoint_sid"));

    // 401: no header, a wrong token, Basic credentials of an endpoint.
    let flexml = basic(
        endpoint["properties"]["login"].as_str().unwrap(),
        endpoint["properties"]["password"].as_str().unwrap(),
    );
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer "),
        Some(flexml.as_str()),
    ] {
        for (method, uri) in [
            ("GET", "/core/v2/endpoints"),
            ("POST", "/core/v2/endpoints"),
            ("GET", endpoint_uri.as_str()),
            ("DELETE", endpoint_uri.as_str()),
            ("GET", "/core/v2/trunk_groups"),
            ("GET", "/core/v2/phonenumber/dids"),
        ] {
            let body = (method == "POST").then_some(("application/json", "{}"));
            let (status, err) = raw(&env.app, method, uri, auth, body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri} {auth:?}");
            assert_eq!(
                err,
                json!({"message": "authentication required", "errors": [
                    {"field": "cause", "message": "authentication required", "reference_sid": null}]})
            );
        }
    }
    assert_eq!(
        env.call("GET", &endpoint_uri, None).await.0,
        StatusCode::OK,
        "not deleted"
    );

    // 404: unknown SIDs and routes.
    for uri in [
        "/core/v2/endpoints/nope",
        "/core/v2/trunk_groups/nope",
        "/core/v2/trunk_groups/nope/trunks",
        "/core/v2/trunk_groups/nope/trunks/nope",
        "/core/v2/phonenumber/dids/nope",
        "/core/v2/nothing",
    ] {
        let (status, err) = env.call("GET", uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(err["message"], "no item error", "{uri}");
    }

    // 400, 415 and 422 on every writing route.
    let group = env.create("/core/v2/trunk_groups", json!({})).await;
    let group_uri = format!("/core/v2/trunk_groups/{}", sid(&group, "trunk_group_sid"));
    let trunk = env.create(&format!("{group_uri}/trunks"), json!({})).await;
    let did = env
        .create(
            "/core/v2/phonenumber/dids",
            json!({"phonenumber": "15162065324"}),
        )
        .await;
    let writes = [
        ("POST", "/core/v2/endpoints".to_string()),
        ("PATCH", endpoint_uri.clone()),
        ("PUT", endpoint_uri.clone()),
        ("POST", "/core/v2/trunk_groups".to_string()),
        ("PATCH", group_uri.clone()),
        ("PUT", group_uri.clone()),
        ("POST", format!("{group_uri}/trunks")),
        (
            "PATCH",
            format!("{group_uri}/trunks/{}", sid(&trunk, "trunk_sid")),
        ),
        (
            "PUT",
            format!("{group_uri}/trunks/{}", sid(&trunk, "trunk_sid")),
        ),
        ("POST", "/core/v2/phonenumber/dids".to_string()),
        (
            "PATCH",
            format!("/core/v2/phonenumber/dids/{}", sid(&did, "did_sid")),
        ),
        (
            "PUT",
            format!("/core/v2/phonenumber/dids/{}", sid(&did, "did_sid")),
        ),
    ];
    for (method, uri) in &writes {
        let auth = Some(env.auth.as_str());
        let (status, err) = raw(
            &env.app,
            method,
            uri,
            auth,
            Some(("application/json", "{not json")),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {uri}");
        assert_eq!(err["message"], "cannot parse json");
        assert!(err["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot parse json"));
        for body in ["[1]", "\"x\"", "null", ""] {
            let (status, _) = raw(
                &env.app,
                method,
                uri,
                auth,
                Some(("application/json", body)),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {uri} {body:?}");
        }
        let (status, err) = raw(&env.app, method, uri, auth, Some(("text/plain", "{}"))).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{method} {uri}");
        assert_eq!(err["message"], "unsupported media type");
        let (status, err) = env.call(method, uri, Some(json!({"colour": "red"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {uri}");
        assert_eq!(err["message"], "object validation error");
        assert!(
            error_fields(&err).contains(&"colour"),
            "{method} {uri}: {err}"
        );
        // Wrong JSON types for every field are 422s, never 500s.
        for field in [
            "name",
            "type",
            "capacity",
            "addresses",
            "attributes",
            "properties",
            "transformations",
            "out_sip_username",
            "voip_token",
            "endpoint_sid",
            "routing_type",
            "allow_transfer",
            "phonenumber",
            "capabilities",
            "trunk_group_sid",
        ] {
            for value in [
                json!(12.5),
                json!([{"a": 1}]),
                json!({"x": [1]}),
                json!(true),
            ] {
                let (status, err) = env.call(method, uri, Some(json!({ field: value }))).await;
                assert!(
                    status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
                    "{method} {uri} {field}={value}: {status} {err}"
                );
            }
        }
    }
    // A body with no Content-Type, or curl's default form type, is read as JSON.
    let (status, _) = raw(
        &env.app,
        "POST",
        "/core/v2/trunk_groups",
        Some(&env.auth),
        Some(("application/x-www-form-urlencoded", "{\"name\":\"curl\"}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // 422: phone numbers that are not E.164 digits, or none at all.
    for number in [
        json!("+15162065325"),
        json!("1516-206-5325"),
        json!("abc"),
        json!("0123"),
        json!("1"),
        json!("1234567890123456"),
        json!(15162065325_i64),
        json!(null),
    ] {
        let (status, err) = env
            .call(
                "POST",
                "/core/v2/phonenumber/dids",
                Some(json!({"phonenumber": number})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{number}");
        assert_eq!(error_fields(&err), ["phonenumber"], "{number}");
    }
    let (status, err) = env
        .call(
            "POST",
            "/core/v2/phonenumber/dids",
            Some(json!({"name": "n"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        err["errors"][0],
        json!({"field": "phonenumber", "message": "is required", "reference_sid": null})
    );
    let (_, err) = env
        .call(
            "POST",
            "/core/v2/phonenumber/dids",
            Some(json!({"capabilities": "x"})),
        )
        .await;
    assert_eq!(error_fields(&err), ["phonenumber", "capabilities"]);

    // 409: a number that exists (the demo's, and one created here).
    for number in ["15162065319", "15162065324"] {
        let (status, err) = env
            .call(
                "POST",
                "/core/v2/phonenumber/dids",
                Some(json!({"phonenumber": number})),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{number}");
        assert_eq!(err["message"], "conflict error");
        assert_eq!(err["errors"][0]["field"], "phonenumber");
        assert!(err["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(number));
    }

    // 422: an unknown nested_objects mode.
    let (status, err) = env
        .call(
            "PATCH",
            &format!("{endpoint_uri}?nested_objects=deep"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, error_fields(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["nested_objects"])
    );

    // 405 for a method a route does not have, and DELETE twice is a 404.
    let (status, _) = env.call("DELETE", "/core/v2/endpoints", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        env.call("DELETE", &endpoint_uri, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.call("DELETE", &endpoint_uri, None).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn the_demo_is_visible_and_whoami_still_answers(backend: Backend) {
    let env = setup(backend, "demo").await;
    let (status, body) = env.call("GET", "/core/v2/oauth/whoami", None).await;
    assert_eq!(
        (status, &body["partner_sid"]),
        (StatusCode::OK, &json!(env.demo.partner_sid))
    );
    let (_, endpoints) = env.call("GET", "/core/v2/endpoints", None).await;
    let demo = &endpoints["items"][0];
    assert_eq!(demo["name"], "demo_flexml");
    assert_eq!(demo["properties"]["login"], env.demo.login.as_str());
    assert_eq!(
        demo["properties"]["account_sid"],
        env.demo.account_sid.as_str()
    );
    assert_eq!(
        (&demo["capacity"], &demo["addresses"]),
        (&json!(0), &json!([]))
    );
    let (_, dids) = env.call("GET", "/core/v2/phonenumber/dids", None).await;
    assert_eq!(dids["items"][0]["did_sid"], env.demo.did_sid.as_str());
    assert_eq!(dids["items"][0]["name"], "N/A");
    let (_, groups) = env.call("GET", "/core/v2/trunk_groups", None).await;
    assert_eq!(
        dids["items"][0]["trunk_group_sid"],
        groups["items"][0]["trunk_group_sid"]
    );
    assert_eq!(groups["items"][0]["endpoint_sid"], demo["endpoint_sid"]);
}

store::backend_tests!(
    the_quick_start_end_to_end,
    patch_follows_the_seeds_rules_for_nested_objects,
    endpoint_types_and_fields_are_validated,
    lists_filter_order_page_and_select,
    trunk_groups_trunks_and_dids_update_and_delete,
    another_partners_objects_are_invisible,
    every_error_uses_the_reference_shape,
    the_demo_is_visible_and_whoami_still_answers,
);
