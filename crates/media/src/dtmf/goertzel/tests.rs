use super::*;
use crate::dtmf::frequencies;
use crate::g711;

/// The same detector without the quiet-span gate.
static UNGATED: LazyLock<Tables> = LazyLock::new(|| Tables {
    gate: f32::INFINITY,
    ..Tables::new()
});

const KEYS: &str = "123A456B789C*0#D";

/// A key whose two tones together are at `level_dbm0`, the column tone `twist_db` above
/// the row tone, added to `out` from `at` on for `len` samples.
fn add_key(out: &mut [f64], digit: char, level_dbm0: f64, twist_db: f64, at: usize, len: usize) {
    let (row, column) = frequencies(digit).unwrap();
    let total = 10f64.powf(level_dbm0 / 10.0);
    let ratio = 10f64.powf(twist_db / 10.0);
    let amp = |p: f64| super::super::ZERO_DBM0_PEAK * p.sqrt();
    let (row_amp, column_amp) = (
        amp(total / (1.0 + ratio)),
        amp(total * ratio / (1.0 + ratio)),
    );
    for (n, s) in out[at..at + len].iter_mut().enumerate() {
        let t = n as f64 / RATE as f64;
        *s += row_amp * (std::f64::consts::TAU * f64::from(row) * t + 0.3).sin()
            + column_amp * (std::f64::consts::TAU * f64::from(column) * t + 1.1).sin();
    }
}

/// Deterministic white noise at `level_dbm0` (mean-square of a sine at that level).
fn add_noise(out: &mut [f64], level_dbm0: f64, seed: u64) {
    let rms = super::super::ZERO_DBM0_PEAK / 2f64.sqrt() * 10f64.powf(level_dbm0 / 20.0);
    let mut state = seed | 1;
    for s in out.iter_mut() {
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let (u1, u2) = (uniform(), uniform());
        *s += rms * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    }
}

fn ulaw(signal: &[f64]) -> Vec<i16> {
    signal
        .iter()
        .map(|s| {
            g711::ulaw_to_linear(g711::linear_to_ulaw(
                s.round().clamp(-32768.0, 32767.0) as i16
            ))
        })
        .collect()
}

/// Runs a detector with the given tables over the audio in 20 ms frames, then 100 ms of
/// silence.
fn detect(tables: &'static Tables, audio: &[i16]) -> Vec<DtmfEvent> {
    let mut detector = DtmfDetector {
        tables,
        ..DtmfDetector::new()
    };
    let mut events = Vec::new();
    for frame in audio.chunks(160).chain([[0i16; 160].as_slice(); 5]) {
        detector.process(frame, |e| events.push(e));
    }
    events
}

/// The level check's first estimate (`most` in `verdict`) for every row and column pair,
/// over a span of four hops, and the span's mean-square.
fn estimates(t: &Tables, span: &[i16; SPAN]) -> ([f32; 16], f32) {
    let hop = |i: usize| -> &[i16; HOP] { span[i * HOP..][..HOP].try_into().unwrap() };
    let first = t.power(&t.analyse(hop(0), hop(1)));
    let last = t.power(&t.analyse(hop(2), hop(3)));
    let total = span.iter().map(|x| f32::from(*x).powi(2)).sum::<f32>() / SPAN as f32;
    let most = std::array::from_fn(|k| {
        let (r, c) = (k / 4, 4 + k % 4);
        (first[r] + last[r] + first[c] + last[c]) / 2.0 * t.max_correction
    });
    (most, total)
}

#[test]
fn the_filters_give_the_same_bits_whatever_the_cpu() {
    let t = &*TABLES;
    let mut signal = vec![0.0; 40 * HOP];
    add_noise(&mut signal, -10.0, 3);
    add_key(&mut signal, '8', -3.0, 0.0, 400, 800);
    let audio = ulaw(&signal);
    for pair in audio.chunks_exact(2 * HOP) {
        let (first, second) = pair.split_at(HOP);
        let (first, second) = (first.try_into().unwrap(), second.try_into().unwrap());
        assert_eq!(t.analyse(first, second), t.filters(first, second));
    }
}

#[test]
fn the_gate_bounds_the_level_estimate_for_any_audio() {
    let t = &*TABLES;
    let bound = t.gate / GATE_MARGIN;
    let mut worst = 0.0f32;
    let mut check = |span: &[i16; SPAN]| {
        let (most, total) = estimates(t, span);
        for m in most {
            assert!(m <= bound * total * 1.000_1, "{m} > {bound} × {total}");
            worst = worst.max(m / total);
        }
    };
    // What comes closest: each window a window-shaped burst of a row and a column tone.
    let omega = t.freq.map(|f| TAU * f / RATE);
    for r in 0..4 {
        for c in 4..BANDS {
            for (phase, ratio) in [(0.0, 1.0), (0.7, 0.5), (2.0, 1.5), (1.3, 1.0)] {
                let span: [i16; SPAN] = std::array::from_fn(|n| {
                    let k = n % WINDOW;
                    let x = (omega[r] * k as f32 + phase).cos()
                        + ratio * (omega[c] * k as f32 - phase).cos();
                    (t.hann[k] * x * 8000.0).round() as i16
                });
                check(&span);
            }
        }
    }
    // Noise, tones and clipping.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for case in 0..200 {
        let mut signal = vec![0.0; SPAN];
        add_noise(&mut signal, -10.0 - (case % 40) as f64, case);
        if case % 2 == 0 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let digit = KEYS.as_bytes()[(state >> 60) as usize] as char;
            add_key(
                &mut signal,
                digit,
                3.0 - (case % 30) as f64,
                0.0,
                (case as usize * 7) % 120,
                40,
            );
        }
        check(&ulaw(&signal).try_into().unwrap());
    }
    // The bound is close to what audio can reach: the gate leaves out little it could take.
    assert!(worst > 0.9 * bound, "worst {worst}, bound {bound}");
}

#[test]
fn a_key_at_the_lowest_accepted_level_is_heard_from_its_first_sample() {
    // -25 dBm0 is the least the two tones may hold together; starting anywhere in a
    // frame after silence, the press must come out once and its whole length.
    for digit in KEYS.chars() {
        for twist in [0.0, 7.5, -3.5] {
            for offset in (0..160).step_by(20) {
                let mut signal = vec![0.0; 480 + 800 + 320];
                add_key(&mut signal, digit, -24.8, twist, 480 + offset, 800);
                let events = detect(&TABLES, &ulaw(&signal));
                let ended: Vec<_> = events
                    .iter()
                    .filter_map(|e| match *e {
                        DtmfEvent::DigitEnded { digit, duration_ms } => Some((digit, duration_ms)),
                        DtmfEvent::DigitStarted(_) => None,
                    })
                    .collect();
                assert_eq!(
                    events.len(),
                    2,
                    "{digit}, twist {twist}, +{offset}: {events:?}"
                );
                assert_eq!(events[0], DtmfEvent::DigitStarted(digit));
                assert!(
                    matches!(ended[..], [(d, ms)] if d == digit && (95..=105).contains(&ms)),
                    "{digit}, twist {twist}, +{offset}: {events:?}"
                );
            }
        }
    }
}

#[test]
fn the_gate_changes_no_event() {
    // Keys around the level limit, starting anywhere after silence or low noise, short
    // gaps, and noise and tones near the gate's own threshold: with and without the gate
    // the events are the same.
    let mut gated_spans = 0;
    let mut keys = 0;
    for (i, digit) in KEYS.chars().enumerate() {
        for level in [-26.0, -25.2, -24.8, -24.0, -22.0] {
            for offset in (0..160).step_by(40) {
                let mut signal = vec![0.0; 2400];
                let at = 320 + offset + 10 * i;
                add_key(
                    &mut signal,
                    digit,
                    level,
                    (i % 5) as f64 * 2.0 - 3.0,
                    at,
                    400,
                );
                add_key(&mut signal, digit, level, 0.0, at + 400 + 8 * (i % 8), 480);
                add_key(&mut signal, '5', level - 8.0, 0.0, 1900, 400);
                if offset >= 80 {
                    add_noise(&mut signal, -45.0 + (i % 4) as f64 * 4.0, i as u64);
                }
                let audio = ulaw(&signal);
                let gated = detect(&TABLES, &audio);
                assert_eq!(
                    gated,
                    detect(&UNGATED, &audio),
                    "{digit} at {level} dBm0, +{offset}"
                );
                keys += gated.len() / 2;
                gated_spans += audio
                    .windows(SPAN)
                    .step_by(HOP)
                    .filter(|s| {
                        let total =
                            s.iter().map(|x| f32::from(*x).powi(2)).sum::<f32>() / SPAN as f32;
                        total * TABLES.gate < MIN_POWER
                    })
                    .count();
            }
        }
    }
    // The case is not vacuous: keys were heard and spans were gated.
    assert!(
        keys > 150 && gated_spans > 5_000,
        "{keys} keys, {gated_spans} spans gated"
    );
}
