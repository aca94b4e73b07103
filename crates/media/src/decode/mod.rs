//! Decoding of every Play format to 8 kHz mono 16-bit samples: WAV (PCM 8/16/24/32-bit, float,
//! µ-law, A-law), headerless µ-law/A-law, MP3, FLAC, Ogg Vorbis, and AAC in MP4/M4A or ADTS.
//!
//! The format is read from the first bytes; the Content-Type or file name is only used where
//! the bytes carry no signature (headerless G.711). [`StreamDecoder`] takes the file in pieces
//! as it downloads and gives 20 ms frames as soon as they can be decoded; [`decode`] is the
//! whole-file shorthand.

mod compressed;
mod guard;
mod pcm;
mod sniff;
mod source;

pub use sniff::AudioFormat;

use crate::{resample, FRAME_SAMPLES};
use compressed::{Compressed, Step};
use pcm::Pcm;
use source::Buffer;
use std::collections::VecDeque;

/// Longest audio decoded, by default: a prompt, not an archive, and a bound on what a small
/// hostile file (FLAC compresses silence a thousandfold) can make us allocate.
pub const DEFAULT_MAX_SECONDS: u32 = 4 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is not in a recognised audio format")]
    UnknownFormat,
    #[error("unsupported audio: {0}")]
    Unsupported(String),
    #[error("corrupt audio file: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Wav(#[from] crate::wav::WavError),
    #[error("unsupported sample rate {0} Hz")]
    SampleRate(u32),
    #[error("the file holds no audio")]
    NoAudio,
    #[error("the audio is longer than {max_seconds} s")]
    TooLong { max_seconds: u32 },
}

/// What [`StreamDecoder::poll_frame`] has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// The next 20 ms; the last one of the file is padded with silence.
    Frame(Box<[i16; FRAME_SAMPLES]>),
    /// More bytes are needed (or [`StreamDecoder::finish`], if the download is over).
    NeedData,
    /// Every frame has been given.
    End,
}

enum Engine {
    /// The first bytes have not told the format yet.
    Undecided,
    Pcm(Pcm),
    Compressed(Box<Compressed>),
}

/// A file decoded while it downloads. Feed it with [`push`](Self::push) and
/// [`finish`](Self::finish); take frames with [`poll_frame`](Self::poll_frame).
///
/// Limits: WAV, headerless G.711, MP3, ADTS and FLAC give frames as soon as their header and
/// first packets are in; Ogg page by page (a page is typically 4-8 KB); MP4/M4A only with its
/// `moov` index first ("fast start"): with `moov` at the end (ffmpeg's default) nothing plays
/// until the whole file is in. Errors in a partial MP4 or a damaged stream may only be reported
/// once the download is complete. The bytes received are kept until the decoder is dropped.
pub struct StreamDecoder {
    buffer: Buffer,
    hint: Option<AudioFormat>,
    format: Option<AudioFormat>,
    engine: Engine,
    out: VecDeque<i16>,
    scratch: Vec<f32>,
    produced: u64,
    max_samples: u64,
    max_seconds: u32,
    ended: bool,
    failed: Option<DecodeError>,
}

impl StreamDecoder {
    /// `content_type` and `name` (file name or URL) are hints; see [`AudioFormat::from_hint`].
    pub fn new(content_type: Option<&str>, name: Option<&str>) -> Self {
        StreamDecoder {
            buffer: Buffer::default(),
            hint: AudioFormat::from_hint(content_type, name),
            format: None,
            engine: Engine::Undecided,
            out: VecDeque::new(),
            scratch: Vec::new(),
            produced: 0,
            max_samples: 0,
            max_seconds: 0,
            ended: false,
            failed: None,
        }
        .with_max_seconds(DEFAULT_MAX_SECONDS)
    }

    pub fn with_max_seconds(mut self, seconds: u32) -> Self {
        self.max_seconds = seconds;
        self.max_samples = seconds as u64 * crate::CALL_RATE as u64;
        self
    }

    /// The next piece of the file.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.lock().bytes.extend_from_slice(bytes);
    }

    /// The download is over: no more bytes will come.
    pub fn finish(&mut self) {
        self.buffer.lock().complete = true;
    }

    /// How many bytes have been pushed.
    pub fn received_len(&self) -> usize {
        self.buffer.lock().bytes.len()
    }

    /// Takes the bytes pushed so far out of the decoder (to cache the file it has decoded,
    /// without keeping a second copy during the download); it decodes nothing more after.
    pub fn take_received(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buffer.lock().bytes)
    }

    /// The format, once the first bytes have told it.
    pub fn format(&self) -> Option<AudioFormat> {
        self.format
    }

    /// Samples decoded so far and waiting to be taken.
    pub fn buffered_samples(&self) -> usize {
        self.out.len()
    }

    pub fn poll_frame(&mut self) -> Result<Poll, DecodeError> {
        while self.out.len() < FRAME_SAMPLES && !self.ended {
            if !self.advance()? {
                break;
            }
        }
        if self.out.len() >= FRAME_SAMPLES || (self.ended && !self.out.is_empty()) {
            let mut frame = Box::new([0i16; FRAME_SAMPLES]);
            for (slot, s) in frame
                .iter_mut()
                .zip(self.out.drain(..self.out.len().min(FRAME_SAMPLES)))
            {
                *slot = s;
            }
            return Ok(Poll::Frame(frame));
        }
        Ok(if self.ended {
            Poll::End
        } else {
            Poll::NeedData
        })
    }

    /// All samples decodable now, unpadded.
    fn drain_all(&mut self) -> Result<Vec<i16>, DecodeError> {
        while !self.ended && self.advance()? {}
        Ok(self.out.drain(..).collect())
    }

    /// One step of work; false when nothing more can be done until more bytes come.
    fn advance(&mut self) -> Result<bool, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.advance_inner();
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn advance_inner(&mut self) -> Result<bool, DecodeError> {
        self.scratch.clear();
        let mut progressed = true;
        match &mut self.engine {
            Engine::Undecided => {
                let shared = self.buffer.lock();
                let format = match sniff::sniff(&shared.bytes, shared.complete) {
                    Ok(Some(f)) => f,
                    Ok(None) => return Ok(false),
                    // No signature: only a hint can say it is headerless G.711.
                    Err(()) => match self.hint {
                        Some(f @ (AudioFormat::Ulaw | AudioFormat::Alaw | AudioFormat::G722)) => f,
                        _ if shared.bytes.is_empty() => return Err(DecodeError::NoAudio),
                        _ => return Err(DecodeError::UnknownFormat),
                    },
                };
                drop(shared);
                self.format = Some(format);
                self.engine = match format {
                    AudioFormat::Wav => Engine::Pcm(Pcm::wav()),
                    AudioFormat::Ulaw => Engine::Pcm(Pcm::ulaw()),
                    AudioFormat::Alaw => Engine::Pcm(Pcm::alaw()),
                    AudioFormat::G722 => {
                        return Err(DecodeError::Unsupported("G.722".into()));
                    }
                    f => Engine::Compressed(Box::new(Compressed::new(self.buffer.clone(), f))),
                };
            }
            Engine::Pcm(pcm) => {
                let shared = self.buffer.lock();
                self.ended = pcm.advance(&shared.bytes, shared.complete, &mut self.scratch)?;
                progressed = self.ended || !self.scratch.is_empty();
            }
            Engine::Compressed(c) => match c.step(&mut self.scratch)? {
                Step::Progress => {}
                Step::Starved => progressed = false,
                Step::End => {
                    c.finish(&mut self.scratch);
                    self.ended = true;
                }
            },
        }
        self.produced += self.scratch.len() as u64;
        if self.produced > self.max_samples {
            return Err(DecodeError::TooLong {
                max_seconds: self.max_seconds,
            });
        }
        self.out.extend(resample::to_i16(&self.scratch));
        if self.ended && self.produced == 0 {
            return Err(DecodeError::NoAudio);
        }
        Ok(progressed)
    }
}

/// Decodes a whole file. `content_type` and `name` are hints, as for [`StreamDecoder::new`].
pub fn decode(
    data: &[u8],
    content_type: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<i16>, DecodeError> {
    let mut d = StreamDecoder::new(content_type, name);
    d.push(data);
    d.finish();
    d.drain_all()
}
