//! WAV decoder (files fetched from customer URLs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(samples) = media::wav::decode_to_call_rate(data) {
        // Sample rates below media::wav::MIN_RATE are refused, so resampling at most doubles.
        assert!(samples.len() <= 2 * data.len());
    }
});
