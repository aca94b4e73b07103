//! A real softphone: baresip (Debian `baresip-core`) registers as SIP user alice with digest,
//! calls in from a source outside --sip-allow (so its INVITE is challenged with 407 and
//! admitted on its credentials), and is then reached by a Dial to `sip:alice@127.0.0.1`,
//! answering automatically and sending its audio to the caller over the bridge.

mod common;

use axum::routing::post;
use axum::{Json, Router};
use common::{free_udp_port, run_sipp_uac, Server};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_for(server: &Server, text: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while !server.log_text().contains(text) {
        assert!(
            Instant::now() < deadline,
            "no {text:?} in the server log:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_registers_calls_in_with_digest_and_is_dialed() {
    // alice's own calls hear a prompt; everyone else's call is put through to alice.
    let app = Router::new().route(
        "/app",
        post(|Json(body): Json<Value>| async move {
            if body["From"] == "alice" {
                "<Response><Say>Hello alice.</Say><Hangup/></Response>"
            } else {
                r#"<Response><Dial timeout="10"><Number>sip:alice@127.0.0.1</Number></Dial></Response>"#
            }
        }),
    );
    let addr = common::serve(app).await;

    // The SIPp caller comes from 127.0.0.2 (trusted); baresip from 127.0.0.1 (not trusted).
    let server = Server::start_with(
        "baresip",
        &["--sip-allow", "127.0.0.2/32", "--sip-user", "alice:secret"],
    );
    server.set_did_url(&format!("http://{addr}/app")).await;

    // baresip's microphone: 30 s of a 1 kHz tone (it hangs up when the file ends).
    let dir = server.data_dir.join("baresip");
    std::fs::create_dir_all(&dir).unwrap();
    let tone: Vec<i16> = (0..8000 * 30)
        .map(|i| (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()) as i16)
        .collect();
    std::fs::write(dir.join("tone.wav"), media::wav::encode_pcm16(&tone, 8000)).unwrap();
    let phone_port = free_udp_port();
    std::fs::write(
        dir.join("config"),
        format!(
            "module_path /usr/lib/baresip/modules\nsip_listen 127.0.0.1:{phone_port}\n\
net_interface 127.0.0.1\naudio_player alsa,null\naudio_alert alsa,null\n\
audio_source aufile,{}\nausrc_srate 8000\nauplay_srate 8000\nmodule g711.so\n\
module aufile.so\nmodule alsa.so\nmodule_tmp account.so\nmodule_app menu.so\n",
            dir.join("tone.wav").display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("accounts"),
        format!(
            "<sip:alice@127.0.0.1:{}>;auth_pass=secret;regint=600;answermode=auto;audio_codecs=PCMU/8000/1\n",
            server.sip_port
        ),
    )
    .unwrap();
    let mut phone = Command::new("baresip")
        .args(["-f", dir.to_str().unwrap(), "-t", "40"])
        .args([
            "-e",
            &format!("/dial sip:15550000001@127.0.0.1:{}", server.sip_port),
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("baresip.log")).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("running baresip (apt-get install baresip-core)");

    let phone_log = || std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default();
    tokio::task::block_in_place(|| {
        wait_for(
            &server,
            "SIP user registered user=alice",
            Duration::from_secs(10),
        );
        wait_for(&server, "status=407", Duration::from_secs(10));
        wait_for(&server, "from=alice", Duration::from_secs(10));
        wait_for(&server, "call_status=completed", Duration::from_secs(20));
    });
    assert!(
        phone_log().contains("Call established"),
        "baresip's own call: {}",
        phone_log()
    );

    let (caller_rtp, caller) = common::start_rtp_tone_peer(2000.0);
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_talk.xml",
            "15550000001",
            1,
            1,
            &[
                "-i",
                "127.0.0.2",
                "-mi",
                "127.0.0.1",
                "-key",
                "rtp_port",
                &caller_rtp.to_string(),
            ],
        )
    });
    let _ = phone.kill();
    let _ = phone.wait();
    assert!(
        ok,
        "caller: {errors}\n{}\n{}",
        server.log_text(),
        phone_log()
    );
    assert!(
        server.log_text().contains("dial: answered and bridged"),
        "{}\n{}",
        server.log_text(),
        phone_log()
    );
    let heard = tokio::task::block_in_place(|| caller.join().unwrap());
    let loud = common::frame_levels_ulaw(&heard)
        .iter()
        .filter(|l| **l > 3000.0)
        .count();
    assert!(loud > 50, "the caller heard {loud} loud frames of baresip");
}
