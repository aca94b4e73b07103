//! SIP features end to end, the real binary against SIPp: toll-fraud protection (403 for a
//! source outside --sip-allow), overload (503 past --max-calls), an inbound call over TCP, a
//! key pressed with SIP INFO reaching a Gather's action, hold/unhold by re-INVITE, and a SIP
//! user that registers with digest and is then reached by Dial.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::{expect_demo_refusal, free_udp_port, run_sipp_uac, sipp_scenario, start_app, Server};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_outside_the_allow_list_gets_403() {
    let server = Server::start_with("sip403", &["--sip-allow", "10.0.0.0/8"]);
    tokio::task::block_in_place(|| expect_demo_refusal(&server, "403"));
    assert!(server.log_text().contains("INVITE refused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_calls_an_invite_gets_503() {
    let server = Server::start_with("sip503", &["--max-calls", "0"]);
    tokio::task::block_in_place(|| expect_demo_refusal(&server, "503"));
}

/// Points the demo DID at `url`.
async fn route_demo_to(server: &Server, url: String) {
    server.set_did_url(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_call_over_tcp_runs_the_app() {
    let (app, received) =
        start_app("<Response><Say>Hello over TCP.</Say><Hangup/></Response>").await;
    let server = Server::start("siptcp");
    route_demo_to(&server, format!("http://{app}/hello")).await;
    let (rtp_port, recorder) = common::start_rtp_caller();
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_hello.xml",
            "15550000001",
            1,
            1,
            &["-t", "t1", "-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());
    assert!(!packets.is_empty(), "no RTP reached the TCP caller");
    assert_eq!(received.lock().unwrap().len(), 1);
}

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pressed_with_sip_info_reaches_the_gather_action() {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/ivr",
            post(|| async {
                r#"<Response><Gather numDigits="1" timeout="8" action="/choice"><Say>Welcome to the test line. Please press a key now, or wait for the end of this rather long prompt.</Say></Gather><Say>No key.</Say></Response>"#
            }),
        )
        .route(
            "/choice",
            post(|State(s): State<Seen>, Json(b): Json<Value>| async move {
                s.lock().unwrap().push(("/choice".into(), b));
                "<Response><Hangup/></Response>"
            }),
        )
        .with_state(seen.clone());
    let addr = common::serve(app).await;
    let server = Server::start("sipinfo");
    route_demo_to(&server, format!("http://{addr}/ivr")).await;
    let (rtp_port, recorder) = common::start_rtp_caller();
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_info_digit.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
    let _ = tokio::task::block_in_place(|| recorder.join().unwrap());
    let seen = seen.lock().unwrap().clone();
    let choice = seen
        .iter()
        .find(|(p, _)| p == "/choice")
        .unwrap_or_else(|| panic!("no /choice request: {seen:?}\n{}", server.log_text()));
    assert_eq!(choice.1["Digits"], "7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_unhold_by_re_invite_are_answered() {
    let (app, _) =
        start_app("<Response><Say>Hold test.</Say><Pause length=\"20\"/></Response>").await;
    let server = Server::start("siphold");
    route_demo_to(&server, format!("http://{app}/hello")).await;
    let (rtp_port, recorder) = common::start_rtp_caller();
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_hold.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
    let _ = tokio::task::block_in_place(|| recorder.join().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_sip_user_is_reached_by_dial() {
    let server = Server::start_with("sipreg", &["--sip-user", "alice:secret"]);
    // alice registers from `phone_port`; the phone then answers there (a SIPp UAS).
    let phone_port = free_udp_port();
    let reg_dir = server.data_dir.join("reg");
    std::fs::create_dir_all(&reg_dir).unwrap();
    let out = tokio::task::block_in_place(|| {
        Command::new("timeout")
            .args(["-k", "5", "30", "sipp"])
            .arg(format!("127.0.0.1:{}", server.sip_port))
            .args(["-sf", &sipp_scenario("uac_register.xml"), "-s", "alice"])
            .args(["-au", "alice", "-ap", "secret"])
            .args(["-i", "127.0.0.1", "-p", &phone_port.to_string(), "-m", "1"])
            .args(["-nostdin", "-trace_err"])
            .current_dir(&reg_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    });
    assert!(
        out.status.success(),
        "REGISTER failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log_text()
    );
    assert!(server.log_text().contains("SIP user registered"));

    let (callee_rtp, callee) = common::start_rtp_tone_peer(2000.0);
    let uas = common::start_sipp_uas(
        &server,
        "uas_answer.xml",
        phone_port,
        &["-key", "rtp_port", &callee_rtp.to_string()],
    );

    let (app, _) = start_app(
        r#"<Response><Dial timeout="10"><Number>sip:alice@127.0.0.1</Number></Dial></Response>"#,
    )
    .await;
    route_demo_to(&server, format!("http://{app}/hello")).await;
    let (caller_rtp, caller) = common::start_rtp_tone_peer(1000.0);
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_talk.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &caller_rtp.to_string()],
        )
    });
    assert!(ok, "caller: {errors}\n{}", server.log_text());
    let uas_out = tokio::task::block_in_place(|| uas.wait_with_output().unwrap());
    assert!(
        uas_out.status.success(),
        "alice's phone did not get the call: {}\n{}",
        String::from_utf8_lossy(&uas_out.stderr),
        server.log_text()
    );
    let _ = tokio::task::block_in_place(|| (caller.join(), callee.join()));
    assert!(server.log_text().contains("dial: answered and bridged"));
}
