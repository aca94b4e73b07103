//! `/openapi.json` describes exactly what the router serves: every documented path and method
//! answers (not 405, not the "no such route" fallback), every other method on those paths is a
//! 405, no route is added outside the route table, and each object's schema lists exactly the
//! keys the API returns for it.

use api::{router, ApiState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use store::Store;
use tower::ServiceExt;

async fn app(name: &str) -> (axum::Router, store::DemoCredentials, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("flexvox-openapi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite(&dir.join("flexvox.db")).await.unwrap();
    let demo = store
        .provision_demo(None, "15162065319", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    (router(ApiState::new(store)), demo, dir)
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    auth: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if !auth.is_empty() {
        req = req.header("authorization", auth);
    }
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_document_is_served_without_credentials() {
    let (app, _, dir) = app("served").await;
    let (status, doc) = send(&app, "GET", "/openapi.json", "", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["paths"].as_object().is_some_and(|p| p.len() > 10));
    assert!(doc["components"]["schemas"]["File"]["properties"]["publish_uri"].is_object());
    let upload = &doc["paths"]["/core/v2/storage/files"]["post"];
    assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object());
    assert!(upload["responses"]["201"].is_object());
    assert_eq!(
        doc["paths"]["/core/v2/endpoints"]["get"]["security"],
        json!([{"bearer": []}])
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn every_documented_route_is_served_and_no_other_method() {
    let (app, _, dir) = app("routes").await;
    let doc = api::openapi_document();
    let all = ["get", "post", "put", "patch", "delete"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        let uri: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in all {
            let (status, body) = send(&app, &method.to_uppercase(), &uri, "", None).await;
            let no_route = body["errors"][0]["message"] == "no such route";
            if item.get(method).is_some() {
                assert!(
                    status != StatusCode::METHOD_NOT_ALLOWED && !no_route,
                    "{method} {path} is documented but not served"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented"
                );
            }
        }
    }
    let (status, _) = send(&app, "GET", "/core/v2/undocumented", "", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let _ = std::fs::remove_dir_all(dir);
}

/// The router is built only from the route table: a route added any other way would be
/// served without being described.
#[test]
fn routes_are_only_added_through_the_table() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.ends_with("routes.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for needle in [
                ".route(",
                ".nest(",
                ".merge(",
                ".route_service(",
                ".nest_service(",
            ] {
                assert!(
                    !text.contains(needle),
                    "{} calls {needle}: add routes through routes::Routes",
                    path.display()
                );
            }
        }
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn schemas_list_exactly_the_keys_objects_have() {
    let (app, demo, dir) = app("schemas").await;
    let bearer = format!("Bearer {}", demo.token);
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", demo.login, demo.password))
    );
    let post = |uri: &'static str, body: Value| {
        let (app, bearer) = (app.clone(), bearer.clone());
        async move { send(&app, "POST", uri, &bearer, Some(body)).await.1 }
    };
    let endpoint = post("/core/v2/endpoints", json!({})).await;
    let group = post("/core/v2/trunk_groups", json!({})).await;
    let trunks = format!(
        "/core/v2/trunk_groups/{}/trunks",
        group["trunk_group_sid"].as_str().unwrap()
    );
    let trunk = send(&app, "POST", &trunks, &bearer, Some(json!({})))
        .await
        .1;
    let did = post(
        "/core/v2/phonenumber/dids",
        json!({"phonenumber": "15162060000"}),
    )
    .await;
    let container = post("/core/v2/storage/containers", json!({})).await;
    let upload = Request::post(format!(
        "/core/v2/storage/files?container_sid={}",
        container["container_sid"].as_str().unwrap()
    ))
    .header("authorization", &bearer)
    .body(Body::from("x"))
    .unwrap();
    let resp = app.clone().oneshot(upload).await.unwrap();
    let file: Value = serde_json::from_slice(
        &axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    let partner = send(&app, "GET", "/core/v2/oauth/whoami", &bearer, None)
        .await
        .1;
    let account = send(
        &app,
        "GET",
        &format!("/flexml/v1/accounts/{}", demo.account_sid),
        &basic,
        None,
    )
    .await
    .1;
    let flexml_did = send(
        &app,
        "GET",
        &format!("/flexml/v1/dids/{}", demo.did_sid),
        &basic,
        None,
    )
    .await
    .1;

    let doc = api::openapi_document();
    let mut wrong = Vec::new();
    for (schema, object) in [
        ("Endpoint", &endpoint),
        ("TrunkGroup", &group),
        ("Trunk", &trunk),
        ("CoreDid", &did),
        ("Container", &container),
        ("File", &file),
        ("Partner", &partner),
        ("Account", &account),
        ("Did", &flexml_did),
    ] {
        let described = keys(&doc["components"]["schemas"][schema]["properties"]);
        if described != keys(object) {
            wrong.push(format!(
                "{schema}: described {described:?}, returned {:?}",
                keys(object)
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let _ = std::fs::remove_dir_all(dir);
}
