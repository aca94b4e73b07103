//! Cost per 20 ms frame of the energy detector and answering machine detection, and MP3
//! decoding speed as a multiple of real time (the fixture is 1 s of 44.1 kHz stereo at 48 kb/s,
//! decoded, down-mixed and resampled to 8 kHz).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use media::decode::decode;
use media::detect::{Amd, AmdParams, EnergyDetector};
use std::f64::consts::TAU;

const FRAME: usize = 160;
const FRAMES: usize = 50;

/// Speech-like frames: syllables of a harmonic sound separated by pauses, over line noise.
fn call_audio() -> Vec<Vec<i16>> {
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    (0..FRAMES)
        .map(|f| {
            (0..FRAME)
                .map(|i| {
                    let n = (f * FRAME + i) as f64;
                    let t = n / 8000.0;
                    let voiced = (f / 10) & 1 == 0;
                    let v: f64 = if voiced {
                        (1..8)
                            .map(|h| (TAU * 130.0 * h as f64 * t).sin() * 1500.0 / h as f64)
                            .sum()
                    } else {
                        0.0
                    };
                    noise ^= noise << 13;
                    noise ^= noise >> 7;
                    noise ^= noise << 17;
                    (v + ((noise >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 200.0) as i16
                })
                .collect()
        })
        .collect()
}

fn detectors(c: &mut Criterion) {
    let audio = call_audio();
    let mut energy = EnergyDetector::default();
    let mut i = 0;
    c.bench_function("energy detector, one 20 ms frame", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            black_box(energy.process(black_box(&audio[i])));
        })
    });
    // Parameters that never decide, so every frame runs the full per-frame logic.
    let params = AmdParams {
        total_analysis_time_ms: u32::MAX,
        initial_silence_ms: u32::MAX,
        after_greeting_silence_ms: u32::MAX,
        greeting_ms: u32::MAX,
        maximum_word_length_ms: u32::MAX,
        maximum_number_of_words: u32::MAX,
        ..AmdParams::default()
    };
    let mut amd = Amd::new(params);
    let mut t = 0u64;
    c.bench_function("AMD, one 20 ms frame", |b| {
        b.iter(|| {
            t += 20;
            black_box(amd.frame(t, black_box(&audio[(t / 20) as usize % FRAMES])));
        })
    });
}

fn mp3(c: &mut Criterion) {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tone.mp3"
    ))
    .unwrap_or_default();
    let mut group = c.benchmark_group("mp3 decode");
    // One element per second of audio: criterion's elements/s is then "× real time".
    group.throughput(Throughput::Elements(1));
    group.bench_function("1 s of 44.1 kHz stereo to 8 kHz mono", |b| {
        b.iter(|| black_box(decode(black_box(&data), None, None).map(|s| s.len())))
    });
    group.finish();
}

criterion_group!(benches, detectors, mp3);
criterion_main!(benches);
