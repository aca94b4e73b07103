//! Loss concealment: no click where a loss starts or ends, and a fade to silence by 60 ms.

use media::jitter::Concealer;
use std::f64::consts::TAU;

fn tone(hz: f64, amp: f64, from: usize, n: usize) -> Vec<i16> {
    (from..from + n)
        .map(|i| (amp * (TAU * hz * i as f64 / 8000.0).sin()) as i16)
        .collect()
}

/// A vowel-like signal: harmonics of `f0` with falling amplitude.
fn voiced(f0: f64, from: usize, n: usize) -> Vec<i16> {
    (from..from + n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            (1..8)
                .map(|h| 6000.0 / h as f64 * (TAU * f0 * h as f64 * t + h as f64).sin())
                .sum::<f64>() as i16
        })
        .collect()
}

fn max_step(s: &[i16]) -> i32 {
    s.windows(2)
        .map(|w| (w[1] as i32 - w[0] as i32).abs())
        .max()
        .unwrap_or(0)
}

/// Plays `good` frames, then `lost` concealed frames, then the good frames that follow;
/// returns the whole output.
fn scenario(signal: impl Fn(usize, usize) -> Vec<i16>, good: usize, lost: usize) -> Vec<i16> {
    let mut plc = Concealer::new();
    let mut out = Vec::new();
    for f in 0..good + lost + 5 {
        let mut frame = signal(160 * f, 160);
        if (good..good + lost).contains(&f) {
            plc.conceal(&mut frame);
        } else {
            plc.good(&mut frame);
        }
        out.extend_from_slice(&frame);
    }
    out
}

#[test]
fn concealment_joins_the_signal_without_a_click() {
    for f0 in [100.0, 137.0, 190.0] {
        let signal = |from, n| voiced(f0, from, n);
        let reference = max_step(&signal(0, 4000));
        let out = scenario(signal, 10, 2);
        // Around the start (1600) and the end (1920) of the loss.
        for edge in [1600, 1920] {
            let step = max_step(&out[edge - 40..edge + 100]);
            assert!(
                step <= reference * 3 / 2,
                "{f0} Hz at {edge}: step {step} vs signal's own {reference}"
            );
        }
    }
}

#[test]
fn a_periodic_signal_is_continued_closely() {
    // 200 Hz has a 40-sample period the pitch search finds exactly.
    let out = scenario(|from, n| tone(200.0, 8000.0, from, n), 10, 1);
    let truth = tone(200.0, 8000.0, 1600, 80);
    let err = out[1600..1680]
        .iter()
        .zip(&truth)
        .map(|(a, b)| (*a as i32 - *b as i32).abs())
        .max()
        .unwrap();
    assert!(err < 800, "first 10 ms of concealment off by {err}");
}

#[test]
fn concealment_fades_to_silence_by_60_ms() {
    let mut plc = Concealer::new();
    for f in 0..10 {
        plc.good(&mut voiced(120.0, 160 * f, 160));
    }
    let mut lost = vec![0i16; 800];
    plc.conceal(&mut lost[..160]);
    plc.conceal(&mut lost[160..]);
    let peak = |s: &[i16]| s.iter().map(|x| x.unsigned_abs()).max().unwrap_or(0);
    let windows: Vec<u16> = lost.chunks(80).map(peak).collect();
    // Full level for 10 ms, then falling every 10 ms, silent from 60 ms.
    assert!(windows[0] > 5000, "{windows:?}");
    for w in windows[1..6].windows(2) {
        assert!(w[1] < w[0], "{windows:?}");
    }
    assert!(windows[6..].iter().all(|p| *p == 0), "{windows:?}");
    assert!(plc.is_silent());
    // Audio after a full fade comes back in with a short ramp rather than a step.
    let mut back = [10000i16; 160];
    plc.good(&mut back);
    assert!(
        back[0] < 1000 && back[100] == 10000,
        "{} {}",
        back[0],
        back[100]
    );
}

#[test]
fn silence_in_gives_silence_out() {
    let mut plc = Concealer::new();
    let mut frame = [0i16; 160];
    plc.conceal(&mut frame);
    assert!(frame.iter().all(|s| *s == 0));
}
