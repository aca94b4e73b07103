//! Media for flexvox: G.711 codecs, RTP packets, resampling, WAV decoding and the per-call
//! media session that turns queued prompts into one RTP packet per 20 ms tick.
//!
//! Everything here is sans-IO: the engine in the `flexvox` binary owns the sockets and the
//! clock, and calls `MediaSession::tick` once per frame.

pub mod decode;
pub mod detect;
pub mod dtmf;
pub mod g711;
pub mod jitter;
pub mod mixer;
pub mod record;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod wav;

/// Samples per 20 ms frame at the 8 kHz call rate.
pub const FRAME_SAMPLES: usize = 160;
/// The internal audio rate.
pub const CALL_RATE: u32 = 8000;

pub use decode::{decode, AudioFormat, DecodeError, StreamDecoder};
pub use session::{MediaEvent, MediaSession, Prompt, PromptId};
