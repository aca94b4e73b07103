//! In-band DTMF detection (ITU-T Q.24) on 8 kHz audio with Goertzel filters.
//!
//! Eight Hann-windowed Goertzel filters (one per keypad frequency) run over 80-sample (10 ms)
//! windows every 40 samples (5 ms). The length is set by time, not frequency: a 40 ms press
//! must be told from a 35 ms burst. The 100 Hz resolution of 80 samples (for tones 73 Hz
//! apart) is made up for by measuring each tone's frequency from the phase it gains from one
//! window to the next, which resolves a few Hz: that is what rejects tones 3.5% off while
//! accepting 1.5% ones, which no 80- or 105-sample magnitude test can. The Hann window keeps
//! the other group's tone (up to 8 dB stronger) out of a filter (-36 dB at the closest pair,
//! 941 and 1209 Hz, against -20 dB without it), so phase and twist are not biased by it; and
//! Hann windows overlapping by half add up to exactly one, so the windows' shares of a press
//! add up to its length (see `press.rs`).
//!
//! Each 20 ms span (the last four hops) must pass, for the strongest row and column tone:
//! - frequency within 2.4% of nominal;
//! - level of the two tones together at least -25 dBm0 (per-tone Q.24 figures of -25 dBm0
//!   would refuse a -20 dBm0 pair with 6 dB of twist, which must pass);
//! - twist within +8 dB (column stronger) and -4 dB (row stronger);
//! - the two tones at least 80% of the span's energy, so speech, music and noise, which spread
//!   their energy, do not pass;
//! - each tone's second harmonic 12 dB below it, beyond what the tones themselves leak into
//!   the harmonic's filter: voiced speech is rich in harmonics, a tone pair has none.
//!
//! The press logic then asks for 37.5 ms of tone, and ends a press after 35 ms of failures.

mod press;

use super::{digit_at, DtmfEvent, COLUMN_HZ, ROW_HZ, ZERO_DBM0_PEAK};
use crate::CALL_RATE;
use press::PressTracker;
use std::f32::consts::{PI, TAU};

const WINDOW: usize = 80;
const HOP: usize = 40;
/// Samples one verdict covers: two windows end to end.
const SPAN: usize = 2 * WINDOW;
/// Four rows then four columns.
const BANDS: usize = 8;
const RATE: f32 = CALL_RATE as f32;

/// Largest frequency error accepted, as a fraction: about half way between Q.24's must-accept
/// 1.5% and must-reject 3.5%, so that the estimate's own error (a few tenths of a percent when
/// the other tone is 8 dB stronger) has room on both sides.
const MAX_DEVIATION: f32 = 0.024;
/// Mean-square of a 0 dBm0 sine.
const ZERO_DBM0_POWER: f32 = (ZERO_DBM0_PEAK * ZERO_DBM0_PEAK / 2.0) as f32;
/// -25 dBm0 for the two tones together.
const MIN_POWER: f32 = ZERO_DBM0_POWER * 0.003_162_278;
/// Column over row power: +8 dB and -4 dB, each with 0.2 dB for the measurement's own error
/// (about ±0.05 dB) so that a pair exactly at a limit passes.
const MAX_NORMAL_TWIST: f32 = 6.606_934;
const MAX_REVERSE_TWIST: f32 = 2.630_268;
/// Share of the span's energy the two tones must hold.
const MIN_TONE_SHARE: f32 = 0.8;
/// Second harmonic power over its fundamental: -12 dB.
const MAX_HARMONIC: f32 = 0.063_095_73;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    /// Band indices: `row` in 0..4, `column` in 4..8.
    row: usize,
    column: usize,
    digit: char,
}

/// The eight filters' complex outputs over one window.
type Window = [[f32; 2]; BANDS];

#[derive(Debug, Clone)]
struct Tables {
    freq: [f32; BANDS],
    /// 2 cos ω, the Goertzel feedback.
    coeff: [f32; BANDS],
    cos: [f32; BANDS],
    sin: [f32; BANDS],
    /// e^{-jω·HOP}: the phase a tone exactly on frequency gains from one window to the next.
    step: [[f32; 2]; BANDS],
    hann: [f32; WINDOW],
    /// Turns a squared output into the mean-square of the sine that gives it: the filter's
    /// gain for an on-frequency sine is half the window's sum.
    scale: f32,
    /// The most `hann_response` can take off a tone that passes the frequency check.
    max_correction: f32,
}

impl Tables {
    fn new() -> Self {
        let mut freq = [0.0; BANDS];
        freq[..4].copy_from_slice(&ROW_HZ);
        freq[4..].copy_from_slice(&COLUMN_HZ);
        let omega = freq.map(|f| TAU * f / RATE);
        let mut hann = [0.0; WINDOW];
        for (n, w) in hann.iter_mut().enumerate() {
            // sin² with a half-sample offset: windows one hop apart sum to exactly 1 at every
            // sample, and no sample is weighted zero.
            *w = (PI * (n as f32 + 0.5) / WINDOW as f32).sin().powi(2);
        }
        Tables {
            freq,
            coeff: omega.map(|w| 2.0 * w.cos()),
            cos: omega.map(f32::cos),
            sin: omega.map(f32::sin),
            step: omega.map(|w| {
                let a = -w * HOP as f32;
                [a.cos(), a.sin()]
            }),
            scale: 2.0 / hann.iter().sum::<f32>().powi(2),
            max_correction: 1.0 / hann_response(MAX_DEVIATION * COLUMN_HZ[3]),
            hann,
        }
    }

    fn analyse(&self, samples: &[f32]) -> Window {
        // The window's two halves run as separate filters, side by side, so that each one's
        // dependency chain hides the other's latency; the second half's output is then
        // turned back by the phase a hop adds. (The result is the whole window's transform
        // times a fixed phase per band, the same for every window, so phase steps and powers
        // are unaffected.)
        let (first, second) = samples.split_at(HOP);
        let (hann_first, hann_second) = self.hann.split_at(HOP);
        let mut a1 = [0.0f32; BANDS];
        let mut a2 = [0.0f32; BANDS];
        let mut b1 = [0.0f32; BANDS];
        let mut b2 = [0.0f32; BANDS];
        for n in 0..HOP {
            let xa = first[n] * hann_first[n];
            let xb = second[n] * hann_second[n];
            // Eight independent filters side by side: the compiler turns this into vector code.
            for i in 0..BANDS {
                let a0 = xa + self.coeff[i] * a1[i] - a2[i];
                a2[i] = a1[i];
                a1[i] = a0;
                let b0 = xb + self.coeff[i] * b1[i] - b2[i];
                b2[i] = b1[i];
                b1[i] = b0;
            }
        }
        std::array::from_fn(|i| {
            let [ar, ai] = [a1[i] - self.cos[i] * a2[i], self.sin[i] * a2[i]];
            let [br, bi] = [b1[i] - self.cos[i] * b2[i], self.sin[i] * b2[i]];
            let [er, ei] = self.step[i];
            [ar + br * er - bi * ei, ai + br * ei + bi * er]
        })
    }

    fn power(&self, window: &Window) -> [f32; BANDS] {
        window.map(|[re, im]| (re * re + im * im) * self.scale)
    }

    /// Excess phase of band `i` from `earlier` to `later`, `hops` apart, as a frequency error
    /// in Hz; it wraps at ±RATE / (2·HOP·hops).
    fn offset_hz(&self, i: usize, earlier: &Window, later: &Window, hops: usize) -> f32 {
        let [a, b] = later[i];
        let [c, d] = earlier[i];
        let (mut zr, mut zi) = (a * c + b * d, b * c - a * d);
        let [er, ei] = self.step[i];
        for _ in 0..hops {
            (zr, zi) = (zr * er - zi * ei, zr * ei + zi * er);
        }
        zi.atan2(zr) * RATE / (TAU * (HOP * hops) as f32)
    }

    /// Frequency error of band `i` over the last three windows: the step over one hop is
    /// unambiguous to ±100 Hz, the step over two is twice as precise but wraps at ±50 Hz (a
    /// 1633 Hz tone 3.5% high is 57 Hz off), so the first picks the wrap of the second.
    fn offset(&self, i: usize, windows: &[Window; 3]) -> f32 {
        let coarse = self.offset_hz(i, &windows[1], &windows[2], 1);
        let fine = self.offset_hz(i, &windows[0], &windows[2], 2);
        let wrap = RATE / (2 * HOP) as f32;
        fine + wrap * ((coarse - fine) / wrap).round()
    }
}

/// Power response of the Hann filter to a sine `delta` Hz away (1 at 0), within the main
/// lobe, which is all a tone that passed the frequency check can be in.
fn hann_response(delta: f32) -> f32 {
    let bins = delta * WINDOW as f32 / RATE;
    if bins.abs() < 1e-4 {
        return 1.0;
    }
    let x = PI * bins;
    (x.sin() / x / (1.0 - bins * bins)).powi(2)
}

/// Mean-square of a sine at each of two frequencies as rectangular Goertzel filters over
/// `samples` see it. Two filters share one loop so that each one's dependency chain hides the
/// other's latency.
fn goertzel_powers(samples: &[f32], freqs: [f32; 2]) -> [f32; 2] {
    let coeff = freqs.map(|f| 2.0 * (TAU * f / RATE).cos());
    let (mut s1, mut s2) = ([0.0f32; 2], [0.0f32; 2]);
    for x in samples {
        for i in 0..2 {
            let s0 = x + coeff[i] * s1[i] - s2[i];
            s2[i] = s1[i];
            s1[i] = s0;
        }
    }
    let n = samples.len() as f32;
    std::array::from_fn(|i| {
        (s1[i] * s1[i] + s2[i] * s2[i] - coeff[i] * s1[i] * s2[i]) * 2.0 / (n * n)
    })
}

/// Power response of an `n`-sample rectangular filter to a sine `delta` Hz away (1 at 0).
fn rect_response(delta: f32, n: usize) -> f32 {
    let x = PI * delta / RATE;
    let den = n as f32 * x.sin();
    if den.abs() < 1e-9 {
        1.0
    } else {
        ((n as f32 * x).sin() / den).powi(2)
    }
}

#[derive(Debug, Clone)]
pub struct DtmfDetector {
    tables: Tables,
    /// The last `SPAN` samples, oldest first.
    history: [f32; SPAN],
    /// Samples of the hop being filled.
    pending: [f32; HOP],
    filled: usize,
    /// Sum of squares of each hop in `history`.
    hop_energy: [f32; SPAN / HOP],
    /// The last three windows, oldest first, and how many have been seen (up to 3).
    windows: [Window; 3],
    seen: usize,
    presses: PressTracker,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl DtmfDetector {
    pub fn new() -> Self {
        DtmfDetector {
            tables: Tables::new(),
            history: [0.0; SPAN],
            pending: [0.0; HOP],
            filled: 0,
            hop_energy: [0.0; SPAN / HOP],
            windows: [[[0.0; 2]; BANDS]; 3],
            seen: 0,
            presses: PressTracker::default(),
        }
    }

    /// Forgets everything heard so far, including a press in progress (not reported).
    pub fn reset(&mut self) {
        *self = DtmfDetector {
            tables: self.tables.clone(),
            ..DtmfDetector::new()
        };
    }

    /// Takes audio at 8 kHz in slices of any length (normally one 160-sample frame).
    pub fn process(&mut self, samples: &[i16], mut report: impl FnMut(DtmfEvent)) {
        let mut rest = samples;
        while !rest.is_empty() {
            let n = (HOP - self.filled).min(rest.len());
            for (dst, src) in self.pending[self.filled..self.filled + n]
                .iter_mut()
                .zip(&rest[..n])
            {
                *dst = *src as f32;
            }
            self.filled += n;
            rest = &rest[n..];
            if self.filled == HOP {
                self.filled = 0;
                self.hop(&mut report);
            }
        }
    }

    fn hop(&mut self, report: &mut impl FnMut(DtmfEvent)) {
        self.history.copy_within(HOP.., 0);
        self.history[SPAN - HOP..].copy_from_slice(&self.pending);
        self.hop_energy.copy_within(1.., 0);
        self.hop_energy[SPAN / HOP - 1] = self.pending.iter().map(|x| x * x).sum();
        let window = self.tables.analyse(&self.history[SPAN - WINDOW..]);
        self.windows.copy_within(1.., 0);
        self.windows[2] = window;
        self.seen = (self.seen + 1).min(3);
        let candidate = if self.seen == 3 { self.verdict() } else { None };
        let power = self.tables.power(&window);
        self.presses.hop(candidate, &power, report);
    }

    /// The key the last span holds, if it passes every check.
    fn verdict(&self) -> Option<Key> {
        let t = &self.tables;
        let first = t.power(&self.windows[0]);
        let last = t.power(&self.windows[2]);
        // The first and last windows cover the span end to end.
        let power: [f32; BANDS] = std::array::from_fn(|i| (first[i] + last[i]) / 2.0);
        let row = strongest(&power, 0..4);
        let column = strongest(&power, 4..BANDS);
        let total = self.hop_energy.iter().sum::<f32>() / SPAN as f32;
        // Most audio (speech, silence) fails on level or energy share whatever the frequency
        // correction below turns out to be; checking that first skips the phase arithmetic.
        let most = (power[row] + power[column]) * t.max_correction;
        if most < MIN_POWER || most < MIN_TONE_SHARE * total {
            return None;
        }
        let mut tone = [0.0f32; 2];
        let mut actual = [0.0f32; 2];
        for (k, band) in [row, column].into_iter().enumerate() {
            let offset = t.offset(band, &self.windows);
            if offset.abs() > MAX_DEVIATION * t.freq[band] {
                return None;
            }
            actual[k] = t.freq[band] + offset;
            // An off-frequency tone reads low; undo that so that twist and level are those
            // of the tones, not of where they fell in the filters.
            tone[k] = power[band] / hann_response(offset);
        }
        let [row_power, column_power] = tone;
        let pair = row_power + column_power;
        if pair < MIN_POWER
            || column_power > row_power * MAX_NORMAL_TWIST
            || row_power > column_power * MAX_REVERSE_TWIST
            || pair < MIN_TONE_SHARE * total
        {
            return None;
        }
        let harmonics = [2.0 * t.freq[row], 2.0 * t.freq[column]];
        let measured = goertzel_powers(&self.history, harmonics);
        for k in 0..2 {
            // What the pair itself puts into the harmonic's filter is not the harmonic.
            let leaked: f32 = tone
                .iter()
                .zip(actual)
                .map(|(p, f)| (p * rect_response(harmonics[k] - f, SPAN)).sqrt())
                .sum();
            if measured[k].sqrt() > (MAX_HARMONIC * tone[k]).sqrt() + leaked {
                return None;
            }
        }
        Some(Key {
            row,
            column,
            digit: digit_at(row, column - 4)?,
        })
    }
}

fn strongest(power: &[f32; BANDS], range: std::ops::Range<usize>) -> usize {
    range
        .reduce(|best, i| if power[i] > power[best] { i } else { best })
        .unwrap_or(0)
}
