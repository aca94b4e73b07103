//! The receive side's adaptive jitter buffer and packet loss concealment: packets in, one
//! 20 ms frame of PCM out per tick, in order, at a delay that follows the measured jitter.

mod buffer;
mod delay;
mod plc;

pub use buffer::{FrameKind, JitterBuffer, JitterConfig, JitterStats, PacketInfo, PushOutcome};
pub use plc::Concealer;
