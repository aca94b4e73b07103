//! The Pause verb's early end: `silence="true" minSilence=…` and `noise="true" minNoise=…`.
//!
//! The reference's example (noise 2000 ms, silence 2500 ms, length 15 s; the caller talks from
//! 5 s to 9 s and the pause ends at 11.5 s) shows that with both on, the pause first waits for
//! sound and then for the silence after it. With noise alone it ends after `minNoise` of
//! continuous sound (voice or noise); with silence alone after `minSilence` of continuous
//! silence from the start. The `length` limit is the interpreter's timer, not this.

use super::{Activity, EnergyDetector};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseEnd {
    /// `minNoise` of sound was heard (noise detection alone).
    Noise,
    /// `minSilence` of silence (after the sound, when noise detection is on too).
    Silence,
}

#[derive(Debug, Clone)]
pub struct PauseWatch {
    detector: EnergyDetector,
    min_noise_ms: Option<u32>,
    min_silence_ms: Option<u32>,
    heard_sound: bool,
    done: Option<PauseEnd>,
}

impl PauseWatch {
    /// `None` turns a detection off (the verb's `noise`/`silence` attribute false).
    pub fn new(min_noise_ms: Option<u32>, min_silence_ms: Option<u32>) -> Self {
        Self::with_detector(EnergyDetector::default(), min_noise_ms, min_silence_ms)
    }

    pub fn with_detector(
        detector: EnergyDetector,
        min_noise_ms: Option<u32>,
        min_silence_ms: Option<u32>,
    ) -> Self {
        PauseWatch {
            detector,
            min_noise_ms,
            min_silence_ms,
            heard_sound: false,
            done: None,
        }
    }

    /// Feeds one received frame; `Some` once the pause should end (and from then on).
    pub fn frame(&mut self, samples: &[i16]) -> Option<PauseEnd> {
        if self.done.is_some() {
            return self.done;
        }
        self.detector.process(samples);
        let sound = self.detector.sound_run_ms();
        // Steady noise is "audio received" for noise detection, and not the caller having
        // gone quiet for silence detection, so silence here means below the silence level.
        let silence = self.detector.silence_run_ms();
        self.done = match (self.min_noise_ms, self.min_silence_ms) {
            (Some(n), None) if sound >= n => Some(PauseEnd::Noise),
            (None, Some(s)) if silence >= s => Some(PauseEnd::Silence),
            (Some(n), Some(s)) => {
                self.heard_sound |= sound >= n;
                (self.heard_sound && silence >= s).then_some(PauseEnd::Silence)
            }
            _ => None,
        };
        self.done
    }

    pub fn activity(&self) -> Activity {
        self.detector.activity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(watch: &mut PauseWatch, loud: bool, ms: u32) -> Option<(u32, PauseEnd)> {
        let frame: Vec<i16> = (0..160)
            .map(|i| {
                if loud {
                    if i & 1 == 0 {
                        3000
                    } else {
                        -3000
                    }
                } else {
                    0
                }
            })
            .collect();
        (0..ms / 20).find_map(|i| watch.frame(&frame).map(|e| ((i + 1) * 20, e)))
    }

    #[test]
    fn the_reference_example_ends_after_the_silence_that_follows_speech() {
        let mut w = PauseWatch::new(Some(2000), Some(2500));
        assert_eq!(run(&mut w, false, 5000), None);
        assert_eq!(run(&mut w, true, 4000), None);
        // Hangover (200 ms) then 2.5 s of silence.
        assert_eq!(run(&mut w, false, 6000), Some((2700, PauseEnd::Silence)));
    }

    #[test]
    fn single_detections() {
        let mut w = PauseWatch::new(Some(1000), None);
        assert_eq!(run(&mut w, false, 3000), None);
        assert_eq!(run(&mut w, true, 3000), Some((1000, PauseEnd::Noise)));
        let mut w = PauseWatch::new(None, Some(1000));
        assert_eq!(run(&mut w, false, 3000), Some((1000, PauseEnd::Silence)));
    }
}
