//! Pre-validators for the two containers whose symphonia 0.5 readers size memory from counts in
//! the file before reading what the counts describe: MP4 (sample tables, `Vec::with_capacity` of
//! a 32-bit count: a 200-byte file asked for 29 GB, and a failed allocation aborts the process,
//! which `catch_unwind` cannot stop) and Ogg Vorbis (codebooks of entries × dimensions values,
//! up to terabytes; comment lengths of up to 4 GB).
//!
//! Each guard reads the bytes received so far, in order, and says how far symphonia may read
//! (`Verdict::visible`): only through structures it has checked. A structure cut by the end of
//! what has arrived waits for more bytes; one that breaks a bound ends the file there
//! (`End::Corrupt`): audio before it still plays, and a file with none is refused with the
//! reason. The bounds, per format, are in `mp4.rs` and `vorbis.rs`; see docs/media-formats.md.

mod comment;
mod mp4;
mod mp4_boxes;
mod ogg;
#[cfg(test)]
mod tests;
mod vorbis;

use super::AudioFormat;

pub(crate) use vorbis::check_decoder_headers;

/// What a failed check says: a sentence naming the structure and the bound it breaks.
type Check<T> = Result<T, String>;

/// Where symphonia has to stop reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// The file is cut inside a structure (its download is complete): what precedes it plays.
    Cut,
    /// A structure breaks a bound: nothing from it on is read.
    Corrupt(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Bytes from the start of the file that symphonia may read.
    pub(crate) visible: usize,
    /// Set when the file ends at `visible` for symphonia whatever arrives later.
    pub(crate) end: Option<End>,
}

/// The guard of one file, fed the growing buffer.
pub(crate) enum Guard {
    /// MP3, FLAC and ADTS: their readers are on by default without one.
    Off,
    Mp4(mp4::Mp4Guard),
    Ogg(ogg::OggGuard),
}

impl Guard {
    pub(crate) fn for_format(format: AudioFormat) -> Guard {
        match format {
            AudioFormat::Mp4 => Guard::Mp4(mp4::Mp4Guard::default()),
            AudioFormat::Ogg => Guard::Ogg(ogg::OggGuard::default()),
            _ => Guard::Off,
        }
    }

    /// How far symphonia may read `data`, the first bytes of the file (`complete`: all of it);
    /// `None` without a guard. Work already done on a shorter prefix is not repeated.
    pub(crate) fn check(&mut self, data: &[u8], complete: bool) -> Option<Verdict> {
        match self {
            Guard::Off => None,
            Guard::Mp4(g) => Some(g.check(data, complete)),
            Guard::Ogg(g) => Some(g.check(data, complete)),
        }
    }
}

/// Reads big-endian fields of a byte slice; every read is bounds-checked.
#[derive(Debug, Clone, Copy)]
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bytes { data, pos: 0 }
    }

    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Check<&'a [u8]> {
        if n > self.left() {
            return Err(format!("{what} runs past the end of its structure"));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Check<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Check<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Check<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}
