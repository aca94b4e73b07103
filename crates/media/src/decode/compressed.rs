//! Compressed formats through symphonia, fed from a download in progress.
//!
//! Symphonia pulls bytes through `Read`, and a demuxer that hits the end of what has arrived
//! mid-packet is left in an unknown state. So a starved demuxer is dropped, and once more bytes
//! are in, a new one is probed over the same bytes and skips the packets already decoded (the
//! decoder, which only ever saw whole packets, is kept). Rebuilds wait for the buffer to grow by
//! an eighth, so a file costs a logarithmic number of them; between starvations the demuxer
//! runs normally.

use super::source::Buffer;
use super::{AudioFormat, DecodeError};
use crate::resample::StreamResampler;
use crate::wav::MIN_RATE;
use crate::CALL_RATE;
use std::panic::{catch_unwind, AssertUnwindSafe};
use symphonia::core::audio::{SampleBuffer, SignalSpec};
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Bytes to wait for after a starvation before trying again, at least.
const MIN_REFILL: usize = 1024;
/// Undecodable packets tolerated in a row (MP3 decoders resynchronise after damage) before
/// the file is declared corrupt.
const MAX_BAD_PACKETS: u32 = 100;

pub(crate) enum Step {
    /// Samples may have been appended; call again.
    Progress,
    /// Nothing more until more bytes arrive.
    Starved,
    End,
}

struct Demux {
    reader: Box<dyn FormatReader>,
    track: u32,
}

pub(crate) struct Compressed {
    buffer: Buffer,
    format: AudioFormat,
    demux: Option<Demux>,
    decoder: Option<Box<dyn Decoder>>,
    /// Packets (of any track) the demuxer has handed out so far.
    packets_done: u64,
    retry_at: usize,
    samples: Option<(SignalSpec, u64, SampleBuffer<f32>)>,
    resampler: Option<(u32, StreamResampler)>,
    bad_packets: u32,
    decoded_any: bool,
    opened: bool,
}

impl Compressed {
    pub(crate) fn new(buffer: Buffer, format: AudioFormat) -> Self {
        Compressed {
            buffer,
            format,
            demux: None,
            decoder: None,
            packets_done: 0,
            retry_at: 0,
            samples: None,
            resampler: None,
            bad_packets: 0,
            decoded_any: false,
            opened: false,
        }
    }

    /// Advances by at most one packet, appending mono call-rate samples (±1.0) to `out`.
    pub(crate) fn step(&mut self, out: &mut Vec<f32>) -> Result<Step, DecodeError> {
        let (len, complete) = {
            let mut shared = self.buffer.lock();
            shared.starved = false;
            (shared.bytes.len(), shared.complete)
        };
        if self.demux.is_none() {
            if !complete && len < self.retry_at {
                return Ok(Step::Starved);
            }
            match guarded(|| self.open())? {
                Ok(()) => {}
                Err(e) => return self.failed(e, len, complete),
            }
        }
        let Some(demux) = self.demux.as_mut() else {
            return Ok(Step::Starved);
        };
        let packet = match guarded(|| demux.reader.next_packet())? {
            Ok(p) => p,
            Err(e) => return self.failed(e, len, complete),
        };
        self.packets_done += 1;
        if packet.track_id() != demux.track {
            return Ok(Step::Progress);
        }
        let Some(decoder) = self.decoder.as_mut() else {
            return Err(DecodeError::Corrupt(
                "no decoder for the audio track".into(),
            ));
        };
        match guarded(|| decoder.decode(&packet).map(|_| ()))? {
            Ok(()) => {}
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                self.bad_packets += 1;
                if self.bad_packets > MAX_BAD_PACKETS {
                    return Err(DecodeError::Corrupt(format!(
                        "{} packets in a row do not decode",
                        self.bad_packets
                    )));
                }
                return Ok(Step::Progress);
            }
            Err(SymError::ResetRequired) => {
                decoder.reset();
                return Ok(Step::Progress);
            }
            Err(e) => return Err(sym_to_error(e)),
        }
        self.bad_packets = 0;
        let decoded = decoder.last_decoded();
        let spec = *decoded.spec();
        let frames = decoded.frames();
        if frames == 0 {
            return Ok(Step::Progress);
        }
        if spec.rate < MIN_RATE {
            return Err(DecodeError::SampleRate(spec.rate));
        }
        let needed = decoded.capacity() as u64;
        let buf = match &mut self.samples {
            Some((s, cap, b)) if *s == spec && *cap >= needed => b,
            slot => {
                &mut slot
                    .insert((spec, needed, SampleBuffer::new(needed, spec)))
                    .2
            }
        };
        buf.copy_interleaved_ref(decoded);
        let channels = spec.channels.count().max(1);
        let mono: Vec<f32> = buf
            .samples()
            .chunks_exact(channels)
            .map(|f| f.iter().sum::<f32>() / channels as f32)
            .collect();
        let resampler = match &mut self.resampler {
            Some((rate, r)) if *rate == spec.rate => r,
            slot => {
                // A rate change midway (legal in MP3): finish the old rate's tail first.
                if let Some((_, old)) = slot {
                    old.finish(out);
                }
                &mut slot
                    .insert((spec.rate, StreamResampler::new(spec.rate, CALL_RATE)))
                    .1
            }
        };
        resampler.push(&mono, out);
        self.decoded_any = true;
        Ok(Step::Progress)
    }

    /// The resampler's held-back tail, once the stream has ended.
    pub(crate) fn finish(&mut self, out: &mut Vec<f32>) {
        if let Some((_, r)) = &mut self.resampler {
            r.finish(out);
        }
    }

    fn open(&mut self) -> Result<(), SymError> {
        let mss = MediaSourceStream::new(
            Box::new(self.buffer.reader()),
            MediaSourceStreamOptions::default(),
        );
        let mut hint = Hint::new();
        hint.with_extension(match self.format {
            AudioFormat::Adts => "aac",
            AudioFormat::Mp4 => "m4a",
            other => other.name(),
        });
        let options = FormatOptions {
            enable_gapless: true,
            ..Default::default()
        };
        let probed = symphonia::default::get_probe().format(
            &hint,
            mss,
            &options,
            &MetadataOptions::default(),
        )?;
        let mut reader = probed.format;
        let track = reader
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or(SymError::Unsupported("no audio track"))?;
        let track_id = track.id;
        if self.decoder.is_none() {
            self.decoder = Some(
                symphonia::default::get_codecs()
                    .make(&track.codec_params, &DecoderOptions::default())?,
            );
        }
        for _ in 0..self.packets_done {
            reader.next_packet()?;
        }
        self.demux = Some(Demux {
            reader,
            track: track_id,
        });
        self.opened = true;
        Ok(())
    }

    fn failed(&mut self, e: SymError, len: usize, complete: bool) -> Result<Step, DecodeError> {
        self.demux = None;
        let starved = self.buffer.lock().starved;
        // An MP4 with its `moov` after the audio cannot be opened until the file is complete
        // (the demuxer then seeks to it); it fails on a partial file without touching its end.
        let mp4_waiting = self.format == AudioFormat::Mp4 && !self.opened;
        if (starved || mp4_waiting) && !complete {
            self.retry_at = len + MIN_REFILL.max(len / 8);
            return Ok(Step::Starved);
        }
        match e {
            // The end of the file, or a damaged or cut tail after good audio.
            SymError::IoError(_) => Ok(Step::End),
            SymError::DecodeError(_) | SymError::ResetRequired if self.decoded_any => Ok(Step::End),
            e => Err(sym_to_error(e)),
        }
    }
}

fn sym_to_error(e: SymError) -> DecodeError {
    match e {
        SymError::Unsupported(what) => DecodeError::Unsupported(what.to_string()),
        SymError::LimitError(what) => DecodeError::Corrupt(format!("limit exceeded: {what}")),
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// Symphonia is not guaranteed panic-free on hostile input; a panic is treated as a corrupt
/// file rather than taking the media thread down.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, DecodeError> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| DecodeError::Corrupt("the decoder failed on this file".into()))
}
