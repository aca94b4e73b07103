//! Per-tick costs of the receive and conference paths: the mixer choosing 3 speakers among
//! 1,000 participants, one jitter-buffer push and pop per frame, and an RTCP compound built
//! and parsed.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use media::jitter::{JitterBuffer, PacketInfo};
use media::mixer::{Frame, Mixer, MixerConfig, ParticipantId};
use media::rtcp::{parse_compound, RtcpConfig, RtcpReporter};
use std::f64::consts::TAU;
use std::time::{Duration, Instant};

const PARTICIPANTS: usize = 1000;

fn frame(hz: f64, amp: f64, seed: u64) -> Frame {
    let mut noise = seed | 1;
    std::array::from_fn(|i| {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        let n = (noise >> 52) as f64 - 2048.0;
        (amp * (TAU * hz * i as f64 / 8000.0).sin() + n * 0.02) as i16
    })
}

fn mixer(c: &mut Criterion) {
    let mut m = Mixer::new(MixerConfig::default());
    let ids: Vec<ParticipantId> = (0..PARTICIPANTS).map(|_| m.join()).collect();
    // Three talkers; everyone else sends line noise (about -50 dBov), as open mics do.
    let frames: Vec<Frame> = (0..PARTICIPANTS)
        .map(|i| match i {
            10 | 500 | 900 => frame(150.0 + i as f64 / 10.0, 6000.0, i as u64),
            _ => frame(0.0, 0.0, i as u64),
        })
        .collect();
    let mut group = c.benchmark_group("mixer");
    group.throughput(Throughput::Elements(PARTICIPANTS as u64));
    group.bench_function("mix_3_of_1000_tick", |b| {
        b.iter(|| {
            m.mix(ids.iter().copied().zip(frames.iter()));
            // Every participant's output is fetched, as the engine would to send it.
            let mut acc = 0i32;
            for id in &ids {
                acc = acc.wrapping_add(m.output(*id)[0] as i32);
            }
            black_box(acc)
        })
    });
    group.finish();
}

fn jitter(c: &mut Criterion) {
    let mut jb = JitterBuffer::default();
    let t0 = Instant::now();
    let pcm = frame(300.0, 5000.0, 1);
    let mut i = 0u32;
    let mut out = [0i16; 160];
    c.bench_function("jitter_push_pop_frame", |b| {
        b.iter(|| {
            let now = t0 + Duration::from_millis(20 * i as u64);
            let info = PacketInfo {
                ssrc: 1,
                sequence: i as u16,
                timestamp: i.wrapping_mul(160),
                marker: i == 0,
            };
            jb.push(now, info, black_box(&pcm));
            let kind = jb.pop(now, &mut out);
            i += 1;
            black_box(kind)
        })
    });
}

fn rtcp(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut r = RtcpReporter::new(1, RtcpConfig::new("flexvox@10.0.0.1", 9, t0, 0));
    for i in 0..50u32 {
        r.on_received(
            Some(t0 + Duration::from_millis(20 * i as u64)),
            2,
            i as u16,
            160 * i,
        );
        r.on_sent(t0 + Duration::from_millis(20 * i as u64), 160 * i, 160);
    }
    let mut at = t0 + Duration::from_secs(10);
    c.bench_function("rtcp_build_and_parse", |b| {
        b.iter(|| {
            // Far enough ahead that a report is always due.
            at += Duration::from_secs(10);
            let len = match r.poll_transmit(at) {
                Some(bytes) => parse_compound(black_box(bytes)).map_or(0, |p| p.len()),
                None => 0,
            };
            black_box(len)
        })
    });
}

criterion_group!(benches, mixer, jitter, rtcp);
criterion_main!(benches);
