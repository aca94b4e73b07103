//! The bytes downloaded so far, read by symphonia through `std::io::Read + Seek`. A read past
//! them, while more may come, fails with `WouldBlock` and sets `starved`: the caller then
//! throws the demuxer away and builds it again once more bytes are in (see `compressed.rs`).
//!
//! Symphonia reads only what the format's pre-validator (`guard/`) has let through: bytes past
//! `Shared::visible` count as not arrived yet, and when the validator has cut the file short
//! (`ends_early`: a damaged or truncated tail) they count as past the end of the file.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, MutexGuard};
use symphonia::core::io::MediaSource;

#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) bytes: Vec<u8>,
    pub(crate) complete: bool,
    pub(crate) starved: bool,
    /// How many bytes symphonia may read; `None`: all of them.
    pub(crate) visible: Option<usize>,
    /// The file ends at `visible` as far as symphonia is concerned.
    pub(crate) ends_early: bool,
}

impl Shared {
    /// The end of what symphonia may read, and whether nothing will be added to it.
    pub(crate) fn readable(&self) -> (usize, bool) {
        let end = self
            .visible
            .map_or(self.bytes.len(), |v| v.min(self.bytes.len()));
        (end, self.complete || self.ends_early)
    }
}

/// Symphonia wants a `Send + Sync` source; the lock is never contended (one owner drives it).
#[derive(Debug, Clone, Default)]
pub(crate) struct Buffer(Arc<Mutex<Shared>>);

impl Buffer {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic inside symphonia while reading cannot leave `Shared` half-updated.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A reader over the bytes from `base` on, which it presents as a whole file.
    pub(crate) fn reader(&self, base: usize) -> Reader {
        Reader {
            buffer: self.clone(),
            base: base as u64,
            pos: 0,
        }
    }
}

pub(crate) struct Reader {
    buffer: Buffer,
    /// Where the presented file starts in the buffer.
    base: u64,
    /// Position in the presented file.
    pos: u64,
}

fn starved() -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, "waiting for more of the file")
}

impl Reader {
    /// Length of the presented file so far, and whether it is final.
    fn extent(shared: &Shared, base: u64) -> (u64, bool) {
        let (end, last) = shared.readable();
        ((end as u64).saturating_sub(base), last)
    }
}

impl Read for Reader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut shared = self.buffer.lock();
        let (len, last) = Reader::extent(&shared, self.base);
        if self.pos >= len {
            if last || out.is_empty() {
                return Ok(0);
            }
            shared.starved = true;
            return Err(starved());
        }
        let start = (self.base + self.pos) as usize;
        let n = out.len().min((len - self.pos) as usize);
        out[..n].copy_from_slice(&shared.bytes[start..start + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let mut shared = self.buffer.lock();
        let (len, last) = Reader::extent(&shared, self.base);
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => {
                if !last {
                    shared.starved = true;
                    return Err(starved());
                }
                len.checked_add_signed(d)
            }
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        // Seeking past what is here is fine for a file, but here the bytes may still come.
        if target > len && !last {
            shared.starved = true;
            return Err(starved());
        }
        self.pos = target;
        Ok(target)
    }
}

impl MediaSource for Reader {
    fn is_seekable(&self) -> bool {
        // Only once the whole file is in. Before that the MP4 demuxer, seeing an unseekable
        // source, reads a `moov`-first file front to back as it arrives, where on a seekable
        // one it would first visit every top-level atom, i.e. wait for the whole file.
        self.buffer.lock().readable().1
    }

    fn byte_len(&self) -> Option<u64> {
        let shared = self.buffer.lock();
        let (len, last) = Reader::extent(&shared, self.base);
        last.then_some(len)
    }
}
