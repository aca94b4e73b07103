//! MP3 recording (feature `mp3-recording`): what the encoder writes decodes, with our own
//! decoder, to the audio pushed: the right length (exactly, once the LAME tag is filled in) and
//! the right tone; and a recording cut off mid-file, before `finish`, still decodes to all but
//! its last moments.
#![cfg(feature = "mp3-recording")]

use media::record::mp3::{Mp3Bitrate, Mp3Config, Mp3Encoder, Mp3Error};
use std::io::Cursor;

const RATE: f64 = 8000.0;

/// `seconds` of a `freq` Hz tone at about -15 dBFS, in 160-sample frames.
fn tone(freq: f64, seconds: f64) -> Vec<Vec<i16>> {
    let frames = (seconds * RATE / 160.0).round() as usize;
    (0..frames)
        .map(|f| {
            (0..160)
                .map(|i| {
                    let n = (f * 160 + i) as f64;
                    (5800.0 * (std::f64::consts::TAU * freq * n / RATE).sin()) as i16
                })
                .collect()
        })
        .collect()
}

fn encode_tagged(frames: &[Vec<i16>], config: Mp3Config) -> Vec<u8> {
    let mut enc = Mp3Encoder::with_lame_tag(Cursor::new(Vec::new()), config).unwrap();
    for f in frames {
        enc.push(f).unwrap();
    }
    let (out, summary) = enc.finish().unwrap();
    let bytes = out.into_inner();
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(summary.duration_ms, frames.len() as u64 * 20);
    bytes
}

fn decode(mp3: &[u8]) -> Vec<i16> {
    media::decode(mp3, Some("audio/mpeg"), None).unwrap()
}

/// |X(freq)|² of `x` (Goertzel).
fn goertzel_power(x: &[f64], freq: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / RATE;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Share of the signal's energy at `freq` (1.0 for a pure tone at that frequency).
fn tone_share(samples: &[i16], freq: f64) -> f64 {
    let x: Vec<f64> = samples.iter().map(|&s| s as f64).collect();
    let energy: f64 = x.iter().map(|v| v * v).sum();
    // For a sine exactly in a bin, |X|² = (A·N/2)² and energy = A²·N/2, so |X|²·2/N = energy.
    goertzel_power(&x, freq) * 2.0 / x.len() as f64 / energy
}

fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

#[test]
fn two_seconds_of_tone_decode_to_two_seconds_of_the_tone() {
    let frames = tone(1000.0, 2.0);
    let mp3 = encode_tagged(&frames, Mp3Config::default());
    // 32 kbps CBR: 4000 bytes a second, in 288-byte frames; no ID3 tags, first byte a sync.
    assert_eq!(mp3.len() % 288, 0, "whole CBR frames only");
    assert!((8000..=9500).contains(&mp3.len()), "{} bytes", mp3.len());
    assert_eq!(mp3[0], 0xFF);
    assert_eq!(&mp3[4 + 9..4 + 9 + 4], b"Info", "LAME/Info tag filled in");
    assert_ne!(&mp3[mp3.len() - 128..mp3.len() - 125], b"TAG");

    let pcm = decode(&mp3);
    // With the tag, symphonia drops LAME's delay and padding: the exact length comes back.
    let ms = pcm.len() as f64 * 1000.0 / RATE;
    assert!((ms - 2000.0).abs() <= 100.0, "decoded {ms} ms");
    assert_eq!(pcm.len(), 16000, "gapless: exactly the samples pushed");

    // Skip the first and last 50 ms (encoder ramp-up and the final frame's edge).
    let mid = &pcm[400..pcm.len() - 400];
    let share = tone_share(mid, 1000.0);
    assert!(share > 0.95, "1 kHz holds {share:.3} of the energy");
    for other in [500.0, 1500.0, 2000.0, 3000.0] {
        let s = tone_share(mid, other);
        assert!(s < 0.01, "{other} Hz holds {s:.4} of the energy");
    }
    let level = rms(mid);
    let pushed = 5800.0 / 2f64.sqrt();
    assert!(
        (level / pushed - 1.0).abs() < 0.1,
        "level {level:.0} vs {pushed:.0} pushed"
    );

    // The decoded tone is in phase with what was pushed: the delay really was removed.
    let orig: Vec<i16> = frames.concat();
    let dot: f64 = (400..15600)
        .map(|i| orig[i] as f64 * pcm[i] as f64)
        .sum::<f64>();
    let norm = (400..15600).map(|i| (orig[i] as f64).powi(2)).sum::<f64>();
    assert!(
        dot / norm > 0.9,
        "correlation with the input {:.3}",
        dot / norm
    );
}

#[test]
fn without_the_tag_the_stream_keeps_the_encoder_delay() {
    let frames = tone(1000.0, 2.0);
    let mut enc = Mp3Encoder::new(Vec::new(), Mp3Config::default()).unwrap();
    for f in &frames {
        enc.push(f).unwrap();
    }
    let (mp3, summary) = enc.finish().unwrap();
    assert!(!summary.lame_tag);
    assert_eq!(mp3[0], 0xFF);
    let pcm = decode(&mp3);
    // Every frame decodes whole (576 samples): 2 s, LAME's delay and the last frame's padding.
    assert_eq!(pcm.len(), mp3.len() / 288 * 576);
    let ms = pcm.len() as f64 * 1000.0 / RATE;
    assert!((2100.0..2300.0).contains(&ms), "decoded {ms} ms");
    // The delay is at the start: LAME's 576 samples and the decoder's 529, about 138 ms.
    let lead = rms(&pcm[..1000]);
    let lead_after = rms(&pcm[1200..2200]);
    assert!(
        lead < 0.1 * lead_after,
        "lead rms {lead:.0} vs {lead_after:.0}"
    );
    let share = tone_share(&pcm[1600..pcm.len() - 1600], 1000.0);
    assert!(share > 0.95, "1 kHz holds {share:.3} of the energy");
}

#[test]
fn a_recording_cut_off_mid_file_decodes_to_most_of_its_audio() {
    let frames = tone(1000.0, 4.0);
    // The state a crash leaves: no `finish`, so no flush of LAME and no tag filled in.
    let mut enc = Mp3Encoder::with_lame_tag(Cursor::new(Vec::new()), Mp3Config::default()).unwrap();
    for f in &frames {
        enc.push(f).unwrap();
    }
    let written = enc.get_ref().get_ref().clone();
    assert_eq!(written.len() as u64, enc.bytes_written());
    // LAME holds at most its look-ahead and a frame or two back.
    let held_ms = 4000.0 - (written.len() / 288) as f64 * 72.0;
    assert!(held_ms < 250.0, "LAME held {held_ms} ms");

    // Cut in the middle of a frame, halfway through the file.
    let cut = &written[..written.len() / 2 + 100];
    let pcm = decode(cut);
    let ms = pcm.len() as f64 * 1000.0 / RATE;
    // About 2 s: whole frames before the cut, less nothing but the cut frame.
    assert!(
        (1800.0..2300.0).contains(&ms),
        "decoded {ms} ms of a half file"
    );
    // Leading silence: the unfilled tag frame (72 ms) and LAME's delay (138 ms).
    let body = &pcm[2400..pcm.len() - 800];
    let share = tone_share(body, 1000.0);
    assert!(share > 0.95, "1 kHz holds {share:.3} of the energy");

    // And the whole of what was written before the crash: all but what LAME held.
    let pcm = decode(&written);
    let ms = pcm.len() as f64 * 1000.0 / RATE;
    assert!(ms > 3800.0, "decoded {ms} ms of 4 s");
}

#[test]
fn bytes_go_out_as_frames_complete() {
    let mut enc = Mp3Encoder::new(Vec::new(), Mp3Config::default()).unwrap();
    let mut grew = 0;
    let mut last = 0;
    for f in tone(1000.0, 1.0) {
        enc.push(&f).unwrap();
        if enc.get_ref().len() > last {
            grew += 1;
            last = enc.get_ref().len();
        }
    }
    // One 72 ms frame every 3.6 pushes: output grows on most of 14 possible occasions.
    assert!(grew >= 10, "output grew {grew} times in 1 s");
}

#[test]
fn other_bit_rates_and_settings() {
    let frames = tone(1000.0, 1.0);
    for (bitrate, frame_len, tagged) in [
        (Mp3Bitrate::Kbps16, 144, false),
        (Mp3Bitrate::Kbps24, 216, true),
        (Mp3Bitrate::Kbps48, 432, true),
        (Mp3Bitrate::Kbps64, 576, true),
    ] {
        let config = Mp3Config {
            bitrate,
            quality: 7,
            flush_every_ms: 0,
        };
        let mut enc = Mp3Encoder::with_lame_tag(Cursor::new(Vec::new()), config).unwrap();
        for f in &frames {
            enc.push(f).unwrap();
        }
        let (out, summary) = enc.finish().unwrap();
        let mp3 = out.into_inner();
        assert_eq!(summary.lame_tag, tagged, "{bitrate:?}");
        assert_eq!(mp3.len() % frame_len, 0, "{bitrate:?}: {} bytes", mp3.len());
        let pcm = decode(&mp3);
        if tagged {
            assert_eq!(pcm.len(), 8000, "{bitrate:?}");
        }
        let share = tone_share(&pcm[1200..6800], 1000.0);
        assert!(share > 0.9, "{bitrate:?}: 1 kHz holds {share:.3}");
    }

    let bad = Mp3Config {
        quality: 10,
        ..Mp3Config::default()
    };
    assert!(matches!(
        Mp3Encoder::new(Vec::new(), bad),
        Err(Mp3Error::Quality(10))
    ));
}

#[test]
fn a_failing_writer_is_an_io_error() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut enc = Mp3Encoder::new(Full, Mp3Config::default()).unwrap();
    let mut result = Ok(());
    for f in tone(1000.0, 0.5) {
        result = enc.push(&f);
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(result, Err(Mp3Error::Io(_))), "{result:?}");
}
