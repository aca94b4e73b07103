//! Packet loss concealment for G.711 in the manner of ITU-T G.711 Appendix I: a lost stretch
//! is filled by repeating the last pitch period of what was heard, attenuated after 10 ms and
//! silent from 60 ms, and the return of real audio is cross-faded so neither edge clicks.
//!
//! Departures from Appendix I, for simplicity: one pitch period is repeated throughout (not
//! one, two, then three), and the start of a loss is joined by a decaying offset from a
//! linear extrapolation instead of an overlap-add that would delay all audio by 3.75 ms.

/// 390 samples: three of the longest pitch periods plus a quarter, as in Appendix I.
const HISTORY: usize = 390;
const MIN_PITCH: usize = 40; // 200 Hz
const MAX_PITCH: usize = 120; // 66.7 Hz
/// The correlation window: the most recent 20 ms.
const WINDOW: usize = 160;
/// Full level for the first 10 ms of a loss, then a linear fade reaching silence at 60 ms.
const HOLD: usize = 80;
const SILENT_AFTER: usize = 480;

#[derive(Debug, Clone)]
pub struct Concealer {
    /// The last `HISTORY` samples, a ring whose oldest sample is at `oldest`: kept in place
    /// rather than shifted along every frame, since it is only read when a loss starts.
    history: [i16; HISTORY],
    oldest: usize,
    /// Samples concealed in the current loss; 0 while audio is arriving.
    erased: usize,
    pitch: usize,
    /// The last pitch period heard before the loss, repeated until audio returns.
    period: [i16; MAX_PITCH],
    /// Where in the pitch period the next repeated sample comes from.
    phase: usize,
    /// Offset joining the first repeated samples to where the real signal was heading.
    join: f32,
    join_len: usize,
}

impl Default for Concealer {
    fn default() -> Self {
        Concealer {
            history: [0; HISTORY],
            oldest: 0,
            erased: 0,
            pitch: MIN_PITCH,
            period: [0; MAX_PITCH],
            phase: 0,
            join: 0.0,
            join_len: 0,
        }
    }
}

impl Concealer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the last samples produced were concealment rather than received audio.
    pub fn is_concealing(&self) -> bool {
        self.erased > 0
    }

    /// Whether concealment has faded out completely.
    pub fn is_silent(&self) -> bool {
        self.erased >= SILENT_AFTER
    }

    fn remember(&mut self, samples: &[i16]) {
        let mut rest = &samples[samples.len() - samples.len().min(HISTORY)..];
        while !rest.is_empty() {
            let n = rest.len().min(HISTORY - self.oldest);
            self.history[self.oldest..self.oldest + n].copy_from_slice(&rest[..n]);
            self.oldest = (self.oldest + n) % HISTORY;
            rest = &rest[n..];
        }
    }

    /// The history in order, oldest first.
    fn history(&self) -> [i16; HISTORY] {
        let mut h = [0; HISTORY];
        let (newer, older) = self.history.split_at(self.oldest);
        h[..older.len()].copy_from_slice(older);
        h[older.len()..].copy_from_slice(newer);
        h
    }

    /// Takes received audio, cross-fading its start from the concealment when a loss ends.
    pub fn good(&mut self, samples: &mut [i16]) {
        if self.erased > 0 && !self.is_silent() {
            // Appendix I lengthens the fade with the loss: 4 ms, plus 4 ms per further 10 ms.
            let len = (32 + 32 * (self.erased / 80)).min(80).min(samples.len());
            let mut tail = [0i16; 80];
            self.synthesize(&mut tail[..len]);
            for (k, s) in samples[..len].iter_mut().enumerate() {
                let w = (k + 1) as f32 / (len + 1) as f32;
                *s = (tail[k] as f32 * (1.0 - w) + *s as f32 * w) as i16;
            }
        } else if self.is_silent() {
            // After a full fade the concealment is silence: a short fade-in avoids a step.
            let len = 32.min(samples.len());
            for (k, s) in samples[..len].iter_mut().enumerate() {
                *s = (*s as i32 * (k as i32 + 1) / (len as i32 + 1)) as i16;
            }
        }
        self.erased = 0;
        self.remember(samples);
    }

    /// Fills `out` with concealment continuing whatever came before.
    pub fn conceal(&mut self, out: &mut [i16]) {
        if self.is_silent() {
            out.fill(0);
            self.erased = self.erased.saturating_add(out.len());
            return;
        }
        if self.erased == 0 {
            self.start();
        }
        self.synthesize(out);
        self.remember(out);
    }

    fn start(&mut self) {
        let history = self.history();
        self.pitch = Self::estimate_pitch(&history);
        self.phase = 0;
        // Kept apart from the history, which fills with the attenuated output.
        self.period[..self.pitch].copy_from_slice(&history[HISTORY - self.pitch..]);
        let last = history[HISTORY - 1] as f32;
        let before = history[HISTORY - 2] as f32;
        let predicted = (2.0 * last - before).clamp(-32768.0, 32767.0);
        self.join = predicted - history[HISTORY - self.pitch] as f32;
        self.join_len = (self.pitch / 4).max(8);
    }

    /// Produces the next concealed samples and advances the loss; `remember` is the caller's.
    fn synthesize(&mut self, out: &mut [i16]) {
        for s in out.iter_mut() {
            let t = self.erased;
            let mut v = self.period[self.phase] as f32;
            self.phase = (self.phase + 1) % self.pitch;
            if t < self.join_len {
                v += self.join * (1.0 - t as f32 / self.join_len as f32);
            }
            let gain = if t < HOLD {
                1.0
            } else if t < SILENT_AFTER {
                1.0 - (t - HOLD) as f32 / (SILENT_AFTER - HOLD) as f32
            } else {
                0.0
            };
            *s = (v * gain).clamp(-32768.0, 32767.0) as i16;
            self.erased += 1;
        }
    }

    /// The lag (5-15 ms) where the last 20 ms of `h` best matches what came before, by
    /// normalised cross-correlation.
    fn estimate_pitch(h: &[i16; HISTORY]) -> usize {
        let recent = &h[HISTORY - WINDOW..];
        let mut best = MIN_PITCH;
        let mut best_score = 0.0f64;
        for lag in MIN_PITCH..=MAX_PITCH {
            let past = &h[HISTORY - WINDOW - lag..HISTORY - lag];
            let mut corr = 0i64;
            let mut energy = 0i64;
            for (a, b) in recent.iter().zip(past) {
                corr += *a as i64 * *b as i64;
                energy += *b as i64 * *b as i64;
            }
            if corr > 0 && energy > 0 {
                let score = corr as f64 / (energy as f64).sqrt();
                if score > best_score {
                    best_score = score;
                    best = lag;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_holds_the_last_samples_in_order() {
        let mut plc = Concealer::new();
        let mut all: Vec<i16> = vec![0; HISTORY];
        let mut next = 1i16;
        for len in [160, 160, 7, 0, 389, 390, 391, 1000, 1, 160, 80, 160] {
            let samples: Vec<i16> = (0..len)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            plc.remember(&samples);
            all.extend_from_slice(&samples);
            assert_eq!(plc.history()[..], all[all.len() - HISTORY..], "after {len}");
        }
    }
}
