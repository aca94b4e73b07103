//! Play of a WAV file over HTTP (relative URL, resampled from 16 kHz), then Pause, then Hangup,
//! heard by a SIPp caller.

mod common;

use common::{run_sipp_uac, start_app, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_a_wav_then_pauses_then_hangs_up() {
    let server = Server::start("play");
    let (app, _received) =
        start_app("<Response><Play loop=\"2\" loopPause=\"1\">tone.wav</Play><Pause length=\"1\"/><Hangup/></Response>").await;
    let (login, password) = server.login();
    let did_sid = server.credentials["demo_did"]["did_sid"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = reqwest::Client::new()
        .patch(format!("{}/flexml/v1/dids/{did_sid}", server.http))
        .basic_auth(&login, Some(&password))
        .json(&serde_json::json!({ "url": format!("http://{app}/hello") }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (rtp_port, recorder) = common::start_rtp_caller();
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_hello.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());
    let levels = common::frame_levels_ulaw(&packets);
    let tone: Vec<bool> = levels.iter().map(|l| *l > 3000.0).collect();
    // tone 1 s, gap 1 s, tone 1 s, pause 1 s: 50 loud, 50 quiet, 50 loud, about 50 quiet frames.
    let first = tone
        .iter()
        .position(|t| *t)
        .expect("the tone was never heard");
    let runs: Vec<(bool, usize)> = tone[first..].iter().fold(Vec::new(), |mut runs, t| {
        match runs.last_mut() {
            Some((v, n)) if v == t => *n += 1,
            _ => runs.push((*t, 1)),
        }
        runs
    });
    assert!(
        runs.len() >= 4,
        "expected tone, gap, tone, pause; got runs {runs:?}"
    );
    for (i, expected) in [(0, 50), (1, 50), (2, 50)] {
        assert!(
            runs[i].1.abs_diff(expected) <= 2,
            "run {i} lasted {} frames, expected {expected}: {runs:?}",
            runs[i].1
        );
    }
    assert!(
        runs[3].1.abs_diff(50) <= 5,
        "the pause lasted {} frames: {runs:?}",
        runs[3].1
    );
    assert!(
        levels[first + 10] > 5000.0 && levels[first + 10] < 6500.0,
        "tone level {}",
        levels[first + 10]
    );
}
