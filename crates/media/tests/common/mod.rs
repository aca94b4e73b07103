//! Signal helpers for the DTMF tests: tone pairs at a level and twist, noise, G.711, and a
//! detector run frame by frame as the session does.
#![allow(dead_code)]

use media::dtmf::{frequencies, DtmfDetector, DtmfEvent, ZERO_DBM0_PEAK};
use media::g711;
use std::f64::consts::TAU;

pub const RATE: f64 = 8000.0;

pub fn ms(ms: u32) -> usize {
    (ms * 8) as usize
}

/// A tone pair whose two tones together are at `level_dbm0`, with the column tone `twist_db`
/// above the row tone, each tone's frequency scaled by the given factor.
pub fn tone_pair(
    row_hz: f64,
    column_hz: f64,
    level_dbm0: f64,
    twist_db: f64,
    samples: usize,
) -> Vec<f64> {
    let total = 10f64.powf(level_dbm0 / 10.0);
    let ratio = 10f64.powf(twist_db / 10.0);
    let row_power = total / (1.0 + ratio);
    let column_power = total - row_power;
    let row_amp = ZERO_DBM0_PEAK * row_power.sqrt();
    let column_amp = ZERO_DBM0_PEAK * column_power.sqrt();
    (0..samples)
        .map(|n| {
            let t = n as f64 / RATE;
            row_amp * (TAU * row_hz * t + 0.3).sin()
                + column_amp * (TAU * column_hz * t + 1.1).sin()
        })
        .collect()
}

pub fn key(digit: char, level_dbm0: f64, twist_db: f64, samples: usize) -> Vec<f64> {
    let (r, c) = frequencies(digit).expect("a DTMF key");
    tone_pair(r as f64, c as f64, level_dbm0, twist_db, samples)
}

pub fn silence(samples: usize) -> Vec<f64> {
    vec![0.0; samples]
}

/// Deterministic white Gaussian noise (xorshift and Box-Muller) at `level_dbm0`.
pub fn add_noise(signal: &mut [f64], level_dbm0: f64, seed: u64) {
    let rms = ZERO_DBM0_PEAK / 2f64.sqrt() * 10f64.powf(level_dbm0 / 20.0);
    let mut state = seed | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    for s in signal.iter_mut() {
        let (u1, u2) = (uniform(), uniform());
        *s += rms * (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos();
    }
}

/// Rounds to 16 bits and passes through µ-law, as audio from the network would.
pub fn ulaw(signal: &[f64]) -> Vec<i16> {
    signal
        .iter()
        .map(|s| {
            g711::ulaw_to_linear(g711::linear_to_ulaw(
                s.round().clamp(-32768.0, 32767.0) as i16
            ))
        })
        .collect()
}

/// Runs the detector over the audio in 20 ms frames (the last one padded with silence).
pub fn detect(audio: &[i16]) -> Vec<DtmfEvent> {
    let mut detector = DtmfDetector::new();
    let mut events = Vec::new();
    for frame in audio.chunks(160) {
        let mut padded = [0i16; 160];
        padded[..frame.len()].copy_from_slice(frame);
        detector.process(&padded, |e| events.push(e));
    }
    // Trailing silence lets a press at the very end finish.
    for _ in 0..5 {
        detector.process(&[0; 160], |e| events.push(e));
    }
    events
}

/// The keys of the presses in `events`, checking that each start is followed by its end.
pub fn presses(events: &[DtmfEvent]) -> Vec<(char, u32)> {
    let mut out = Vec::new();
    let mut open = None;
    for e in events {
        match *e {
            DtmfEvent::DigitStarted(d) => {
                assert_eq!(open, None, "start inside a press: {events:?}");
                open = Some(d);
            }
            DtmfEvent::DigitEnded { digit, duration_ms } => {
                assert_eq!(open, Some(digit), "end without its start: {events:?}");
                open = None;
                out.push((digit, duration_ms));
            }
        }
    }
    assert_eq!(open, None, "press never ended: {events:?}");
    out
}

pub const ALL_KEYS: &str = "123A456B789C*0#D";
