//! Bridged legs: what one leg hears is relayed to the other, untouched when the codecs match.

use media::g711;
use media::rtp::RtpPacket;
use media::session::Encoding;
use media::{MediaSession, Prompt};
use std::sync::Arc;

#[test]
fn same_codec_payloads_pass_through_untouched_with_our_own_header() {
    let mut b = MediaSession::new(Encoding::Ulaw, 0, 99, 10, 1000);
    let payload: Vec<u8> = (0..160).map(|i| i as u8).collect();
    b.relay(&payload, Encoding::Ulaw);
    let pkt = RtpPacket::parse(b.tick()).unwrap();
    assert_eq!(pkt.payload, &payload[..]);
    assert_eq!((pkt.ssrc, pkt.sequence, pkt.timestamp), (99, 10, 1000));
    // Nothing queued: silence again.
    assert!(RtpPacket::parse(b.tick())
        .unwrap()
        .payload
        .iter()
        .all(|b| *b == 0xFF));
}

#[test]
fn ulaw_is_converted_to_alaw_and_prompts_take_precedence() {
    let mut b = MediaSession::new(Encoding::Alaw, 8, 1, 0, 0);
    let ulaw: Vec<u8> = vec![g711::linear_to_ulaw(4000); 160];
    b.play(Prompt::audio(1, Arc::from(vec![-3000i16; 160]), 1, 0));
    b.relay(&ulaw, Encoding::Ulaw);
    let first = RtpPacket::parse(b.tick()).unwrap().payload.to_vec();
    assert_eq!(
        first[0],
        g711::linear_to_alaw(-3000),
        "the prompt plays first"
    );
    let second = RtpPacket::parse(b.tick()).unwrap().payload.to_vec();
    let level = g711::alaw_to_linear(second[0]);
    assert!((level - 4000).abs() < 200, "relayed level {level}");
}

#[test]
fn the_relay_queue_is_bounded_so_delay_cannot_grow() {
    let mut b = MediaSession::new(Encoding::Ulaw, 0, 1, 0, 0);
    for n in 0..10u8 {
        b.relay(&[n; 160], Encoding::Ulaw);
    }
    let sent: Vec<u8> = (0..4)
        .map(|_| RtpPacket::parse(b.tick()).unwrap().payload[0])
        .collect();
    assert_eq!(sent, vec![7, 8, 9, 0xFF]);
}
