//! Compressed formats through symphonia, fed from a download in progress.
//!
//! Symphonia pulls bytes through `Read`, and a demuxer that hits the end of what has arrived
//! mid-packet is left in an unknown state. So a starved demuxer is dropped, and once more bytes
//! are in, a new one is probed over the same bytes and skips the packets already decoded (the
//! decoder, which only ever saw whole packets, is kept). Rebuilds wait for the buffer to grow by
//! an eighth, so a file costs a logarithmic number of them; between starvations the demuxer
//! runs normally.
//!
//! MP4 and Ogg pass through a pre-validator (`guard/`) first: symphonia reads only the part of
//! the buffer it has checked. Each format gets a probe of its own readers only, so that a marker
//! met later in the bytes (an `ftyp` after an ID3 tag, say) cannot hand them to an unguarded
//! reader; for the same reason ID3v2 tags before MP3 are skipped here rather than by symphonia.

use super::guard::{self, End, Guard};
use super::source::{Buffer, Shared};
use super::{AudioFormat, DecodeError};
use crate::resample::StreamResampler;
use crate::wav::MIN_RATE;
use crate::CALL_RATE;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use symphonia::core::audio::{SampleBuffer, SignalSpec};
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL, CODEC_TYPE_VORBIS};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::{Hint, Probe};
use symphonia::default::formats::{AdtsReader, FlacReader, IsoMp4Reader, MpaReader, OggReader};

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
    guarding: Guarding,
}

/// The format's pre-validator and what it has said.
struct Guarding {
    guard: Guard,
    /// Buffer length and completeness it last saw.
    seen: (usize, bool),
    /// Why it cut the file short, if it did: the error when no audio came before.
    refused: Option<String>,
}

impl Guarding {
    /// Lets the guard see what has arrived since it last looked, and tells the buffer how far
    /// symphonia may read.
    fn update(&mut self, shared: &mut Shared, format: AudioFormat) {
        let seen = (shared.bytes.len(), shared.complete);
        if seen == self.seen {
            return;
        }
        self.seen = seen;
        let Some(verdict) = self.guard.check(&shared.bytes, shared.complete) else {
            return;
        };
        shared.visible = Some(verdict.visible);
        shared.ends_early = verdict.end.is_some();
        if let Some(End::Corrupt(why)) = verdict.end {
            self.refused
                .get_or_insert(format!("{}: {why}", format.name()));
        }
    }
}

/// Why a demuxer could not be opened.
enum OpenError {
    Sym(SymError),
    /// Refused by a check of ours.
    Refused(DecodeError),
}

impl From<SymError> for OpenError {
    fn from(e: SymError) -> Self {
        OpenError::Sym(e)
    }
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
            guarding: Guarding {
                guard: Guard::for_format(format),
                seen: (usize::MAX, false),
                refused: None,
            },
        }
    }

    /// The file has ended; with no audio decoded, the guard's reason is the error, if it gave one.
    fn end_of_file(&self) -> Result<Step, DecodeError> {
        match &self.guarding.refused {
            Some(why) if !self.decoded_any => Err(DecodeError::Corrupt(why.clone())),
            _ => Ok(Step::End),
        }
    }

    /// Advances by at most one packet, appending mono call-rate samples (±1.0) to `out`.
    pub(crate) fn step(&mut self, out: &mut Vec<f32>) -> Result<Step, DecodeError> {
        let (len, complete) = {
            let mut shared = self.buffer.lock();
            shared.starved = false;
            self.guarding.update(&mut shared, self.format);
            (shared.bytes.len(), shared.readable().1)
        };
        if self.demux.is_none() {
            if !complete && len < self.retry_at {
                return Ok(Step::Starved);
            }
            match guarded(|| self.open())? {
                Ok(()) => {}
                Err(OpenError::Sym(e)) => return self.failed(e, len, complete),
                Err(OpenError::Refused(e)) => return Err(e),
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

    fn open(&mut self) -> Result<(), OpenError> {
        let base = match self.format {
            AudioFormat::Mp3 => {
                let mut shared = self.buffer.lock();
                match after_id3v2(&shared.bytes) {
                    Some(at) => at,
                    None if shared.complete => shared.bytes.len(),
                    None => {
                        shared.starved = true;
                        let waiting = std::io::ErrorKind::WouldBlock.into();
                        return Err(OpenError::Sym(SymError::IoError(waiting)));
                    }
                }
            }
            _ => 0,
        };
        let mss = MediaSourceStream::new(
            Box::new(self.buffer.reader(base)),
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
        let probed =
            probe_for(self.format).format(&hint, mss, &options, &MetadataOptions::default())?;
        let mut reader = probed.format;
        let track = reader
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or(SymError::Unsupported("no audio track"))?;
        let track_id = track.id;
        if self.decoder.is_none() {
            // The decoder builds every codebook of the setup header it is given.
            if track.codec_params.codec == CODEC_TYPE_VORBIS {
                let headers = track.codec_params.extra_data.as_deref().unwrap_or_default();
                guard::check_decoder_headers(headers).map_err(|why| {
                    OpenError::Refused(DecodeError::Corrupt(format!("ogg: Vorbis {why}")))
                })?;
            }
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
            SymError::IoError(_) => self.end_of_file(),
            SymError::DecodeError(_) | SymError::ResetRequired if self.decoded_any => Ok(Step::End),
            e => match self.end_of_file() {
                Err(refused) => Err(refused),
                Ok(_) => Err(sym_to_error(e)),
            },
        }
    }
}

/// A probe for one sniffed format. MP4 and Ogg get only their own reader, which reads behind
/// its guard; the others get only the readers that need none (a marker of a guarded format
/// further on in the bytes must not reach its reader unchecked).
fn probe_for(format: AudioFormat) -> &'static Probe {
    static MP4: OnceLock<Probe> = OnceLock::new();
    static OGG: OnceLock<Probe> = OnceLock::new();
    static UNGUARDED: OnceLock<Probe> = OnceLock::new();
    match format {
        AudioFormat::Mp4 => MP4.get_or_init(|| {
            let mut probe = Probe::default();
            probe.register_all::<IsoMp4Reader>();
            probe
        }),
        AudioFormat::Ogg => OGG.get_or_init(|| {
            let mut probe = Probe::default();
            probe.register_all::<OggReader>();
            probe
        }),
        _ => UNGUARDED.get_or_init(|| {
            let mut probe = Probe::default();
            probe.register_all::<MpaReader>();
            probe.register_all::<AdtsReader>();
            probe.register_all::<FlacReader>();
            probe
        }),
    }
}

/// Where the audio starts after any ID3v2 tags (a 10-byte header whose last four bytes are a
/// 28-bit "syncsafe" size of what follows); `None` while a tag header is cut by the end of what
/// has arrived. Symphonia's probe would skip them with its ID3v2 reader, which is left out of
/// our probes (it is registered only together with every format).
fn after_id3v2(data: &[u8]) -> Option<usize> {
    let mut at = 0usize;
    while data.get(at..).is_some_and(|rest| rest.starts_with(b"ID3")) {
        let header = data.get(at..at + 10)?;
        let size = header[6..10]
            .iter()
            .fold(0usize, |size, &b| size << 7 | usize::from(b & 0x7f));
        at += 10 + size;
    }
    Some(at)
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
