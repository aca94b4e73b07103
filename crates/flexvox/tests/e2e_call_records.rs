//! Calls end to end, as the Core API shows them afterwards: a SIPp call to the real binary
//! leaves a call detail record with its parties, status and timeline (documents, verbs,
//! callbacks), and its status callback reaches an app that refuses the first attempts
//! (HTTP 503) once it recovers; the record shows the retries and the delivery.

mod common;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use common::{run_sipp_uac, Server};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HELLO: &str = "<Response><Say>Hello, thank you for calling.</Say></Response>";
/// Status callback attempts the app refuses before it "comes back".
const REFUSED: usize = 3;

#[derive(Clone, Default)]
struct App {
    status_attempts: Arc<AtomicUsize>,
    delivered: Arc<Mutex<Option<Value>>>,
}

/// An app whose document is HELLO and whose status callback URL is down for a while.
async fn start_flaky_app() -> (SocketAddr, App) {
    let app = App::default();
    let router = Router::new()
        .route(
            "/hello",
            post(|| async { ([("content-type", "application/xml")], HELLO) }),
        )
        .route(
            "/status",
            post(
                |State(app): State<App>, Json(body): Json<Value>| async move {
                    let n = app.status_attempts.fetch_add(1, Ordering::SeqCst) + 1;
                    if n <= REFUSED {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    *app.delivered.lock().unwrap() = Some(body);
                    StatusCode::OK
                },
            ),
        )
        .with_state(app.clone());
    let addr = common::serve(router).await;
    (addr, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_leaves_a_record_and_its_status_callback_is_retried_until_the_app_is_back() {
    // Retries 200 ms, 400 ms, 800 ms apart instead of 1 s, 2 s, 4 s: the test knob.
    std::env::set_var("FLEXVOX_CALLBACK_RETRY_BASE_MS", "200");
    let server = Server::start("call-records");
    let (app_addr, app) = start_flaky_app().await;
    let (login, password) = server.login();
    let did_sid = server.credentials["demo_did"]["did_sid"].as_str().unwrap();
    let token = server.credentials["core_api_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let resp = http
        .patch(format!("{}/flexml/v1/dids/{did_sid}", server.http))
        .basic_auth(&login, Some(&password))
        .json(&serde_json::json!({
            "url": format!("http://{app_addr}/hello"),
            "status_callback_url": format!("http://{app_addr}/status"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (rtp_port, recorder) = common::start_rtp_caller();
    let server_ref = &server;
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            server_ref,
            "uac_hello.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(ok, "SIPp call failed:\n{errors}\n{}", server.log_text());
    let _ = tokio::task::block_in_place(|| recorder.join());

    // Poll the Core API until the record shows its status callback delivered.
    let deadline = Instant::now() + Duration::from_secs(20);
    let dr = loop {
        let page: Value = http
            .get(format!("{}/core/v2/calls/call_drs", server.http))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["total"], Value::Null);
        let delivered = page["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|dr| dr["callbacks"][0]["state"] == "delivered")
                .cloned()
        });
        if let Some(dr) = delivered {
            break dr;
        }
        assert!(
            Instant::now() < deadline,
            "no record with a delivered callback: {page}\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // (a) The record: parties, status and what happened.
    assert_eq!(dr["direction"], "inbound");
    assert_eq!(dr["number_src"], "15162065338");
    assert_eq!(dr["number_dst"], "15550000001");
    assert_eq!(dr["original_from"], "+15162065338");
    assert_eq!(dr["status"], "completed");
    assert_eq!(dr["sip_status"], 200);
    assert_eq!(dr["hangup_by"], "app");
    assert_eq!(dr["parent_call_sid"], Value::Null);
    assert_eq!(
        dr["account_sid"],
        server.credentials["flexml_api"]["account_sid"]
    );
    assert!(dr["date_talk"].is_string());
    for date in ["date_start", "date_talk", "date_stop"] {
        assert_eq!(dr[date].as_str().unwrap().len(), 24, "{date}: {dr}");
    }
    assert!(dr["date_start"].as_str() <= dr["date_talk"].as_str());
    assert!(dr["date_talk"].as_str() <= dr["date_stop"].as_str());
    let events: Vec<&str> = dr["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let has = |needle: &str| events.iter().any(|e| e.contains(needle));
    let hello = format!("http://{app_addr}/hello");
    assert!(has(&format!("fetch POST {hello}")), "{events:?}");
    assert!(has(&format!("document {hello} with 1 verbs")), "{events:?}");
    assert!(has("verb Say"), "{events:?}");
    assert!(
        has("verb Hangup") || has("call ended: completed"),
        "{events:?}"
    );
    assert!(has("status callback queued"), "{events:?}");

    // (b) The status callback: refused three times, then delivered, and the record says so.
    let cb = &dr["callbacks"][0];
    assert_eq!(cb["url"], format!("http://{app_addr}/status"));
    assert_eq!(cb["method"], "POST");
    assert_eq!(cb["kind"], "status");
    assert_eq!(cb["attempts"], (REFUSED + 1) as u64, "{cb}");
    assert!(cb["last_error"].as_str().unwrap().contains("503"), "{cb}");
    assert_eq!(cb["next_attempt"], Value::Null);
    assert_eq!(app.status_attempts.load(Ordering::SeqCst), REFUSED + 1);
    let body = app.delivered.lock().unwrap().clone().unwrap();
    assert_eq!(body["CallStatus"], "completed");
    assert_eq!(body["CallSid"], dr["call_sid"]);

    // The single record fetched by SID is the same one.
    let one: Value = http
        .get(format!(
            "{}/core/v2/calls/call_drs/{}",
            server.http,
            dr["dr_sid"].as_str().unwrap()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["call_sid"], dr["call_sid"]);
    assert_eq!(one["callbacks"][0]["state"], "delivered");
}
