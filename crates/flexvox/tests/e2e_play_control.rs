//! Play on real calls beyond playing a file whole: a slow download starts playing before it has
//! finished, `skip` and `timeLimit` cut the audio, and the caller's forward, pause (with hold
//! audio), restart and rewind keys move the playback, with PlayOffset reported to the action.

mod common;

use axum::body::Body;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::Server;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Twelve seconds at 8 kHz: 500 Hz for 0-4 s, 1000 Hz for 4-8 s, 1500 Hz for 8-12 s.
fn three_tones() -> Vec<u8> {
    let samples: Vec<i16> = (0..12 * 8000)
        .map(|i| {
            let f = [500.0, 1000.0, 1500.0][i / 32000];
            (8000.0 * (2.0 * std::f64::consts::PI * f * i as f64 / 8000.0).sin()) as i16
        })
        .collect();
    media::wav::encode_pcm16(&samples, 8000)
}

fn hold_tone() -> Vec<u8> {
    let samples: Vec<i16> = (0..8000)
        .map(|i| (8000.0 * (2.0 * std::f64::consts::PI * 2000.0 * i as f64 / 8000.0).sin()) as i16)
        .collect();
    media::wav::encode_pcm16(&samples, 8000)
}

#[derive(Default)]
struct Seen {
    actions: Vec<Value>,
    /// When the last byte of the slow file was handed to the connection.
    download_done: Option<Instant>,
}

type Shared = Arc<Mutex<Seen>>;

/// The app: `/start` answers `document`; `/slow.wav` sends the three tones at twice real time
/// (half a second of audio every 250 ms, 6 s for the file), `/tones.wav` at once; `/after`
/// records Play's action.
async fn app(document: &'static str) -> (std::net::SocketAddr, Shared) {
    let seen = Shared::default();
    let router = Router::new()
        .route("/start", post(move || async move { document }))
        .route(
            "/after",
            post(|State(s): State<Shared>, Json(b): Json<Value>| async move {
                s.lock().unwrap().actions.push(b);
                "<Response><Hangup/></Response>"
            }),
        )
        .route(
            "/tones.wav",
            get(|| async { ([("content-type", "audio/wav")], three_tones()) }),
        )
        .route(
            "/hold.wav",
            get(|| async { ([("content-type", "audio/wav")], hold_tone()) }),
        )
        .route(
            "/slow.wav",
            get(|State(s): State<Shared>| async move {
                let file = three_tones();
                let chunks: Vec<Vec<u8>> = file.chunks(8000).map(<[u8]>::to_vec).collect();
                let stream = futures_util::stream::unfold(
                    (chunks.into_iter(), s),
                    |(mut chunks, s)| async move {
                        match chunks.next() {
                            Some(chunk) => {
                                tokio::time::sleep(Duration::from_millis(250)).await;
                                Some((Ok::<_, std::io::Error>(chunk), (chunks, s)))
                            }
                            None => {
                                s.lock().unwrap().download_done = Some(Instant::now());
                                None
                            }
                        }
                    },
                );
                // No Cache-Control: the next call fetches it again rather than from the cache.
                ([("content-type", "audio/wav")], Body::from_stream(stream))
            }),
        )
        .with_state(seen.clone());
    (common::serve(router).await, seen)
}

/// The tone of each 20 ms frame the caller heard (0 for silence).
fn tones(log: &common::RtpLog) -> Vec<(Instant, u32)> {
    let candidates = [500.0, 1000.0, 1500.0, 2000.0];
    log.iter()
        .filter(|(_, _, _, pt)| *pt == 0)
        .map(|(at, _, payload, _)| {
            let frame: Vec<f64> = payload
                .iter()
                .map(|b| media::g711::ulaw_to_linear(*b) as f64)
                .collect();
            let rms = (frame.iter().map(|s| s * s).sum::<f64>() / frame.len() as f64).sqrt();
            if rms < 1000.0 {
                return (*at, 0);
            }
            let power = |f: f64| {
                let w = 2.0 * std::f64::consts::PI * f / 8000.0;
                let (re, im) = frame
                    .iter()
                    .enumerate()
                    .fold((0.0, 0.0), |(re, im), (i, s)| {
                        (re + s * (w * i as f64).cos(), im + s * (w * i as f64).sin())
                    });
                re * re + im * im
            };
            let best = candidates
                .iter()
                .copied()
                .max_by(|a, b| power(*a).total_cmp(&power(*b)))
                .unwrap_or(0.0);
            (*at, best as u32)
        })
        .collect()
}

/// Consecutive frames of the same tone, from the first tone heard: (tone, frames, start).
fn runs(tones: &[(Instant, u32)]) -> Vec<(u32, usize, Instant)> {
    let first = tones
        .iter()
        .position(|(_, t)| *t != 0)
        .expect("no tone heard");
    let mut runs: Vec<(u32, usize, Instant)> = Vec::new();
    for (at, t) in &tones[first..] {
        match runs.last_mut() {
            Some((tone, n, _)) if tone == t => *n += 1,
            _ => runs.push((*t, 1, *at)),
        }
    }
    // A frame straddling two tones may be read as either: fold one-frame runs away.
    runs.retain(|(_, n, _)| *n > 1);
    runs.dedup_by(|b, a| {
        let same = a.0 == b.0;
        if same {
            a.1 += b.1;
        }
        same
    });
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_download_plays_before_it_ends_and_skip_and_time_limit_cut_it() {
    let (addr, seen) =
        app(r#"<Response><Play skip="4" timeLimit="3">slow.wav</Play><Hangup/></Response>"#).await;
    let server = Server::start("play_stream");
    server.set_did_url(&format!("http://{addr}/start")).await;
    let (rtp_port, caller) = common::start_rtp_caller();
    common::call_demo_number(&server, rtp_port);
    let heard = tokio::task::block_in_place(|| caller.join().unwrap());
    let runs = runs(&tones(&heard));
    let log = server.log_text();
    assert_eq!(
        runs[0].0, 1000,
        "skip=4 starts in the second tone: {runs:?}\n{log}"
    );
    assert!(
        runs[0].1.abs_diff(150) <= 3,
        "timeLimit=3 plays 150 frames, not {}: {runs:?}",
        runs[0].1
    );
    assert!(
        runs.iter().skip(1).all(|(t, _, _)| *t == 0),
        "nothing after the limit: {runs:?}"
    );
    // The call is over before the download (it only needed 7 s of the 12).
    let mut done = None;
    for _ in 0..100 {
        done = seen.lock().unwrap().download_done;
        if done.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = done.expect("the download never ended");
    assert!(
        runs[0].2 + Duration::from_secs(1) < done,
        "the first audio ({:?}) came only with the end of the download ({done:?})",
        runs[0].2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_play_goes_on_through_a_pause_and_gives_way_to_the_next_play() {
    let (addr, _seen) = app(
        r#"<Response><Play background="true">tones.wav</Play><Pause length="3"/><Play>hold.wav</Play><Hangup/></Response>"#,
    )
    .await;
    let server = Server::start("play_background");
    server.set_did_url(&format!("http://{addr}/start")).await;
    let (rtp_port, caller) = common::start_rtp_caller();
    common::call_demo_number(&server, rtp_port);
    let heard = tokio::task::block_in_place(|| caller.join().unwrap());
    let runs = runs(&tones(&heard));
    let shape: Vec<u32> = runs.iter().map(|r| r.0).filter(|t| *t != 0).collect();
    assert_eq!(shape, vec![500, 2000], "{runs:?}\n{}", server.log_text());
    assert!(
        runs[0].1.abs_diff(150) <= 5,
        "the background file through the 3 s pause: {runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_pause_restart_and_rewind_keys_move_the_playback() {
    let (addr, seen) = app(
        r#"<Response><Play action="/after" forwardOnKey="9" rewindOnKey="7" pauseOnKey="2" restartOnKey="3" controlSkip="4" pauseAudioUrl="hold.wav">tones.wav</Play></Response>"#,
    )
    .await;
    let server = Server::start("play_keys");
    server.set_did_url(&format!("http://{addr}/start")).await;
    // At ~1 s: forward 4 s; ~2.3 s: pause; ~4.5 s: resume; ~5.8 s: rewind 4 s.
    let (rtp_port, caller) =
        common::start_rtp_caller_pressing("9,2,,3,7", Duration::from_millis(1000));
    common::call_demo_number(&server, rtp_port);
    let heard = tokio::task::block_in_place(|| caller.join().unwrap());
    let runs = runs(&tones(&heard));
    let log = server.log_text();
    let shape: Vec<u32> = runs.iter().map(|r| r.0).collect();
    assert_eq!(
        &shape[..7],
        &[500, 1000, 2000, 1000, 500, 1000, 1500],
        "500 Hz until forward, 1000 Hz, hold audio while paused, 1000 Hz again, rewound into \
         500 Hz, then the rest: {runs:?}\n{log}"
    );
    assert!(
        runs[1].1.abs_diff(63) <= 6,
        "forward, then ~1.3 s until the pause key: {runs:?}"
    );
    assert!(
        runs[2].1.abs_diff(113) <= 10,
        "paused ~2.3 s (two commas and a key): {runs:?}"
    );
    assert!(
        runs[6].1.abs_diff(200) <= 3,
        "the last tone whole: {runs:?}"
    );
    let actions = seen.lock().unwrap().actions.clone();
    assert_eq!(actions.len(), 1, "{actions:?}");
    let offset: u64 = actions[0]["PlayOffset"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("PlayOffset: {actions:?}"));
    assert!(
        (11..=13).contains(&offset),
        "PlayOffset {offset}: {actions:?}"
    );
}
