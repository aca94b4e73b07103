//! The FlexML API requests of the seeds, replayed against the router on a real SQLite file.

use api::{router, ApiState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use serde_json::Value;
use store::testing::{self, Backend, TestStore};
use store::DemoCredentials;
use tower::ServiceExt;

async fn setup(backend: Backend, name: &str) -> (axum::Router, DemoCredentials, TestStore) {
    let db = testing::open(backend, name).await.unwrap();
    let store = db.store();
    let creds = store
        .provision_demo(None, "15162065319", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    (router(ApiState::new(store)), creds, db)
}

fn basic(creds: &DemoCredentials) -> String {
    let raw = format!("{}:{}", creds.login, creds.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:8080");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
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

async fn get_dids_returns_the_seed_shape(backend: Backend) {
    let (app, creds, _db) = setup(backend, "dids").await;
    let (status, body) = call(&app, "GET", "/flexml/v1/dids", Some(&basic(&creds)), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 1);
    assert_eq!(body["has_more"], false);
    assert_eq!(body["limit"], 10);
    assert_eq!(body["offset"], 0);
    assert_eq!(body["total"], 1);
    assert_eq!(body["pagination"], serde_json::json!({}));
    let did = &body["items"][0];
    let mut keys: Vec<&str> = did
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "account_sid",
            "country_code",
            "did_sid",
            "in_country_format",
            "international_format",
            "method",
            "phonenumber",
            "status_callback_method",
            "status_callback_url",
            "url"
        ]
    );
    assert_eq!(did["in_country_format"], "(516) 206-5319");
    assert_eq!(did["international_format"], "+1 516-206-5319");
    assert_eq!(did["country_code"], "USA");
    assert_eq!(did["account_sid"], creds.account_sid.as_str());
}

async fn patch_did_url_as_in_the_quick_start(backend: Backend) {
    let (app, creds, _db) = setup(backend, "patch").await;
    let uri = format!("/flexml/v1/dids/{}", creds.did_sid);
    let (status, body) = call(
        &app,
        "PATCH",
        &uri,
        Some(&basic(&creds)),
        Some(r#"{"url": "http://127.0.0.1:5000/hello"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["url"], "http://127.0.0.1:5000/hello");
    assert_eq!(body["method"], "POST");
    let (_, body) = call(
        &app,
        "PATCH",
        &uri,
        Some(&basic(&creds)),
        Some(r#"{"method":"GET"}"#),
    )
    .await;
    assert_eq!(body["method"], "GET");
    assert_eq!(
        body["url"], "http://127.0.0.1:5000/hello",
        "PATCH keeps fields it does not name"
    );
    let (_, body) = call(
        &app,
        "PUT",
        &uri,
        Some(&basic(&creds)),
        Some(r#"{"status_callback_url":"http://a/s"}"#),
    )
    .await;
    assert_eq!(body["url"], Value::Null, "PUT replaces the whole object");
    assert_eq!(body["method"], "POST");
}

async fn errors_use_the_reference_shape_and_status_codes(backend: Backend) {
    let (app, creds, _db) = setup(backend, "errors").await;
    let (status, body) = call(&app, "GET", "/flexml/v1/dids", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "authentication required");
    assert_eq!(body["errors"][0]["field"], "cause");

    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:nope", creds.login))
    );
    assert_eq!(
        call(&app, "GET", "/flexml/v1/dids", Some(&wrong), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    let auth = basic(&creds);
    let (status, body) = call(
        &app,
        "GET",
        "/flexml/v1/dids/00000000-0000-0000-0000-000000000000",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "no item error");

    let uri = format!("/flexml/v1/dids/{}", creds.did_sid);
    let (status, body) = call(&app, "PATCH", &uri, Some(&auth), Some("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("cannot parse json"));

    let (status, body) = call(
        &app,
        "PATCH",
        &uri,
        Some(&auth),
        Some(r#"{"method":"PUT","colour":1}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["colour", "method"]);
}

async fn accounts_hide_the_password_and_accept_updates(backend: Backend) {
    let (app, creds, _db) = setup(backend, "accounts").await;
    let auth = basic(&creds);
    let (status, body) = call(&app, "GET", "/flexml/v1/accounts", Some(&auth), None).await;
    assert_eq!(status, StatusCode::OK);
    let account = &body["items"][0];
    assert_eq!(account["login"], creds.login.as_str());
    assert!(account.get("password").is_none());
    assert_eq!(account["error_handler"], "basic");
    let uri = format!("/flexml/v1/accounts/{}", creds.account_sid);
    let (status, body) = call(
        &app,
        "PATCH",
        &uri,
        Some(&auth),
        Some(r#"{"method":"POST", "error_handler": "none"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error_handler"], "none");
    let (status, body) = call(
        &app,
        "GET",
        &format!("{uri}?include_fields=login,url"),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_object().unwrap().len(), 2);
}

async fn core_whoami_needs_the_partner_token(backend: Backend) {
    let (app, creds, _db) = setup(backend, "whoami").await;
    let (status, body) = call(
        &app,
        "GET",
        "/core/v2/oauth/whoami",
        Some(&format!("Bearer {}", creds.token)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["partner_sid"], creds.partner_sid.as_str());
    assert_eq!(
        call(
            &app,
            "GET",
            "/core/v2/oauth/whoami",
            Some("Bearer wrong"),
            None
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
}

async fn responses_carry_cors_headers_and_preflight_needs_no_credentials(backend: Backend) {
    let (app, creds, _db) = setup(backend, "cors").await;
    let req = Request::builder()
        .method("GET")
        .uri("/flexml/v1/dids")
        .header("authorization", basic(&creds))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/flexml/v1/dids")
        .header("origin", "http://example.com")
        .header("access-control-request-method", "PATCH")
        .body(Body::empty())
        .unwrap();
    let resp = app.oneshot(preflight).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("PATCH"));
    assert!(resp.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Authorization"));
}

store::backend_tests!(
    get_dids_returns_the_seed_shape,
    patch_did_url_as_in_the_quick_start,
    errors_use_the_reference_shape_and_status_codes,
    accounts_hide_the_password_and_accept_updates,
    core_whoami_needs_the_partner_token,
    responses_carry_cors_headers_and_preflight_needs_no_credentials,
);
