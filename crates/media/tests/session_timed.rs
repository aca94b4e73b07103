//! The session's timed receive path: in-band keys heard through the jitter buffer despite
//! reordering, and what we send keeps its marker bits and sequence/timestamp continuity.

mod common;

use common::{key, ms, silence};
use media::jitter::FrameKind;
use media::rtp::RtpPacket;
use media::session::Encoding;
use media::{g711, MediaEvent, MediaSession, Prompt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn packets(samples: &[f64]) -> Vec<Vec<u8>> {
    samples
        .chunks(160)
        .enumerate()
        .map(|(i, chunk)| {
            let payload: Vec<u8> = chunk
                .iter()
                .map(|s| g711::linear_to_ulaw(s.round().clamp(-32768.0, 32767.0) as i16))
                .collect();
            let mut out = Vec::new();
            RtpPacket {
                payload_type: 0,
                marker: i == 0,
                sequence: 65500u16.wrapping_add(i as u16),
                timestamp: 160 * i as u32,
                ssrc: 3,
                payload: &payload,
            }
            .write(&mut out);
            out
        })
        .collect()
}

#[test]
fn in_band_keys_are_heard_through_the_jitter_buffer_despite_reordering() {
    let t0 = Instant::now();
    let from: SocketAddr = "192.0.2.7:5004".parse().unwrap();
    let mut audio = silence(ms(100));
    audio.extend(key('5', -10.0, 0.0, ms(120)));
    audio.extend(silence(ms(300)));
    let mut pkts = packets(&audio);
    // Pairs swapped in flight: heard untimed, the tone would be cut up.
    for pair in pkts.chunks_mut(2) {
        pair.reverse();
    }
    let mut s = MediaSession::new(Encoding::Ulaw, 0, 1, 0, 0);
    let mut events = Vec::new();
    let mut kinds = Vec::new();
    for (tick, p) in pkts.iter().enumerate() {
        let now = t0 + Duration::from_millis(20 * tick as u64);
        s.receive_at(now, from, p);
        s.tick_at(now);
        kinds.push(s.heard().map(|(_, k)| k));
        events.extend(std::iter::from_fn(|| s.poll_event()));
    }
    let digits: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::DigitEnded { digit, duration_ms } => Some((*digit, *duration_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(digits, vec![('5', 120)]);
    assert_eq!(s.jitter_stats().late, 0);
    assert!(
        kinds.iter().skip(3).all(|k| *k == Some(FrameKind::Audio)),
        "{kinds:?}"
    );
}

#[test]
fn each_talkspurt_we_send_starts_with_a_marker_and_numbering_runs_on() {
    let mut s = MediaSession::new(Encoding::Ulaw, 0, 5, 65533, u32::MAX - 300);
    let tone: Arc<[i16]> = vec![4000i16; 320].into();
    let mut sent = Vec::new();
    let mut tick = |s: &mut MediaSession| sent.push(RtpPacket::parse(s.tick()).unwrap().marker);
    // Silence, a prompt, silence, two prompts back to back, a silence prompt, a prompt.
    tick(&mut s);
    s.play(Prompt::audio(1, tone.clone(), 1, 0));
    (0..2).for_each(|_| tick(&mut s));
    (0..3).for_each(|_| tick(&mut s));
    s.play(Prompt::audio(2, tone.clone(), 1, 0));
    s.play(Prompt::audio(3, tone.clone(), 1, 0));
    (0..4).for_each(|_| tick(&mut s));
    s.play(Prompt::silence(4, 40));
    s.play(Prompt::audio(5, tone, 1, 0));
    (0..4).for_each(|_| tick(&mut s));
    let expect = [
        false, true, false, false, false, false, true, false, false, false, false, false, true,
        false,
    ];
    assert_eq!(sent, expect);
    // Sequence and timestamp ran on by one packet and 160 samples, through both wraps.
    let mut s2 = MediaSession::new(Encoding::Ulaw, 0, 5, 65533, u32::MAX - 300);
    s2.play(Prompt::audio(1, vec![4000i16; 320].into(), 1, 0));
    let mut prev: Option<(u16, u32)> = None;
    for _ in 0..8 {
        let p = RtpPacket::parse(s2.tick()).unwrap();
        if let Some((seq, ts)) = prev {
            assert_eq!(p.sequence, seq.wrapping_add(1));
            assert_eq!(p.timestamp, ts.wrapping_add(160));
        }
        prev = Some((p.sequence, p.timestamp));
    }
}

#[test]
fn relayed_payloads_pass_through_untouched_alongside_the_timed_path() {
    let t0 = Instant::now();
    let from: SocketAddr = "192.0.2.7:5004".parse().unwrap();
    let mut s = MediaSession::new(Encoding::Ulaw, 0, 1, 0, 0);
    let payload: Vec<u8> = (0..160).map(|i| i as u8).collect();
    for (i, p) in packets(&silence(ms(60))).iter().enumerate() {
        s.receive_at(t0 + Duration::from_millis(20 * i as u64), from, p);
    }
    s.relay(&payload, Encoding::Ulaw);
    let out = RtpPacket::parse(s.tick_at(t0 + Duration::from_millis(60))).unwrap();
    assert_eq!(out.payload, &payload[..]);
}
