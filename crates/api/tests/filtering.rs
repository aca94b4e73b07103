//! `filter`, `order` and paging on `GET /flexml/v1/dids` and `/accounts`, against several DIDs
//! of one account on a real SQLite file.

use api::{router, ApiState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use serde_json::Value;
use store::testing::{self, Backend, TestStore};
use store::{DemoCredentials, DidUpdate};
use tower::ServiceExt;

/// The demo DID 15162065319 (url set, POST) and four more.
async fn setup(backend: Backend, name: &str) -> (axum::Router, DemoCredentials, TestStore) {
    let db = testing::open(backend, name).await.unwrap();
    let store = db.store();
    let creds = store
        .provision_demo(None, "15162065319", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    for (number, url, method) in [
        ("15162065320", None, "GET"),
        ("15162065321", Some("http://app/a"), "GET"),
        ("12125550100", None, "POST"),
        ("442071234567", Some("http://app/b"), "POST"),
    ] {
        let settings = DidUpdate {
            url: url.map(str::to_string),
            method: method.into(),
            status_callback_url: None,
            status_callback_method: "POST".into(),
        };
        store
            .create_did(&creds.account_sid, number, &settings)
            .await
            .unwrap()
            .unwrap();
    }
    (router(ApiState::new(store)), creds, db)
}

/// Percent-encodes a query value: everything but RFC 3986 unreserved characters.
fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn get(app: &axum::Router, creds: &DemoCredentials, uri: &str) -> (StatusCode, Value) {
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", creds.login, creds.password));
    let req = Request::builder()
        .uri(uri)
        .header("host", "127.0.0.1:8080")
        .header("authorization", format!("Basic {auth}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn dids(app: &axum::Router, creds: &DemoCredentials, query: &str) -> (StatusCode, Value) {
    get(app, creds, &format!("/flexml/v1/dids?{query}")).await
}

fn numbers(body: &Value) -> Vec<&str> {
    body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|d| d["phonenumber"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

async fn filters_select_dids(backend: Backend) {
    let (app, creds, _db) = setup(backend, "select").await;
    let (status, body) = dids(
        &app,
        &creds,
        &format!("filter={}", enc("phonenumber like '1516%'")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        numbers(&body),
        ["15162065319", "15162065320", "15162065321"]
    );
    assert_eq!(
        (body["count"].as_i64(), body["total"].as_i64()),
        (Some(3), Some(3))
    );

    let filter = enc(r#"phonenumber in ("15162065320", 12125550100, '19999999999')"#);
    let (_, body) = dids(&app, &creds, &format!("filter={filter}")).await;
    assert_eq!(numbers(&body), ["12125550100", "15162065320"]);

    // `url eq null` selects DIDs without a URL of their own.
    let (_, body) = dids(&app, &creds, "filter=method+eq+GET+and+url+eq+null").await;
    assert_eq!(numbers(&body), ["15162065320"]);
    let (_, body) = dids(&app, &creds, "filter=method+EQ+get").await;
    assert_eq!(body["total"], 0, "values compare case-sensitively");
    let (_, body) = dids(
        &app,
        &creds,
        &format!("filter={}", enc("url ne null and country_code eq USA")),
    )
    .await;
    assert_eq!(numbers(&body), ["15162065319", "15162065321"]);
    let (_, body) = dids(
        &app,
        &creds,
        &format!("filter={}", enc("in_country_format eq '(212) 555-0100'")),
    )
    .await;
    assert_eq!(numbers(&body), ["12125550100"]);

    let (status, body) = dids(&app, &creds, "filter=").await;
    assert_eq!(
        (status, body["total"].as_i64()),
        (StatusCode::OK, Some(5)),
        "a blank filter is none"
    );
}

async fn order_and_pages_follow_the_filter(backend: Backend) {
    let (app, creds, _db) = setup(backend, "pages").await;
    let (_, body) = dids(&app, &creds, "order=phonenumber+desc").await;
    assert_eq!(
        numbers(&body),
        [
            "442071234567",
            "15162065321",
            "15162065320",
            "15162065319",
            "12125550100"
        ]
    );
    let (_, body) = dids(&app, &creds, "order=method+desc,phonenumber").await;
    assert_eq!(
        numbers(&body),
        [
            "12125550100",
            "15162065319",
            "442071234567",
            "15162065320",
            "15162065321"
        ]
    );

    let query = format!(
        "filter={}&order=phonenumber+desc&limit=2&include_fields=phonenumber",
        enc("phonenumber like '1516%'")
    );
    let (status, first) = dids(&app, &creds, &query).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(numbers(&first), ["15162065321", "15162065320"]);
    assert_eq!(first["items"][0].as_object().map(|o| o.len()), Some(1));
    assert_eq!(
        (first["count"].as_i64(), first["total"].as_i64()),
        (Some(2), Some(3))
    );
    assert_eq!(first["has_more"], true);
    assert!(first["pagination"].get("previous").is_none());
    let next = first["pagination"]["next"].as_str().unwrap();
    assert!(
        next.starts_with("http://127.0.0.1:8080/flexml/v1/dids?"),
        "{next}"
    );
    assert!(
        next.contains(&format!("filter={}", enc("phonenumber like '1516%'"))),
        "{next}"
    );
    assert!(next.ends_with("limit=2&offset=2"), "{next}");

    let path = next.strip_prefix("http://127.0.0.1:8080").unwrap();
    let (_, second) = get(&app, &creds, path).await;
    assert_eq!(numbers(&second), ["15162065319"]);
    assert_eq!(
        (second["count"].as_i64(), second["total"].as_i64()),
        (Some(1), Some(3))
    );
    assert_eq!(second["has_more"], false);
    assert!(second["pagination"].get("next").is_none());
    assert!(second["pagination"]["previous"]
        .as_str()
        .unwrap()
        .ends_with("limit=2&offset=0"));
}

/// The status, the error's `field` and its message for one bad list request.
async fn error(
    app: &axum::Router,
    creds: &DemoCredentials,
    uri: &str,
) -> (StatusCode, String, String) {
    let (status, body) = get(app, creds, uri).await;
    assert_eq!(body["errors"][0]["reference_sid"], Value::Null, "{body}");
    let top = body["message"].as_str().unwrap_or_default().to_string();
    assert!(!top.is_empty(), "{body}");
    (
        status,
        body["errors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn bad_filters_and_orders_are_client_errors(backend: Backend) {
    let (app, creds, _db) = setup(backend, "errors").await;
    let cases = [
        (
            "filter=colour+eq+red",
            StatusCode::UNPROCESSABLE_ENTITY,
            "filter",
            "unknown field 'colour'",
        ),
        (
            "filter=phonenumber+zz+1",
            StatusCode::BAD_REQUEST,
            "filter",
            "unknown operator 'zz' at position 13",
        ),
        (
            "filter=phonenumber+eq+%27unterminated",
            StatusCode::BAD_REQUEST,
            "filter",
            "unterminated quoted value starting at position 16",
        ),
        (
            "filter=phonenumber+bit+1",
            StatusCode::UNPROCESSABLE_ENTITY,
            "filter",
            "operator 'bit' does not apply",
        ),
        (
            "filter=phonenumber+in+()",
            StatusCode::BAD_REQUEST,
            "filter",
            "empty list",
        ),
        (
            "filter=url+gt+null",
            StatusCode::UNPROCESSABLE_ENTITY,
            "filter",
            "null works with eq and ne only",
        ),
        (
            "filter=url.host+eq+x",
            StatusCode::UNPROCESSABLE_ENTITY,
            "filter",
            "has no subfields",
        ),
        (
            "filter=a+eq+1+or+b+eq+2",
            StatusCode::BAD_REQUEST,
            "filter",
            "expected 'and' or the end",
        ),
        (
            "order=colour+desc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "order",
            "unknown field 'colour'",
        ),
        (
            "order=phonenumber+sideways",
            StatusCode::BAD_REQUEST,
            "order",
            "unknown sort direction 'sideways'",
        ),
    ];
    for (query, status, field, message) in cases {
        let got = error(&app, &creds, &format!("/flexml/v1/dids?{query}")).await;
        assert_eq!(
            (got.0, got.1.as_str()),
            (status, field),
            "{query}: {}",
            got.2
        );
        assert!(got.2.contains(message), "{query}: {}", got.2);
    }
    let (status, body) = dids(&app, &creds, "filter=colour+eq+red").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("object validation error")
        )
    );
    let (status, body) = dids(&app, &creds, "filter=phonenumber+zz+1").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("cannot parse filter"))
    );
}

async fn accounts_take_the_same_filter_and_order(backend: Backend) {
    let (app, creds, _db) = setup(backend, "accounts").await;
    let uri = format!(
        "/flexml/v1/accounts?filter={}",
        enc(&format!(
            "login eq {} and error_handler in (basic)",
            creds.login
        ))
    );
    let (status, body) = get(&app, &creds, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["count"].as_i64(), body["total"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(body["items"][0]["account_sid"], creds.account_sid.as_str());

    let (_, body) = get(
        &app,
        &creds,
        "/flexml/v1/accounts?filter=name+eq+nobody&order=date_created+desc",
    )
    .await;
    assert_eq!(
        (body["count"].as_i64(), body["total"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(body["has_more"], false);

    let (_, body) = get(
        &app,
        &creds,
        "/flexml/v1/accounts?filter=date_created+ge+2000-01-01&offset=1",
    )
    .await;
    assert_eq!(
        (body["count"].as_i64(), body["total"].as_i64()),
        (Some(0), Some(1))
    );

    let got = error(&app, &creds, "/flexml/v1/accounts?filter=password+eq+x").await;
    assert_eq!(
        (got.0, got.1.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "filter")
    );
    assert!(got.2.contains("unknown field 'password'"), "{}", got.2);
    let got = error(
        &app,
        &creds,
        "/flexml/v1/accounts?filter=date_created+gt+yesterday",
    )
    .await;
    assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        got.2
            .contains("bad value yesterday for field 'date_created'"),
        "{}",
        got.2
    );
}

store::backend_tests!(
    filters_select_dids,
    order_and_pages_follow_the_filter,
    bad_filters_and_orders_are_client_errors,
    accounts_take_the_same_filter_and_order,
);
