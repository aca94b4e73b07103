//! Energy-based voice activity detection per 20 ms frame.
//!
//! A frame's level is its RMS in dBFS (0 dBFS = RMS of ±32768; a full-scale sine is -3 dBFS).
//! Below `silence_dbfs` it is silence. Above it, it is voice when it stands `voice_margin_db`
//! over the noise floor, and noise otherwise: steady sound (hiss, hum, music bed) that is not
//! silence but not speech either. The floor is the quietest frame of the last few seconds
//! (minimum statistics): speech always has pauses within that span, steady noise does not.
//! Voice is held for `hangover_ms` after the last voiced frame so the gaps between syllables
//! and words do not read as silence.

use super::samples_ms;
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnergyConfig {
    /// Frames quieter than this are silence (about -50 dBFS is the hiss of a quiet line).
    pub silence_dbfs: f32,
    /// How far above the noise floor a frame must be to be voice.
    pub voice_margin_db: f32,
    /// Voice is reported for this long after the last voiced frame.
    pub hangover_ms: u32,
    /// The floor is the minimum over this span.
    pub floor_window_ms: u32,
    /// Assumed floor before one block of the window has passed.
    pub initial_floor_dbfs: f32,
    /// The floor never rises above this, so that loud speech from the first frame on (which
    /// the minimum would otherwise take for the floor) still counts as voice.
    pub max_floor_dbfs: f32,
}

impl Default for EnergyConfig {
    fn default() -> Self {
        EnergyConfig {
            silence_dbfs: -50.0,
            voice_margin_db: 9.0,
            hangover_ms: 200,
            floor_window_ms: 3000,
            initial_floor_dbfs: -60.0,
            max_floor_dbfs: -40.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activity {
    Silence,
    Noise,
    Voice,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameAnalysis {
    pub level_dbfs: f32,
    pub noise_floor_dbfs: f32,
    pub activity: Activity,
}

/// Frames per floor block: the window keeps one minimum per block.
const BLOCK_FRAMES: u32 = 10;
/// Digital silence has no level; this stands in for it.
const FLOOR_DBFS: f32 = -96.0;

/// RMS level of `samples` in dBFS, -96 for digital silence or no samples.
pub fn level_dbfs(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return FLOOR_DBFS;
    }
    let sum: f64 = samples.iter().map(|s| (*s as f64) * (*s as f64)).sum();
    let ms = sum / samples.len() as f64 / (32768.0 * 32768.0);
    if ms <= 0.0 {
        return FLOOR_DBFS;
    }
    ((10.0 * ms.log10()) as f32).max(FLOOR_DBFS)
}

#[derive(Debug, Clone)]
pub struct EnergyDetector {
    config: EnergyConfig,
    blocks: VecDeque<f32>,
    block_min: f32,
    block_frames: u32,
    hangover_left_ms: u32,
    last: Activity,
    /// Current run lengths, in ms.
    silence_run: u32,
    quiet_run: u32,
    sound_run: u32,
    voice_run: u32,
}

impl Default for EnergyDetector {
    fn default() -> Self {
        Self::new(EnergyConfig::default())
    }
}

impl EnergyDetector {
    pub fn new(config: EnergyConfig) -> Self {
        EnergyDetector {
            config,
            blocks: VecDeque::new(),
            block_min: f32::MAX,
            block_frames: 0,
            hangover_left_ms: 0,
            last: Activity::Silence,
            silence_run: 0,
            quiet_run: 0,
            sound_run: 0,
            voice_run: 0,
        }
    }

    pub fn noise_floor_dbfs(&self) -> f32 {
        self.blocks
            .iter()
            .copied()
            .reduce(f32::min)
            .unwrap_or(self.config.initial_floor_dbfs)
            .min(self.config.max_floor_dbfs)
    }

    /// Classifies one frame (normally 160 samples; any length works).
    pub fn process(&mut self, frame: &[i16]) -> FrameAnalysis {
        let ms = samples_ms(frame.len());
        let level = level_dbfs(frame);
        let floor = self.noise_floor_dbfs();
        let raw = if level < self.config.silence_dbfs {
            Activity::Silence
        } else if level >= floor + self.config.voice_margin_db {
            Activity::Voice
        } else {
            Activity::Noise
        };
        let activity = if raw == Activity::Voice {
            self.hangover_left_ms = self.config.hangover_ms;
            Activity::Voice
        } else if self.hangover_left_ms > 0 {
            self.hangover_left_ms = self.hangover_left_ms.saturating_sub(ms);
            Activity::Voice
        } else {
            raw
        };
        self.update_floor(level, ms);
        self.count(activity, ms);
        FrameAnalysis {
            level_dbfs: level,
            noise_floor_dbfs: floor,
            activity,
        }
    }

    fn update_floor(&mut self, level: f32, ms: u32) {
        self.block_min = self.block_min.min(level);
        self.block_frames += 1;
        if self.block_frames >= BLOCK_FRAMES {
            self.blocks.push_back(self.block_min);
            let block_ms = (BLOCK_FRAMES * ms.max(1)).max(1);
            let keep = (self.config.floor_window_ms / block_ms).max(1) as usize;
            while self.blocks.len() > keep {
                self.blocks.pop_front();
            }
            self.block_min = f32::MAX;
            self.block_frames = 0;
        }
    }

    fn count(&mut self, activity: Activity, ms: u32) {
        self.last = activity;
        let bump = |run: &mut u32, on: bool| *run = if on { run.saturating_add(ms) } else { 0 };
        bump(&mut self.silence_run, activity == Activity::Silence);
        bump(&mut self.quiet_run, activity != Activity::Voice);
        bump(&mut self.sound_run, activity != Activity::Silence);
        bump(&mut self.voice_run, activity == Activity::Voice);
    }

    /// The last frame's decision.
    pub fn activity(&self) -> Activity {
        self.last
    }

    /// How long the audio has been silent (below `silence_dbfs`), in ms.
    pub fn silence_run_ms(&self) -> u32 {
        self.silence_run
    }

    /// How long there has been no voice (silence or steady noise): what a recording's silence
    /// timeout counts.
    pub fn quiet_run_ms(&self) -> u32 {
        self.quiet_run
    }

    /// How long there has been sound of any kind (voice or noise).
    pub fn sound_run_ms(&self) -> u32 {
        self.sound_run
    }

    pub fn voice_run_ms(&self) -> u32 {
        self.voice_run
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amplitude: f64, frames: usize) -> Vec<Vec<i16>> {
        (0..frames)
            .map(|f| {
                (0..160)
                    .map(|i| {
                        let n = (f * 160 + i) as f64;
                        (amplitude * (std::f64::consts::TAU * 440.0 * n / 8000.0).sin()) as i16
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn level_of_a_full_scale_sine_is_minus_3_dbfs() {
        let frame = &tone(32767.0, 1)[0];
        assert!((level_dbfs(frame) + 3.01).abs() < 0.05);
        assert_eq!(level_dbfs(&[0; 160]), -96.0);
    }

    #[test]
    fn silence_voice_hangover_then_steady_noise_becomes_noise() {
        let mut d = EnergyDetector::default();
        for f in tone(10.0, 20) {
            assert_eq!(d.process(&f).activity, Activity::Silence);
        }
        assert_eq!(d.silence_run_ms(), 400);
        // -20 dBFS speech-level tone.
        let loud = tone(4600.0, 300);
        assert_eq!(d.process(&loud[0]).activity, Activity::Voice);
        // 200 ms of hangover after the voice stops.
        let quiet = tone(10.0, 20);
        for f in &quiet[..10] {
            assert_eq!(d.process(f).activity, Activity::Voice);
        }
        assert_eq!(d.process(&quiet[10]).activity, Activity::Silence);
        // A steady -35 dBFS hum is voice at first, noise once the floor has caught up with it.
        let hum = tone(820.0, 300);
        assert_eq!(d.process(&hum[0]).activity, Activity::Voice);
        let last = hum[1..].iter().map(|f| d.process(f).activity).last();
        assert_eq!(last, Some(Activity::Noise));
        assert!(d.sound_run_ms() >= 6000 - 20);
        assert!(d.quiet_run_ms() > 2000);
    }
}
