//! Dial on a real call: a SIPp caller calls the DID, the app dials a number, flexvox places the
//! outbound leg through the configured trunk (a SIPp UAS), bridges the audio both ways, and
//! when the caller hangs up the dialed leg is hung up too. The bridge is recorded
//! (`record="record-from-answer"`): both parties are in the stored file.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::{free_udp_port, run_sipp_uac, Server};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Power of `freq` in `samples` (Goertzel), relative to the samples' total power.
fn share_at(samples: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = x as f64 + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let total: f64 = samples.iter().map(|x| (*x as f64).powi(2)).sum();
    2.0 * power / (samples.len() as f64 * total.max(1.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_bridges_the_caller_to_the_dialed_party_with_audio_both_ways() {
    let recordings: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = Router::new()
        .route(
            "/dial",
            post(|| async { r#"<Response><Dial timeout="10" record="record-from-answer" recordingStatusCallback="/rec"><Number>15162065340</Number></Dial><Say>The call has ended.</Say></Response>"# }),
        )
        .route(
            "/rec",
            post(|State(r): State<Arc<Mutex<Vec<Value>>>>, Json(b): Json<Value>| async move {
                r.lock().unwrap().push(b);
                "ok"
            }),
        )
        .with_state(recordings.clone());
    let addr = common::serve(app).await;

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

    // The recording of the bridge: reported to the Dial's recordingStatusCallback once the
    // caller has hung up, with both parties' tones in it.
    let mut callback = None;
    for _ in 0..100 {
        callback = recordings.lock().unwrap().first().cloned();
        if callback.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let callback =
        callback.unwrap_or_else(|| panic!("no recording callback\n{}", server.log_text()));
    assert_eq!(callback["RecordingStatus"], "completed", "{callback}");
    let wav = reqwest::get(callback["RecordingUrl"].as_str().unwrap())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let samples = media::decode(&wav, Some("audio/wav"), None).unwrap();
    assert!(samples.len() > 3 * 8000, "{} samples", samples.len());
    let (caller_share, callee_share) = (share_at(&samples, 1000.0), share_at(&samples, 2000.0));
    assert!(
        caller_share > 0.2 && callee_share > 0.2,
        "both parties must be in the recording: 1 kHz {caller_share:.2}, 2 kHz {callee_share:.2}"
    );
}
