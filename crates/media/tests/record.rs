//! Recordings: the samples in the file are the samples pushed, in the chosen layout; trimming
//! drops leading and trailing silence only; and a recording cut off without `finish` is a
//! valid WAV holding all but at most the last second, and `repair_wav` keeps every whole
//! sample the writer had pushed out.

use media::g711;
use media::record::{
    repair_wav, Channels, RecordError, RecordFormat, Recorder, RecorderConfig, RepairError,
};
use media::wav::decode_to_call_rate;
use std::io::Cursor;

/// A 440 Hz tone at about -15 dBFS, one 160-sample frame at a time, continuing its phase.
fn tone(frames: usize, from_frame: usize) -> Vec<Vec<i16>> {
    (from_frame..from_frame + frames)
        .map(|f| {
            (0..160)
                .map(|i| {
                    let n = (f * 160 + i) as f64;
                    (5000.0 * (std::f64::consts::TAU * 440.0 * n / 8000.0).sin()) as i16
                })
                .collect()
        })
        .collect()
}

fn silence(frames: usize) -> Vec<Vec<i16>> {
    vec![vec![0; 160]; frames]
}

/// (channels, bits, data) of a WAV file, read straight from its chunks.
fn wav_parts(file: &[u8]) -> (u16, u16, u16, &[u8]) {
    assert_eq!(&file[0..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes(file[4..8].try_into().unwrap()) as usize,
        file.len() - 8,
        "RIFF size"
    );
    let mut pos = 12;
    let mut fmt = (0, 0, 0);
    loop {
        let id = &file[pos..pos + 4];
        let size = u32::from_le_bytes(file[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = &file[pos + 8..pos + 8 + size];
        if id == b"fmt " {
            let u = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
            fmt = (u(0), u(2), u(14));
        }
        if id == b"data" {
            return (fmt.1, fmt.2, fmt.0, body);
        }
        pos += 8 + size;
    }
}

fn record(config: RecorderConfig, caller: &[Vec<i16>], called: &[Vec<i16>]) -> Vec<u8> {
    let mut r = Recorder::new(Cursor::new(Vec::new()), config).expect("recorder");
    for i in 0..caller.len().max(called.len()) {
        let empty = Vec::new();
        r.push(
            caller.get(i).unwrap_or(&empty),
            called.get(i).unwrap_or(&empty),
        )
        .expect("push");
    }
    r.finish().expect("finish").0.into_inner()
}

fn untrimmed(format: RecordFormat, channels: Channels) -> RecorderConfig {
    RecorderConfig {
        format,
        channels,
        trim: false,
        ..RecorderConfig::default()
    }
}

#[test]
fn one_leg_pcm_is_sample_exact() {
    let caller = tone(75, 0);
    let called = tone(75, 3);
    let file = record(
        untrimmed(RecordFormat::Wav, Channels::Caller),
        &caller,
        &called,
    );
    let (channels, bits, tag, data) = wav_parts(&file);
    assert_eq!((channels, bits, tag), (1, 16, 1));
    let want: Vec<i16> = caller.concat();
    assert_eq!(decode_to_call_rate(&file), Ok(want.clone()));
    assert_eq!(data.len(), want.len() * 2);
    let file = record(
        untrimmed(RecordFormat::Wav, Channels::Called),
        &caller,
        &called,
    );
    assert_eq!(decode_to_call_rate(&file), Ok(called.concat()));
}

#[test]
fn both_legs_as_two_channels_or_mixed() {
    let caller = tone(10, 0);
    let called = tone(10, 7);
    let file = record(
        untrimmed(RecordFormat::Wav, Channels::Stereo),
        &caller,
        &called,
    );
    let (channels, bits, _, data) = wav_parts(&file);
    assert_eq!((channels, bits), (2, 16));
    let samples: Vec<i16> = data
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let (a, b) = (caller.concat(), called.concat());
    for (i, pair) in samples.chunks_exact(2).enumerate() {
        assert_eq!(pair, [a[i], b[i]], "sample {i}: left is the caller");
    }
    let file = record(
        untrimmed(RecordFormat::Wav, Channels::Mixed),
        &caller,
        &called,
    );
    let mixed: Vec<i16> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.saturating_add(*y))
        .collect();
    assert_eq!(decode_to_call_rate(&file), Ok(mixed));
}

#[test]
fn ulaw_raw_and_in_wav() {
    let caller = tone(20, 0);
    let want: Vec<u8> = caller
        .concat()
        .iter()
        .map(|s| g711::linear_to_ulaw(*s))
        .collect();
    let raw = record(
        untrimmed(RecordFormat::Ulaw, Channels::Caller),
        &caller,
        &[],
    );
    assert_eq!(raw, want);
    let file = record(
        untrimmed(RecordFormat::UlawWav, Channels::Caller),
        &caller,
        &[],
    );
    let (channels, bits, tag, data) = wav_parts(&file);
    assert_eq!((channels, bits, tag, data), (1, 8, 7, &want[..]));
    let decoded = decode_to_call_rate(&file).expect("decodes");
    assert_eq!(decoded.len(), want.len());
    assert!(matches!(
        Recorder::new(
            Cursor::new(Vec::new()),
            untrimmed(RecordFormat::Ulaw, Channels::Stereo)
        ),
        Err(RecordError::StereoWithoutHeader)
    ));
}

#[test]
fn trimming_drops_leading_and_trailing_silence_only() {
    // 1 s silence, 1 s voice, 0.5 s silence, 1 s voice, 2 s silence.
    let mut caller = silence(50);
    caller.extend(tone(50, 50));
    caller.extend(silence(25));
    caller.extend(tone(50, 125));
    caller.extend(silence(100));
    let config = RecorderConfig {
        channels: Channels::Caller,
        ..RecorderConfig::default()
    };
    let mut r = Recorder::new(Cursor::new(Vec::new()), config).expect("recorder");
    for f in &caller {
        r.push(f, &[]).expect("push");
    }
    // 2 s of silence minus the 200 ms the detector holds voice after the last word.
    assert_eq!(r.quiet_run_ms(), 1800);
    assert_eq!(r.received_ms(), 5500);
    let (cursor, summary) = r.finish().expect("finish");
    // Kept: the 100 ms lead pad, everything up to the last voice, and 200 ms of hangover.
    let want = caller[45..185].concat();
    assert_eq!(decode_to_call_rate(cursor.get_ref()), Ok(want));
    assert_eq!(summary.duration_ms, 2800);
    assert!(summary.voice_heard);
}

#[test]
fn a_recording_of_silence_trims_to_nothing() {
    let config = RecorderConfig::default();
    let file = record(config, &silence(100), &silence(100));
    let (_, _, _, data) = wav_parts(&file);
    assert!(data.is_empty());
}

/// The process dies mid-recording: whatever the moment, the file is a valid WAV holding every
/// sample up to the last second boundary.
#[test]
fn a_cut_recording_keeps_all_but_the_last_second() {
    let caller: Vec<Vec<i16>> = tone(180, 0);
    let all = caller.concat();
    let mut file = Cursor::new(Vec::new());
    {
        let mut r = Recorder::new(&mut file, untrimmed(RecordFormat::Wav, Channels::Caller))
            .expect("recorder");
        for (i, f) in caller.iter().enumerate() {
            r.push(f, &[]).expect("push");
            let snapshot = r_snapshot(&r);
            let decoded = decode_to_call_rate(&snapshot).expect("valid at every moment");
            let pushed = (i + 1) * 160;
            assert!(
                pushed - decoded.len() <= 8000,
                "lost {}",
                pushed - decoded.len()
            );
            assert_eq!(decoded, all[..decoded.len()]);
        }
        // Dropped without finish: the crash.
    }
    let decoded = decode_to_call_rate(file.get_ref()).expect("valid after the crash");
    assert_eq!(decoded.len(), 24_000);
    assert_eq!(decoded, all[..24_000]);
    // Every byte pushed is in the file; only the header lags.
    assert_eq!(file.get_ref().len(), 44 + all.len() * 2);
}

fn r_snapshot(r: &Recorder<&mut Cursor<Vec<u8>>>) -> Vec<u8> {
    r.output().get_ref().clone()
}

/// Dropped before its first header rewrite, with audio the header does not count and a torn
/// last sample: `repair_wav` keeps every whole sample frame in the file.
#[test]
fn repairing_a_cut_recording_keeps_every_whole_sample_in_it() {
    let caller = tone(125, 0);
    let all = caller.concat();
    let mut file = Cursor::new(Vec::new());
    {
        let config = RecorderConfig {
            flush_every_ms: 10_000,
            ..untrimmed(RecordFormat::Wav, Channels::Caller)
        };
        let mut r = Recorder::new(&mut file, config).expect("recorder");
        for f in &caller {
            r.push(f, &[]).expect("push");
        }
        // Dropped without finish: the crash.
    }
    let mut bytes = file.into_inner();
    // The header still says "no audio".
    assert_eq!(bytes[40..44], [0, 0, 0, 0]);
    bytes.push(0x7f);
    let repaired = repair_wav(&mut bytes).expect("repairable");
    assert_eq!(repaired.frames, 20_000);
    assert_eq!(repaired.duration_ms(), 2500);
    assert_eq!(
        (repaired.channels, repaired.rate, repaired.data_at),
        (1, 8000, 44)
    );
    assert_eq!(bytes.len(), 44 + 40_000);
    assert_eq!(decode_to_call_rate(&bytes).expect("valid"), all);
    // Repairing a whole file changes nothing.
    let before = bytes.clone();
    repair_wav(&mut bytes).unwrap();
    assert_eq!(bytes, before);
}

#[test]
fn repairing_sets_the_fact_chunk_and_keeps_stereo_frames_whole() {
    let mut file = Cursor::new(Vec::new());
    {
        let config = RecorderConfig {
            flush_every_ms: 10_000,
            ..untrimmed(RecordFormat::UlawWav, Channels::Stereo)
        };
        let mut r = Recorder::new(&mut file, config).expect("recorder");
        for (a, b) in tone(10, 0).iter().zip(silence(10).iter()) {
            r.push(a, b).expect("push");
        }
    }
    let mut bytes = file.into_inner();
    let header = bytes.len() - 3200;
    // A torn frame: one channel of the next sample.
    bytes.push(0xff);
    let repaired = repair_wav(&mut bytes).expect("repairable");
    assert_eq!((repaired.channels, repaired.frames), (2, 1600));
    assert_eq!(bytes.len(), header + 3200);
    let (channels, bits, tag, data) = wav_parts(&bytes);
    assert_eq!((channels, bits, tag, data.len()), (2, 8, 7, 3200));
    let fact = bytes.windows(4).position(|w| w == b"fact").unwrap() + 8;
    assert_eq!(
        u32::from_le_bytes(bytes[fact..fact + 4].try_into().unwrap()),
        1600
    );
}

#[test]
fn a_file_cut_inside_its_header_or_not_a_wav_cannot_be_repaired() {
    let mut file = Cursor::new(Vec::new());
    Recorder::new(&mut file, untrimmed(RecordFormat::Wav, Channels::Caller)).unwrap();
    let whole = file.into_inner();
    let mut empty = whole.clone();
    assert_eq!(repair_wav(&mut empty).map(|r| r.frames), Ok(0));
    let mut cut = whole[..30].to_vec();
    assert_eq!(repair_wav(&mut cut), Err(RepairError::NoData));
    let mut raw = vec![0xffu8; 400];
    assert_eq!(repair_wav(&mut raw), Err(RepairError::NotWav));
}
