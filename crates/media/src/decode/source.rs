//! The bytes downloaded so far, read by symphonia through `std::io::Read + Seek`. A read past
//! them, while more may come, fails with `WouldBlock` and sets `starved`: the caller then
//! throws the demuxer away and builds it again once more bytes are in (see `compressed.rs`).

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, MutexGuard};
use symphonia::core::io::MediaSource;

#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) bytes: Vec<u8>,
    pub(crate) complete: bool,
    pub(crate) starved: bool,
}

/// Symphonia wants a `Send + Sync` source; the lock is never contended (one owner drives it).
#[derive(Debug, Clone, Default)]
pub(crate) struct Buffer(Arc<Mutex<Shared>>);

impl Buffer {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic inside symphonia while reading cannot leave `Shared` half-updated.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn reader(&self) -> Reader {
        Reader {
            buffer: self.clone(),
            pos: 0,
        }
    }
}

pub(crate) struct Reader {
    buffer: Buffer,
    pos: u64,
}

fn starved() -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, "waiting for more of the file")
}

impl Read for Reader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut shared = self.buffer.lock();
        let len = shared.bytes.len() as u64;
        if self.pos >= len {
            if shared.complete || out.is_empty() {
                return Ok(0);
            }
            shared.starved = true;
            return Err(starved());
        }
        let start = self.pos as usize;
        let n = out.len().min(shared.bytes.len() - start);
        out[..n].copy_from_slice(&shared.bytes[start..start + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let mut shared = self.buffer.lock();
        let len = shared.bytes.len() as u64;
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => {
                if !shared.complete {
                    shared.starved = true;
                    return Err(starved());
                }
                len.checked_add_signed(d)
            }
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        // Seeking past what is here is fine for a file, but here the bytes may still come.
        if target > len && !shared.complete {
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
        self.buffer.lock().complete
    }

    fn byte_len(&self) -> Option<u64> {
        let shared = self.buffer.lock();
        shared.complete.then_some(shared.bytes.len() as u64)
    }
}
