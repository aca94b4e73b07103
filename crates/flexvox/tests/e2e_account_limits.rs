//! The operator's per-account limits, set on the account's FlexML endpoint through the Core
//! API: `capacity` (concurrent calls), `properties.calls_per_second` and
//! `properties.allowed_prefixes`. Over a limit, POST /calls answers 429 (or 422 for a
//! destination), an inbound call gets 486 (capacity) or 503 (rate).

mod common;

use common::{expect_demo_refusal, run_sipp_uac, start_app, Server};
use serde_json::{json, Value};

/// PATCHes the demo account's FlexML endpoint as the operator.
async fn set_limits(server: &Server, body: Value) {
    let token = server.credentials["core_api_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let list: Value = http
        .get(format!(
            "{}/core/v2/endpoints?filter=type+eq+flexml",
            server.http
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = list["items"][0]["endpoint_sid"].as_str().unwrap();
    let resp = http
        .patch(format!("{}/core/v2/endpoints/{sid}", server.http))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_calls_honours_destinations_and_rate() {
    let server = Server::start("limitsapi");
    set_limits(
        &server,
        json!({ "properties": { "calls_per_second": 1, "allowed_prefixes": ["1"] } }),
    )
    .await;
    let (login, password) = server.login();
    let http = reqwest::Client::new();
    let post = |called: &'static str| {
        http.post(format!("{}/flexml/v1/calls", server.http))
            .basic_auth(&login, Some(&password))
            .json(&json!({ "calling_did": "15550000001", "called_did": called, "delay": 600 }))
            .send()
    };
    let refused = post("882345678").await.unwrap();
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "called_did", "{body}");

    assert_eq!(post("15162065340").await.unwrap().status(), 200);
    let too_fast = post("15162065341").await.unwrap();
    assert_eq!(too_fast.status(), 429);
    let body: Value = too_fast.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("per second"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_calls_over_the_capacity_are_busy_and_over_the_rate_unavailable() {
    let server = Server::start("limitsin");
    let (app, _) = start_app("<Response><Pause length=\"10\"/></Response>").await;
    server.set_did_url(&format!("http://{app}/hello")).await;
    set_limits(&server, json!({ "capacity": 1 })).await;

    // One call held for 4 s; a second one during it finds the account busy.
    let holder = {
        let (rtp_port, _recorder) = common::start_rtp_caller();
        let server_ref = &server;
        std::thread::scope(|scope| {
            let held = scope.spawn(move || {
                run_sipp_uac(
                    server_ref,
                    "uac_talk.xml",
                    "15550000001",
                    1,
                    1,
                    &["-key", "rtp_port", &rtp_port.to_string()],
                )
            });
            std::thread::sleep(std::time::Duration::from_millis(1500));
            tokio::task::block_in_place(|| expect_demo_refusal(server_ref, "486"));
            held.join().unwrap()
        })
    };
    assert!(
        holder.0,
        "the first call: {}\n{}",
        holder.1,
        server.log_text()
    );
    // Once it has ended, the account may take a call again.
    set_limits(
        &server,
        json!({ "properties": { "calls_per_second": 0.05 } }),
    )
    .await;
    let (rtp_port, _recorder) = common::start_rtp_caller();
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_talk.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
    // The rate allows one call per 20 s: the next one right away is refused.
    tokio::task::block_in_place(|| expect_demo_refusal(&server, "503"));

    // Both refusals left a call detail record for the operator.
    let token = server.credentials["core_api_token"].as_str().unwrap();
    let mut refused = Vec::new();
    for _ in 0..50 {
        let page: Value = reqwest::Client::new()
            .get(format!(
                "{}/core/v2/calls/call_drs?filter=hangup_by+eq+system",
                server.http
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        refused = page["items"].as_array().cloned().unwrap_or_default();
        if refused.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut seen: Vec<(String, i64)> = refused
        .iter()
        .map(|dr| {
            (
                dr["status"].as_str().unwrap_or_default().to_string(),
                dr["sip_status"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![("busy".to_string(), 486), ("failed".to_string(), 503)],
        "{refused:?}"
    );
    assert!(
        refused.iter().all(|dr| dr["direction"] == "inbound"
            && dr["number_dst"] == "15550000001"
            && dr["date_talk"].is_null()
            && dr["timeline"][0]["event"]
                .as_str()
                .is_some_and(|e| e.starts_with("refused with"))),
        "{refused:?}"
    );
}
