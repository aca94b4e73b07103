//! WAV (RIFF) decoding to mono samples at the call rate: PCM 8/16/24/32-bit, IEEE float,
//! µ-law and A-law, any rate and channel count.

use crate::{g711, resample, CALL_RATE};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
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

struct Format {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

/// Decodes a WAV file into 16-bit mono samples at 8 kHz.
pub fn decode_to_call_rate(data: &[u8]) -> Result<Vec<i16>, WavError> {
    if data.len() < 12 || &data[0..4] != b"RIFF" || &data[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut format = None;
    let mut pos = 12;
    while pos + 8 <= data.len() {
        let id = &data[pos..pos + 4];
        let size = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]])
            as usize;
        let body_start = pos + 8;
        // Streams written on the fly may carry a 0 or oversized length: take what is there.
        let body_end = body_start.saturating_add(size).min(data.len());
        let body = &data[body_start..body_end];
        match id {
            b"fmt " if body.len() >= 16 => {
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
            b"data" => {
                let format = format.ok_or(WavError::NoFormat)?;
                let data_body = if size == 0 { &data[body_start..] } else { body };
                return decode_samples(&format, data_body);
            }
            _ => {}
        }
        pos = body_start.saturating_add(size + (size & 1));
    }
    Err(WavError::NoData)
}

fn decode_samples(f: &Format, body: &[u8]) -> Result<Vec<i16>, WavError> {
    let unsupported = WavError::Unsupported {
        format: f.tag,
        bits: f.bits,
    };
    let width = match (f.tag, f.bits) {
        (1, 8) | (6, 8) | (7, 8) => 1,
        (1, 16) => 2,
        (1, 24) => 3,
        (1, 32) | (3, 32) => 4,
        _ => return Err(unsupported),
    };
    if f.rate < MIN_RATE {
        return Err(WavError::SampleRate(f.rate));
    }
    let frame = width * f.channels as usize;
    let mono: Vec<f32> = body
        .chunks_exact(frame)
        .map(|fr| {
            let sum: f32 = fr
                .chunks_exact(width)
                .map(|s| sample_to_f32(f.tag, s))
                .sum();
            sum / f.channels as f32
        })
        .collect();
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
