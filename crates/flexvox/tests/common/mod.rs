//! Shared pieces of the end-to-end tests: the real flexvox binary on free ports, a small app
//! server that records what it is sent, and SIPp.

#![allow(dead_code)]

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port for the server's SIP, free for both UDP and TCP (it listens on both), taken below the
/// kernel's ephemeral range (32768 and up): there, an outgoing connection of another test cannot
/// take it between this check and the server's bind.
pub fn free_sip_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 200) as u16 * 50;
    for _ in 0..2_000 {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed) % 10_000;
        let port = if port >= 30_000 { port - 10_000 } else { port };
        let free = UdpSocket::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port)).is_ok();
        if free {
            return port;
        }
    }
    panic!("no free SIP port between 20000 and 29999");
}

pub struct Server {
    pub child: Child,
    pub http: String,
    pub sip_port: u16,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    pub credentials: Value,
    /// The extra `serve` arguments, for `restart`.
    pub extra: Vec<String>,
}

impl Server {
    pub fn start(name: &str) -> Server {
        Server::start_with(name, &[])
    }

    /// Starts the server with extra `serve` arguments (e.g. `--trunk`).
    pub fn start_with(name: &str, extra: &[&str]) -> Server {
        let data_dir =
            std::env::temp_dir().join(format!("flexvox-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        std::fs::create_dir_all(&data_dir).unwrap();
        let extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        Server::launch(data_dir, extra)
    }

    /// Runs the binary on `data_dir` (on fresh ports), its log appended to `server.log`.
    fn launch(data_dir: PathBuf, extra: Vec<String>) -> Server {
        let http_port = free_tcp_port();
        let sip_port = free_sip_port();
        // An RTP range of our own per test process, away from the ephemeral range.
        let rtp_low = 30000 + (std::process::id() % 500) as u16 * 20;
        let log = data_dir.join("server.log");
        let credentials_path = data_dir.join("credentials.json");
        // Written anew by each start: its presence says this one is up.
        let _ = std::fs::remove_file(&credentials_path);
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_flexvox"))
            .args(["serve", "--http-listen", &format!("127.0.0.1:{http_port}")])
            .args(["--sip-listen", &format!("127.0.0.1:{sip_port}")])
            .args(["--rtp-ports", &format!("{rtp_low}-{}", rtp_low + 19)])
            .args(["--data-dir", data_dir.to_str().unwrap()])
            .args(&extra)
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("starting the flexvox binary");
        let http = format!("http://127.0.0.1:{http_port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = std::net::TcpStream::connect(("127.0.0.1", http_port)).is_ok()
                && credentials_path.exists();
            if up {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "flexvox did not start; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Written just before the port opens; give a slow write a moment.
        let credentials = loop {
            let text = std::fs::read_to_string(&credentials_path).unwrap_or_default();
            match serde_json::from_str(&text) {
                Ok(c) => break c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "credentials.json: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        Server {
            child,
            http,
            sip_port,
            data_dir,
            log,
            credentials,
            extra,
        }
    }

    /// Kills the process at once (SIGKILL: no shutdown of any kind, as in a crash).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same data folder (the database, storage and whatever
    /// the last run left), on new ports, with the same arguments. Kills it first if it runs.
    pub fn restart(&mut self) {
        self.kill();
        // The old value's drop has nothing left to kill: its process is reaped.
        *self = Server::launch(self.data_dir.clone(), self.extra.clone());
    }

    pub fn login(&self) -> (String, String) {
        let api = &self.credentials["flexml_api"];
        (
            api["login"].as_str().unwrap().into(),
            api["password"].as_str().unwrap().into(),
        )
    }

    /// Points the demo number at an app, as a user does: `PATCH /flexml/v1/dids/{sid}` with
    /// `{"url": …}` and the account's login.
    pub async fn set_did_url(&self, url: &str) {
        let (login, password) = self.login();
        let did_sid = self.credentials["demo_did"]["did_sid"].as_str().unwrap();
        let resp = reqwest::Client::new()
            .patch(format!("{}/flexml/v1/dids/{did_sid}", self.http))
            .basic_auth(&login, Some(&password))
            .json(&serde_json::json!({ "url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "{}",
            resp.text().await.unwrap_or_default()
        );
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every request an app received: (path, JSON body).
pub type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// Serves `app` on a free loopback port for the rest of the test.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A local app: POST /hello answers `document`; POST /status records status callbacks.
pub async fn start_app(document: &'static str) -> (SocketAddr, Received) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/hello",
            post(
                move |State(r): State<Received>, Json(body): Json<Value>| async move {
                    r.lock().unwrap().push(("/hello".into(), body));
                    ([("content-type", "application/xml")], document)
                },
            ),
        )
        .route(
            "/status",
            post(
                |State(r): State<Received>, Json(body): Json<Value>| async move {
                    r.lock().unwrap().push(("/status".into(), body));
                    "ok"
                },
            ),
        )
        .route(
            "/tone.wav",
            axum::routing::get(|| async { ([("content-type", "audio/wav")], tone_wav()) }),
        )
        .with_state(received.clone());
    let addr = serve(app).await;
    (addr, received)
}

/// One second of a 1 kHz tone at 16 kHz (so playback must resample), as a WAV file.
pub fn tone_wav() -> Vec<u8> {
    let samples: Vec<i16> = (0..16000)
        .map(|i| (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 16000.0).sin()) as i16)
        .collect();
    media::wav::encode_pcm16(&samples, 16000)
}

pub fn sipp_scenario(name: &str) -> String {
    if name.starts_with('/') {
        return name.to_string();
    }
    format!("{}/tests/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Writes a copy of a scenario with placeholders replaced; returns its path.
pub fn instantiate_scenario(server: &Server, name: &str, replace: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(sipp_scenario(name)).unwrap();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    let path = server.data_dir.join(format!(
        "{}-{name}",
        replace.iter().map(|r| r.1).collect::<Vec<_>>().join("-")
    ));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The caller's media socket: records the RTP flexvox sends (arrival, sequence, payload) and
/// answers each packet with a PCMU silence packet, until the stream stops for a second.
/// RTP packets as the caller received them: (arrival, sequence number, payload, payload type).
pub type RtpLog = Vec<(Instant, u16, Vec<u8>, u8)>;

pub fn start_rtp_caller() -> (u16, std::thread::JoinHandle<RtpLog>) {
    start_rtp_caller_pressing("", Duration::ZERO)
}

/// A media peer that answers each packet it gets with 20 ms of a tone at `freq` Hz (so the far
/// side can check it hears this peer), recording what it receives.
pub fn start_rtp_tone_peer(freq: f64) -> (u16, std::thread::JoinHandle<RtpLog>) {
    start_rtp_peer("", Duration::ZERO, Some(freq))
}

/// A tone peer (see `start_rtp_tone_peer`) that also presses `keys` like
/// `start_rtp_caller_pressing`; the tone resumes after the keys.
pub fn start_rtp_tone_peer_pressing(
    freq: f64,
    keys: &str,
    after: Duration,
) -> (u16, std::thread::JoinHandle<RtpLog>) {
    start_rtp_peer(keys, after, Some(freq))
}

/// Like `start_rtp_caller`, and presses `keys` (RFC 4733, payload type 101, 100 ms each with
/// 160 ms between; `,` waits a second) starting `after` the first packet from flexvox arrives.
pub fn start_rtp_caller_pressing(
    keys: &str,
    after: Duration,
) -> (u16, std::thread::JoinHandle<RtpLog>) {
    start_rtp_peer(keys, after, None)
}

fn start_rtp_peer(
    keys: &str,
    after: Duration,
    tone: Option<f64>,
) -> (u16, std::thread::JoinHandle<RtpLog>) {
    use media::rtp::RtpPacket;
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rtp.local_addr().unwrap().port();
    // One entry per 20 ms packet we send: Some((event, end, duration)) for telephone-event.
    let mut plan: Vec<Option<(u8, bool, u16)>> = Vec::new();
    for key in keys.chars() {
        if key == ',' {
            // A second without pressing anything.
            plan.extend(std::iter::repeat_n(None, 50));
            continue;
        }
        let event = match key {
            '0'..='9' => key as u8 - b'0',
            '*' => 10,
            '#' => 11,
            _ => panic!("not a key: {key}"),
        };
        for n in 1..=5u16 {
            plan.push(Some((event, false, n * 160)));
        }
        for _ in 0..3 {
            plan.push(Some((event, true, 800)));
        }
        plan.extend(std::iter::repeat_n(None, 5));
    }
    let handle = std::thread::spawn(move || {
        rtp.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut packets = Vec::new();
        let mut buf = [0u8; 2048];
        let deadline = Instant::now() + Duration::from_secs(25);
        let mut idle_since = Instant::now();
        let mut first_at: Option<Instant> = None;
        let mut seq = 0u16;
        let mut plan = plan.into_iter();
        let mut event_ts = 0u32;
        while Instant::now() < deadline {
            match rtp.recv_from(&mut buf) {
                Ok((n, from)) => {
                    idle_since = Instant::now();
                    let first = *first_at.get_or_insert_with(Instant::now);
                    if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                        packets.push((
                            Instant::now(),
                            p.sequence,
                            p.payload.to_vec(),
                            p.payload_type,
                        ));
                    }
                    let ts = seq as u32 * 160;
                    let step = if first.elapsed() >= after {
                        plan.next().flatten()
                    } else {
                        None
                    };
                    let mut out = Vec::new();
                    match step {
                        Some((event, end, duration)) => {
                            if duration == 160 && !end {
                                event_ts = ts;
                            }
                            let payload = [
                                event,
                                if end { 0x80 | 10 } else { 10 },
                                (duration >> 8) as u8,
                                duration as u8,
                            ];
                            let pkt = RtpPacket {
                                payload_type: 101,
                                marker: duration == 160 && !end,
                                sequence: seq,
                                timestamp: event_ts,
                                ssrc: 7,
                                payload: &payload,
                            };
                            pkt.write(&mut out);
                        }
                        None => {
                            let audio: Vec<u8> = match tone {
                                Some(f) => (0..160)
                                    .map(|i| {
                                        let t = (ts as f64 + i as f64) / 8000.0;
                                        let s = 8000.0 * (2.0 * std::f64::consts::PI * f * t).sin();
                                        media::g711::linear_to_ulaw(s as i16)
                                    })
                                    .collect(),
                                None => vec![0xFF; 160],
                            };
                            RtpPacket {
                                payload_type: 0,
                                marker: seq == 0,
                                sequence: seq,
                                timestamp: ts,
                                ssrc: 7,
                                payload: &audio,
                            }
                            .write(&mut out);
                        }
                    }
                    seq = seq.wrapping_add(1);
                    let _ = rtp.send_to(&out, from);
                }
                Err(_) if !packets.is_empty() && idle_since.elapsed() > Duration::from_secs(1) => {
                    break
                }
                Err(_) => {}
            }
        }
        packets
    });
    (port, handle)
}

/// RMS level of each 20 ms frame of µ-law payloads.
pub fn frame_levels_ulaw(packets: &RtpLog) -> Vec<f64> {
    let samples: Vec<i16> = packets
        .iter()
        .filter(|(_, _, _, pt)| *pt == 0)
        .flat_map(|(_, _, p, _)| p.iter().map(|b| media::g711::ulaw_to_linear(*b)))
        .collect();
    frame_levels(&samples)
}

pub fn frame_levels(samples: &[i16]) -> Vec<f64> {
    samples
        .chunks(160)
        .map(|f| (f.iter().map(|s| (*s as f64).powi(2)).sum::<f64>() / f.len() as f64).sqrt())
        .collect()
}

/// One SIPp call (`uac_hello.xml`) to the demo number, its media to `rtp_port`; fails the test
/// with the server's log if SIPp reports an error. Needs the multi-threaded runtime.
pub fn call_demo_number(server: &Server, rtp_port: u16) {
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            server,
            "uac_hello.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string()],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
}

/// Runs SIPp as a UAC against the server; returns its exit status and error trace.
pub fn run_sipp_uac(
    server: &Server,
    scenario: &str,
    service: &str,
    calls: u32,
    rate: u32,
    extra: &[&str],
) -> (bool, String) {
    let local_port = free_udp_port();
    let workdir = server.data_dir.join(format!("sipp-{local_port}"));
    std::fs::create_dir_all(&workdir).unwrap();
    let status = Command::new("timeout")
        .args(["-k", "5", "120", "sipp"])
        .arg(format!("127.0.0.1:{}", server.sip_port))
        .args(["-sf", &sipp_scenario(scenario), "-s", service])
        .args(["-i", "127.0.0.1", "-p", &local_port.to_string()])
        .args([
            "-m",
            &calls.to_string(),
            "-r",
            &rate.to_string(),
            "-l",
            &calls.to_string(),
        ])
        .args(["-timeout", "100s", "-nostdin", "-trace_err"])
        .args(extra)
        .current_dir(&workdir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("running sipp (apt-get install sip-tester)");
    let mut errors = String::from_utf8_lossy(&status.stderr).to_string();
    for entry in std::fs::read_dir(&workdir).unwrap().flatten() {
        if entry.file_name().to_string_lossy().contains("errors") {
            errors.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    (status.status.success(), errors)
}

/// Starts SIPp as a UAC placing one call, without waiting for it (kill it when done).
pub fn start_sipp_uac(server: &Server, scenario: &str, service: &str, extra: &[&str]) -> Child {
    let local_port = free_udp_port();
    let workdir = server.data_dir.join(format!("sipp-{local_port}"));
    std::fs::create_dir_all(&workdir).unwrap();
    Command::new("sipp")
        .arg(format!("127.0.0.1:{}", server.sip_port))
        .args(["-sf", &sipp_scenario(scenario), "-s", service])
        .args(["-i", "127.0.0.1", "-p", &local_port.to_string()])
        .args(["-m", "1", "-timeout", "100s", "-nostdin", "-trace_err"])
        .args(extra)
        .current_dir(&workdir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("running sipp (apt-get install sip-tester)")
}

/// Starts a SIPp UAS (one call) on `port` running `scenario`, working in a folder of the
/// server's data dir; `wait_with_output` gives its verdict.
pub fn start_sipp_uas(server: &Server, scenario: &str, port: u16, extra: &[&str]) -> Child {
    let dir = server.data_dir.join(format!("uas-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new("timeout")
        .args(["-k", "5", "60", "sipp", "-sf", &sipp_scenario(scenario)])
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1"])
        .args(["-nostdin", "-trace_err"])
        .args(extra)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running sipp (apt-get install sip-tester)");
    // SIPp needs a moment to bind before the first INVITE.
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// Calls `number` with an offer of `codecs`/`rtpmap` and expects the final `status`.
pub fn expect_refusal(server: &Server, number: &str, status: &str, codecs: &str, rtpmap: &str) {
    let scenario = instantiate_scenario(
        server,
        "uac_expect_reject.xml",
        &[("EXPECTED_STATUS", status)],
    );
    let (ok, errors) = run_sipp_uac(
        server,
        &scenario,
        number,
        1,
        1,
        &["-key", "codecs", codecs, "-key", "rtpmap", rtpmap],
    );
    assert!(
        ok,
        "expected {status} for {number}:\n{errors}\nserver log:\n{}",
        server.log_text()
    );
}

/// A PCMU call to the demo number that must be refused with `status`.
pub fn expect_demo_refusal(server: &Server, status: &str) {
    expect_refusal(server, "15550000001", status, "0", "0 PCMU/8000");
}
