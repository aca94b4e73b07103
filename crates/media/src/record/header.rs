//! The WAV header a recording starts with, and the two size fields rewritten as it grows.

use super::RecordFormat;

pub(super) struct Header {
    pub(super) bytes: Vec<u8>,
    /// Offset of the data chunk's size field; the RIFF size is at 4.
    pub(super) data_size_at: u64,
    /// Offset of the `fact` chunk's sample count (non-PCM encodings need one).
    pub(super) fact_at: Option<u64>,
}

pub(super) fn wav_header(format: RecordFormat, channels: u16, rate: u32) -> Header {
    let (tag, bits): (u16, u16) = match format {
        RecordFormat::UlawWav => (7, 8),
        _ => (1, 16),
    };
    let block_align = channels * bits / 8;
    let mut b = Vec::with_capacity(58);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    let pcm = tag == 1;
    b.extend_from_slice(&(if pcm { 16u32 } else { 18 }).to_le_bytes());
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * block_align as u32).to_le_bytes());
    b.extend_from_slice(&block_align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    let mut fact_at = None;
    if !pcm {
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(b"fact");
        b.extend_from_slice(&4u32.to_le_bytes());
        fact_at = Some(b.len() as u64);
        b.extend_from_slice(&0u32.to_le_bytes());
    }
    b.extend_from_slice(b"data");
    let data_size_at = b.len() as u64;
    b.extend_from_slice(&0u32.to_le_bytes());
    Header {
        bytes: b,
        data_size_at,
        fact_at,
    }
}
