//! Making a WAV file that was cut off (the process died mid-recording) whole again: its sizes
//! are set from the file's length rather than from what the header last said.
//!
//! The [`Recorder`](super::Recorder) rewrites the header's sizes every `flush_every_ms`, so a
//! cut file is already a valid WAV; but the writer may have pushed out more audio since (a
//! `BufWriter` writes whenever its buffer fills), and a kill between the two size fields can
//! leave them disagreeing. Repairing keeps every whole sample frame in the file.

/// What [`repair_wav`] kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairedWav {
    pub channels: u16,
    pub rate: u32,
    /// Sample frames (samples per channel) in the data chunk.
    pub frames: u64,
    /// Where the data chunk's bytes start.
    pub data_at: usize,
}

impl RepairedWav {
    pub fn duration_ms(&self) -> u64 {
        match self.rate {
            0 => 0,
            rate => self.frames * 1000 / u64::from(rate),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepairError {
    #[error("not a WAV file (no RIFF/WAVE header)")]
    NotWav,
    #[error("the file ends inside its header: there is no data chunk")]
    NoData,
    #[error("the fmt chunk is missing or damaged")]
    BadFormat,
}

/// Sets the RIFF, `fact` and `data` sizes of a cut WAV file from its length, dropping a
/// trailing partial sample frame. The data chunk must be the last chunk (as the recorder
/// writes it): whatever follows its header is taken as audio, whatever its size field says.
pub fn repair_wav(file: &mut Vec<u8>) -> Result<RepairedWav, RepairError> {
    if file.len() < 12 || &file[0..4] != b"RIFF" || &file[8..12] != b"WAVE" {
        return Err(RepairError::NotWav);
    }
    let u16_at = |f: &[u8], i: usize| u16::from_le_bytes([f[i], f[i + 1]]);
    let u32_at = |f: &[u8], i: usize| u32::from_le_bytes([f[i], f[i + 1], f[i + 2], f[i + 3]]);
    let mut pos = 12;
    let mut format: Option<(u16, u32, u16)> = None;
    let mut fact_at = None;
    loop {
        if pos + 8 > file.len() {
            return Err(RepairError::NoData);
        }
        let id: [u8; 4] = [file[pos], file[pos + 1], file[pos + 2], file[pos + 3]];
        if &id == b"data" {
            break;
        }
        let size = u32_at(file, pos + 4) as usize;
        let body = pos + 8;
        let end = body.saturating_add(size).saturating_add(size & 1);
        if end > file.len() {
            return Err(RepairError::NoData);
        }
        match &id {
            b"fmt " if size >= 16 => {
                format = Some((
                    u16_at(file, body + 2),
                    u32_at(file, body + 4),
                    u16_at(file, body + 12),
                ));
            }
            b"fact" if size >= 4 => fact_at = Some(body),
            _ => {}
        }
        pos = end;
    }
    let (channels, rate, block_align) = format.ok_or(RepairError::BadFormat)?;
    if channels == 0 || block_align == 0 {
        return Err(RepairError::BadFormat);
    }
    let data_at = pos + 8;
    // The WAV sizes are 32-bit: a longer file keeps what they can count.
    let room = (u32::MAX as usize).saturating_sub(data_at);
    let available = (file.len() - data_at).min(room);
    let data = available - available % usize::from(block_align);
    file.truncate(data_at + data);
    let frames = (data / usize::from(block_align)) as u64;
    let riff = (file.len() - 8) as u32;
    file[4..8].copy_from_slice(&riff.to_le_bytes());
    file[pos + 4..pos + 8].copy_from_slice(&(data as u32).to_le_bytes());
    if let Some(at) = fact_at {
        file[at..at + 4].copy_from_slice(&(frames as u32).to_le_bytes());
    }
    Ok(RepairedWav {
        channels,
        rate,
        frames,
        data_at,
    })
}
