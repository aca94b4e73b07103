//! `flexvox simulate` against a real local app: a small IVR with Gather, Redirect, Record,
//! Play, Store and Hangup, driven by a caller script, read back from `--json`.

mod common;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

async fn ivr_app() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = |path: &'static str| {
        move |State(s): State<Seen>, Json(body): Json<Value>| async move {
            s.lock().unwrap().push((path.to_string(), body.clone()));
            let doc = match path {
                "/start" => r#"<Response>
                    <Store name="lang">en</Store>
                    <Gather numDigits="1" timeout="4" action="menu">
                      <Say voice="woman">Welcome. For sales press 1. To leave a message press 2.</Say>
                    </Gather>
                    <Say>We did not get your choice.</Say>
                    <Redirect>start</Redirect>
                  </Response>"#
                    .to_string(),
                "/menu" if body["Digits"] == "2" => r##"<Response>
                    <Say>Leave a message after the beep, then press pound.</Say>
                    <Record action="saved" maxLength="30" finishOnKey="#" playBeep="true"/>
                  </Response>"##
                    .to_string(),
                "/menu" => "<Response><Dial timeout=\"20\">15162065340</Dial><Hangup/></Response>".to_string(),
                "/saved" => format!(
                    "<Response><Play>/tone.wav</Play><Say>Your message of {} seconds was saved. Goodbye.</Say><Hangup/></Response>",
                    body["RecordingDuration"].as_str().unwrap_or("?")
                ),
                "/listen" => r#"<Response><Pause noise="true" minNoise="2000" silence="true" minSilence="2500" length="15"/><Hangup/></Response>"#.to_string(),
                "/play" => r##"<Response><Play loop="10" pauseOnKey="5" restartOnKey="7" stopOnKey="#" action="/played">/tone.wav</Play></Response>"##.to_string(),
                _ => "<Response><Hangup/></Response>".to_string(),
            };
            ([("content-type", "application/xml")], doc)
        }
    };
    let app = Router::new()
        .route("/start", post(record("/start")))
        .route("/menu", post(record("/menu")))
        .route("/saved", post(record("/saved")))
        .route("/status", post(record("/status")))
        .route("/play", post(record("/play")))
        .route("/listen", post(record("/listen")))
        .route("/played", post(record("/played")))
        .route(
            "/get-doc",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                format!(
                    "<Response><Say>Hello {}</Say></Response>",
                    q.get("From").cloned().unwrap_or_default()
                )
            }),
        )
        .route(
            "/tone.wav",
            get(|| async { ([("content-type", "audio/wav")], common::tone_wav()) }),
        )
        .with_state(seen.clone());
    let addr = common::serve(app).await;
    (format!("http://{addr}"), seen)
}

fn simulate(args: &[&str]) -> (bool, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flexvox"))
        .arg("simulate")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (
        out.status.success(),
        events,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ivr_runs_on_virtual_time_with_a_scripted_caller() {
    let (base, seen) = ivr_app().await;
    let script = std::env::temp_dir().join(format!("flexvox-sim-script-{}", std::process::id()));
    std::fs::write(
        &script,
        "# choose voicemail\nwait 1\npress 2\nspeak 6\npress #\n",
    )
    .unwrap();
    let url = format!("{base}/start");
    let status = format!("{base}/status");
    let (ok, events, stderr) = tokio::task::block_in_place(|| {
        simulate(&[
            &url,
            "--from",
            "+15162065338",
            "--script",
            script.to_str().unwrap(),
            "--status-callback",
            &status,
        ])
    });
    assert!(ok, "{stderr}\n{events:#?}");

    // What the app was sent, in order, with the verb results.
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["/start", "/menu", "/saved", "/status"]);
    assert_eq!(seen[0].1["From"], "15162065338");
    assert_eq!(seen[0].1["OriginalFrom"], "+15162065338");
    assert_eq!(seen[1].1["Digits"], "2");
    assert_eq!(
        seen[1].1["Storage_lang"], "en",
        "Store adds Storage_{{name}} to later requests"
    );
    assert_eq!(seen[2].1["RecordingStatus"], "completed");
    assert_eq!(seen[2].1["RecordingDuration"], "6");
    assert_eq!(seen[2].1["Digits"], "#");
    assert_eq!(seen[3].1["CallStatus"], "completed");

    // The timeline: the welcome prompt, the gather listening, the key, the recording, the tone.
    let k = kinds(&events);
    for expected in [
        "request", "answer", "say", "gather", "caller", "record", "play", "hangup", "callback",
        "end",
    ] {
        assert!(k.contains(&expected), "no {expected} event in {k:?}");
    }
    let key_at = events.iter().find(|e| e["text"] == "presses 2").unwrap()["t"]
        .as_f64()
        .unwrap();
    let listen_at = events.iter().find(|e| e["kind"] == "gather").unwrap()["t"]
        .as_f64()
        .unwrap();
    // wait 1 s after the gather starts listening, then the key 0.2 s later.
    assert!(
        (key_at - listen_at - 1.2).abs() < 0.01,
        "key at {key_at}, listening from {listen_at}"
    );
    let play = events.iter().find(|e| e["kind"] == "play").unwrap();
    assert!(
        play["text"].as_str().unwrap().contains("tone.wav (1.0s"),
        "{play}"
    );
    // Virtual time: the whole call takes longer than the simulation itself.
    let end = events.last().unwrap()["t"].as_f64().unwrap();
    assert!(end > 10.0, "call length {end}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_falls_through_to_the_next_verb() {
    let (base, seen) = ivr_app().await;
    let script = std::env::temp_dir().join(format!("flexvox-sim-noinput-{}", std::process::id()));
    // Silent past the 4 s timeout, then hang up the next time the call listens.
    std::fs::write(&script, "wait 5\nhangup\n").unwrap();
    let url = format!("{base}/start");
    let (ok, events, stderr) =
        tokio::task::block_in_place(|| simulate(&[&url, "--script", script.to_str().unwrap()]));
    assert!(ok, "{stderr}");
    let texts: Vec<&str> = events.iter().map(|e| e["text"].as_str().unwrap()).collect();
    let timed_out = texts
        .iter()
        .position(|t| t.contains("gather timed out"))
        .expect("the gather must time out");
    let fallback = texts
        .iter()
        .position(|t| t.contains("We did not get your choice"))
        .expect("the next verb must run");
    assert!(timed_out < fallback);
    let gathers: Vec<f64> = events
        .iter()
        .filter(|e| e["kind"] == "gather")
        .map(|e| e["t"].as_f64().unwrap())
        .collect();
    let timeout_at = events[timed_out]["t"].as_f64().unwrap();
    assert!(
        (timeout_at - gathers[0] - 4.0).abs() < 0.01,
        "the timeout counts from the end of the prompt"
    );
    let starts = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p == "/start")
        .count();
    assert_eq!(starts, 2, "Redirect fetched the document again");
    assert_eq!(events.last().unwrap()["kind"], "end");
    assert!(texts.contains(&"hangs up"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_apps_receive_query_parameters_and_bad_documents_fail() {
    let (base, _) = ivr_app().await;
    let url = format!("{base}/get-doc");
    let (ok, events, stderr) = tokio::task::block_in_place(|| {
        simulate(&[&url, "--method", "GET", "--from", "15550001111"])
    });
    assert!(ok, "{stderr}");
    let say = events.iter().find(|e| e["kind"] == "say").unwrap();
    assert!(
        say["text"].as_str().unwrap().contains("Hello 15550001111"),
        "{say}"
    );

    let (ok, events, _) = tokio::task::block_in_place(|| simulate(&[&format!("{base}/nowhere")]));
    assert!(!ok);
    assert!(events.iter().any(|e| e["kind"] == "error"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_keys_pause_resume_and_stop_with_the_offset_reported() {
    let (base, seen) = ivr_app().await;
    let script = std::env::temp_dir().join(format!("flexvox-sim-play-{}", std::process::id()));
    std::fs::write(
        &script,
        "wait 2\npress 5\nwait 3\npress 7\nwait 1\npress #\n",
    )
    .unwrap();
    let url = format!("{base}/play");
    let (ok, events, stderr) =
        tokio::task::block_in_place(|| simulate(&[&url, "--script", script.to_str().unwrap()]));
    assert!(ok, "{stderr}");
    let texts: Vec<&str> = events.iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert!(texts.iter().any(|t| t.starts_with("pause")), "{texts:?}");
    assert!(texts.contains(&"resume"), "{texts:?}");
    let seen = seen.lock().unwrap().clone();
    let (_, played) = seen
        .iter()
        .find(|(p, _)| p == "/played")
        .expect("the Play action");
    assert_eq!(played["Digits"], "#");
    // Played 0–2.2 s, paused until 5.4 s, played until 6.6 s: 3.4 s into the file.
    assert_eq!(played["PlayOffset"], "3");
    assert!(played["PlaybackUrl"]
        .as_str()
        .unwrap()
        .ends_with("/tone.wav"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_with_noise_and_silence_detection_follows_the_reference_example() {
    let (base, _) = ivr_app().await;
    let script = std::env::temp_dir().join(format!("flexvox-sim-listen-{}", std::process::id()));
    // The reference: the caller starts talking after 5 s and speaks for 4 s; 2.5 s of silence
    // then ends the pause, 11.5 s in all.
    std::fs::write(&script, "wait 5\nspeak 4\n").unwrap();
    let url = format!("{base}/listen");
    let (ok, events, stderr) =
        tokio::task::block_in_place(|| simulate(&[&url, "--script", script.to_str().unwrap()]));
    assert!(ok, "{stderr}");
    let hangup = events
        .iter()
        .find(|e| e["kind"] == "hangup")
        .expect("hangup");
    assert!(
        (hangup["t"].as_f64().unwrap() - 11.5).abs() < 0.01,
        "{hangup}"
    );
}
