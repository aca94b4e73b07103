//! A disk cache in front of any `Tts`: one raw 16-bit little-endian file per (voice, text).

use crate::{Tts, TtsError, Voice};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub struct CachedTts<T> {
    inner: T,
    dir: PathBuf,
}

impl<T: Tts> CachedTts<T> {
    pub fn new(inner: T, dir: impl Into<PathBuf>) -> Result<Self, TtsError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(CachedTts { inner, dir })
    }

    fn path(&self, voice: Voice, text: &str) -> PathBuf {
        let mut h = Sha256::new();
        h.update(voice.name().as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        let digest = h.finalize();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.s16"))
    }

    pub fn is_cached(&self, voice: Voice, text: &str) -> bool {
        self.path(voice, text).exists()
    }
}

impl<T: Tts> Tts for CachedTts<T> {
    fn synthesize(&self, voice: Voice, text: &str) -> Result<Vec<i16>, TtsError> {
        let path = self.path(voice, text);
        if let Ok(bytes) = std::fs::read(&path) {
            return Ok(bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect());
        }
        let samples = self.inner.synthesize(voice, text)?;
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        // Write then rename, so a crash never leaves a truncated prompt in the cache.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);
    impl Tts for Counting {
        fn synthesize(&self, _: Voice, text: &str) -> Result<Vec<i16>, TtsError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(text.bytes().map(|b| b as i16 * 100).collect())
        }
    }

    #[test]
    fn synthesises_once_per_voice_and_text() {
        let dir = std::env::temp_dir().join(format!("flexvox-tts-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let tts = CachedTts::new(Counting(AtomicUsize::new(0)), &dir).unwrap();
        let a = tts.synthesize(Voice::Man, "hi").unwrap();
        assert!(tts.is_cached(Voice::Man, "hi"));
        assert_eq!(tts.synthesize(Voice::Man, "hi").unwrap(), a);
        tts.synthesize(Voice::Woman, "hi").unwrap();
        assert_eq!(tts.inner.0.load(Ordering::SeqCst), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
