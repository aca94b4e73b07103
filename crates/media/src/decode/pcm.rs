//! WAV and headerless G.711, decoded as the bytes arrive: whole sample frames are converted
//! as soon as they are in, so only the header has to be waited for.

use super::DecodeError;
use crate::resample::StreamResampler;
use crate::wav::{self, Format, Layout};
use crate::{g711, CALL_RATE};

pub(crate) struct Pcm {
    kind: Kind,
    /// Bytes of `data` already converted (absolute offset).
    pos: usize,
    resampler: Option<StreamResampler>,
    mono: Vec<f32>,
}

enum Kind {
    Wav(Option<(Layout, usize)>),
    Ulaw,
    Alaw,
}

impl Pcm {
    pub(crate) fn wav() -> Self {
        Self::with(Kind::Wav(None))
    }

    pub(crate) fn ulaw() -> Self {
        Self::with(Kind::Ulaw)
    }

    pub(crate) fn alaw() -> Self {
        Self::with(Kind::Alaw)
    }

    fn with(kind: Kind) -> Self {
        Pcm {
            kind,
            pos: 0,
            resampler: None,
            mono: Vec::new(),
        }
    }

    /// Converts what has arrived of `data` (all bytes so far); returns true once the audio is
    /// known to be over.
    pub(crate) fn advance(
        &mut self,
        data: &[u8],
        complete: bool,
        out: &mut Vec<f32>,
    ) -> Result<bool, DecodeError> {
        match &mut self.kind {
            Kind::Ulaw | Kind::Alaw => {
                let law = matches!(self.kind, Kind::Ulaw);
                out.extend(data[self.pos..].iter().map(|&b| {
                    let s = if law {
                        g711::ulaw_to_linear(b)
                    } else {
                        g711::alaw_to_linear(b)
                    };
                    s as f32 / 32768.0
                }));
                self.pos = data.len();
                Ok(complete)
            }
            Kind::Wav(layout) => {
                let (layout, width) = match layout {
                    Some(l) => *l,
                    None => {
                        let Some(found) = wav::parse_layout(data, complete)? else {
                            return Ok(false);
                        };
                        let width = wav::sample_width(&found.format)?;
                        self.pos = found.data_start;
                        self.resampler = Some(StreamResampler::new(found.format.rate, CALL_RATE));
                        *layout.insert((found, width))
                    }
                };
                let end = match layout.data_len {
                    Some(len) => layout.data_start.saturating_add(len).min(data.len()),
                    None => data.len(),
                };
                // Chunks after the data (LIST, id3) are not audio: stop at the data's end.
                let done = complete
                    || layout
                        .data_len
                        .is_some_and(|len| data.len() >= layout.data_start.saturating_add(len));
                let frame = width * layout.format.channels as usize;
                let whole = self.pos + (end.saturating_sub(self.pos)) / frame * frame;
                if whole > self.pos {
                    self.convert(&layout.format, width, &data[self.pos..whole], out);
                    self.pos = whole;
                }
                if done {
                    if let Some(r) = &mut self.resampler {
                        r.finish(out);
                    }
                }
                Ok(done)
            }
        }
    }

    fn convert(&mut self, format: &Format, width: usize, body: &[u8], out: &mut Vec<f32>) {
        self.mono.clear();
        wav::to_mono(format, width, body, &mut self.mono);
        if let Some(r) = &mut self.resampler {
            r.push(&self.mono, out);
        }
    }
}
