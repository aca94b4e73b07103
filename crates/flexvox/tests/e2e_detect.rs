//! Listening to the caller on real SIP calls: Amd tells a long greeting (a machine) from a
//! short one, and a Pause with noise detection ends as soon as the caller makes a sound.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::Server;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// Serves `first` at /start and records what /result receives.
async fn app(seen: Seen, first: &'static str) -> std::net::SocketAddr {
    let app = Router::new()
        .route("/start", post(move || async move { first }))
        .route(
            "/result",
            post(|State(s): State<Seen>, Json(b): Json<Value>| async move {
                s.lock().unwrap().push(("/result".into(), b));
                "<Response><Hangup/></Response>"
            }),
        )
        .with_state(seen);
    let addr = common::serve(app).await;
    addr
}

/// Calls the server with a caller that answers every packet with a tone; returns the span of
/// the packets the caller received.
async fn call_with_tone(server: &Server) -> Duration {
    let (rtp_port, peer) = common::start_rtp_tone_peer(440.0);
    common::call_demo_number(server, rtp_port);
    let packets = tokio::task::block_in_place(|| peer.join().unwrap());
    packets.last().unwrap().0 - packets[0].0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amd_calls_a_caller_who_talks_on_and_on_a_machine() {
    let seen: Seen = Arc::default();
    let addr = app(
        seen.clone(),
        r#"<Response><Amd action="/result"/></Response>"#,
    )
    .await;
    let server = Server::start("amd_machine");
    server.set_did_url(&format!("http://{addr}/start")).await;
    call_with_tone(&server).await;
    let seen = seen.lock().unwrap().clone();
    let (_, result) = seen
        .iter()
        .find(|(p, _)| p == "/result")
        .unwrap_or_else(|| panic!("no Amd result\n{}", server.log_text()));
    assert_eq!(result["AMDStatus"], "MACHINE", "{result}");
    // The tone is one word far longer than the 1.5 s greeting a human gives.
    assert!(
        result["AMDCause"].as_str().unwrap().contains("GREETING"),
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_listening_for_noise_ends_when_the_caller_makes_a_sound() {
    let seen: Seen = Arc::default();
    let addr = app(
        seen.clone(),
        r#"<Response><Pause length="20" noise="true" minNoise="300"/><Redirect>/result</Redirect></Response>"#,
    )
    .await;
    let server = Server::start("pause_noise");
    server.set_did_url(&format!("http://{addr}/start")).await;
    let span = call_with_tone(&server).await;
    assert!(
        seen.lock().unwrap().iter().any(|(p, _)| p == "/result"),
        "the flow did not go on after the pause\n{}",
        server.log_text()
    );
    // 20 s of pause, cut short after 300 ms of the caller's tone.
    assert!(
        span < Duration::from_secs(10),
        "the pause was not cut short: the call lasted {span:?}"
    );
}
