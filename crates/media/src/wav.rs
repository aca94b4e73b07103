//! WAV (RIFF) decoding to mono samples at the call rate: PCM 8/16/24/32-bit, IEEE float,
//! µ-law and A-law, any rate and channel count.

use crate::{g711, resample, CALL_RATE};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WavError {
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("WAVE file has no fmt chunk before its data chunk")]
    NoFormat,
    #[error("WAVE file has no data chunk")]
    NoData,
    #[error("unsupported WAVE encoding: format {format}, {bits} bits")]
    Unsupported { format: u16, bits: u16 },
    #[error("unsupported WAVE sample rate {0} Hz (the lowest is {MIN_RATE} Hz)")]
    SampleRate(u32),
}

/// Below this a file is not speech, and resampling it to the call rate would multiply its
/// length (a 1 Hz header turns each sample into 8000): refused so that the output stays
/// within twice the sample count of the input.
pub const MIN_RATE: u32 = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Format {
    pub(crate) tag: u16,
    pub(crate) channels: u16,
    pub(crate) rate: u32,
    pub(crate) bits: u16,
}

/// Where the samples are: the format, the offset of the data chunk's body and its length
/// (`None` when the header gives 0, as streams written on the fly do: read to the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) format: Format,
    pub(crate) data_start: usize,
    pub(crate) data_len: Option<usize>,
}

/// Finds the fmt and data chunks. `Ok(None)` means the header is not all there yet; with
/// `complete`, the bytes are the whole file and a missing chunk is an error.
pub(crate) fn parse_layout(data: &[u8], complete: bool) -> Result<Option<Layout>, WavError> {
    if data.len() < 12 {
        return if complete || !could_be_wave(data) {
            Err(WavError::NotWave)
        } else {
            Ok(None)
        };
    }
    if &data[0..4] != b"RIFF" || &data[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut format = None;
    let mut pos = 12;
    while pos + 8 <= data.len() {
        let id = &data[pos..pos + 4];
        let size = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]])
            as usize;
        let body_start = pos + 8;
        let body_end = body_start.saturating_add(size);
        if id == b"data" {
            let format = format.ok_or(WavError::NoFormat)?;
            return Ok(Some(Layout {
                format,
                data_start: body_start,
                data_len: (size != 0).then_some(size),
            }));
        }
        if body_end > data.len() && !complete {
            return Ok(None);
        }
        // Streams written on the fly may carry an oversized length: take what is there.
        let body = &data[body_start..body_end.min(data.len())];
        if id == b"fmt " && body.len() >= 16 {
            let mut tag = u16::from_le_bytes([body[0], body[1]]);
            if tag == 0xFFFE && body.len() >= 26 {
                tag = u16::from_le_bytes([body[24], body[25]]);
            }
            format = Some(Format {
                tag,
                channels: u16::from_le_bytes([body[2], body[3]]).max(1),
                rate: u32::from_le_bytes([body[4], body[5], body[6], body[7]]),
                bits: u16::from_le_bytes([body[14], body[15]]),
            });
        }
        pos = body_start.saturating_add(size + (size & 1));
    }
    if complete {
        Err(WavError::NoData)
    } else {
        Ok(None)
    }
}

fn could_be_wave(prefix: &[u8]) -> bool {
    let riff = b"RIFF";
    let n = prefix.len().min(4);
    prefix[..n] == riff[..n] && (prefix.len() <= 8 || b"WAVE".starts_with(&prefix[8..]))
}

/// Decodes a WAV file into 16-bit mono samples at 8 kHz.
pub fn decode_to_call_rate(data: &[u8]) -> Result<Vec<i16>, WavError> {
    let layout = parse_layout(data, true)?.ok_or(WavError::NoData)?;
    let start = layout.data_start.min(data.len());
    let end = match layout.data_len {
        Some(len) => start.saturating_add(len).min(data.len()),
        None => data.len(),
    };
    decode_samples(&layout.format, &data[start..end])
}

/// Bytes per sample of one channel, once the encoding and rate are known to be supported.
pub(crate) fn sample_width(f: &Format) -> Result<usize, WavError> {
    let width = match (f.tag, f.bits) {
        (1, 8) | (6, 8) | (7, 8) => 1,
        (1, 16) => 2,
        (1, 24) => 3,
        (1, 32) | (3, 32) => 4,
        _ => {
            return Err(WavError::Unsupported {
                format: f.tag,
                bits: f.bits,
            })
        }
    };
    if f.rate < MIN_RATE {
        return Err(WavError::SampleRate(f.rate));
    }
    Ok(width)
}

/// Averages the channels of whole sample frames into mono, full scale ±1.0.
pub(crate) fn to_mono(f: &Format, width: usize, body: &[u8], out: &mut Vec<f32>) {
    let frame = width * f.channels as usize;
    out.extend(body.chunks_exact(frame).map(|fr| {
        let sum: f32 = fr
            .chunks_exact(width)
            .map(|s| sample_to_f32(f.tag, s))
            .sum();
        sum / f.channels as f32
    }));
}

fn decode_samples(f: &Format, body: &[u8]) -> Result<Vec<i16>, WavError> {
    let width = sample_width(f)?;
    let mut mono = Vec::with_capacity(body.len() / width);
    to_mono(f, width, body, &mut mono);
    if f.rate == CALL_RATE {
        return Ok(resample::to_i16(&mono));
    }
    Ok(resample::to_i16(&resample::resample(
        &mono, f.rate, CALL_RATE,
    )))
}

fn sample_to_f32(tag: u16, s: &[u8]) -> f32 {
    match (tag, s.len()) {
        (6, 1) => g711::alaw_to_linear(s[0]) as f32 / 32768.0,
        (7, 1) => g711::ulaw_to_linear(s[0]) as f32 / 32768.0,
        (_, 1) => (s[0] as f32 - 128.0) / 128.0,
        (_, 2) => i16::from_le_bytes([s[0], s[1]]) as f32 / 32768.0,
        (_, 3) => (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f32 / 8_388_608.0,
        (3, 4) => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        _ => i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f32 / 2_147_483_648.0,
    }
}

/// Writes 16-bit mono PCM as a WAV file (used for test fixtures and recordings).
pub fn encode_pcm16(samples: &[i16], rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    // Byte rate; a (nonsensical) rate over 2^31 Hz saturates instead of overflowing.
    out.extend_from_slice(&rate.saturating_mul(2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm16_at_call_rate_round_trips_exactly() {
        let samples: Vec<i16> = (0..800).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
        let wav = encode_pcm16(&samples, 8000);
        assert_eq!(decode_to_call_rate(&wav).unwrap(), samples);
    }

    #[test]
    fn resamples_other_rates_and_reports_bad_files() {
        let samples = vec![1000i16; 16000];
        let out = decode_to_call_rate(&encode_pcm16(&samples, 16000)).unwrap();
        assert_eq!(out.len(), 8000);
        assert!((out[4000] as i32 - 1000).abs() < 30);
        assert_eq!(
            decode_to_call_rate(b"RIFF\0\0\0\0WAVX"),
            Err(WavError::NotWave)
        );
        let mut ulaw8 = encode_pcm16(&[0; 4], 8000);
        ulaw8[20] = 7; // µ-law with 16 bits is not a thing
        assert!(matches!(
            decode_to_call_rate(&ulaw8),
            Err(WavError::Unsupported { .. })
        ));
    }
}
