//! The jitter buffer on virtual time: reordering, late packets, loss, wraps, a new source,
//! talkspurts, and a delay that follows the jitter within its bounds.

use media::jitter::{FrameKind, JitterBuffer, JitterConfig, PacketInfo, PushOutcome};
use std::time::{Duration, Instant};

const FRAME: usize = 160;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A packet's audio: a constant that names it, so the output shows which packet played.
/// From packet 500 on it is quiet (under -30 dBov), like a pause in speech.
fn pcm(i: u32) -> [i16; FRAME] {
    match i {
        0..500 => [1000 + i as i16; FRAME],
        _ => [100 + (i - 500) as i16 % 800; FRAME],
    }
}

fn packet_of(v: i16) -> u32 {
    match v {
        1000.. => (v - 1000) as u32,
        _ => (v - 100) as u32 + 500,
    }
}

struct Sender {
    ssrc: u32,
    seq: u16,
    ts: u32,
}

impl Sender {
    fn info(&self, i: u32, marker: bool) -> PacketInfo {
        PacketInfo {
            ssrc: self.ssrc,
            sequence: self.seq.wrapping_add(i as u16),
            timestamp: self.ts.wrapping_add(160 * i),
            marker,
        }
    }
}

/// Runs packets `0..n` through a buffer: packet `i` arrives at `20 i ms + delay(i)` (or never
/// when `None`), and a frame is popped every 20 ms after the pushes due by then.
fn run(
    jb: &mut JitterBuffer,
    sender: &Sender,
    n: u32,
    mut delay: impl FnMut(u32) -> Option<u64>,
) -> Vec<(FrameKind, i16)> {
    let t0 = Instant::now();
    let mut arrivals: Vec<(u64, u32)> = (0..n)
        .filter_map(|i| delay(i).map(|d| (20 * i as u64 + d, i)))
        .collect();
    arrivals.sort();
    let mut next = 0;
    let mut out = Vec::new();
    let end = arrivals.last().map_or(0, |a| a.0) + 300;
    let mut t = 0;
    while t <= end {
        while next < arrivals.len() && arrivals[next].0 <= t {
            let i = arrivals[next].1;
            jb.push(t0 + ms(arrivals[next].0), sender.info(i, i == 0), &pcm(i));
            next += 1;
        }
        let mut frame = [0i16; FRAME];
        let kind = jb.pop(t0 + ms(t), &mut frame);
        out.push((kind, frame[FRAME - 1]));
        t += 20;
    }
    out
}

/// Concealed frames up to the last audio frame: the fade after the stream ends is not loss.
fn concealed_within(out: &[(FrameKind, i16)]) -> usize {
    let last = out
        .iter()
        .rposition(|(k, _)| *k == FrameKind::Audio)
        .unwrap_or(0);
    out[..last]
        .iter()
        .filter(|(k, _)| *k == FrameKind::Concealed)
        .count()
}

/// The packet numbers heard in full, in order.
fn played(out: &[(FrameKind, i16)]) -> Vec<u32> {
    out.iter()
        .filter(|(k, _)| *k == FrameKind::Audio)
        .map(|(_, v)| packet_of(*v))
        .collect()
}

fn sender() -> Sender {
    Sender {
        ssrc: 1,
        seq: 1000,
        ts: 50_000,
    }
}

#[test]
fn a_steady_stream_plays_every_packet_in_order_at_the_minimum_delay() {
    let mut jb = JitterBuffer::default();
    let out = run(&mut jb, &sender(), 100, |_| Some(0));
    assert_eq!(played(&out), (0..100).collect::<Vec<_>>());
    assert_eq!(jb.target_delay(), ms(20));
    let stats = jb.stats();
    assert_eq!((stats.late, stats.skipped, stats.stalled), (0, 0, 0));
    // Playout starts one frame after the first arrival.
    assert_eq!(out[0].0, FrameKind::Silence);
    assert_eq!(out[1].0, FrameKind::Audio);
}

#[test]
fn swapped_packets_are_put_back_in_order() {
    let mut jb = JitterBuffer::default();
    // Every odd packet overtakes the even one before it by 15 ms.
    let out = run(&mut jb, &sender(), 100, |i| {
        Some(if i % 2 == 0 { 20 } else { 5 })
    });
    assert_eq!(played(&out), (0..100).collect::<Vec<_>>());
    assert_eq!(jb.stats().late, 0);
    assert_eq!(concealed_within(&out), 0);
}

#[test]
fn a_lost_packet_is_concealed_and_the_stream_goes_on() {
    let mut jb = JitterBuffer::default();
    let out = run(&mut jb, &sender(), 50, |i| (i != 20).then_some(0));
    let heard = played(&out);
    assert!(!heard.contains(&20));
    assert_eq!(heard.len(), 49);
    assert_eq!(concealed_within(&out), 1);
    let at = out
        .iter()
        .position(|(k, _)| *k == FrameKind::Concealed)
        .unwrap();
    assert_eq!(
        played(&out[at + 1..at + 2]),
        vec![21],
        "the next packet plays on time"
    );
}

#[test]
fn a_packet_later_than_its_turn_is_dropped_without_disturbing_the_rest() {
    let mut jb = JitterBuffer::default();
    let out = run(&mut jb, &sender(), 60, |i| {
        Some(if i == 30 { 150 } else { 0 })
    });
    assert_eq!(jb.stats().late, 1);
    let heard = played(&out);
    assert!(!heard.contains(&30));
    assert!(heard.contains(&31) && heard.contains(&59));
    assert_eq!(jb.stats().resyncs, 0);
}

#[test]
fn duplicates_are_dropped() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    let s = sender();
    assert_eq!(jb.push(t0, s.info(0, true), &pcm(0)), PushOutcome::Buffered);
    assert_eq!(
        jb.push(t0, s.info(0, true), &pcm(0)),
        PushOutcome::Duplicate
    );
    assert_eq!(jb.push(t0, s.info(1, false), &[]), PushOutcome::Empty);
}

#[test]
fn sequence_and_timestamp_wraps_are_seamless() {
    let mut jb = JitterBuffer::default();
    let s = Sender {
        ssrc: 9,
        seq: 65500,
        ts: u32::MAX - 160 * 40 + 1,
    };
    let out = run(&mut jb, &s, 100, |i| Some(if i % 3 == 0 { 10 } else { 0 }));
    assert_eq!(played(&out), (0..100).collect::<Vec<_>>());
    let stats = jb.stats();
    assert_eq!((stats.late, stats.resyncs), (0, 0));
}

#[test]
fn a_new_source_starts_over_and_plays() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    let a = sender();
    let b = Sender {
        ssrc: 2,
        seq: 7,
        ts: 3_000_000_000,
    };
    let mut kinds = Vec::new();
    let mut values = Vec::new();
    for i in 0..80u32 {
        let now = t0 + ms(20 * i as u64);
        if i < 40 {
            jb.push(now, a.info(i, i == 0), &pcm(i));
        } else {
            jb.push(now, b.info(i - 40, i == 40), &pcm(100 + i));
        }
        let mut f = [0; FRAME];
        kinds.push(jb.pop(now, &mut f));
        values.push(f[FRAME - 1]);
    }
    assert_eq!(jb.stats().resyncs, 1);
    assert_eq!(*kinds.last().unwrap(), FrameKind::Audio);
    assert_eq!(*values.last().unwrap(), 1000 + 100 + 78);
}

#[test]
fn a_talkspurt_after_silence_is_re_anchored_at_its_marker() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    let s = sender();
    let mut kinds = Vec::new();
    // 1 s of talk, 1 s silent (the sender sends nothing), 1 s of talk starting with a marker
    // whose packets come 60 ms later than before (a route change during the pause).
    for tick in 0..150u32 {
        let now = t0 + ms(20 * tick as u64);
        let talking = !(50..100).contains(&tick);
        if talking {
            let extra = if tick >= 100 { 60 } else { 0 };
            let arrive = now + ms(extra);
            jb.push(arrive, s.info(tick, tick == 100), &pcm(tick));
        }
        let mut f = [0; FRAME];
        let later = now + ms(if tick >= 100 { 60 } else { 0 });
        kinds.push(jb.pop(later, &mut f));
    }
    assert_eq!(jb.stats().late, 0);
    let audio_after = kinds[100..]
        .iter()
        .filter(|k| **k == FrameKind::Audio)
        .count();
    assert!(audio_after >= 45, "{audio_after}");
    // The gap was concealed briefly and then silent, not 50 frames of concealment.
    let concealed = kinds[50..100]
        .iter()
        .filter(|k| **k == FrameKind::Concealed)
        .count();
    assert!(concealed <= 4, "{concealed}");
}

/// A deterministic PRNG for network delays.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn the_delay_grows_with_jitter_and_shrinks_after_it() {
    let mut jb = JitterBuffer::default();
    let mut rng = 7u64;
    // 2 s of steady speech, 8 s with 0-100 ms of random delay, then 10 s of quiet without.
    let out = run(&mut jb, &sender(), 1000, |i| {
        Some(if (100..500).contains(&i) {
            lcg(&mut rng) % 101
        } else {
            0
        })
    });
    let stats = jb.stats();
    assert!(
        stats.late < 20,
        "late {} of 400 jittered packets",
        stats.late
    );
    // At the 20 ms it started with, most jittered packets would have been late.
    let heard = played(&out);
    let jittered = heard.iter().filter(|i| (100..500).contains(*i)).count();
    assert!(jittered >= 380, "{jittered} of 400 jittered packets heard");
    assert!(
        stats.skipped > 0,
        "the delay shrank by skipping quiet frames"
    );
    assert_eq!(
        jb.target_delay(),
        ms(20),
        "back to the minimum once jitter stops"
    );
    assert!(heard.len() >= 950, "{}", heard.len());
    assert!(heard.windows(2).all(|w| w[0] < w[1]), "in order");
}

#[test]
fn the_target_is_bounded_by_the_maximum() {
    let mut jb = JitterBuffer::new(JitterConfig {
        max_delay: ms(120),
        ..JitterConfig::default()
    });
    let mut rng = 3u64;
    let _ = run(&mut jb, &sender(), 200, |_| Some(lcg(&mut rng) % 400));
    assert!(jb.target_delay() <= ms(120), "{:?}", jb.target_delay());
    assert!(
        jb.stats().late > 0,
        "jitter beyond the bound costs late packets"
    );
}

#[test]
fn a_reader_that_stops_cannot_grow_the_buffer() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    let s = sender();
    for i in 0..500u32 {
        jb.push(t0 + ms(20 * i as u64), s.info(i, false), &pcm(i));
    }
    assert!(jb.stats().overflowed >= 450);
    assert!(jb.buffered() <= ms(1000));
    // Once read again it starts near the newest audio, not a second behind.
    let mut f = [0; FRAME];
    let now = t0 + ms(20 * 500);
    assert_eq!(jb.pop(now, &mut f), FrameKind::Audio);
    assert!(f[0] >= 1000 + 496, "{}", f[0]);
}
