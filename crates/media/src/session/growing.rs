//! Audio that is still arriving: a download being decoded while the call already plays it.
//! The decoding task appends; the media thread reads what is there. A reader that catches up
//! with the writer hears silence until more comes, rather than the prompt ending early.

use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
pub struct GrowingAudio {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    samples: Vec<i16>,
    complete: bool,
}

/// What one read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Read {
    pub copied: usize,
    /// The full length, once nothing more will be appended.
    pub complete_len: Option<usize>,
}

impl GrowingAudio {
    pub fn new() -> Arc<GrowingAudio> {
        Arc::new(GrowingAudio::default())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A writer that panicked left whole samples behind: still worth playing.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn append(&self, samples: &[i16]) {
        let mut inner = self.lock();
        if !inner.complete {
            inner.samples.extend_from_slice(samples);
        }
    }

    /// Nothing more will come (the download ended, or failed part way).
    pub fn finish(&self) {
        self.lock().complete = true;
    }

    pub fn available(&self) -> usize {
        self.lock().samples.len()
    }

    pub fn is_complete(&self) -> bool {
        self.lock().complete
    }

    /// The whole audio, once complete.
    pub fn whole(&self) -> Option<Arc<[i16]>> {
        let inner = self.lock();
        inner.complete.then(|| Arc::from(inner.samples.as_slice()))
    }

    pub(crate) fn read(&self, pos: usize, out: &mut [i16]) -> Read {
        let inner = self.lock();
        let have = inner.samples.len();
        let copied = out.len().min(have.saturating_sub(pos));
        if copied > 0 {
            out[..copied].copy_from_slice(&inner.samples[pos..pos + copied]);
        }
        Read {
            copied,
            complete_len: inner.complete.then_some(have),
        }
    }

    /// The length as far as a seek may go: all of it once complete, else what has arrived.
    pub(crate) fn seekable_len(&self) -> (usize, bool) {
        let inner = self.lock();
        (inner.samples.len(), inner.complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_has_arrived_and_knows_the_length_only_at_the_end() {
        let audio = GrowingAudio::new();
        audio.append(&[1, 2, 3]);
        let mut out = [0i16; 5];
        let read = audio.read(1, &mut out);
        assert_eq!((read.copied, read.complete_len), (2, None));
        assert_eq!(&out[..2], &[2, 3]);
        assert_eq!(audio.read(7, &mut out).copied, 0, "past what arrived");
        audio.finish();
        audio.append(&[9]);
        assert_eq!(audio.read(0, &mut out).complete_len, Some(3));
        assert_eq!(audio.whole().as_deref(), Some(&[1i16, 2, 3][..]));
    }
}
