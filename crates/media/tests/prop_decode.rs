//! Arbitrary bytes, whole or in arbitrary pieces, never make the decoders panic; nor do
//! arbitrary frames the detectors and the recorder.

mod ogg_crc;

use media::decode::{decode, Poll, StreamDecoder};
use media::detect::{Amd, AmdParams, EnergyDetector};
use media::record::{Channels, RecordFormat, Recorder, RecorderConfig};
use proptest::prelude::*;
use std::io::Cursor;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const NAMES: &[&str] = &[
    "tone_pcm16.wav",
    "tone_ulaw.wav",
    "tone.mp3",
    "tone.flac",
    "tone.ogg",
    "tone.m4a",
    "tone_moov_last.mp4",
    "tone.aac",
];

/// Signatures that steer random bytes into each demuxer.
const PREFIXES: &[&[u8]] = &[
    b"",
    b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0",
    b"ID3\x04\0\0\0\0\0\0",
    &[0xFF, 0xFB, 0x90, 0x64],
    &[0xFF, 0xF1, 0x50, 0x80],
    b"fLaC\0\0\0\x22",
    b"OggS\0\x02",
    b"\0\0\0\x18ftypM4A ",
];

fn mutated_fixture() -> impl Strategy<Value = Vec<u8>> {
    (
        0..NAMES.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..20),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(which, flips, cut, fix_crcs)| {
            let mut data =
                std::fs::read(format!("{FIXTURES}/{}", NAMES[which])).unwrap_or_default();
            if data.is_empty() {
                return data;
            }
            for (at, x) in flips {
                let i = at.index(data.len());
                data[i] ^= x;
            }
            if fix_crcs {
                ogg_crc::fix_crcs(&mut data);
            }
            data.truncate(cut.index(data.len()) + 1);
            data
        })
}

fn random_file() -> impl Strategy<Value = Vec<u8>> {
    (
        0..PREFIXES.len(),
        prop::collection::vec(any::<u8>(), 0..2000),
    )
        .prop_map(|(p, rest)| [PREFIXES[p], &rest].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn decoding_never_panics(data in prop_oneof![random_file(), mutated_fixture()]) {
        if let Ok(samples) = decode(&data, None, Some("x.ul")) {
            prop_assert!(samples.len() <= 4 * 3600 * 8000);
        }
    }

    #[test]
    fn streaming_never_panics(
        data in prop_oneof![random_file(), mutated_fixture()],
        piece in 1usize..700,
    ) {
        let mut d = StreamDecoder::new(Some("audio/mpeg"), None);
        for chunk in data.chunks(piece) {
            d.push(chunk);
            while let Ok(Poll::Frame(_)) = d.poll_frame() {}
        }
        d.finish();
        let mut frames = 0;
        while let Ok(Poll::Frame(_)) = d.poll_frame() {
            frames += 1;
            prop_assert!(frames < 1_000_000);
        }
    }

    #[test]
    fn detectors_and_recorder_take_any_frames(
        frames in prop::collection::vec(prop::collection::vec(any::<i16>(), 0..400), 0..60),
        threshold in 0u32..40000,
        stereo in any::<bool>(),
    ) {
        let mut energy = EnergyDetector::default();
        let mut amd = Amd::new(AmdParams { silence_threshold: threshold, ..AmdParams::default() });
        let config = RecorderConfig {
            format: RecordFormat::UlawWav,
            channels: if stereo { Channels::Stereo } else { Channels::Mixed },
            ..RecorderConfig::default()
        };
        let mut rec = Recorder::new(Cursor::new(Vec::new()), config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (i, f) in frames.iter().enumerate() {
            energy.process(f);
            amd.frame(i as u64 * 20, f);
            rec.push(f, &f[..f.len() / 2]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        amd.hangup();
        let (out, _) = rec.finish().map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Whatever came in, the file is a valid WAV.
        prop_assert!(media::wav::decode_to_call_rate(out.get_ref()).is_ok());
    }
}
