//! Dial's confirmKey on real calls: the dialed party is bridged only once it presses the key;
//! one who never presses it is hung up at the Dial timeout, and the action hears `noanswer`
//! with the dialed leg's DialCallSid, which names its call detail record.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::{free_udp_port, run_sipp_uac, Server};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<Value>>>;

async fn app(seen: Seen, dial: &'static str) -> std::net::SocketAddr {
    let app = Router::new()
        .route("/dial", post(move || async move { dial }))
        .route(
            "/after",
            post(|State(s): State<Seen>, Json(b): Json<Value>| async move {
                s.lock().unwrap().push(b);
                "<Response><Hangup/></Response>"
            }),
        )
        .with_state(seen);
    let addr = common::serve(app).await;
    addr
}

fn loud_frames(log: &common::RtpLog) -> usize {
    common::frame_levels_ulaw(log)
        .iter()
        .filter(|l| **l > 3000.0)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dialed_party_is_bridged_once_it_presses_the_confirm_key() {
    let addr = app(
        Seen::default(),
        r#"<Response><Dial timeout="15" confirmKey="5"><Number>15162065340</Number></Dial></Response>"#,
    )
    .await;
    let uas_port = free_udp_port();
    // The dialed party presses 5 a second and a half after its media starts.
    let (callee_rtp, callee) =
        common::start_rtp_tone_peer_pressing(2000.0, "5", Duration::from_millis(1500));
    let server = Server::start_with(
        "dial_confirm",
        &["--trunk", &format!("127.0.0.1:{uas_port}")],
    );
    let uas = common::start_sipp_uas(
        &server,
        "uas_answer.xml",
        uas_port,
        &["-key", "rtp_port", &callee_rtp.to_string()],
    );
    server.set_did_url(&format!("http://{addr}/dial")).await;
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
    assert!(uas_out.status.success(), "{}", server.log_text());
    let heard_by_caller = tokio::task::block_in_place(|| caller.join().unwrap());
    let heard_by_callee = tokio::task::block_in_place(|| callee.join().unwrap());
    let log = server.log_text();
    assert!(log.contains("dial: confirmed with 5"), "{log}");
    assert!(
        loud_frames(&heard_by_caller) > 100,
        "the caller did not hear the dialed party"
    );
    // The dialed party heard nothing of the caller before confirming (about 1.5 s of its
    // first packets are quiet), then the caller's tone.
    let levels = common::frame_levels_ulaw(&heard_by_callee);
    assert!(
        levels.iter().take(60).all(|l| *l < 3000.0),
        "bridged before the key"
    );
    assert!(
        loud_frames(&heard_by_callee) > 100,
        "the dialed party did not hear the caller"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialed_party_that_never_confirms_is_not_bridged() {
    let seen = Seen::default();
    let addr = app(
        seen.clone(),
        r#"<Response><Dial timeout="4" confirmKey="5" action="/after"><Number>15162065340</Number></Dial></Response>"#,
    )
    .await;
    let uas_port = free_udp_port();
    let (callee_rtp, callee) = common::start_rtp_tone_peer(2000.0);
    let server = Server::start_with(
        "dial_unconfirmed",
        &["--trunk", &format!("127.0.0.1:{uas_port}")],
    );
    let uas = common::start_sipp_uas(
        &server,
        "uas_answer.xml",
        uas_port,
        &["-key", "rtp_port", &callee_rtp.to_string()],
    );
    server.set_did_url(&format!("http://{addr}/dial")).await;
    let (caller_rtp, caller) = common::start_rtp_tone_peer(1000.0);
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_hello.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &caller_rtp.to_string()],
        )
    });
    assert!(ok, "caller: {errors}\n{}", server.log_text());
    let uas_out = tokio::task::block_in_place(|| uas.wait_with_output().unwrap());
    assert!(uas_out.status.success(), "{}", server.log_text());
    let heard_by_caller = tokio::task::block_in_place(|| caller.join().unwrap());
    tokio::task::block_in_place(|| callee.join().unwrap());
    assert_eq!(loud_frames(&heard_by_caller), 0, "the caller was bridged");

    let after = seen.lock().unwrap().first().cloned();
    let after = after.unwrap_or_else(|| panic!("no action request\n{}", server.log_text()));
    assert_eq!(after["DialCallStatus"], "noanswer", "{after}");
    let leg_sid = after["DialCallSid"]
        .as_str()
        .expect("DialCallSid")
        .to_string();
    // DialCallSid names the dialed leg's own call detail record.
    let token = server.credentials["core_api_token"].as_str().unwrap();
    let mut found = None;
    for _ in 0..50 {
        let page: Value = reqwest::Client::new()
            .get(format!("{}/core/v2/calls/call_drs", server.http))
            .query(&[("filter", format!("call_sid eq '{leg_sid}'"))])
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        found = page["items"].as_array().and_then(|i| i.first().cloned());
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dr = found.unwrap_or_else(|| panic!("no call record for {leg_sid}"));
    assert_eq!(dr["direction"], "outbound", "{dr}");
    assert_eq!(dr["parent_call_sid"], after["CallSid"], "{dr}");
}
