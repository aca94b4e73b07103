//! Gather on a real SIP call: the caller presses a key (RFC 4733) during the prompt, the prompt
//! stops, and the app's action receives the digit.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::Server;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pressed_during_the_prompt_reaches_the_gather_action() {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/ivr",
            post(|State(s): State<Seen>, Json(b): Json<Value>| async move {
                s.lock().unwrap().push(("/ivr".into(), b));
                r#"<Response><Gather numDigits="1" timeout="5" action="/choice"><Say>Welcome to the test line. Please press a key now, or wait for the end of this rather long prompt.</Say></Gather><Say>No key.</Say></Response>"#
            }),
        )
        .route(
            "/choice",
            post(|State(s): State<Seen>, Json(b): Json<Value>| async move {
                s.lock().unwrap().push(("/choice".into(), b));
                "<Response><Say>Thank you.</Say><Hangup/></Response>"
            }),
        )
        .with_state(seen.clone());
    let addr = common::serve(app).await;

    let server = Server::start("gather");
    server.set_did_url(&format!("http://{addr}/ivr")).await;

    let (rtp_port, recorder) = common::start_rtp_caller_pressing("7", Duration::from_millis(1500));
    common::call_demo_number(&server, rtp_port);
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());

    let seen = seen.lock().unwrap().clone();
    let choice = seen
        .iter()
        .find(|(p, _)| p == "/choice")
        .unwrap_or_else(|| panic!("no /choice request: {seen:?}\n{}", server.log_text()));
    assert_eq!(choice.1["Digits"], "7");
    // Barge-in: the long prompt (over 5 s) was cut short, so the call was short.
    let spread = packets.last().unwrap().0 - packets[0].0;
    assert!(
        spread < Duration::from_secs(5),
        "the prompt was not interrupted: the call lasted {spread:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dtmf_verb_sends_rfc4733_events_to_the_caller() {
    let app = Router::new().route(
        "/dtmf",
        post(|| async { "<Response><Dtmf>1,9#</Dtmf><Hangup/></Response>" }),
    );
    let addr = common::serve(app).await;
    let server = Server::start("dtmf");
    server.set_did_url(&format!("http://{addr}/dtmf")).await;
    let (rtp_port, recorder) = common::start_rtp_caller();
    common::call_demo_number(&server, rtp_port);
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());
    // Decode the telephone-event packets back into key presses (one per event timestamp).
    let mut keys = String::new();
    let mut last_end: Option<(u8, u16)> = None;
    let mut comma_gap = Duration::ZERO;
    let mut prev_end_at = None;
    for (at, _, payload, pt) in &packets {
        if *pt != 101 || payload.len() < 4 {
            continue;
        }
        let (event, end) = (payload[0], payload[1] & 0x80 != 0);
        if end && last_end.map(|(e, _)| e) != Some(event) {
            keys.push(b"0123456789*#"[event as usize] as char);
            if let Some(prev) = prev_end_at {
                comma_gap = comma_gap.max(*at - prev);
            }
            prev_end_at = Some(*at);
        }
        last_end = if end { Some((event, 0)) } else { None };
    }
    assert_eq!(keys, "19#");
    assert!(
        comma_gap >= Duration::from_millis(550),
        "the comma must pause 0.5 s: largest gap {comma_gap:?}"
    );
}
