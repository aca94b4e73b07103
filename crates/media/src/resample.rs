//! Band-limited resampling (windowed sinc) of whole prompts to the call rate. Prompts are
//! converted once, when they enter the cache, so quality matters more than speed here.

use std::f64::consts::PI;

const HALF_TAPS: i64 = 16;

pub fn resample(input: &[f32], from_rate: u32, to_rate: u32) -> Vec<f32> {
    if from_rate == to_rate || input.is_empty() || from_rate == 0 || to_rate == 0 {
        return input.to_vec();
    }
    let ratio = from_rate as f64 / to_rate as f64;
    // Cut off a little below the lower Nyquist frequency, normalised to the input rate.
    let cutoff = 0.95 * (to_rate.min(from_rate) as f64 / from_rate as f64);
    let out_len = ((input.len() as f64) / ratio).floor() as usize;
    let mut out = Vec::with_capacity(out_len);
    let half = (HALF_TAPS as f64 * ratio.max(1.0)).ceil() as i64;
    for n in 0..out_len {
        let t = n as f64 * ratio;
        let centre = t.floor() as i64;
        let mut acc = 0.0f64;
        for k in (centre - half + 1)..=(centre + half) {
            if k < 0 || k as usize >= input.len() {
                continue;
            }
            let x = t - k as f64;
            let sinc = if x.abs() < 1e-9 {
                cutoff
            } else {
                (PI * cutoff * x).sin() / (PI * x)
            };
            // Blackman window over the kernel span.
            let w = 0.42
                + 0.5 * (PI * x / half as f64).cos()
                + 0.08 * (2.0 * PI * x / half as f64).cos();
            acc += input[k as usize] as f64 * sinc * w.max(0.0);
        }
        out.push(acc as f32);
    }
    out
}

/// Full scale is ±1.0 = ±32768, the inverse of the decoders' `/ 32768.0`, so that 16-bit input
/// comes back bit-exact; +1.0 itself clips to 32767.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, secs: f64) -> Vec<f32> {
        (0..(rate as f64 * secs) as usize)
            .map(|i| (0.5 * (2.0 * PI * freq * i as f64 / rate as f64).sin()) as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|s| (*s as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn keeps_a_passband_tone_and_removes_an_aliasing_one() {
        let kept = resample(&tone(1000.0, 16000, 1.0), 16000, 8000);
        assert_eq!(kept.len(), 8000);
        let level = rms(&kept[100..7900]);
        assert!(
            (level - 0.5 / 2f64.sqrt()).abs() < 0.02,
            "1 kHz level {level}"
        );
        // 6 kHz would fold to 2 kHz at 8 kHz; the filter must remove it.
        let removed = resample(&tone(6000.0, 16000, 1.0), 16000, 8000);
        assert!(rms(&removed[100..7900]) < 0.01);
    }

    #[test]
    fn upsamples_and_handles_odd_rates() {
        assert_eq!(resample(&tone(440.0, 44100, 0.5), 44100, 8000).len(), 4000);
        assert_eq!(resample(&tone(440.0, 4000, 0.5), 4000, 8000).len(), 4000);
    }
}
