//! MP3 recording with LAME (only with the `mp3-recording` feature: LAME is LGPL, so the default
//! build leaves it out; see docs/media-formats.md).
//!
//! The call audio, 8 kHz mono 16-bit, is encoded as it comes to MPEG-2.5 layer III at 8 kHz
//! mono, constant bit rate (32 kbps by default: 288-byte frames of 576 samples, 72 ms), with no
//! resampling. Bytes go to the writer as soon as LAME gives them (every 3 or 4 pushes of 20 ms),
//! so a recording cut off without [`Mp3Encoder::finish`] is a playable MP3 holding all but the
//! audio LAME still held (its look-ahead and the frame in progress, under 250 ms) and, through
//! the writer, whatever [`Mp3Config::flush_every_ms`] had not flushed yet; a frame cut in the
//! middle is dropped by decoders. MP3 has no header counting the audio, so there is nothing to
//! patch as the file grows.
//!
//! Gapless end: LAME delays the audio by 576 + 529 samples (about 140 ms at 8 kHz) and pads the
//! last frame. Only the LAME/Info tag, a frame at the very start of the file, tells players to
//! drop that delay and padding; it can only be written at the end, when the frame count is
//! known. [`Mp3Encoder::with_lame_tag`] (for a seekable writer, such as a file) reserves that
//! frame at the start and fills it in at `finish`; until then it is a silent frame, so a file
//! cut off before `finish` plays with 72 ms more silence at the start and the encoder delay
//! kept. [`Mp3Encoder::new`] (any writer) writes no tag: players then keep the delay and padding,
//! so the file plays up to ~0.2 s longer than the audio pushed (2 s of audio decode to 2.16 s).

use crate::CALL_RATE;
use mp3lame_encoder::{Bitrate, BuildError, Builder, EncodeError, Encoder, FlushGap, MonoPcm};
use std::io::{self, Seek, SeekFrom, Write};
use std::num::NonZeroU32;

/// Constant bit rates offered for 8 kHz mono MPEG-2.5 layer III.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mp3Bitrate {
    /// 16 kbps (2 KB/s). Frames are too small for the LAME tag, so the encoder delay is never
    /// removed, even with [`Mp3Encoder::with_lame_tag`].
    Kbps16,
    /// 24 kbps (3 KB/s).
    Kbps24,
    /// 32 kbps (4 KB/s, a quarter of 16-bit WAV, half of µ-law): the default.
    #[default]
    Kbps32,
    /// 48 kbps (6 KB/s).
    Kbps48,
    /// 64 kbps (8 KB/s), the MPEG-2.5 maximum LAME advises for 8 kHz.
    Kbps64,
}

impl Mp3Bitrate {
    pub fn kbps(self) -> u32 {
        match self {
            Mp3Bitrate::Kbps16 => 16,
            Mp3Bitrate::Kbps24 => 24,
            Mp3Bitrate::Kbps32 => 32,
            Mp3Bitrate::Kbps48 => 48,
            Mp3Bitrate::Kbps64 => 64,
        }
    }

    fn lame(self) -> Bitrate {
        match self {
            Mp3Bitrate::Kbps16 => Bitrate::Kbps16,
            Mp3Bitrate::Kbps24 => Bitrate::Kbps24,
            Mp3Bitrate::Kbps32 => Bitrate::Kbps32,
            Mp3Bitrate::Kbps48 => Bitrate::Kbps48,
            Mp3Bitrate::Kbps64 => Bitrate::Kbps64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp3Config {
    pub bitrate: Mp3Bitrate,
    /// LAME's `-q`, 0 (best, slowest) to 9 (worst, fastest). Default 5, LAME's usual speed/quality
    /// balance; see docs/media-formats.md for the cost per frame.
    pub quality: u8,
    /// Every this much audio the writer is flushed (as the WAV recorder does), so that a crash
    /// loses at most this much on top of what LAME holds. 0 flushes only at `finish`.
    pub flush_every_ms: u32,
}

impl Default for Mp3Config {
    fn default() -> Self {
        Mp3Config {
            bitrate: Mp3Bitrate::Kbps32,
            quality: 5,
            flush_every_ms: 1000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Mp3Error {
    #[error("writing the MP3 recording failed: {0}")]
    Io(#[from] io::Error),
    #[error("LAME could not allocate an encoder")]
    OutOfMemory,
    #[error("LAME quality must be 0 to 9, not {0}")]
    Quality(u8),
    #[error("LAME refused the {setting} setting: {source}")]
    Setting {
        setting: &'static str,
        #[source]
        source: BuildError,
    },
    #[error("LAME failed to encode: {0}")]
    Encode(#[source] EncodeError),
    #[error("LAME's tag frame ({tag} bytes) does not fit the {written} bytes written")]
    TagMismatch { tag: usize, written: u64 },
}

/// What [`Mp3Encoder::finish`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp3Summary {
    /// Audio pushed, in ms (what a player shows when the LAME tag was written).
    pub duration_ms: u64,
    /// Whole MP3 size in bytes.
    pub bytes: u64,
    /// Whether the LAME/Info tag (gapless delay and padding, frame count) was filled in.
    pub lame_tag: bool,
}

type Patch<W> = fn(&mut W, u64, &[u8]) -> io::Result<()>;

/// Writes `bytes` at `at` and returns to the end of the stream.
fn patch_at<W: Write + Seek>(out: &mut W, at: u64, bytes: &[u8]) -> io::Result<()> {
    let end = out.stream_position()?;
    out.seek(SeekFrom::Start(at))?;
    out.write_all(bytes)?;
    out.seek(SeekFrom::Start(end))?;
    Ok(())
}

/// 8 kHz mono 16-bit samples in, MP3 out; see the module documentation.
pub struct Mp3Encoder<W: Write> {
    lame: Encoder,
    out: W,
    buf: Vec<u8>,
    /// Where the file starts and how to rewrite its first frame, with [`Self::with_lame_tag`].
    tag: Option<(u64, Patch<W>)>,
    flush_every: u64,
    samples: u64,
    unflushed: u64,
    bytes: u64,
}

impl<W: Write> Mp3Encoder<W> {
    /// An encoder writing a plain MP3 stream, without the LAME tag, to any writer.
    pub fn new(out: W, config: Mp3Config) -> Result<Self, Mp3Error> {
        Self::start(out, config, None)
    }

    fn start(out: W, config: Mp3Config, tag: Option<(u64, Patch<W>)>) -> Result<Self, Mp3Error> {
        let quality = match config.quality {
            0 => mp3lame_encoder::Quality::Best,
            1 => mp3lame_encoder::Quality::SecondBest,
            2 => mp3lame_encoder::Quality::NearBest,
            3 => mp3lame_encoder::Quality::VeryNice,
            4 => mp3lame_encoder::Quality::Nice,
            5 => mp3lame_encoder::Quality::Good,
            6 => mp3lame_encoder::Quality::Decent,
            7 => mp3lame_encoder::Quality::Ok,
            8 => mp3lame_encoder::Quality::SecondWorst,
            9 => mp3lame_encoder::Quality::Worst,
            q => return Err(Mp3Error::Quality(q)),
        };
        let setting = |setting: &'static str| move |source| Mp3Error::Setting { setting, source };
        let mut b = Builder::new().ok_or(Mp3Error::OutOfMemory)?;
        b.set_num_channels(1).map_err(setting("channels"))?;
        b.set_sample_rate(CALL_RATE)
            .map_err(setting("input sample rate"))?;
        // The same rate out: LAME does not resample (MPEG-2.5 allows 8 kHz).
        b.set_output_sample_rate(NonZeroU32::new(CALL_RATE))
            .map_err(setting("output sample rate"))?;
        b.set_mode(mp3lame_encoder::Mode::Mono)
            .map_err(setting("mode"))?;
        b.set_vbr_mode(mp3lame_encoder::VbrMode::Off)
            .map_err(setting("VBR mode"))?;
        b.set_brate(config.bitrate.lame())
            .map_err(setting("bit rate"))?;
        b.set_quality(quality).map_err(setting("quality"))?;
        // With the tag on, LAME writes a placeholder frame first, filled in at `finish`.
        b.set_to_write_vbr_tag(tag.is_some())
            .map_err(setting("LAME tag"))?;
        let lame = b.build().map_err(setting("combination"))?;
        Ok(Mp3Encoder {
            lame,
            out,
            buf: Vec::new(),
            tag,
            flush_every: config.flush_every_ms as u64 * CALL_RATE as u64 / 1000,
            samples: 0,
            unflushed: 0,
            bytes: 0,
        })
    }

    /// Encodes the next samples (normally one 20 ms frame of 160) and writes out whatever
    /// frames LAME has completed.
    pub fn push(&mut self, samples: &[i16]) -> Result<(), Mp3Error> {
        // LAME takes the sample count as a C int: feed huge slices in pieces.
        for chunk in samples.chunks(1 << 20) {
            self.buf.clear();
            self.buf
                .reserve(mp3lame_encoder::max_required_buffer_size(chunk.len()));
            self.lame
                .encode_to_vec(MonoPcm(chunk), &mut self.buf)
                .map_err(Mp3Error::Encode)?;
            self.write_buf()?;
        }
        self.samples += samples.len() as u64;
        self.unflushed += samples.len() as u64;
        if self.flush_every > 0 && self.unflushed >= self.flush_every {
            self.out.flush()?;
            self.unflushed = 0;
        }
        Ok(())
    }

    /// Encodes what LAME still holds (padding the last frame), fills in the LAME tag if one was
    /// reserved, flushes the writer and returns it.
    pub fn finish(mut self) -> Result<(W, Mp3Summary), Mp3Error> {
        self.buf.clear();
        self.buf
            .reserve(mp3lame_encoder::max_required_buffer_size(0));
        self.lame
            .flush_to_vec::<FlushGap>(&mut self.buf)
            .map_err(Mp3Error::Encode)?;
        self.write_buf()?;
        let mut lame_tag = false;
        if let Some((start, patch)) = self.tag {
            self.buf.clear();
            self.buf.reserve(self.lame.lame_tag_size());
            // None: LAME wrote no tag (frames too small for it) and so no placeholder.
            if let Some(len) = self.lame.lame_tag_encode_to_vec(&mut self.buf) {
                if len.get() as u64 > self.bytes {
                    return Err(Mp3Error::TagMismatch {
                        tag: len.get(),
                        written: self.bytes,
                    });
                }
                patch(&mut self.out, start, &self.buf)?;
                lame_tag = true;
            }
        }
        self.out.flush()?;
        let summary = Mp3Summary {
            duration_ms: self.samples * 1000 / CALL_RATE as u64,
            bytes: self.bytes,
            lame_tag,
        };
        Ok((self.out, summary))
    }

    /// Audio pushed so far, in ms.
    pub fn pushed_ms(&self) -> u64 {
        self.samples * 1000 / CALL_RATE as u64
    }

    /// Bytes written to the writer so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// The writer, e.g. to look at what a recording cut off now would hold.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    fn write_buf(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.bytes += self.buf.len() as u64;
        }
        Ok(())
    }
}

impl<W: Write + Seek> Mp3Encoder<W> {
    /// An encoder that reserves the LAME/Info tag frame at the writer's current position and
    /// fills it in at [`finish`](Mp3Encoder::finish), so that players drop the encoder delay
    /// and padding and know the duration without scanning the file.
    pub fn with_lame_tag(mut out: W, config: Mp3Config) -> Result<Self, Mp3Error> {
        let start = out.stream_position()?;
        Self::start(out, config, Some((start, patch_at::<W> as Patch<W>)))
    }
}
