//! `--tts-url`: Say goes to the operator's TTS service with the app's voice name and text,
//! and the caller hears the audio it returns (here a 1 s tone standing for speech).

mod common;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::Router;
use common::Server;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Asked = Arc<Mutex<Vec<HashMap<String, String>>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn say_uses_the_configured_tts_service() {
    let asked: Asked = Arc::default();
    let app = Router::new()
        .route(
            "/hello",
            post(|| async {
                r#"<Response><Say voice="Polly.Joanna">Hello there</Say><Hangup/></Response>"#
            }),
        )
        .route(
            "/tts",
            get(
                |State(asked): State<Asked>, Query(q): Query<HashMap<String, String>>| async move {
                    asked.lock().unwrap().push(q);
                    ([("content-type", "audio/wav")], common::tone_wav())
                },
            ),
        )
        .with_state(asked.clone());
    let addr = common::serve(app).await;

    let template = format!("http://{addr}/tts?voice={{voice}}&text={{text}}");
    let server = Server::start_with("ttshttp", &["--tts-url", &template]);
    server.set_did_url(&format!("http://{addr}/hello")).await;

    let (rtp_port, recorder) = common::start_rtp_caller();
    common::call_demo_number(&server, rtp_port);
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());
    let loud = common::frame_levels_ulaw(&packets)
        .iter()
        .filter(|l| **l > 3000.0)
        .count();
    assert!(
        (45..=58).contains(&loud),
        "{loud} loud frames\n{}",
        server.log_text()
    );
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["voice"], "Polly.Joanna");
    assert_eq!(asked[0]["text"], "Hello there");
}
