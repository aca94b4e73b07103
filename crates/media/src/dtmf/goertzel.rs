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
//!
//! A server runs a detector per call, and callers are mostly silent, so the filters only run
//! where they can matter: a span too quiet to hold a pair at the level limit, whatever its
//! spectrum (see `pair_gain`), fails without them, and a window is worked out only when a
//! verdict or a press asks for it, from the last six hops kept as samples. What is reported
//! is exactly what running every filter on every hop reports.

mod press;

use super::{digit_at, DtmfEvent, COLUMN_HZ, ROW_HZ, ZERO_DBM0_PEAK};
use crate::CALL_RATE;
use press::{PressTracker, RECENT};
use std::f32::consts::{PI, TAU};
use std::sync::LazyLock;

const WINDOW: usize = 80;
const HOP: usize = 40;
/// Samples one verdict covers: two windows end to end.
const SPAN: usize = 2 * WINDOW;
/// Four rows then four columns.
const BANDS: usize = 8;
/// Hops of audio kept: a new press looks back over the `RECENT` windows before the current
/// one, and the oldest of them starts a hop earlier still.
const KEPT: usize = RECENT + 2;
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
/// Room left by the quiet-span gate (see `Tables::gate`) for rounding, which is some orders of
/// magnitude smaller.
const GATE_MARGIN: f32 = 1.1;

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
    /// Bounds the level check's first estimate of a tone pair (`most` in `verdict`) by the
    /// span's mean-square (see `pair_gain`): a span whose mean-square times this is under
    /// `MIN_POWER` fails the level check whatever it holds, and the filters need not run.
    /// About 2.1: silence, line noise and speech below about -28 dBm0 are gated.
    gate: f32,
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
        let scale = 2.0 / hann.iter().sum::<f32>().powi(2);
        let max_correction = 1.0 / hann_response(MAX_DEVIATION * COLUMN_HZ[3]);
        let gate = max_correction * scale * pair_gain(&omega, &hann) * WINDOW as f32 * GATE_MARGIN;
        Tables {
            freq,
            coeff: omega.map(|w| 2.0 * w.cos()),
            cos: omega.map(f32::cos),
            sin: omega.map(f32::sin),
            step: omega.map(|w| {
                let a = -w * HOP as f32;
                [a.cos(), a.sin()]
            }),
            scale,
            max_correction,
            gate,
            hann,
        }
    }

    /// The eight filters over the window made of two consecutive hops.
    fn analyse(&self, first: &[i16; HOP], second: &[i16; HOP]) -> Window {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX, which is all `analyse_avx` is compiled for.
            return unsafe { self.analyse_avx(first, second) };
        }
        self.filters(first, second)
    }

    /// `filters` compiled for AVX, whose eight-wide vectors take the eight bands at once
    /// (about 30% faster than the SSE2 every x86-64 has). Without FMA it is the same
    /// operations in the same order: the same results to the bit.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx")]
    unsafe fn analyse_avx(&self, first: &[i16; HOP], second: &[i16; HOP]) -> Window {
        self.filters(first, second)
    }

    #[inline(always)]
    fn filters(&self, first: &[i16; HOP], second: &[i16; HOP]) -> Window {
        // The window's two halves run as separate filters, side by side, so that each one's
        // dependency chain hides the other's latency; the second half's output is then
        // turned back by the phase a hop adds. (The result is the whole window's transform
        // times a fixed phase per band, the same for every window, so phase steps and powers
        // are unaffected.)
        let (hann_first, hann_second) = self.hann.split_at(HOP);
        let mut a1 = [0.0f32; BANDS];
        let mut a2 = [0.0f32; BANDS];
        let mut b1 = [0.0f32; BANDS];
        let mut b2 = [0.0f32; BANDS];
        for n in 0..HOP {
            let xa = f32::from(first[n]) * hann_first[n];
            let xb = f32::from(second[n]) * hann_second[n];
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
    fn offset(&self, i: usize, windows: [&Window; 3]) -> f32 {
        let coarse = self.offset_hz(i, windows[1], windows[2], 1);
        let fine = self.offset_hz(i, windows[0], windows[2], 2);
        let wrap = RATE / (2 * HOP) as f32;
        fine + wrap * ((coarse - fine) / wrap).round()
    }
}

/// The most one row filter and one column filter can take together out of a window of real
/// audio, as `|X_r|² + |X_c|²` over the window's energy `Σx²`. Each filter is two real
/// vectors, `w[n]·cos ωn` and `w[n]·sin ωn`, and `|X|²` the sum of the squared dot products
/// with them, so the four vectors' Gram matrix bounds the sum by its largest eigenvalue; that
/// is at most its largest absolute row sum (Gershgorin), taken over every row and column pair.
/// About Σw²/2: a real signal's energy is split between +ω and -ω, and the filters barely
/// overlap. It is met by a window-shaped burst of the two tones.
///
/// The first and last windows cover the span end to end, so the band powers' average over
/// them (`power` in `verdict`) is at most `scale` times this times `WINDOW` times the span's
/// mean-square.
fn pair_gain(omega: &[f32; BANDS], hann: &[f32; WINDOW]) -> f32 {
    let vectors = |band: usize| {
        let w = f64::from(omega[band]);
        let at = move |n: usize, f: fn(f64) -> f64| f64::from(hann[n]) * f(w * n as f64);
        [
            std::array::from_fn::<f64, WINDOW, _>(|n| at(n, f64::cos)),
            std::array::from_fn::<f64, WINDOW, _>(|n| at(n, f64::sin)),
        ]
    };
    let mut most = 0.0f64;
    for row in 0..4 {
        for column in 4..BANDS {
            let [a, b] = vectors(row);
            let [c, d] = vectors(column);
            let four = [a, b, c, d];
            for u in &four {
                let sum: f64 = four
                    .iter()
                    .map(|v| u.iter().zip(v).map(|(x, y)| x * y).sum::<f64>().abs())
                    .sum();
                most = most.max(sum);
            }
        }
    }
    most as f32
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
/// the span's hops see it. Two filters share one loop so that each one's dependency chain
/// hides the other's latency.
fn goertzel_powers(hops: [&[i16; HOP]; SPAN / HOP], freqs: [f32; 2]) -> [f32; 2] {
    let coeff = freqs.map(|f| 2.0 * (TAU * f / RATE).cos());
    let (mut s1, mut s2) = ([0.0f32; 2], [0.0f32; 2]);
    for hop in hops {
        for x in hop {
            let x = f32::from(*x);
            for i in 0..2 {
                let s0 = x + coeff[i] * s1[i] - s2[i];
                s2[i] = s1[i];
                s1[i] = s0;
            }
        }
    }
    let n = SPAN as f32;
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

/// The tables, computed once for every detector: they are the same for all, and a session
/// that reads shared tables keeps its own state small (a thousand detectors' state has to stay
/// in cache).
static TABLES: LazyLock<Tables> = LazyLock::new(Tables::new);

#[derive(Debug, Clone)]
pub struct DtmfDetector {
    tables: &'static Tables,
    /// The last `KEPT` hops of audio, a ring; `newest` is the hop being filled.
    hops: [[i16; HOP]; KEPT],
    newest: usize,
    filled: usize,
    /// Sum of squares of each hop in `hops`, exact.
    energy: [u64; KEPT],
    /// The window ending with each hop, once worked out (bit `i` of `analysed` for `hops[i]`).
    windows: [Window; KEPT],
    analysed: u8,
    /// Hops seen, up to 3: a verdict needs three windows.
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
            tables: &TABLES,
            // Before the first sample the detector has heard silence.
            hops: [[0; HOP]; KEPT],
            newest: 0,
            filled: 0,
            energy: [0; KEPT],
            windows: [[[0.0; 2]; BANDS]; KEPT],
            analysed: 0,
            seen: 0,
            presses: PressTracker::default(),
        }
    }

    /// Forgets everything heard so far, including a press in progress (not reported).
    pub fn reset(&mut self) {
        *self = DtmfDetector::new();
    }

    /// Takes audio at 8 kHz in slices of any length (normally one 160-sample frame).
    pub fn process(&mut self, samples: &[i16], mut report: impl FnMut(DtmfEvent)) {
        let mut rest = samples;
        while !rest.is_empty() {
            let n = (HOP - self.filled).min(rest.len());
            self.hops[self.newest][self.filled..self.filled + n].copy_from_slice(&rest[..n]);
            self.filled += n;
            rest = &rest[n..];
            if self.filled == HOP {
                self.filled = 0;
                self.hop(&mut report);
                self.newest = (self.newest + 1) % KEPT;
                // The window ending with the hop about to be overwritten is no longer the
                // window ending there.
                self.analysed &= !(1 << self.newest);
            }
        }
    }

    /// Where in the ring the hop `back` hops before the newest one is.
    fn slot(&self, back: usize) -> usize {
        (self.newest + KEPT - back) % KEPT
    }

    /// The window ending `back` hops before the newest one, worked out the first time it is
    /// asked for.
    fn window(&mut self, back: usize) -> &Window {
        let slot = self.slot(back);
        if self.analysed & (1 << slot) == 0 {
            let first = &self.hops[self.slot(back + 1)];
            self.windows[slot] = self.tables.analyse(first, &self.hops[slot]);
            self.analysed |= 1 << slot;
        }
        &self.windows[slot]
    }

    fn hop(&mut self, report: &mut impl FnMut(DtmfEvent)) {
        let newest = self.newest;
        // In integers: exact, and free of a float sum's chain of dependent additions.
        self.energy[newest] = self.hops[newest]
            .iter()
            .map(|x| u64::from(x.unsigned_abs()).pow(2))
            .sum();
        self.seen = (self.seen + 1).min(3);
        let candidate = if self.seen == 3 { self.verdict() } else { None };
        // Without a press under way and without a key in the span, the press logic has
        // nothing to do: the window need not even be worked out (it is, later, if the next
        // verdicts or a new press's leading edge need it).
        if candidate.is_none() && !self.presses.pressing() {
            return;
        }
        let power = self.tables.power(self.window(0));
        let recent: [[f32; BANDS]; RECENT] = if self.presses.starts(candidate) {
            // The windows are mostly worked out already.
            std::array::from_fn(|i| self.tables.power(self.window(RECENT - i)))
        } else {
            [[0.0; BANDS]; RECENT]
        };
        self.presses.hop(candidate, &power, &recent, report);
    }

    /// The key the last span holds, if it passes every check.
    fn verdict(&mut self) -> Option<Key> {
        let t = self.tables;
        let energy: u64 = (0..SPAN / HOP)
            .map(|back| self.energy[self.slot(back)])
            .sum();
        let total = energy as f32 / SPAN as f32;
        // Quiet audio (callers are mostly silent) cannot hold a key that passes the level
        // check: leave the filters alone.
        if total * t.gate < MIN_POWER {
            return None;
        }
        for back in 0..3 {
            self.window(back);
        }
        let windows: [&Window; 3] = [2, 1, 0].map(|back| &self.windows[self.slot(back)]);
        let first = t.power(windows[0]);
        let last = t.power(windows[2]);
        // The first and last windows cover the span end to end.
        let power: [f32; BANDS] = std::array::from_fn(|i| (first[i] + last[i]) / 2.0);
        let row = strongest(&power, 0..4);
        let column = strongest(&power, 4..BANDS);
        // Most audio (speech, silence) fails on level or energy share whatever the frequency
        // correction below turns out to be; checking that first skips the phase arithmetic.
        let most = (power[row] + power[column]) * t.max_correction;
        if most < MIN_POWER || most < MIN_TONE_SHARE * total {
            return None;
        }
        let mut tone = [0.0f32; 2];
        let mut actual = [0.0f32; 2];
        for (k, band) in [row, column].into_iter().enumerate() {
            let offset = t.offset(band, windows);
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
        let span = [3, 2, 1, 0].map(|back| &self.hops[self.slot(back)]);
        let measured = goertzel_powers(span, harmonics);
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

#[cfg(test)]
mod tests;
