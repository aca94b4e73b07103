//! From per-hop verdicts to key presses: when a press starts, when it ends, how long it lasted.
//! Tones do not start on hop edges, so durations are measured finer than a hop: a window's
//! share of a press is its tone amplitude over the press's full amplitude, and since Hann
//! windows half a window apart weight every sample by exactly one in total, the shares of all
//! windows that overlap a tone add up to its length in hops.

use super::{Key, BANDS, HOP};
use crate::dtmf::DtmfEvent;
use crate::CALL_RATE;

const HOP_MS: f32 = HOP as f32 * 1000.0 / CALL_RATE as f32;
/// Shortest press reported, in hops. Q.24 receivers must accept 40 ms; 37.5 ms keeps a 35 ms
/// burst out with margin both ways.
const MIN_HOPS: f32 = 37.5 / HOP_MS;
/// Failing verdicts that end a press: 35 ms of them. A verdict covers 20 ms, so a 10 ms
/// interruption (which Q.24 asks receivers to ride out) fails at most six, and a 40 ms pause
/// always fails more than seven.
const MISSES_TO_END: usize = 7;
/// Windows before the first passing verdict that can hold the leading edge: the verdict
/// covers the last three windows, and the two before them overlap its first half.
const LEAD: usize = 2;
/// Windows before the current one whose band powers a new press looks back over.
pub(super) const RECENT: usize = LEAD + 2;
/// Windows after the last passing verdict that can hold the trailing edge.
const TAIL: usize = 2;
/// Shares are only final once a full window has set the full amplitude, so they are kept as
/// amplitudes until the press is confirmed.
const EARLY: usize = 16;
/// The filters' outputs ripple by a percent or two with the tones' phases, so the peak
/// slightly overstates the plateau; shares are taken against 98% of it.
const PLATEAU: f32 = 0.98;

#[derive(Debug, Clone)]
struct Press {
    key: Key,
    early: [f32; EARLY],
    early_len: usize,
    /// Shares already settled against `full`.
    settled: f32,
    full: f32,
    started: bool,
    missed: [f32; MISSES_TO_END],
    misses: usize,
}

impl Press {
    fn new(key: Key) -> Self {
        Press {
            key,
            early: [0.0; EARLY],
            early_len: 0,
            settled: 0.0,
            full: 0.0,
            started: false,
            missed: [0.0; MISSES_TO_END],
            misses: 0,
        }
    }

    fn add(&mut self, amplitude: f32) {
        self.full = self.full.max(amplitude);
        if self.early_len < EARLY && !self.started {
            self.early[self.early_len] = amplitude;
            self.early_len += 1;
        } else {
            self.settle();
            self.settled += share(amplitude, self.full);
        }
    }

    fn settle(&mut self) {
        for a in &self.early[..self.early_len] {
            self.settled += share(*a, self.full);
        }
        self.early_len = 0;
    }

    /// Length so far in hops, plus the shares of the given trailing windows.
    fn hops(&self, tail: &[f32]) -> f32 {
        self.settled
            + self.early[..self.early_len]
                .iter()
                .chain(tail)
                .map(|a| share(*a, self.full))
                .sum::<f32>()
    }
}

fn share(amplitude: f32, full: f32) -> f32 {
    if full > 0.0 {
        (amplitude / (PLATEAU * full)).min(1.0)
    } else {
        0.0
    }
}

fn key_amplitude(key: Key, power: &[f32; BANDS]) -> f32 {
    (power[key.row] + power[key.column]).sqrt()
}

#[derive(Debug, Clone, Default)]
pub(super) struct PressTracker {
    press: Option<Press>,
}

impl PressTracker {
    /// Whether a press is under way, so that every hop counts, passing or not.
    pub(super) fn pressing(&self) -> bool {
        self.press.is_some()
    }

    /// Whether this verdict starts a press, which looks back over the recent windows.
    pub(super) fn starts(&self, candidate: Option<Key>) -> bool {
        candidate.is_some() && self.press.as_ref().is_none_or(|p| Some(p.key) != candidate)
    }

    /// Takes one hop's verdict (the key its span holds, if any), its window's band powers and
    /// those of the `RECENT` windows before it, oldest first, for the leading edge of a new
    /// press (read only when it `starts` one). A hop with no press under way and no candidate
    /// changes nothing and may be left out.
    pub(super) fn hop(
        &mut self,
        candidate: Option<Key>,
        power: &[f32; BANDS],
        recent: &[[f32; BANDS]; RECENT],
        report: &mut impl FnMut(DtmfEvent),
    ) {
        if let Some(press) = self.press.as_mut() {
            let amplitude = key_amplitude(press.key, power);
            if candidate == Some(press.key) {
                // Back after a short interruption: the gap windows' shares say how much tone
                // they still held.
                for i in 0..press.misses {
                    let a = press.missed[i];
                    press.add(a);
                }
                press.misses = 0;
                press.add(amplitude);
                confirm(press, report);
            } else {
                press.missed[press.misses] = amplitude;
                press.misses += 1;
                if candidate.is_some() || press.misses >= MISSES_TO_END {
                    // Only the first misses can hold the end of the tone; later ones hold
                    // whatever came next.
                    let tail = &press.missed[..press.misses.min(TAIL)];
                    finish(press, tail, report);
                    self.press = None;
                }
            }
        }
        if self.press.is_none() {
            if let Some(key) = candidate {
                let mut press = Press::new(key);
                for earlier in recent {
                    press.add(key_amplitude(key, earlier));
                }
                press.add(key_amplitude(key, power));
                confirm(&mut press, report);
                self.press = Some(press);
            }
        }
    }
}

fn confirm(press: &mut Press, report: &mut impl FnMut(DtmfEvent)) {
    if !press.started && press.hops(&[]) >= MIN_HOPS {
        press.started = true;
        press.settle();
        report(DtmfEvent::DigitStarted(press.key.digit));
    }
}

fn finish(press: &Press, tail: &[f32], report: &mut impl FnMut(DtmfEvent)) {
    let digit = press.key.digit;
    let hops = press.hops(tail);
    if !press.started {
        if hops < MIN_HOPS {
            return;
        }
        report(DtmfEvent::DigitStarted(digit));
    }
    report(DtmfEvent::DigitEnded {
        digit,
        duration_ms: (hops * HOP_MS).round() as u32,
    });
}
