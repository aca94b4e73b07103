//! DTMF through `MediaSession`: keys received as telephone-events or as tones, and keys sent
//! either way in the session's own RTP stream.

mod common;

use common::{key, ms, silence};
use media::dtmf::rfc4733::TelephoneEvent;
use media::rtp::RtpPacket;
use media::session::Encoding;
use media::{g711, MediaEvent, MediaSession, Prompt};
use std::sync::Arc;

const EVENT_PT: u8 = 101;

fn session(encoding: Encoding, telephone_event: Option<u8>) -> MediaSession {
    let pt = if encoding == Encoding::Ulaw { 0 } else { 8 };
    let mut s = MediaSession::new(encoding, pt, 0x1234_5678, 65530, 4_294_967_000);
    s.set_telephone_event(telephone_event);
    s
}

fn drain(s: &mut MediaSession) -> Vec<MediaEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn digits(events: &[MediaEvent]) -> Vec<(char, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::DigitEnded { digit, duration_ms } => Some((*digit, *duration_ms)),
            _ => None,
        })
        .collect()
}

fn rtp(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    RtpPacket {
        payload_type: pt,
        marker: false,
        sequence: seq,
        timestamp: ts,
        ssrc: 99,
        payload,
    }
    .write(&mut out);
    out
}

/// Audio as a far end would send it: 20 ms packets of G.711.
fn audio_packets(samples: &[f64], encoding: Encoding) -> Vec<Vec<u8>> {
    samples
        .chunks(160)
        .enumerate()
        .map(|(i, chunk)| {
            let payload: Vec<u8> = chunk
                .iter()
                .map(|s| {
                    let s = s.round().clamp(-32768.0, 32767.0) as i16;
                    match encoding {
                        Encoding::Ulaw => g711::linear_to_ulaw(s),
                        Encoding::Alaw => g711::linear_to_alaw(s),
                    }
                })
                .collect();
            let pt = if encoding == Encoding::Ulaw { 0 } else { 8 };
            rtp(pt, i as u16, 160 * i as u32, &payload)
        })
        .collect()
}

fn key_then_silence(digit: char) -> Vec<f64> {
    let mut audio = silence(ms(40));
    audio.extend(key(digit, -10.0, 0.0, ms(120)));
    audio.extend(silence(ms(100)));
    audio
}

#[test]
fn telephone_events_come_out_as_digit_events() {
    let mut s = session(Encoding::Ulaw, Some(EVENT_PT));
    let mut seq = 0;
    for i in 1..=5u16 {
        let ev = TelephoneEvent {
            event: 11,
            end: i == 5,
            volume: 10,
            duration: i * 160,
        };
        let copies = if i == 5 { 3 } else { 1 };
        for _ in 0..copies {
            s.receive(&rtp(EVENT_PT, seq, 8000, &ev.to_bytes()));
            seq += 1;
            if i == 1 {
                // Barge-in hears of the press with its very first packet.
                assert_eq!(drain(&mut s), vec![MediaEvent::DigitStarted('#')]);
            }
        }
    }
    assert_eq!(
        drain(&mut s),
        vec![MediaEvent::DigitEnded {
            digit: '#',
            duration_ms: 100
        }]
    );
    s.receive(&rtp(EVENT_PT, seq, 9000, &[1, 2]));
    assert_eq!(s.stats().malformed_received, 1);
}

#[test]
fn tones_in_ulaw_audio_are_heard_without_telephone_events() {
    let mut s = session(Encoding::Ulaw, None);
    for p in audio_packets(&key_then_silence('7'), Encoding::Ulaw) {
        s.receive(&p);
    }
    let events = drain(&mut s);
    assert_eq!(events[0], MediaEvent::DigitStarted('7'));
    assert_eq!(digits(&events), vec![('7', 120)]);
}

#[test]
fn tones_in_alaw_audio_are_heard_without_telephone_events() {
    let mut s = session(Encoding::Alaw, None);
    for p in audio_packets(&key_then_silence('D'), Encoding::Alaw) {
        s.receive(&p);
    }
    assert_eq!(digits(&drain(&mut s)), vec![('D', 120)]);
}

#[test]
fn duplicated_audio_packets_do_not_break_a_tone() {
    let mut s = session(Encoding::Ulaw, None);
    for p in audio_packets(&key_then_silence('3'), Encoding::Ulaw) {
        s.receive(&p);
        s.receive(&p);
    }
    assert_eq!(digits(&drain(&mut s)), vec![('3', 120)]);
}

#[test]
fn tones_are_not_listened_for_when_telephone_events_were_negotiated() {
    let mut s = session(Encoding::Ulaw, Some(EVENT_PT));
    for p in audio_packets(&key_then_silence('7'), Encoding::Ulaw) {
        s.receive(&p);
    }
    assert_eq!(drain(&mut s), vec![]);
}

/// Ticks until `DigitsSent`, returning every packet sent.
fn send_all(s: &mut MediaSession, limit: usize) -> (Vec<Vec<u8>>, Vec<MediaEvent>) {
    let mut packets = Vec::new();
    let mut events = Vec::new();
    for _ in 0..limit {
        packets.push(s.tick().to_vec());
        events.extend(drain(s));
        if events.contains(&MediaEvent::DigitsSent) {
            break;
        }
    }
    (packets, events)
}

#[test]
fn digits_go_out_as_telephone_events_in_the_same_stream() {
    let mut tx = session(Encoding::Ulaw, Some(EVENT_PT));
    tx.tick();
    tx.send_digits("4,#").unwrap();
    assert!(tx.is_sending_digits());
    let (packets, events) = send_all(&mut tx, 100);
    assert_eq!(events, vec![MediaEvent::DigitsSent]);
    assert!(!tx.is_sending_digits());
    // Two keys of 200 ms and a 500 ms pause.
    assert_eq!(packets.len(), 45);
    let parsed: Vec<RtpPacket> = packets
        .iter()
        .map(|p| RtpPacket::parse(p).unwrap())
        .collect();
    for (i, p) in parsed.iter().enumerate() {
        assert_eq!(p.ssrc, 0x1234_5678);
        assert_eq!(
            p.sequence,
            65531u16.wrapping_add(i as u16),
            "continuous sequence"
        );
        assert!(p.payload_type == EVENT_PT || p.payload_type == 0);
    }
    let event_ticks = parsed.iter().filter(|p| p.payload_type == EVENT_PT).count();
    assert_eq!(event_ticks, 14);
    // The first event takes the timestamp of the tick it starts on.
    assert_eq!(parsed[0].timestamp, 4_294_967_000u32.wrapping_add(160));
    assert!(parsed[0].marker);

    let mut rx = session(Encoding::Ulaw, Some(EVENT_PT));
    for p in &packets {
        rx.receive(p);
    }
    assert_eq!(digits(&drain(&mut rx)), vec![('4', 100), ('#', 100)]);
}

#[test]
fn digits_go_out_as_tones_without_telephone_events() {
    let mut tx = session(Encoding::Ulaw, None);
    tx.send_digits("19*").unwrap();
    let (packets, events) = send_all(&mut tx, 100);
    assert_eq!(events, vec![MediaEvent::DigitsSent]);
    assert_eq!(packets.len(), 30);
    assert!(packets
        .iter()
        .all(|p| RtpPacket::parse(p).unwrap().payload_type == 0));

    let mut rx = session(Encoding::Ulaw, None);
    for p in &packets {
        rx.receive(p);
    }
    // The stream goes on after the keys, which lets the last press end.
    for _ in 0..5 {
        rx.receive(tx.tick());
    }
    let got = digits(&drain(&mut rx));
    let keys: String = got.iter().map(|(d, _)| *d).collect();
    assert_eq!(keys, "19*", "{got:?}");
    assert!(got.iter().all(|(_, ms)| (95..=105).contains(ms)), "{got:?}");
}

#[test]
fn bad_keys_are_refused_before_anything_is_sent() {
    let mut tx = session(Encoding::Ulaw, Some(EVENT_PT));
    assert!(tx.send_digits("12x").is_err());
    assert!(!tx.is_sending_digits());
}

#[test]
fn each_dial_string_reports_when_sent_and_an_empty_one_at_once() {
    let mut tx = session(Encoding::Ulaw, Some(EVENT_PT));
    tx.send_digits("").unwrap();
    tx.send_digits("0").unwrap();
    let first = RtpPacket::parse(tx.tick()).unwrap();
    assert_eq!(first.payload_type, EVENT_PT);
    assert_eq!(drain(&mut tx), vec![MediaEvent::DigitsSent]);
    let (packets, events) = send_all(&mut tx, 20);
    assert_eq!(events, vec![MediaEvent::DigitsSent]);
    assert_eq!(packets.len(), 9);
}

#[test]
fn a_prompt_keeps_its_time_while_keys_are_sent() {
    let mut tx = session(Encoding::Ulaw, Some(EVENT_PT));
    let samples: Arc<[i16]> = vec![3000i16; 160 * 12].into();
    tx.play(Prompt::audio(1, samples, 1, 0));
    tx.send_digits("5").unwrap();
    let mut finished_at = None;
    for i in 0..12 {
        let pt = RtpPacket::parse(tx.tick()).unwrap().payload_type;
        // Event ticks carry no prompt audio; the gap ticks after them do.
        assert_eq!(pt == EVENT_PT, i < 7, "tick {i}");
        assert_eq!(tx.last_had_audio(), i >= 7, "tick {i}");
        if drain(&mut tx).contains(&MediaEvent::PromptFinished(1)) {
            finished_at = Some(i);
        }
    }
    assert_eq!(finished_at, Some(11));
}
