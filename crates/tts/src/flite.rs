//! The flite engine through its C API. flite keeps state in its voices, so calls are
//! serialised behind one lock; the cache in front makes that rarely matter.

use crate::{Tts, TtsError, Voice};
use media::{resample, CALL_RATE};
use std::ffi::{c_char, c_int, c_void, CString};
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
    fn flite_text_to_wave(text: *const c_char, voice: *mut c_void) -> *mut CstWave;
    fn delete_wave(wave: *mut CstWave);
}

struct Voices {
    man: *mut c_void,
    woman: *mut c_void,
}

// SAFETY: the voice pointers are only used while holding the mutex in `Flite`.
unsafe impl Send for Voices {}

pub struct Flite {
    voices: Mutex<Voices>,
}

impl Flite {
    pub fn new() -> Self {
        // SAFETY: plain C initialisers with no arguments that can be wrong; they return
        // pointers to static voice tables that live for the whole process.
        let voices = unsafe {
            flite_init();
            Voices {
                man: register_cmu_us_rms(std::ptr::null()),
                woman: register_cmu_us_slt(std::ptr::null()),
            }
        };
        Flite {
            voices: Mutex::new(voices),
        }
    }
}

impl Default for Flite {
    fn default() -> Self {
        Self::new()
    }
}

impl Tts for Flite {
    fn synthesize(&self, voice: Voice, text: &str) -> Result<Vec<i16>, TtsError> {
        let text = CString::new(text).map_err(|_| TtsError::NulInText)?;
        let voices = self.voices.lock().unwrap_or_else(|e| e.into_inner());
        let voice_ptr = match voice {
            Voice::Man => voices.man,
            Voice::Woman => voices.woman,
        };
        // SAFETY: `text` is a valid C string, `voice_ptr` came from a register function, and
        // the wave is read within its bounds and freed exactly once.
        let (rate, samples) = unsafe {
            let wave = flite_text_to_wave(text.as_ptr(), voice_ptr);
            if wave.is_null() {
                return Err(TtsError::NoAudio);
            }
            let w = &*wave;
            let n = (w.num_samples.max(0) as usize) * (w.num_channels.max(1) as usize);
            let samples = if w.samples.is_null() || n == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(w.samples, n).to_vec()
            };
            let rate = w.sample_rate.max(1) as u32;
            delete_wave(wave);
            (rate, samples)
        };
        drop(voices);
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

    #[test]
    fn reads_numbers_as_the_reference_says() {
        let tts = Flite::new();
        let whole = tts.synthesize(Voice::Woman, "123").unwrap();
        let digits = tts.synthesize(Voice::Woman, "1 2 3").unwrap();
        // "one hundred twenty-three" takes longer than "one two three".
        assert!(
            whole.len() > digits.len(),
            "{} vs {}",
            whole.len(),
            digits.len()
        );
    }
}
