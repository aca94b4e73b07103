//! Outbound calls: POST /flexml/v1/calls places the call through the trunk (a SIPp UAS), runs
//! the app when it is answered, and reports busy through the status callback.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::{free_udp_port, start_sipp_uas, Server};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

async fn app() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/out",
            post(|State(s): State<Seen>, Json(b): Json<Value>| async move {
                s.lock().unwrap().push(("/out".into(), b));
                "<Response><Say>This is your reminder call. Goodbye.</Say><Hangup/></Response>"
            }),
        )
        .route(
            "/status",
            post(|State(s): State<Seen>, Json(b): Json<Value>| async move {
                s.lock().unwrap().push(("/status".into(), b));
                "ok"
            }),
        )
        .with_state(seen.clone());
    let addr = common::serve(app).await;
    (format!("http://{addr}"), seen)
}

async fn post_call(server: &Server, base: &str, called: &str) -> Value {
    let (login, password) = server.login();
    let resp = reqwest::Client::new()
        .post(format!("{}/flexml/v1/calls", server.http))
        .basic_auth(&login, Some(&password))
        .json(&serde_json::json!({
            "calling_did": "15550000001",
            "called_did": called,
            "url": format!("{base}/out"),
            "status_callback_url": format!("{base}/status"),
            "attributes": { "cnam": "ACME", "sip_header_X-Campaign": "7" },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn wait_for(seen: &Seen, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((_, b)) = seen.lock().unwrap().iter().find(|(p, _)| p == path) {
            return b.clone();
        }
        assert!(Instant::now() < deadline, "no request to {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_call_is_placed_answered_and_runs_the_app() {
    let (base, seen) = app().await;
    let uas_port = free_udp_port();
    let server = Server::start_with("outbound", &["--trunk", &format!("127.0.0.1:{uas_port}")]);
    let (callee_rtp, callee) = common::start_rtp_tone_peer(2000.0);
    let uas = start_sipp_uas(
        &server,
        "uas_answer.xml",
        uas_port,
        &["-key", "rtp_port", &callee_rtp.to_string()],
    );

    let created = post_call(&server, &base, "15162065340").await;
    let out = wait_for(&seen, "/out").await;
    assert_eq!(out["Direction"], "outbound");
    assert_eq!(out["From"], "15550000001");
    assert_eq!(out["To"], "15162065340");
    assert_eq!(out["CallSid"], created["call_sid"]);

    let uas_out = tokio::task::block_in_place(|| uas.wait_with_output().unwrap());
    assert!(
        uas_out.status.success(),
        "the called party's SIPp: {}\n{}",
        String::from_utf8_lossy(&uas_out.stderr),
        server.log_text()
    );
    let heard = tokio::task::block_in_place(|| callee.join().unwrap());
    let loud = common::frame_levels_ulaw(&heard)
        .iter()
        .filter(|l| **l > 1000.0)
        .count();
    assert!(
        loud > 25,
        "the called party heard {loud} loud frames of the app's Say"
    );
    let status = wait_for(&seen, "/status").await;
    assert_eq!(status["CallStatus"], "completed");
    assert_eq!(status["Direction"], "outbound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_called_party_is_reported_through_the_status_callback() {
    let (base, seen) = app().await;
    let uas_port = free_udp_port();
    let server = Server::start_with("outbusy", &["--trunk", &format!("127.0.0.1:{uas_port}")]);
    let uas = start_sipp_uas(
        &server,
        "uas_busy.xml",
        uas_port,
        &["-key", "rtp_port", "9"],
    );
    post_call(&server, &base, "15162065341").await;
    let status = wait_for(&seen, "/status").await;
    assert_eq!(status["CallStatus"], "busy");
    assert_eq!(status["CallDuration"], "0");
    assert!(
        !seen.lock().unwrap().iter().any(|(p, _)| p == "/out"),
        "the app runs only when answered"
    );
    let uas_out = tokio::task::block_in_place(|| uas.wait_with_output().unwrap());
    assert!(
        uas_out.status.success(),
        "{}",
        String::from_utf8_lossy(&uas_out.stderr)
    );
}

/// The trunk challenges the INVITE with 407: flexvox answers with digest credentials from
/// `--trunk-auth` (SIPp verifies them), and the call runs as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_challenge_is_answered_with_the_trunk_credentials() {
    let (base, seen) = app().await;
    let uas_port = free_udp_port();
    let server = Server::start_with(
        "outauth",
        &[
            "--trunk",
            &format!("127.0.0.1:{uas_port}"),
            "--trunk-auth",
            "acme:s3cret",
        ],
    );
    let (callee_rtp, callee) = common::start_rtp_tone_peer(2000.0);
    let uas = start_sipp_uas(
        &server,
        "uas_challenge.xml",
        uas_port,
        &["-key", "rtp_port", &callee_rtp.to_string()],
    );

    post_call(&server, &base, "15162065342").await;
    wait_for(&seen, "/out").await;
    let uas_out = tokio::task::block_in_place(|| uas.wait_with_output().unwrap());
    assert!(
        uas_out.status.success(),
        "the challenging trunk's SIPp: {}\n{}",
        String::from_utf8_lossy(&uas_out.stderr),
        server.log_text()
    );
    let heard = tokio::task::block_in_place(|| callee.join().unwrap());
    let loud = common::frame_levels_ulaw(&heard)
        .iter()
        .filter(|l| **l > 1000.0)
        .count();
    assert!(loud > 25, "the called party heard {loud} loud frames");
    let status = wait_for(&seen, "/status").await;
    assert_eq!(status["CallStatus"], "completed");
}
