//! Play of a WAV file over HTTP (relative URL, resampled from 16 kHz), then Pause, then Hangup,
//! heard by a SIPp caller.

mod common;

use common::{start_app, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_a_wav_then_pauses_then_hangs_up() {
    let server = Server::start("play");
    let (app, _received) =
        start_app("<Response><Play loop=\"2\" loopPause=\"1\">tone.wav</Play><Pause length=\"1\"/><Hangup/></Response>").await;
    server.set_did_url(&format!("http://{app}/hello")).await;

    let (rtp_port, recorder) = common::start_rtp_caller();
    common::call_demo_number(&server, rtp_port);
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

/// `<Play><File>` of a WAV uploaded through the Core API's storage: the caller hears the
/// stored tone for its one second, then the call hangs up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_a_file_from_storage() {
    let server = Server::start("play-file");
    let token = server.credentials["core_api_token"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let container: serde_json::Value = http
        .post(format!("{}/core/v2/storage/containers", server.http))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "name": "prompts" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let container_sid = container["container_sid"].as_str().unwrap();
    let resp = http
        .post(format!(
            "{}/core/v2/storage/files?container_sid={container_sid}&name=tone.wav",
            server.http
        ))
        .bearer_auth(&token)
        .header("content-type", "application/octet-stream")
        .body(common::tone_wav())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let file: serde_json::Value = resp.json().await.unwrap();
    let file_sid = file["file_sid"].as_str().unwrap();
    // The app server takes a document for the life of the test.
    let document: &'static str = Box::leak(
        format!("<Response><Play><File>{file_sid}</File></Play><Hangup/></Response>")
            .into_boxed_str(),
    );
    let (app, _received) = start_app(document).await;
    let (login, password) = server.login();
    let did_sid = server.credentials["demo_did"]["did_sid"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = http
        .patch(format!("{}/flexml/v1/dids/{did_sid}", server.http))
        .basic_auth(&login, Some(&password))
        .json(&serde_json::json!({ "url": format!("http://{app}/hello") }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (rtp_port, recorder) = common::start_rtp_caller();
    common::call_demo_number(&server, rtp_port);
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());
    let levels = common::frame_levels_ulaw(&packets);
    let loud = levels.iter().filter(|l| **l > 3000.0).count();
    assert!(
        loud.abs_diff(50) <= 3,
        "expected one second (50 frames) of the stored tone, heard {loud} loud frames\n{}",
        server.log_text()
    );
    let first = levels.iter().position(|l| *l > 3000.0).unwrap_or(0);
    assert!(
        levels[first + 10] > 5000.0 && levels[first + 10] < 6500.0,
        "tone level {}",
        levels[first + 10]
    );
}
