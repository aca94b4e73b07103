//! The engine with real loopback sockets: symmetric RTP, RTCP BYE, and recording and
//! detection started by command.

use super::*;
use media::rtp::RtpPacket;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// An RTP socket with its RTCP socket on the port above, as a far end has them.
fn peer_pair() -> (UdpSocket, UdpSocket) {
    loop {
        let rtp = UdpSocket::bind((LOCALHOST, 0)).unwrap();
        let port = rtp.local_addr().unwrap().port();
        if let Ok(rtcp) = UdpSocket::bind((LOCALHOST, port.wrapping_add(1))) {
            rtp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            rtcp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            return (rtp, rtcp);
        }
    }
}

fn engine(base: u16) -> MediaEngine {
    MediaEngine::start(LOCALHOST, (base, base + 19))
}

fn ulaw() -> StreamFormat {
    StreamFormat {
        encoding: Encoding::Ulaw,
        payload_type: 0,
        telephone_event: None,
    }
}

fn rtp(seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    RtpPacket {
        payload_type: 0,
        marker: seq == 0,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 7,
        payload,
    }
    .write(&mut out);
    out
}

fn next_event(
    events: &mut UnboundedReceiver<EngineEvent>,
    within: Duration,
) -> Option<EngineEvent> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match events.try_recv() {
            Ok(EngineEvent::FirstPacketSent(_) | EngineEvent::FirstAudioSent(_)) => {}
            Ok(e) => return Some(e),
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    None
}

#[test]
fn follows_a_far_end_behind_nat() {
    let engine = engine(36100);
    let (sdp_rtp, sdp_rtcp) = peer_pair();
    let nat = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    nat.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let socket = engine.allocate().unwrap();
    let engine_addr = SocketAddr::new(LOCALHOST, socket.port);
    let (tx, _events) = unbounded_channel();
    engine.add(1, socket, sdp_rtp.local_addr().unwrap(), ulaw(), tx);
    engine.start_sending(1);
    let mut buf = [0u8; 2048];
    // Before the far end is heard, the SDP's address gets the stream.
    assert!(sdp_rtp.recv_from(&mut buf).is_ok());
    nat.send_to(&rtp(0, &[0xFF; 160]), engine_addr).unwrap();
    let (n, from) = nat.recv_from(&mut buf).unwrap();
    assert_eq!(from, engine_addr);
    assert!(RtpPacket::parse(&buf[..n]).is_ok());
    engine.remove(1);
    // The BYE goes to RTP + 1 of where the media now goes: nothing reaches the SDP's RTCP.
    sdp_rtcp
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(sdp_rtcp.recv_from(&mut buf).is_err());
}

#[test]
fn reports_on_rtcp_to_rtp_plus_one_and_says_bye_when_removed() {
    let engine = engine(36200);
    let (peer_rtp, peer_rtcp) = peer_pair();
    let socket = engine.allocate().unwrap();
    let engine_rtcp = SocketAddr::new(LOCALHOST, socket.port + 1);
    let (tx, _events) = unbounded_channel();
    engine.add(1, socket, peer_rtp.local_addr().unwrap(), ulaw(), tx);
    engine.start_sending(1);
    let mut buf = [0u8; 2048];
    assert!(peer_rtp.recv_from(&mut buf).is_ok());
    // The first report is due 1-3 s after the first packet (RFC 3550 §6.2's randomised
    // half interval); while we send, it is a sender report.
    peer_rtcp
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (n, from) = peer_rtcp.recv_from(&mut buf).unwrap();
    assert_eq!(from, engine_rtcp);
    let packets = media::rtcp::parse_compound(&buf[..n]).unwrap();
    assert!(matches!(
        packets.first(),
        Some(media::rtcp::RtcpPacket::SenderReport(_))
    ));
    engine.remove(1);
    let (n, from) = peer_rtcp.recv_from(&mut buf).unwrap();
    assert_eq!(from, engine_rtcp);
    let packets = media::rtcp::parse_compound(&buf[..n]).unwrap();
    assert!(matches!(
        packets.last(),
        Some(media::rtcp::RtcpPacket::Bye(_))
    ));
}

#[test]
fn a_recording_ends_itself_at_max_length_and_a_pause_hears_silence() {
    let engine = engine(36300);
    let (peer_rtp, _peer_rtcp) = peer_pair();
    let socket = engine.allocate().unwrap();
    let engine_addr = SocketAddr::new(LOCALHOST, socket.port);
    let (tx, mut events) = unbounded_channel();
    engine.add(1, socket, peer_rtp.local_addr().unwrap(), ulaw(), tx);
    engine.start_sending(1);
    let path = std::env::temp_dir().join(format!("flexvox-engine-{}.wav", std::process::id()));
    engine
        .start_recording(
            1,
            &RecordingRequest {
                path: path.clone(),
                format: media::record::RecordFormat::Wav,
                channels: media::record::Channels::Stereo,
                trim_silence: false,
                max_ms: Some(400),
                silence_timeout_ms: None,
            },
        )
        .unwrap();
    engine.detect(
        1,
        DetectKind::Pause {
            min_noise_ms: None,
            min_silence_ms: Some(200),
        },
    );
    // The far end sends silence, paced like a phone.
    let sender = std::thread::spawn(move || {
        for seq in 0..40u16 {
            let _ = peer_rtp.send_to(&rtp(seq, &[0xFF; 160]), engine_addr);
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let mut seen = Vec::new();
    while let Some(e) = next_event(&mut events, Duration::from_secs(2)) {
        seen.push(e);
        if seen.len() == 2 {
            break;
        }
    }
    let _ = sender.join();
    assert!(seen.contains(&EngineEvent::Detected(Detection::Pause(
        media::detect::PauseEnd::Silence
    ))));
    let done = seen.iter().find_map(|e| match e {
        EngineEvent::RecordingStopped(done) => Some(done.clone()),
        _ => None,
    });
    let done = done.unwrap_or_else(|| panic!("no RecordingStopped in {seen:?}"));
    assert_eq!(done.finished_by, FinishedBy::MaxLength);
    assert_eq!(done.duration_ms, 400);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len() as u64, done.bytes);
    // Two channels of 16-bit PCM, 400 ms.
    assert_eq!(done.bytes, 44 + 400 * 8 * 2 * 2);
    let _ = std::fs::remove_file(&path);
}
