//! In-band DTMF: the tone pairs themselves, for far ends that did not negotiate
//! telephone-events and listen for tones in the audio.

use super::dial::{DialError, DialSchedule, DialTick, DialTiming};
use super::{frequencies, ZERO_DBM0_PEAK};
use crate::CALL_RATE;
use std::f64::consts::TAU;

/// Per-tone send levels. Telephone sets send the high group about 2 dB above the low one
/// because lines lose more at higher frequencies; the pair, at -3.9 dBm0, stays well inside
/// G.711's range and far above every receiver's minimum.
const LOW_DBM0: f64 = -8.0;
const HIGH_DBM0: f64 = -6.0;

#[derive(Debug, Clone)]
pub struct ToneSender {
    schedule: DialSchedule,
}

impl ToneSender {
    pub fn new(digits: &str, timing: DialTiming) -> Result<Self, DialError> {
        Ok(ToneSender {
            schedule: DialSchedule::new(digits, timing)?,
        })
    }

    /// Whether every tick has been taken.
    pub fn is_done(&self) -> bool {
        self.schedule.peek().is_none()
    }

    /// Writes this tick's tone over `frame` and returns `Some(true)`; in a gap or pause the
    /// frame is left as it is (`Some(false)`); `None` once the dial string is done.
    pub fn next_frame(&mut self, frame: &mut [i16]) -> Option<bool> {
        let DialTick::Tone { code, index, .. } = self.schedule.next()? else {
            return Some(false);
        };
        let Some((low, high)) = super::digit_for_event(code).and_then(frequencies) else {
            return Some(false);
        };
        let low_amp = ZERO_DBM0_PEAK * 10f64.powf(LOW_DBM0 / 20.0);
        let high_amp = ZERO_DBM0_PEAK * 10f64.powf(HIGH_DBM0 / 20.0);
        // Counting samples from the start of the tone keeps both sines continuous across
        // frames without carrying a phase that would drift.
        let first = index as usize * frame.len();
        for (i, sample) in frame.iter_mut().enumerate() {
            let t = (first + i) as f64 / CALL_RATE as f64;
            let v =
                low_amp * (TAU * low as f64 * t).sin() + high_amp * (TAU * high as f64 * t).sin();
            *sample = v.round() as i16;
        }
        Some(true)
    }
}
