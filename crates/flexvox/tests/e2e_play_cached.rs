//! Play of an MP3 over HTTP through the disk cache: the first call downloads it, the second
//! revalidates with the ETag (`Cache-Control: no-cache`) and gets 304, so the file is not
//! downloaded again, and both callers hear the tone.

mod common;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use common::{run_sipp_uac, Server};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Default)]
struct Counts {
    full: AtomicUsize,
    not_modified: AtomicUsize,
}

async fn start_audio_app() -> (std::net::SocketAddr, Arc<Counts>) {
    let mp3 = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../media/tests/fixtures/tone.mp3"
    ))
    .unwrap();
    let counts = Arc::new(Counts::default());
    let seen = counts.clone();
    let app = Router::new()
        .route(
            "/hello",
            post(|| async { "<Response><Play>tone.mp3</Play><Hangup/></Response>" }),
        )
        .route(
            "/tone.mp3",
            get(move |headers: HeaderMap| {
                let (mp3, seen) = (mp3.clone(), seen.clone());
                async move {
                    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some("\"t1\"")
                    {
                        seen.not_modified.fetch_add(1, Ordering::SeqCst);
                        return (StatusCode::NOT_MODIFIED, [("etag", "\"t1\"")]).into_response();
                    }
                    seen.full.fetch_add(1, Ordering::SeqCst);
                    (
                        [
                            ("content-type", "audio/mpeg"),
                            ("etag", "\"t1\""),
                            ("cache-control", "no-cache"),
                        ],
                        mp3,
                    )
                        .into_response()
                }
            }),
        );
    let addr = common::serve(app).await;
    (addr, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mp3_is_played_and_revalidated_from_the_cache() {
    let server = Server::start("playcache");
    let (app, counts) = start_audio_app().await;
    server.set_did_url(&format!("http://{app}/hello")).await;

    for call in 1..=2 {
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
        assert!(ok, "call {call}: {errors}\n{}", server.log_text());
        let packets = tokio::task::block_in_place(|| recorder.join().unwrap());
        let loud = common::frame_levels_ulaw(&packets)
            .iter()
            .filter(|l| **l > 3000.0)
            .count();
        // The fixture is 1 s of 1 kHz: about 50 loud frames.
        assert!(
            (45..=58).contains(&loud),
            "call {call}: {loud} loud frames\n{}",
            server.log_text()
        );
    }
    assert_eq!(
        counts.full.load(Ordering::SeqCst),
        1,
        "downloaded more than once"
    );
    assert_eq!(
        counts.not_modified.load(Ordering::SeqCst),
        1,
        "not revalidated"
    );
}
