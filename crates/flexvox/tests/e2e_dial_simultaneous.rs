//! Simultaneous ring: a Dial with two numbers rings both; the first to answer is bridged to
//! the caller and the other, still ringing, is cancelled (CANCEL, 487, ACK).

mod common;

use axum::routing::post;
use axum::Router;
use common::{free_udp_port, run_sipp_uac, start_sipp_uas, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_answer_wins_and_the_other_leg_is_cancelled() {
    let ringer_port = free_udp_port();
    let answerer_port = free_udp_port();
    let document = format!(
        "<Response><Dial timeout=\"15\">\
         <Number>sip:ringer@127.0.0.1:{ringer_port}</Number>\
         <Number>sip:answerer@127.0.0.1:{answerer_port}</Number>\
         </Dial></Response>"
    );
    let app = Router::new().route("/dial", post(move || async move { document }));
    let addr = common::serve(app).await;

    let server = Server::start("dialsim");
    let (callee_rtp, callee) = common::start_rtp_tone_peer(2000.0);
    let ringer = start_sipp_uas(&server, "uas_ring_forever.xml", ringer_port, &[]);
    let answerer = start_sipp_uas(
        &server,
        "uas_answer.xml",
        answerer_port,
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
    for (name, party) in [("answerer", answerer), ("ringer", ringer)] {
        let out = tokio::task::block_in_place(|| party.wait_with_output().unwrap());
        assert!(
            out.status.success(),
            "the {name}'s SIPp failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.log_text()
        );
    }
    let heard_by_caller = tokio::task::block_in_place(|| caller.join().unwrap());
    let heard_by_callee = tokio::task::block_in_place(|| callee.join().unwrap());
    let loud = |log: &common::RtpLog| {
        common::frame_levels_ulaw(log)
            .iter()
            .filter(|l| **l > 3000.0)
            .count()
    };
    assert!(
        loud(&heard_by_caller) > 100,
        "the caller did not hear the answerer"
    );
    assert!(
        loud(&heard_by_callee) > 100,
        "the answerer did not hear the caller"
    );
}
