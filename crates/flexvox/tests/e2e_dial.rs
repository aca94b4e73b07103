//! Dial on a real call: a SIPp caller calls the DID, the app dials a number, flexvox places the
//! outbound leg through the configured trunk (a SIPp UAS), bridges the audio both ways, and
//! when the caller hangs up the dialed leg is hung up too.

mod common;

use axum::routing::post;
use axum::Router;
use common::{free_udp_port, run_sipp_uac, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_bridges_the_caller_to_the_dialed_party_with_audio_both_ways() {
    let app = Router::new().route(
        "/dial",
        post(|| async { r#"<Response><Dial timeout="10"><Number>15162065340</Number></Dial><Say>The call has ended.</Say></Response>"# }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The dialed party: a SIPp UAS whose media goes to our own tone peer.
    let uas_port = free_udp_port();
    let (callee_rtp, callee) = common::start_rtp_tone_peer(2000.0);
    let server = Server::start_with("dial", &["--trunk", &format!("127.0.0.1:{uas_port}")]);
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
    assert!(
        uas_out.status.success(),
        "the dialed party's SIPp failed: {}\n{}",
        String::from_utf8_lossy(&uas_out.stderr),
        server.log_text()
    );

    let heard_by_caller = tokio::task::block_in_place(|| caller.join().unwrap());
    let heard_by_callee = tokio::task::block_in_place(|| callee.join().unwrap());
    let loud = |log: &common::RtpLog| {
        common::frame_levels_ulaw(log)
            .iter()
            .filter(|l| **l > 3000.0)
            .count()
    };
    // About 4 s of talk each way (the caller hangs up 4 s after the answer).
    assert!(
        loud(&heard_by_caller) > 100,
        "the caller heard {} loud frames of the dialed party",
        loud(&heard_by_caller)
    );
    assert!(
        loud(&heard_by_callee) > 100,
        "the dialed party heard {} loud frames of the caller",
        loud(&heard_by_callee)
    );
    let log = server.log_text();
    assert!(log.contains("dial: answered and bridged"), "{log}");
}
