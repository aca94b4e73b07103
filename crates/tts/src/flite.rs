//! The flite engine through its C API. flite keeps global state (its initialisation, lexicon
//! and voices), so every call in the process, whichever `Flite` it comes through, is serialised
//! behind one lock; the cache in front makes that rarely matter.

use crate::{Tts, TtsError, Voice};
use media::{resample, CALL_RATE};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::Mutex;

#[repr(C)]
struct CstWave {
    kind: *const c_char,
    sample_rate: c_int,
    num_samples: c_int,
    num_channels: c_int,
    samples: *mut i16,
}

extern "C" {
    fn flite_init() -> c_int;
    fn register_cmu_us_slt(voxdir: *const c_char) -> *mut c_void;
    fn register_cmu_us_rms(voxdir: *const c_char) -> *mut c_void;
    // The utterance, its relations and items are opaque here: only walked and read.
    fn flite_synth_text(text: *const c_char, voice: *mut c_void) -> *mut c_void;
    fn delete_utterance(utt: *mut c_void);
    fn utt_wave(utt: *mut c_void) -> *mut CstWave;
    fn utt_relation(utt: *const c_void, name: *const c_char) -> *mut c_void;
    fn relation_head(relation: *mut c_void) -> *mut c_void;
    fn item_next(item: *const c_void) -> *mut c_void;
    fn item_feat_string(item: *const c_void, name: *const c_char) -> *const c_char;
}

struct Voices {
    man: *mut c_void,
    woman: *mut c_void,
}

// SAFETY: the voice pointers are only used while holding `ENGINE`'s lock.
unsafe impl Send for Voices {}

/// flite for the whole process: initialised once, on first use, and used under this lock.
/// (Two engines in one process, each behind its own lock, crashed flite when used at once.)
static ENGINE: Mutex<Option<Voices>> = Mutex::new(None);

/// A handle on the process's flite engine.
pub struct Flite {
    _engine: (),
}

impl Flite {
    pub fn new() -> Self {
        Flite { _engine: () }
    }

    /// Runs flite on `text` (what `flite_text_to_wave` does: `flite_synth_text`) and hands the
    /// utterance (a non-null `cst_utterance*`) to `read` while it lives: `read` must not keep
    /// any pointer into it. `synthesize` and `words` both come through here, so the words the
    /// tests check are the analysis the audio is made from.
    fn with_utterance<R>(
        &self,
        voice: Voice,
        text: &str,
        read: impl FnOnce(*mut c_void) -> R,
    ) -> Result<R, TtsError> {
        let text = CString::new(text).map_err(|_| TtsError::NulInText)?;
        let mut engine = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: plain C initialisers with no arguments that can be wrong, run once under the
        // lock; they return voices that live for the whole process.
        let voices = engine.get_or_insert_with(|| unsafe {
            flite_init();
            Voices {
                man: register_cmu_us_rms(std::ptr::null()),
                woman: register_cmu_us_slt(std::ptr::null()),
            }
        });
        let voice_ptr = match voice {
            Voice::Man => voices.man,
            Voice::Woman => voices.woman,
        };
        // SAFETY: `text` is a valid C string and `voice_ptr` came from a register function.
        let utt = unsafe { flite_synth_text(text.as_ptr(), voice_ptr) };
        if utt.is_null() {
            return Err(TtsError::NoAudio);
        }
        let out = read(utt);
        // SAFETY: `utt` came from flite_synth_text and is deleted exactly once, after `read`,
        // still under the lock.
        unsafe { delete_utterance(utt) };
        Ok(out)
    }

    /// The words flite says for `text` after its text analysis (numbers, ordinals, money and
    /// symbols expanded): the names in the utterance's "Word" relation, lower case. "123"
    /// gives `["one", "hundred", "twenty", "three"]`. For tests and diagnostics: the audio is
    /// made too and thrown away.
    pub fn words(&self, voice: Voice, text: &str) -> Result<Vec<String>, TtsError> {
        self.with_utterance(voice, text, |utt| {
            let mut words = Vec::new();
            // SAFETY: `utt` is a live utterance; its relation and items are only walked, and
            // each "name" string is copied out before the utterance is deleted.
            unsafe {
                let relation = utt_relation(utt, c"Word".as_ptr());
                let mut item = if relation.is_null() {
                    std::ptr::null_mut()
                } else {
                    relation_head(relation)
                };
                while !item.is_null() {
                    let name = item_feat_string(item, c"name".as_ptr());
                    if !name.is_null() {
                        words.push(CStr::from_ptr(name).to_string_lossy().into_owned());
                    }
                    item = item_next(item);
                }
            }
            words
        })
    }
}

impl Default for Flite {
    fn default() -> Self {
        Self::new()
    }
}

impl Tts for Flite {
    fn synthesize(&self, voice: Voice, text: &str) -> Result<Vec<i16>, TtsError> {
        let (rate, samples) = self.with_utterance(voice, text, |utt| {
            // SAFETY: `utt` is a live utterance; its wave belongs to it and is read within its
            // bounds and copied out, not freed here.
            unsafe {
                let wave = utt_wave(utt);
                if wave.is_null() {
                    return (1, Vec::new());
                }
                let w = &*wave;
                let n = (w.num_samples.max(0) as usize) * (w.num_channels.max(1) as usize);
                let samples = if w.samples.is_null() || n == 0 {
                    Vec::new()
                } else {
                    std::slice::from_raw_parts(w.samples, n).to_vec()
                };
                (w.sample_rate.max(1) as u32, samples)
            }
        })?;
        if samples.is_empty() {
            return Err(TtsError::NoAudio);
        }
        let floats: Vec<f32> = samples.iter().map(|s| *s as f32 / 32768.0).collect();
        Ok(resample::to_i16(&resample::resample(
            &floats, rate, CALL_RATE,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(x: &[i16]) -> f64 {
        (x.iter().map(|s| (*s as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn speaks_with_two_voices_at_the_call_rate() {
        let tts = Flite::new();
        let woman = tts
            .synthesize(Voice::Woman, "Hello, thank you for calling.")
            .unwrap();
        let man = tts
            .synthesize(Voice::Man, "Hello, thank you for calling.")
            .unwrap();
        for audio in [&woman, &man] {
            let secs = audio.len() as f64 / 8000.0;
            assert!((1.0..4.0).contains(&secs), "{secs} s");
            assert!(
                rms(audio) > 500.0,
                "speech, not silence: rms {}",
                rms(audio)
            );
        }
        assert_ne!(woman, man);
    }
}
