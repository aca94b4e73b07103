//! The walking skeleton end to end: the real binary, a real app server, a real SIP caller
//! (SIPp) and real RTP. The app's DID is set through the FlexML API as in the quick start.

mod common;

use common::{run_sipp_uac, start_app, Server};
use std::time::{Duration, Instant};
use tts::Tts;

const HELLO: &str = "<Response><Say>Hello, thank you for calling.</Say></Response>";

/// Duration between the first and the last frame louder than `threshold`, in frames.
fn voiced_span(levels: &[f64], threshold: f64) -> usize {
    let first = levels.iter().position(|l| *l > threshold);
    let last = levels.iter().rposition(|l| *l > threshold);
    match (first, last) {
        (Some(a), Some(b)) => b - a + 1,
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sipp_call_runs_the_hello_app_and_flexvox_hangs_up() {
    let server = Server::start("hello");
    let (app, received) = start_app(HELLO).await;
    let (login, password) = server.login();
    let did_sid = server.credentials["demo_did"]["did_sid"]
        .as_str()
        .unwrap()
        .to_string();
    let account_sid = server.credentials["flexml_api"]["account_sid"]
        .as_str()
        .unwrap()
        .to_string();

    // Exactly the quick start's request, against flexvox's base URL.
    let http = reqwest::Client::new();
    let resp = http
        .patch(format!("{}/flexml/v1/dids/{did_sid}", server.http))
        .basic_auth(&login, Some(&password))
        .json(&serde_json::json!({
            "url": format!("http://{app}/hello"),
            "status_callback_url": format!("http://{app}/status"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (rtp_port, recorder) = common::start_rtp_caller();

    let server_ref = &server;
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            server_ref,
            "uac_hello.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(
        ok,
        "SIPp call failed (flexvox must answer with PCMU and send BYE):\n{errors}\nserver log:\n{}",
        server.log_text()
    );
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());

    // The app was asked for its document with the reference's request data.
    let requests = received.lock().unwrap().clone();
    let (path, body) = &requests[0];
    assert_eq!(path, "/hello");
    assert_eq!(body["ApiVersion"], "2.0");
    assert_eq!(body["Direction"], "inbound");
    assert_eq!(body["From"], "15162065338");
    assert_eq!(body["OriginalFrom"], "+15162065338");
    assert_eq!(body["To"], "15550000001");
    assert_eq!(body["AccountSid"], account_sid.as_str());
    assert_eq!(body["RequestUrl"], format!("http://{app}/hello"));
    assert_eq!(body["CallerName"], "Test Caller");
    assert!(uuid::Uuid::parse_str(body["CallSid"].as_str().unwrap()).is_ok());
    assert!(body["CallStatus"].is_string());

    // The caller heard the spoken text: as long as flexvox's own TTS of it, and not silence.
    let expected = tts::Flite::new()
        .synthesize(tts::Voice::Man, "Hello, thank you for calling.")
        .unwrap();
    let expected_span = voiced_span(&common::frame_levels(&expected), 300.0);
    let heard_levels = common::frame_levels_ulaw(&packets);
    let heard_span = voiced_span(&heard_levels, 300.0);
    assert!(
        expected_span > 50,
        "TTS reference too short: {expected_span} frames"
    );
    assert!(
        heard_span.abs_diff(expected_span) <= 3,
        "voiced audio lasted {heard_span} frames, the text takes {expected_span}"
    );
    let loud = heard_levels.iter().filter(|l| **l > 1000.0).count();
    assert!(
        loud * 3 > expected_span,
        "only {loud} loud frames: the caller heard mostly silence"
    );
    // Paced at 20 ms: the stream lasted about as many 20 ms slots as it has packets.
    let spread = packets.last().unwrap().0 - packets[0].0;
    let slots = spread.as_secs_f64() / 0.020;
    assert!(
        (slots - (packets.len() - 1) as f64).abs() < 10.0,
        "{} packets over {spread:?}",
        packets.len()
    );
    let seqs: Vec<u16> = packets.iter().map(|p| p.1).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)),
        "RTP sequence numbers must increase by one"
    );

    // The status callback arrives after the call with its duration.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some((_, b)) = received
            .lock()
            .unwrap()
            .iter()
            .find(|(p, _)| p == "/status")
        {
            break b.clone();
        }
        assert!(Instant::now() < deadline, "no status callback");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status["CallStatus"], "completed");
    assert!(
        status["CallDuration"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 10
    );
    assert!(server.log_text().contains("call timing"));
}
