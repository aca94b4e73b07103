//! What the far end is doing, frame by frame: an energy voice-activity detector (silence,
//! noise or voice, for Pause and Record), the Pause verb's silence/noise watch, and answering
//! machine detection (the Amd verb).

mod amd;
mod energy;
mod pause;

pub use amd::{Amd, AmdOutcome, AmdParams, AmdStatus};
pub use energy::{level_dbfs, Activity, EnergyConfig, EnergyDetector, FrameAnalysis};
pub use pause::{PauseEnd, PauseWatch};

/// Milliseconds covered by `samples` at the call rate.
pub(crate) fn samples_ms(samples: usize) -> u32 {
    (samples as u64 * 1000 / crate::CALL_RATE as u64) as u32
}
