//! The FlexML API's Calls requests of the seeds, replayed against the router on a real SQLite
//! file. Dialing is not part of the API: no scheduler runs here, calls only wait.

use api::{router, ApiState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use serde_json::{json, Value};
use store::testing::{self, Backend, TestStore};
use store::DemoCredentials;
use tower::ServiceExt;

/// The seed's calling DID, provisioned as the demo DID.
const CALLING_DID: &str = "19093189029";

struct Env {
    app: axum::Router,
    creds: DemoCredentials,
    auth: String,
    /// Keeps the test's database until the test ends.
    _db: TestStore,
}

async fn setup(backend: Backend, name: &str) -> Env {
    let db = testing::open(backend, name).await.unwrap();
    let store = db.store();
    let creds = store
        .provision_demo(None, CALLING_DID, "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    let auth = basic(&creds.login, &creds.password);
    Env {
        app: router(ApiState::new(store)),
        creds,
        auth,
        _db: db,
    }
}

fn basic(login: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"))
    )
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    auth: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:8080")
        .header("authorization", auth);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let resp = app
        .clone()
        .oneshot(
            req.body(Body::from(body.unwrap_or("").to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

fn error_fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

async fn the_quick_start_post_calls_example(backend: Backend) {
    let env = setup(backend, "seed").await;
    let (status, body) = call(
        &env.app,
        "POST",
        "/flexml/v1/calls",
        &env.auth,
        Some(r#"{"calling_did":"19093189029", "called_did":"15162065575", "url":"https://fdc4165a.ngrok.io/hello"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        keys(&body),
        [
            "account_sid",
            "attributes",
            "call_sid",
            "called_did",
            "calling_did",
            "date_created",
            "delay",
            "method",
            "status_callback_method",
            "status_callback_url",
            "url"
        ]
    );
    assert_eq!(body["account_sid"], env.creds.account_sid.as_str());
    assert_eq!(body["attributes"], json!({}));
    assert_eq!(body["called_did"], "15162065575");
    assert_eq!(body["calling_did"], CALLING_DID);
    assert_eq!(body["delay"], 0);
    assert_eq!(body["method"], "POST");
    assert_eq!(body["status_callback_method"], "POST");
    assert_eq!(body["status_callback_url"], Value::Null);
    assert_eq!(body["url"], "https://fdc4165a.ngrok.io/hello");
    let date = body["date_created"].as_str().unwrap();
    assert_eq!(date.len(), "2019-02-15T20:24:15.736Z".len(), "{date}");
    assert!(date.ends_with('Z'));

    // The reference's minimal request: url stays null (the DID's url applies at dial time).
    let (status, body) = call(
        &env.app,
        "POST",
        "/flexml/v1/calls",
        &env.auth,
        Some(r#"{"calling_did":"19093189029", "called_did":"sip:bob@example.com", "attributes": {"cnam": "Flexvox", "sip_header_X-Ticket": "42"}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["url"], Value::Null);
    assert_eq!(body["called_did"], "sip:bob@example.com");
    assert_eq!(body["attributes"]["sip_header_X-Ticket"], "42");

    // An immediate call is not in the list of calls scheduled for the future.
    let (status, list) = call(&env.app, "GET", "/flexml/v1/calls", &env.auth, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 0);
}

async fn invalid_fields_are_422_with_field_errors(backend: Backend) {
    let env = setup(backend, "invalid").await;
    let cases: &[(&str, &[&str])] = &[
        (
            r#"{"calling_did":"15550009999","called_did":"15162065575"}"#,
            &["calling_did"],
        ),
        (
            r#"{"calling_did":"not a number","called_did":"15162065575"}"#,
            &["calling_did"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"call me"}"#,
            &["called_did"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"sip:"}"#,
            &["called_did"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","method":"PUT"}"#,
            &["method"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","status_callback_method":"DELETE"}"#,
            &["status_callback_method"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","url":"ftp://x"}"#,
            &["url"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","status_callback_url":5}"#,
            &["status_callback_url"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","delay":-1}"#,
            &["delay"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","delay":"10"}"#,
            &["delay"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","delay":1.5}"#,
            &["delay"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","delay":99999999999999}"#,
            &["delay"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","attributes":{"colour":"red"}}"#,
            &["attributes"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","attributes":{"sip_header_Via":"x"}}"#,
            &["attributes"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","attributes":{"sip_header_X-A":"a\r\nVia: x"}}"#,
            &["attributes"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","attributes":{"cnam":5}}"#,
            &["attributes"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","attributes":[]}"#,
            &["attributes"],
        ),
        (
            r#"{"calling_did":"19093189029","called_did":"15162065575","colour":1}"#,
            &["colour"],
        ),
        (r#"{"called_did":"15162065575"}"#, &["calling_did"]),
        (r#"{}"#, &["called_did", "calling_did"]),
    ];
    for (body, fields) in cases {
        let (status, resp) =
            call(&env.app, "POST", "/flexml/v1/calls", &env.auth, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {resp}");
        assert_eq!(resp["message"], "object validation error");
        let mut got = error_fields(&resp);
        got.sort();
        assert_eq!(&got, fields, "{body}: {resp}");
    }
    let (status, _) = call(
        &env.app,
        "POST",
        "/flexml/v1/calls",
        &env.auth,
        Some("{nope"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&env.app, "POST", "/flexml/v1/calls", &env.auth, Some("[1]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &env.app,
        "GET",
        "/flexml/v1/calls?filter=colour+eq+1",
        &env.auth,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(&env.app, "GET", "/flexml/v1/calls", "Basic eDp5", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn list_counts_down_and_patch_put_delete_change_a_scheduled_call(backend: Backend) {
    let env = setup(backend, "lifecycle").await;
    let (status, created) = call(
        &env.app,
        "POST",
        "/flexml/v1/calls",
        &env.auth,
        Some(r#"{"calling_did":"19093189029", "called_did":"15162065318", "delay": 100}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(created["delay"], 100);
    let sid = created["call_sid"].as_str().unwrap().to_string();

    let (status, list) = call(&env.app, "GET", "/flexml/v1/calls", &env.auth, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((&list["count"], &list["total"]), (&json!(1), &json!(1)));
    assert_eq!((&list["limit"], &list["offset"]), (&json!(10), &json!(0)));
    assert_eq!(list["has_more"], false);
    assert_eq!(list["pagination"], json!({}));
    let delay = list["items"][0]["delay"].as_i64().unwrap();
    assert!(0 < delay && delay <= 100, "{delay}");
    assert_eq!(list["items"][0]["call_sid"], sid.as_str());

    // Filter and order on the call's fields, delay included.
    let (_, list) = call(
        &env.app,
        "GET",
        "/flexml/v1/calls?filter=delay+gt+50&order=delay+desc",
        &env.auth,
        None,
    )
    .await;
    assert_eq!(list["total"], 1, "{list}");
    let (_, list) = call(
        &env.app,
        "GET",
        "/flexml/v1/calls?filter=called_did+eq+15550000000",
        &env.auth,
        None,
    )
    .await;
    assert_eq!(list["total"], 0);

    let uri = format!("/flexml/v1/calls/{sid}");
    let (status, got) = call(&env.app, "GET", &uri, &env.auth, None).await;
    assert_eq!(status, StatusCode::OK);
    let d = got["delay"].as_i64().unwrap();
    assert!(0 < d && d <= 100);

    // The seed's PATCH.
    let (status, patched) = call(
        &env.app,
        "PATCH",
        &uri,
        &env.auth,
        Some(r#"{"delay": 1000}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["delay"], 1000);
    assert_eq!(patched["called_did"], "15162065318");
    let (status, patched) = call(
        &env.app,
        "PATCH",
        &uri,
        &env.auth,
        Some(r#"{"url": "http://app/x", "method": "GET"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&patched["url"], &patched["method"]),
        (&json!("http://app/x"), &json!("GET"))
    );
    let d = patched["delay"].as_i64().unwrap();
    assert!(
        900 < d && d <= 1000,
        "PATCH without delay keeps the time: {d}"
    );
    let (status, resp) = call(&env.app, "PATCH", &uri, &env.auth, Some(r#"{"delay": -5}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&resp), ["delay"]);
    let (status, resp) = call(
        &env.app,
        "PATCH",
        &uri,
        &env.auth,
        Some(r#"{"calling_did": "15550001234"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&resp), ["calling_did"]);

    // PUT resets what it does not name; read-only fields sent back are ignored.
    let mut put = patched.clone();
    put.as_object_mut().unwrap().remove("url");
    put.as_object_mut().unwrap().remove("method");
    let (status, replaced) = call(&env.app, "PUT", &uri, &env.auth, Some(&put.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(
        (&replaced["url"], &replaced["method"]),
        (&Value::Null, &json!("POST"))
    );
    assert_eq!(replaced["call_sid"], sid.as_str());

    let (status, _) = call(&env.app, "DELETE", &uri, &env.auth, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(&env.app, "GET", &uri, &env.auth, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "no item error");
    assert_eq!(
        call(&env.app, "DELETE", &uri, &env.auth, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&env.app, "PATCH", &uri, &env.auth, Some("{}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = call(&env.app, "GET", "/flexml/v1/calls", &env.auth, None).await;
    assert_eq!(list["total"], 0);
}

async fn another_accounts_call_is_404_and_its_dids_are_not_callable(backend: Backend) {
    let env = setup(backend, "scope").await;
    let (_, created) = call(
        &env.app,
        "POST",
        "/flexml/v1/calls",
        &env.auth,
        Some(r#"{"calling_did":"19093189029", "called_did":"15162065318", "delay": 100}"#),
    )
    .await;
    let uri = format!("/flexml/v1/calls/{}", created["call_sid"].as_str().unwrap());

    // A second FlexML endpoint, made through the Core API, has its own account.
    let (status, endpoint) = call(
        &env.app,
        "POST",
        "/core/v2/endpoints",
        &format!("Bearer {}", env.creds.token),
        Some(r#"{"name": "other", "type": "flexml"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{endpoint}");
    let props = &endpoint["properties"];
    let other = basic(
        props["login"].as_str().unwrap(),
        props["password"].as_str().unwrap(),
    );

    for method in ["GET", "DELETE"] {
        let (status, _) = call(&env.app, method, &uri, &other, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    let (status, _) = call(&env.app, "PATCH", &uri, &other, Some(r#"{"delay": 1}"#)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = call(&env.app, "GET", "/flexml/v1/calls", &other, None).await;
    assert_eq!(list["total"], 0);
    let (status, resp) = call(
        &env.app,
        "POST",
        "/flexml/v1/calls",
        &other,
        Some(r#"{"calling_did":"19093189029", "called_did":"15162065318"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&resp), ["calling_did"]);

    // The owner still sees it, untouched.
    let (status, got) = call(&env.app, "GET", &uri, &env.auth, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["called_did"], "15162065318");
}

store::backend_tests!(
    the_quick_start_post_calls_example,
    invalid_fields_are_422_with_field_errors,
    list_counts_down_and_patch_put_delete_change_a_scheduled_call,
    another_accounts_call_is_404_and_its_dids_are_not_callable,
);
