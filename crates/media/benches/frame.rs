//! Cost of one 20 ms frame (160 samples at 8 kHz) through the per-packet paths: G.711 µ-law
//! encode and decode, and in-band DTMF detection on speech-like audio (the common case, which
//! fails early) and on a key press (every check runs).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use media::dtmf::DtmfDetector;
use media::g711;
use std::f64::consts::TAU;

const FRAME: usize = 160;
/// Frames cycled through, so the detector sees changing audio as in a call.
const FRAMES: usize = 50;

/// Voiced-speech-like audio: a 120 Hz glottal pulse train's harmonics shaped by three
/// formants that drift, plus a little noise.
fn speech_like() -> Vec<i16> {
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    (0..FRAME * FRAMES)
        .map(|n| {
            let t = n as f64 / 8000.0;
            let drift = 1.0 + 0.1 * (TAU * 2.0 * t).sin();
            let mut v = 0.0;
            for h in 1..30 {
                let f = 120.0 * h as f64;
                let gain: f64 = [500.0, 1500.0, 2500.0]
                    .iter()
                    .map(|formant| 1.0 / (1.0 + ((f - formant * drift) / 150.0).powi(2)))
                    .sum();
                v += gain * (TAU * f * t + h as f64).sin();
            }
            noise ^= noise << 13;
            noise ^= noise >> 7;
            noise ^= noise << 17;
            let n = (noise >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
            (v * 3000.0 + n * 300.0) as i16
        })
        .collect()
}

fn key_press() -> Vec<i16> {
    (0..FRAME * FRAMES)
        .map(|n| {
            let t = n as f64 / 8000.0;
            (7000.0 * (TAU * 770.0 * t).sin() + 8000.0 * (TAU * 1336.0 * t).sin()) as i16
        })
        .collect()
}

fn detect(c: &mut Criterion, name: &str, audio: &[i16]) {
    let mut detector = DtmfDetector::new();
    let mut frames = audio.chunks(FRAME).cycle();
    c.bench_function(name, |b| {
        b.iter(|| {
            let frame = frames.next().unwrap_or_default();
            let mut heard = 0u32;
            detector.process(black_box(frame), |_| heard += 1);
            heard
        })
    });
}

fn frame(c: &mut Criterion) {
    let speech = speech_like();
    let pcm: [i16; FRAME] = std::array::from_fn(|i| speech[i]);
    let ulaw: [u8; FRAME] = pcm.map(g711::linear_to_ulaw);
    c.bench_function("ulaw_encode_frame", |b| {
        b.iter(|| black_box(&pcm).map(g711::linear_to_ulaw))
    });
    c.bench_function("ulaw_decode_frame", |b| {
        b.iter(|| black_box(&ulaw).map(g711::ulaw_to_linear))
    });
    detect(c, "dtmf_detect_speech_frame", &speech);
    detect(c, "dtmf_detect_key_frame", &key_press());
}

criterion_group!(benches, frame);
criterion_main!(benches);
