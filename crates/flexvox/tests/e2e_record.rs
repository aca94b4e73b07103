//! Record on real SIP calls: an IVR takes a key, redirects to a Record, stores what the caller
//! said as a File and plays it back from its RecordingUrl; a caller who hangs up while
//! recording still leaves the message, and the action hears of it; a server killed while
//! recording stores what it had recorded when it starts again.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::{run_sipp_uac, RtpLog, Server};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// The caller's tone: easy to find again in the recording and in what is played back.
const TONE_HZ: f64 = 600.0;

async fn start_app(seen: Seen, record_verb: &'static str) -> SocketAddr {
    let route = |path: &'static str, doc: &'static str| {
        post(
            move |State(s): State<Seen>, Json(b): Json<Value>| async move {
                s.lock().unwrap().push((path.into(), b));
                doc
            },
        )
    };
    let app = Router::new()
        .route(
            "/ivr",
            route(
                "/ivr",
                r#"<Response><Gather numDigits="1" timeout="5" action="/menu"><Say>Press 1 to leave a message.</Say></Gather><Say>No key.</Say></Response>"#,
            ),
        )
        .route("/menu", route("/menu", "<Response><Redirect>/record</Redirect></Response>"))
        .route("/record", route("/record", record_verb))
        .route("/status", route("/status", "ok"))
        .route(
            "/saved",
            post(|State(s): State<Seen>, Json(b): Json<Value>| async move {
                let url = b["RecordingUrl"].as_str().unwrap_or_default().to_string();
                s.lock().unwrap().push(("/saved".into(), b));
                format!("<Response><Play>{url}</Play><Hangup/></Response>")
            }),
        )
        .with_state(seen);
    let addr = common::serve(app).await;
    addr
}

fn core_token(server: &Server) -> String {
    server.credentials["core_api_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A storage container made through the Core API; its SID.
async fn create_container(server: &Server, name: &str) -> String {
    let container: Value = reqwest::Client::new()
        .post(format!("{}/core/v2/storage/containers", server.http))
        .bearer_auth(core_token(server))
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    container["container_sid"].as_str().unwrap().to_string()
}

fn request<'a>(seen: &'a [(String, Value)], path: &str, server: &Server) -> &'a Value {
    &seen
        .iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("no {path} request: {seen:?}\n{}", server.log_text()))
        .1
}

/// Zero crossings per 20 ms frame: 24 for a 600 Hz tone, 40 for the 1 kHz beep.
fn crossings(frame: &[i16]) -> usize {
    frame
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count()
}

fn is_tone_frame(frame: &[i16]) -> bool {
    let rms = common::frame_levels(frame)[0];
    rms > 1000.0 && (22..=26).contains(&crossings(frame))
}

fn received_samples(packets: &RtpLog) -> Vec<i16> {
    packets
        .iter()
        .filter(|(_, _, _, pt)| *pt == 0)
        .flat_map(|(_, _, p, _)| p.iter().map(|b| media::g711::ulaw_to_linear(*b)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ivr_records_the_caller_and_plays_the_recording_back() {
    let seen: Seen = Arc::default();
    let addr = start_app(
        seen.clone(),
        r#"<Response><Say>Speak after the beep.</Say><Record action="/saved" maxLength="2" playBeep="true" trim="do-not-trim"/></Response>"#,
    )
    .await;
    let server = Server::start("record_ivr");
    server.set_did_url(&format!("http://{addr}/ivr")).await;

    let (rtp_port, peer) =
        common::start_rtp_tone_peer_pressing(TONE_HZ, "1", Duration::from_millis(1000));
    common::call_demo_number(&server, rtp_port);
    let packets = tokio::task::block_in_place(|| peer.join().unwrap());

    let seen = seen.lock().unwrap().clone();
    assert_eq!(request(&seen, "/menu", &server)["Digits"], "1");
    let saved = request(&seen, "/saved", &server);
    assert_eq!(saved["RecordingStatus"], "completed", "{saved}");
    assert_eq!(saved["RecordingDuration"], "2", "{saved}");
    let sid = saved["RecordingSid"].as_str().unwrap();
    let url = saved["RecordingUrl"].as_str().unwrap();
    assert_eq!(url, format!("{}/f/{sid}.wav", server.http), "{saved}");

    // The stored file is the caller's tone, 2 s of it, and public at its RecordingUrl.
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "audio/wav");
    let wav = response.bytes().await.unwrap();
    let samples = media::decode(&wav, Some("audio/wav"), None).unwrap();
    assert!(
        (15_200..=16_800).contains(&samples.len()),
        "{} samples recorded",
        samples.len()
    );
    let tone_frames = samples.chunks(160).filter(|f| is_tone_frame(f)).count();
    assert!(
        tone_frames >= 90,
        "only {tone_frames} of {} recorded frames are the caller's tone",
        samples.len() / 160
    );

    // The caller heard the beep, then (after /saved) the recording played back: a run of
    // the caller's own tone at least 1.8 s long.
    let heard = received_samples(&packets);
    let frames: Vec<&[i16]> = heard.chunks(160).collect();
    let beep_at = frames
        .iter()
        .position(|f| common::frame_levels(f)[0] > 1000.0 && (38..=42).contains(&crossings(f)))
        .unwrap_or_else(|| panic!("no beep heard\n{}", server.log_text()));
    let mut longest = 0;
    let mut run = 0;
    for f in &frames[beep_at..] {
        run = if is_tone_frame(f) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    assert!(
        longest >= 90,
        "the recording was not played back: longest run of the tone {longest} frames\n{}",
        server.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_hangs_up_while_recording_still_leaves_the_message() {
    let seen: Seen = Arc::default();
    let addr = start_app(
        seen.clone(),
        r#"<Response><Record action="/saved" timeout="30" recordingStatusCallback="/status"/></Response>"#,
    )
    .await;
    let server = Server::start("record_hangup");
    // Straight to the Record verb.
    server.set_did_url(&format!("http://{addr}/record")).await;
    let (rtp_port, peer) = common::start_rtp_tone_peer(TONE_HZ);
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_talk.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
    tokio::task::block_in_place(|| peer.join().unwrap());

    // The action is requested after the hang-up (through the outbox): wait for it.
    let mut saved = None;
    for _ in 0..100 {
        let seen = seen.lock().unwrap().clone();
        if let Some((_, body)) = seen.iter().find(|(p, _)| p == "/saved") {
            saved = Some(body.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let saved = saved.unwrap_or_else(|| panic!("no /saved request\n{}", server.log_text()));
    assert_eq!(saved["RecordingStatus"], "completed", "{saved}");
    // The caller talked for 4 s after the answer.
    let secs: u64 = saved["RecordingDuration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3..=5).contains(&secs), "{saved}");
    let url = saved["RecordingUrl"].as_str().unwrap();
    let wav = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    let samples = media::decode(&wav, Some("audio/wav"), None).unwrap();
    let tone_frames = samples.chunks(160).filter(|f| is_tone_frame(f)).count();
    assert!(
        tone_frames >= 150,
        "{tone_frames} tone frames in the message"
    );
    // recordingStatusCallback went out too, with the same recording.
    let mut status = None;
    for _ in 0..50 {
        status = seen
            .lock()
            .unwrap()
            .iter()
            .find(|(p, _)| p == "/status")
            .cloned();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, status) = status.unwrap_or_else(|| panic!("no recording status callback"));
    assert_eq!(status["RecordingSid"], saved["RecordingSid"]);
    // Stored: neither the temporary file nor its sidecar is left for a recovery to find.
    let left: Vec<_> = std::fs::read_dir(server.data_dir.join("recordings-in-progress"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The server is killed (SIGKILL) three seconds into a Record; started again on the same data
/// folder, it stores what was on disk as `{CallSid}-recovered.wav` in the verb's container,
/// where the Core API lists it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_cut_by_a_server_crash_is_stored_at_the_next_start() {
    let mut server = Server::start("record_crash");
    let (http, token) = (reqwest::Client::new(), core_token(&server));
    let container_sid = create_container(&server, "voicemail").await;
    let verb: &'static str = Box::leak(
        format!(
            r#"<Response><Record action="/saved" maxLength="60" timeout="60" trim="do-not-trim" containerSid="{container_sid}" recordingStatusCallback="/status"/></Response>"#
        )
        .into_boxed_str(),
    );
    let seen: Seen = Arc::default();
    let addr = start_app(seen.clone(), verb).await;
    server.set_did_url(&format!("http://{addr}/record")).await;

    // A caller who would talk for 30 s.
    let scenario = server.data_dir.join("uac_talk_long.xml");
    let text = std::fs::read_to_string(common::sipp_scenario("uac_talk.xml"))
        .unwrap()
        .replace(
            r#"<pause milliseconds="4000"/>"#,
            r#"<pause milliseconds="30000"/>"#,
        );
    std::fs::write(&scenario, text).unwrap();
    let (rtp_port, peer) = common::start_rtp_tone_peer(TONE_HZ);
    let mut sipp = common::start_sipp_uac(
        &server,
        scenario.to_str().unwrap(),
        "15550000001",
        &["-key", "rtp_port", &rtp_port.to_string()],
    );

    // Kill the server once 3 s of the recording are on disk.
    let dir = server.data_dir.join("recordings-in-progress");
    let mut recording = None;
    for _ in 0..200 {
        recording = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.extension().is_some_and(|e| e == "wav")
                    && p.metadata().is_ok_and(|m| m.len() >= 44 + 3 * 16_000)
            });
        if recording.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recording =
        recording.unwrap_or_else(|| panic!("no recording under way\n{}", server.log_text()));
    let mut sidecar = recording.clone().into_os_string();
    sidecar.push(".json");
    assert!(std::path::Path::new(&sidecar).exists(), "no sidecar");
    server.kill();
    let on_disk = (std::fs::metadata(&recording).unwrap().len() - 44) / 2;
    let _ = sipp.kill();
    let _ = sipp.wait();
    tokio::task::block_in_place(|| peer.join().unwrap());
    let call_sid = {
        let seen = seen.lock().unwrap();
        request(&seen, "/record", &server)["CallSid"]
            .as_str()
            .unwrap()
            .to_string()
    };

    server.restart();
    let name = format!("{call_sid}-recovered.wav");
    let mut file = None;
    for _ in 0..100 {
        let page: Value = http
            .get(format!("{}/core/v2/storage/files", server.http))
            .bearer_auth(&token)
            .query(&[("filter", format!("name eq '{name}'"))])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        file = page["items"].as_array().and_then(|i| i.first().cloned());
        if file.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let file = file.unwrap_or_else(|| panic!("no {name} stored\n{}", server.log_text()));
    assert_eq!(file["container_sid"], container_sid.as_str(), "{file}");
    assert_eq!(file["mime_type"], "audio/wav", "{file}");
    assert_eq!(file["publish"], "file_sid", "{file}");
    let file_sid = file["file_sid"].as_str().unwrap();
    let wav = http
        .get(format!(
            "{}/core/v2/storage/files/{file_sid}/data",
            server.http
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    // A valid WAV whose header counts every sample that was on disk.
    assert_eq!(
        u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize,
        wav.len() - 8
    );
    let samples = media::decode(&wav, Some("audio/wav"), None).unwrap();
    assert_eq!(samples.len() as u64, on_disk);
    let tone_frames = samples.chunks(160).filter(|f| is_tone_frame(f)).count();
    assert!(
        tone_frames >= 140,
        "{tone_frames} tone frames in the recovered recording"
    );
    // Published like a finished recording.
    let public = reqwest::get(format!("{}/f/{file_sid}.wav", server.http))
        .await
        .unwrap();
    assert_eq!(public.status(), 200);
    let log = server.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("recovered a recording") && l.contains(file_sid)),
        "{log}"
    );
    // Nothing is left to recover again, and the app was not called back.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let seen = seen.lock().unwrap();
    assert!(
        !seen.iter().any(|(p, _)| p == "/saved" || p == "/status"),
        "{seen:?}"
    );
}

/// `fileFormat="mp3"` with the opt-in LAME encoder: the File is an MP3 of the caller's audio.
#[cfg(feature = "mp3-recording")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mp3_recording_is_stored_as_mp3() {
    let seen: Seen = Arc::default();
    let addr = start_app(
        seen.clone(),
        r#"<Response><Record action="/saved" maxLength="2" fileFormat="mp3" trim="do-not-trim"/></Response>"#,
    )
    .await;
    let server = Server::start("record_mp3");
    server.set_did_url(&format!("http://{addr}/record")).await;
    let (rtp_port, peer) = common::start_rtp_tone_peer(TONE_HZ);
    common::call_demo_number(&server, rtp_port);
    let _ = tokio::task::block_in_place(|| peer.join().unwrap());
    let seen = seen.lock().unwrap().clone();
    let saved = request(&seen, "/saved", &server);
    let sid = saved["RecordingSid"].as_str().unwrap();
    let url = saved["RecordingUrl"].as_str().unwrap();
    assert_eq!(url, format!("{}/f/{sid}.mp3", server.http), "{saved}");
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.headers()["content-type"], "audio/mpeg");
    let mp3 = response.bytes().await.unwrap();
    // 32 kbps: about 4 KB a second, a quarter of the WAV.
    assert!((6_000..=12_000).contains(&mp3.len()), "{} bytes", mp3.len());
    let samples = media::decode(&mp3, Some("audio/mpeg"), None).unwrap();
    assert!(
        (15_200..=16_800).contains(&samples.len()),
        "{} samples decoded",
        samples.len()
    );
    let tone_frames = samples.chunks(160).filter(|f| is_tone_frame(f)).count();
    assert!(
        tone_frames >= 85,
        "{tone_frames} frames of the caller's tone"
    );
}

/// `fileSid`: a second message is appended to an existing file (uploaded through the Core
/// API), which keeps its SID and format; RecordingSid names that file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_appended_to_an_existing_file() {
    let server = Server::start("record_append");
    let (http, token) = (reqwest::Client::new(), core_token(&server));
    let container_sid = create_container(&server, "mailbox").await;
    // One second of silence already in the mailbox file.
    let existing = media::wav::encode_pcm16(&[0; 8000], 8000);
    let uploaded: Value = http
        .post(format!(
            "{}/core/v2/storage/files?container_sid={container_sid}&name=mailbox.wav",
            server.http
        ))
        .bearer_auth(&token)
        .body(existing)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let file_sid = uploaded["file_sid"].as_str().unwrap().to_string();
    let verb: &'static str = Box::leak(
        format!(
            r#"<Response><Record action="/saved" maxLength="2" trim="do-not-trim" fileSid="{file_sid}"/></Response>"#
        )
        .into_boxed_str(),
    );
    let seen: Seen = Arc::default();
    let addr = start_app(seen.clone(), verb).await;
    server.set_did_url(&format!("http://{addr}/record")).await;
    let (rtp_port, peer) = common::start_rtp_tone_peer(TONE_HZ);
    common::call_demo_number(&server, rtp_port);
    let _ = tokio::task::block_in_place(|| peer.join().unwrap());

    let seen = seen.lock().unwrap().clone();
    let saved = request(&seen, "/saved", &server);
    assert_eq!(saved["RecordingSid"], file_sid.as_str(), "{saved}");
    assert_eq!(saved["RecordingDuration"], "2", "{saved}");
    let wav = http
        .get(format!(
            "{}/core/v2/storage/files/{file_sid}/data",
            server.http
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let samples = media::decode(&wav, Some("audio/wav"), None).unwrap();
    assert!(
        (23_200..=24_800).contains(&samples.len()),
        "1 s before + 2 s recorded, not {} samples",
        samples.len()
    );
    let frames: Vec<bool> = samples.chunks(160).map(is_tone_frame).collect();
    assert!(
        frames[..50].iter().all(|t| !t),
        "the first second is the silence that was there"
    );
    let toned = frames[50..].iter().filter(|t| **t).count();
    assert!(toned >= 85, "{toned} frames of the caller after it");
}
