//! Call recording to WAV (16-bit PCM or µ-law) or headerless µ-law (`.ul`), one leg, both legs
//! mixed to mono, or both legs as two channels (left the caller, right the called party).
//!
//! Crash safety: the file is written through any `Write + Seek` as audio comes in, and every
//! `flush_every_ms` of audio the WAV header's sizes are rewritten to cover what is written and
//! the writer is flushed. Samples go out before the header that counts them, so at any moment
//! the file is a valid WAV holding all but at most the last flush interval; a headerless `.ul`
//! file is valid at every byte. (Surviving a power cut as well needs an fsync, which is the
//! engine's to do: this module has no files.)
//!
//! Trimming (`trim="trim-silence"`): until the first voiced frame (per the energy detector on
//! the recorded mix) nothing is written but the last `lead_pad_ms`, kept so a soft onset is not
//! cut; after voice, non-voiced frames are held back and written only when voice follows, so
//! at `finish` the trailing silence is dropped. The detector's hangover keeps the tail of the
//! last word. Held-back audio is capped at `max_held_ms`: a longer silence is written out.
//!
//! End conditions (maxLength, timeout, finishOnKey) are the caller's: it reads
//! [`Recorder::received_ms`] and [`Recorder::quiet_run_ms`].
//!
//! After a crash, [`repair_wav`] sets a cut file's sizes from its length (keeping audio the
//! writer pushed out after the last header rewrite).

mod header;
#[cfg(feature = "mp3-recording")]
pub mod mp3;
mod repair;

pub use repair::{repair_wav, RepairError, RepairedWav};

use crate::detect::{Activity, EnergyConfig, EnergyDetector};
use crate::{g711, CALL_RATE};
use std::collections::VecDeque;
use std::io::{self, Seek, SeekFrom, Write};

/// The Record verb's `fileFormat`: `wav` is 16-bit PCM, `ul` headerless µ-law; µ-law in a WAV
/// container is offered for players that need a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    Wav,
    UlawWav,
    Ulaw,
}

/// Which audio goes in. Record's `direction`: `in` is [`Caller`](Self::Caller), `out`
/// [`Called`](Self::Called), `any` [`Mixed`](Self::Mixed) or [`Stereo`](Self::Stereo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    Caller,
    Called,
    Mixed,
    Stereo,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecorderConfig {
    pub format: RecordFormat,
    pub channels: Channels,
    pub trim: bool,
    pub flush_every_ms: u32,
    pub lead_pad_ms: u32,
    pub max_held_ms: u32,
    pub detector: EnergyConfig,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            format: RecordFormat::Wav,
            channels: Channels::Mixed,
            trim: true,
            flush_every_ms: 1000,
            lead_pad_ms: 100,
            max_held_ms: 30_000,
            detector: EnergyConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("writing the recording failed: {0}")]
    Io(#[from] io::Error),
    #[error("a headerless µ-law file cannot hold two channels")]
    StereoWithoutHeader,
    #[error("the recording is over 4 GiB, the WAV limit")]
    TooLarge,
}

/// What [`Recorder::finish`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingSummary {
    /// Audio in the file.
    pub duration_ms: u64,
    /// Audio received, trimmed or not.
    pub received_ms: u64,
    /// Whole file size.
    pub bytes: u64,
    /// Whether any voice was heard; with trimming on, false means the file holds no audio
    /// (the Record verb then skips its action).
    pub voice_heard: bool,
}

pub struct Recorder<W: Write + Seek> {
    out: W,
    config: RecordingLayout,
    detector: EnergyDetector,
    /// Frames (already interleaved or mixed) not yet written, with their activity.
    held: VecDeque<Vec<i16>>,
    held_samples: usize,
    voice_heard: bool,
    /// Samples per channel in the file.
    written: u64,
    received: u64,
    unflushed: u64,
    header_len: u64,
    data_size_at: Option<u64>,
    fact_at: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct RecordingLayout {
    c: RecorderConfig,
    channels: u16,
    bytes_per_sample: u64,
}

impl<W: Write + Seek> Recorder<W> {
    /// Starts the file (writing the WAV header) at the writer's current position, which must
    /// be its start.
    pub fn new(mut out: W, config: RecorderConfig) -> Result<Self, RecordError> {
        let channels: u16 = if config.channels == Channels::Stereo {
            2
        } else {
            1
        };
        if channels == 2 && config.format == RecordFormat::Ulaw {
            return Err(RecordError::StereoWithoutHeader);
        }
        let (mut header_len, mut data_size_at, mut fact_at) = (0, None, None);
        if config.format != RecordFormat::Ulaw {
            let h = header::wav_header(config.format, channels, CALL_RATE);
            out.write_all(&h.bytes)?;
            out.flush()?;
            header_len = h.bytes.len() as u64;
            data_size_at = Some(h.data_size_at);
            fact_at = h.fact_at;
        }
        Ok(Recorder {
            out,
            config: RecordingLayout {
                c: config,
                channels,
                bytes_per_sample: if config.format == RecordFormat::Wav {
                    2
                } else {
                    1
                },
            },
            detector: EnergyDetector::new(config.detector),
            held: VecDeque::new(),
            held_samples: 0,
            voice_heard: false,
            written: 0,
            received: 0,
            unflushed: 0,
            header_len,
            data_size_at,
            fact_at,
        })
    }

    /// One frame from each leg (normally 20 ms). A missing or short leg is padded with silence
    /// to the longer one; a leg not recorded may be passed empty.
    pub fn push(&mut self, caller: &[i16], called: &[i16]) -> Result<(), RecordError> {
        let (frame, mono) = self.layout(caller, called);
        let per_channel = mono.len();
        self.received += per_channel as u64;
        let activity = self.detector.process(&mono).activity;
        if !self.config.c.trim {
            return self.write(&frame);
        }
        if activity == Activity::Voice {
            if !self.voice_heard {
                self.voice_heard = true;
                self.drop_held_beyond(self.config.c.lead_pad_ms);
            }
            self.write_held()?;
            return self.write(&frame);
        }
        self.held_samples += per_channel;
        self.held.push_back(frame);
        if !self.voice_heard {
            self.drop_held_beyond(self.config.c.lead_pad_ms);
        } else {
            while self.held_samples as u64 * 1000 > self.config.c.max_held_ms as u64 * 8000 {
                let Some(old) = self.held.pop_front() else {
                    break;
                };
                self.held_samples -= old.len() / self.config.channels as usize;
                self.write(&old)?;
            }
        }
        Ok(())
    }

    /// Audio received so far (what maxLength counts), in ms.
    pub fn received_ms(&self) -> u64 {
        self.received * 1000 / CALL_RATE as u64
    }

    /// Audio in the file so far, in ms (held-back silence not included).
    pub fn written_ms(&self) -> u64 {
        self.written * 1000 / CALL_RATE as u64
    }

    /// How long the recorded audio has had no voice (what Record's timeout counts), in ms.
    pub fn quiet_run_ms(&self) -> u32 {
        self.detector.quiet_run_ms()
    }

    /// The writer, as it stands (tests look at the bytes mid-recording this way).
    pub fn output(&self) -> &W {
        &self.out
    }

    pub fn voice_heard(&self) -> bool {
        self.voice_heard
    }

    /// Ends the file: held-back trailing silence is dropped (when trimming), the header is
    /// made final and the writer flushed and handed back.
    pub fn finish(mut self) -> Result<(W, RecordingSummary), RecordError> {
        if !self.config.c.trim {
            self.write_held()?;
        }
        self.patch_header()?;
        let bytes = self.header_len + self.data_bytes();
        let summary = RecordingSummary {
            duration_ms: self.written_ms(),
            received_ms: self.received_ms(),
            bytes,
            voice_heard: self.voice_heard,
        };
        Ok((self.out, summary))
    }

    fn layout(&self, caller: &[i16], called: &[i16]) -> (Vec<i16>, Vec<i16>) {
        let len = caller.len().max(called.len());
        let at = |leg: &[i16], i: usize| leg.get(i).copied().unwrap_or(0);
        let mixed = || {
            (0..len)
                .map(|i| at(caller, i).saturating_add(at(called, i)))
                .collect()
        };
        match self.config.c.channels {
            Channels::Caller => (caller.to_vec(), caller.to_vec()),
            Channels::Called => (called.to_vec(), called.to_vec()),
            Channels::Mixed => {
                let m: Vec<i16> = mixed();
                (m.clone(), m)
            }
            Channels::Stereo => {
                let frame = (0..len)
                    .flat_map(|i| [at(caller, i), at(called, i)])
                    .collect();
                (frame, mixed())
            }
        }
    }

    fn drop_held_beyond(&mut self, ms: u32) {
        let keep = ms as usize * CALL_RATE as usize / 1000;
        while self.held_samples > keep {
            let Some(old) = self.held.pop_front() else {
                break;
            };
            self.held_samples -= old.len() / self.config.channels as usize;
        }
    }

    fn write_held(&mut self) -> Result<(), RecordError> {
        while let Some(frame) = self.held.pop_front() {
            self.write(&frame)?;
        }
        self.held_samples = 0;
        Ok(())
    }

    fn data_bytes(&self) -> u64 {
        self.written * self.config.channels as u64 * self.config.bytes_per_sample
    }

    fn write(&mut self, frame: &[i16]) -> Result<(), RecordError> {
        let per_channel = (frame.len() / self.config.channels as usize) as u64;
        let added = per_channel * self.config.channels as u64 * self.config.bytes_per_sample;
        if self.header_len + self.data_bytes() + added > u32::MAX as u64 - 8 {
            return Err(RecordError::TooLarge);
        }
        let bytes: Vec<u8> = match self.config.c.format {
            RecordFormat::Wav => frame.iter().flat_map(|s| s.to_le_bytes()).collect(),
            _ => frame.iter().map(|s| g711::linear_to_ulaw(*s)).collect(),
        };
        self.out.write_all(&bytes)?;
        self.written += per_channel;
        self.unflushed += per_channel;
        if self.unflushed * 1000 >= self.config.c.flush_every_ms as u64 * CALL_RATE as u64 {
            self.patch_header()?;
        }
        Ok(())
    }

    /// Rewrites the sizes to cover everything written, then flushes.
    fn patch_header(&mut self) -> Result<(), RecordError> {
        self.unflushed = 0;
        if let Some(at) = self.data_size_at {
            // Data first (the header must never count bytes not yet handed to the writer).
            self.out.flush()?;
            let data = self.data_bytes() as u32;
            let end = self.out.stream_position()?;
            self.out.seek(SeekFrom::Start(4))?;
            self.out
                .write_all(&(self.header_len as u32 - 8 + data).to_le_bytes())?;
            if let Some(fact) = self.fact_at {
                self.out.seek(SeekFrom::Start(fact))?;
                self.out.write_all(&(self.written as u32).to_le_bytes())?;
            }
            self.out.seek(SeekFrom::Start(at))?;
            self.out.write_all(&data.to_le_bytes())?;
            self.out.seek(SeekFrom::Start(end))?;
        }
        self.out.flush()?;
        Ok(())
    }
}
