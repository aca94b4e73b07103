//! Band-limited resampling (windowed sinc) of whole prompts to the call rate. Prompts are
//! converted once, when they enter the cache, so quality matters more than speed here.

use std::f64::consts::PI;

const HALF_TAPS: i64 = 16;

pub fn resample(input: &[f32], from_rate: u32, to_rate: u32) -> Vec<f32> {
    if from_rate == to_rate || input.is_empty() || from_rate == 0 || to_rate == 0 {
        return input.to_vec();
    }
    let kernel = Kernel::new(from_rate, to_rate);
    let out_len = (input.len() as u128 * kernel.den as u128 / kernel.num as u128) as usize;
    (0..out_len)
        .map(|n| kernel.at(input, 0, n as u64))
        .collect()
}

/// The windowed-sinc kernel for one rate pair, shared by the whole-prompt and the streaming
/// resampler so that both give the same samples.
#[derive(Debug, Clone)]
struct Kernel {
    ratio: f64,
    cutoff: f64,
    half: i64,
    /// The rate ratio in lowest terms, input over output samples: output `n` is centred on
    /// input `n * num / den`, and its taps repeat every `den` outputs.
    num: u64,
    den: u64,
    /// Taps per phase (`2 * half`), `den` phases, when that is small enough to tabulate:
    /// computing the sinc and window per tap costs about 20 times the multiply-add.
    table: Option<Vec<f32>>,
}

/// Largest tap table built (floats): 44.1 kHz to 8 kHz needs 80 phases of 178 taps.
const MAX_TABLE: u64 = 1 << 20;

impl Kernel {
    fn new(from_rate: u32, to_rate: u32) -> Self {
        let ratio = from_rate as f64 / to_rate as f64;
        // Cut off a little below the lower Nyquist frequency, normalised to the input rate.
        let cutoff = 0.95 * (to_rate.min(from_rate) as f64 / from_rate as f64);
        let half = (HALF_TAPS as f64 * ratio.max(1.0)).ceil() as i64;
        let g = gcd(from_rate as u64, to_rate as u64).max(1);
        let mut k = Kernel {
            ratio,
            cutoff,
            half,
            num: from_rate as u64 / g,
            den: to_rate as u64 / g,
            table: None,
        };
        let taps = 2 * half as u64;
        if k.den.saturating_mul(taps) <= MAX_TABLE {
            let mut table = Vec::with_capacity((k.den * taps) as usize);
            for phase in 0..k.den {
                let frac = (phase * k.num % k.den) as f64 / k.den as f64;
                for j in 0..taps as i64 {
                    table.push(k.weight(frac + (half - 1 - j) as f64) as f32);
                }
            }
            k.table = Some(table);
        }
        k
    }

    /// The input sample output `n` is centred on.
    fn centre(&self, n: u64) -> i64 {
        ((n as u128 * self.num as u128) / self.den as u128) as i64
    }

    /// The tap for an input sample `x` input samples before the output's position.
    fn weight(&self, x: f64) -> f64 {
        let sinc = if x.abs() < 1e-9 {
            self.cutoff
        } else {
            (PI * self.cutoff * x).sin() / (PI * x)
        };
        // Blackman window over the kernel span.
        let w = 0.42
            + 0.5 * (PI * x / self.half as f64).cos()
            + 0.08 * (2.0 * PI * x / self.half as f64).cos();
        sinc * w.max(0.0)
    }

    /// Output sample `n`, from `input` holding the input samples from index `base` on. Input
    /// before `base` or past the end counts as absent (the stream's edges).
    fn at(&self, input: &[f32], base: u64, n: u64) -> f32 {
        let centre = self.centre(n);
        let first = centre - self.half + 1;
        let taps = 2 * self.half;
        // The taps that fall on input present.
        let lo = (base as i64 - first).clamp(0, taps);
        let hi = (base as i64 + input.len() as i64 - first).clamp(lo, taps);
        let start = (first + lo - base as i64) as usize;
        let span = &input[start..start + (hi - lo) as usize];
        if let Some(table) = &self.table {
            let row = (n % self.den) as usize * taps as usize;
            let w = &table[row + lo as usize..row + hi as usize];
            return span
                .iter()
                .zip(w)
                .map(|(s, w)| (*s * *w) as f64)
                .sum::<f64>() as f32;
        }
        let t = n as f64 * self.ratio;
        span.iter()
            .enumerate()
            .map(|(j, s)| *s as f64 * self.weight(t - (first + lo + j as i64) as f64))
            .sum::<f64>() as f32
    }

    /// The last input index output `n` reads.
    fn last_input(&self, n: u64) -> i64 {
        self.centre(n) + self.half
    }

    fn first_input(&self, n: u64) -> i64 {
        self.centre(n) - self.half + 1
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Resampling of audio that arrives in pieces (a download being decoded): gives, sample for
/// sample, what [`resample`] gives for the whole input, holding back only the outputs whose
/// kernel still lacks input until [`StreamResampler::finish`].
#[derive(Debug, Clone)]
pub struct StreamResampler {
    kernel: Option<Kernel>,
    /// Input from absolute index `base` on; older input is no longer needed.
    input: Vec<f32>,
    base: u64,
    received: u64,
    next_out: u64,
}

impl StreamResampler {
    pub fn new(from_rate: u32, to_rate: u32) -> Self {
        let kernel = (from_rate != to_rate && from_rate != 0 && to_rate != 0)
            .then(|| Kernel::new(from_rate, to_rate));
        StreamResampler {
            kernel,
            input: Vec::new(),
            base: 0,
            received: 0,
            next_out: 0,
        }
    }

    /// Adds input and appends every output that can now be computed in full to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let Some(kernel) = &self.kernel else {
            out.extend_from_slice(input);
            return;
        };
        self.input.extend_from_slice(input);
        self.received += input.len() as u64;
        while kernel.last_input(self.next_out) < self.received as i64 {
            out.push(kernel.at(&self.input, self.base, self.next_out));
            self.next_out += 1;
        }
        let keep_from = kernel.first_input(self.next_out).max(0) as u64;
        // Dropping in batches keeps the copying linear in the input.
        if keep_from > self.base + 4096 {
            let drop = (keep_from - self.base) as usize;
            self.input.drain(..drop.min(self.input.len()));
            self.base += drop as u64;
        }
    }

    /// Appends the outputs that were waiting for input that will never come.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let Some(kernel) = &self.kernel else {
            return;
        };
        let total = (self.received as u128 * kernel.den as u128 / kernel.num as u128) as u64;
        while self.next_out < total {
            out.push(kernel.at(&self.input, self.base, self.next_out));
            self.next_out += 1;
        }
        self.input.clear();
        self.base = self.received;
    }
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
    fn streaming_matches_whole_input_resampling() {
        for (from, to) in [(44100, 8000), (16000, 8000), (4000, 8000), (8000, 8000)] {
            let input = tone(440.0, from, 0.7);
            let whole = resample(&input, from, to);
            let mut streamed = Vec::new();
            let mut r = StreamResampler::new(from, to);
            for chunk in input.chunks(997) {
                r.push(chunk, &mut streamed);
            }
            r.finish(&mut streamed);
            assert_eq!(streamed, whole, "{from} -> {to}");
        }
    }

    #[test]
    fn upsamples_and_handles_odd_rates() {
        assert_eq!(resample(&tone(440.0, 44100, 0.5), 44100, 8000).len(), 4000);
        assert_eq!(resample(&tone(440.0, 4000, 0.5), 4000, 8000).len(), 4000);
    }
}
