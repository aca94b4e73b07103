//! What the media thread does with the audio a call hears and sends, besides playing it:
//! recording it (Record, Dial with record) and watching it (Pause's silence/noise detection,
//! Amd). The engine hands each active capture one 20 ms frame per leg per tick; everything
//! here is free of sockets and clocks so it is tested on its own.

use media::detect::{Amd, AmdOutcome, AmdParams, EnergyDetector, PauseEnd, PauseWatch};
use media::record::{Channels, RecordError, RecordFormat, Recorder, RecorderConfig};
use std::io::{Seek, Write};
use std::path::PathBuf;

/// A recording to start. `path` is where the engine writes it (a temporary place: the call
/// layer moves it into storage once `RecordingStopped` arrives).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingRequest {
    pub path: PathBuf,
    pub format: RecordFormat,
    /// `Caller` is what this leg hears from its far end; `Called` what we send it, or, when
    /// bridged, what the other leg hears from its far end; `Stereo` puts them left and right.
    pub channels: Channels,
    pub trim_silence: bool,
    /// Record's `maxLength`: the recording ends by itself after this much audio.
    pub max_ms: Option<u64>,
    /// Record's `timeout`: the recording ends after the caller has been quiet this long.
    pub silence_timeout_ms: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishedBy {
    MaxLength,
    Silence,
    /// `stop_recording` (finishOnKey, or the verb being cut short).
    Stopped,
    /// The leg left the engine (hang-up) while recording.
    Hangup,
}

/// A finished recording, as `EngineEvent::RecordingStopped` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingDone {
    pub path: PathBuf,
    /// Audio in the file (after trimming).
    pub duration_ms: u64,
    /// Audio heard while recording, trimmed or not.
    pub received_ms: u64,
    pub bytes: u64,
    /// With trimming, false means the file holds no audio.
    pub voice_heard: bool,
    pub finished_by: FinishedBy,
}

pub(super) struct Recording<W: Write + Seek> {
    recorder: Recorder<W>,
    path: PathBuf,
    channels: Channels,
    max_ms: Option<u64>,
    silence_timeout_ms: Option<u32>,
    /// Record's timeout is the caller going quiet: judged on the caller's audio alone, so
    /// that what we send (a background prompt, the other party) does not hold it off.
    caller_activity: EnergyDetector,
}

impl<W: Write + Seek> Recording<W> {
    /// Writes the header at once, so a bad path or a full disk is known before the engine
    /// takes the recording.
    pub(super) fn new(out: W, request: &RecordingRequest) -> Result<Self, RecordError> {
        let config = RecorderConfig {
            format: request.format,
            channels: request.channels,
            trim: request.trim_silence,
            ..RecorderConfig::default()
        };
        Ok(Recording {
            recorder: Recorder::new(out, config)?,
            path: request.path.clone(),
            channels: request.channels,
            max_ms: request.max_ms,
            silence_timeout_ms: request.silence_timeout_ms,
            caller_activity: EnergyDetector::default(),
        })
    }

    /// Whether the frame this leg sends is needed (to record it when not bridged).
    pub(super) fn wants_sent(&self) -> bool {
        self.channels != Channels::Caller
    }

    /// One frame per side; `Some` once the recording should end by itself.
    pub(super) fn push(
        &mut self,
        caller: &[i16],
        called: &[i16],
    ) -> Result<Option<FinishedBy>, RecordError> {
        if self.silence_timeout_ms.is_some() {
            self.caller_activity.process(caller);
        }
        let (caller, called) = match self.channels {
            // An unused side is not copied into the file or the mix.
            Channels::Caller => (caller, &[][..]),
            Channels::Called => (&[][..], called),
            Channels::Mixed | Channels::Stereo => (caller, called),
        };
        self.recorder.push(caller, called)?;
        if self
            .max_ms
            .is_some_and(|max| self.recorder.received_ms() >= max)
        {
            return Ok(Some(FinishedBy::MaxLength));
        }
        if self
            .silence_timeout_ms
            .is_some_and(|t| t > 0 && self.caller_activity.quiet_run_ms() >= t)
        {
            return Ok(Some(FinishedBy::Silence));
        }
        Ok(None)
    }

    pub(super) fn path(&self) -> &PathBuf {
        &self.path
    }

    pub(super) fn finish(self, by: FinishedBy) -> Result<(W, RecordingDone), RecordError> {
        let (out, summary) = self.recorder.finish()?;
        Ok((
            out,
            RecordingDone {
                path: self.path,
                duration_ms: summary.duration_ms,
                received_ms: summary.received_ms,
                bytes: summary.bytes,
                voice_heard: summary.voice_heard,
                finished_by: by,
            },
        ))
    }
}

/// What to watch the far end's audio for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectKind {
    /// Pause with `silence`/`noise`: `None` turns a detection off. With both on, the pause
    /// waits for sound, then for the silence after it (the reference's example).
    Pause {
        min_noise_ms: Option<u32>,
        min_silence_ms: Option<u32>,
    },
    /// The Amd verb.
    Amd(AmdParams),
}

/// What a detection found; reported once, then the detection ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    Pause(PauseEnd),
    Amd(AmdOutcome),
}

pub(super) enum Detector {
    Pause(PauseWatch),
    Amd(Amd),
}

impl Detector {
    pub(super) fn new(kind: DetectKind) -> Self {
        match kind {
            DetectKind::Pause {
                min_noise_ms,
                min_silence_ms,
            } => Detector::Pause(PauseWatch::new(min_noise_ms, min_silence_ms)),
            DetectKind::Amd(params) => Detector::Amd(Amd::new(params)),
        }
    }

    /// One received frame, starting `at_ms` on the engine's clock.
    pub(super) fn frame(&mut self, at_ms: u64, samples: &[i16]) -> Option<Detection> {
        match self {
            Detector::Pause(watch) => watch.frame(samples).map(Detection::Pause),
            Detector::Amd(amd) => amd.frame(at_ms, samples).map(Detection::Amd),
        }
    }

    /// The call ended first: AMD answers HANGUP; a pause has nothing to say.
    pub(super) fn hangup(self) -> Option<Detection> {
        match self {
            Detector::Pause(_) => None,
            Detector::Amd(mut amd) => Some(Detection::Amd(amd.hangup())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use media::detect::AmdStatus;
    use std::io::Cursor;

    fn voice() -> Vec<i16> {
        (0..160)
            .map(|i| ((i as f64 * 0.3).sin() * 8000.0) as i16)
            .collect()
    }

    fn request(channels: Channels) -> RecordingRequest {
        RecordingRequest {
            path: PathBuf::from("/tmp/x.wav"),
            format: RecordFormat::Wav,
            channels,
            trim_silence: false,
            max_ms: None,
            silence_timeout_ms: None,
        }
    }

    #[test]
    fn max_length_ends_the_recording_after_that_much_audio() {
        let mut r = Recording::new(
            Cursor::new(Vec::new()),
            &RecordingRequest {
                max_ms: Some(1000),
                ..request(Channels::Caller)
            },
        )
        .unwrap();
        let v = voice();
        for i in 0..49 {
            assert_eq!(r.push(&v, &[]).unwrap(), None, "frame {i}");
        }
        assert_eq!(r.push(&v, &[]).unwrap(), Some(FinishedBy::MaxLength));
        let (out, done) = r.finish(FinishedBy::MaxLength).unwrap();
        assert_eq!(done.duration_ms, 1000);
        assert_eq!(done.bytes, out.into_inner().len() as u64);
        assert_eq!(done.bytes, 44 + 8000 * 2);
    }

    #[test]
    fn silence_timeout_counts_quiet_after_speech() {
        let mut r = Recording::new(
            Cursor::new(Vec::new()),
            &RecordingRequest {
                silence_timeout_ms: Some(2000),
                trim_silence: true,
                ..request(Channels::Mixed)
            },
        )
        .unwrap();
        let (v, quiet) = (voice(), vec![0i16; 160]);
        for _ in 0..50 {
            assert_eq!(r.push(&v, &quiet).unwrap(), None);
        }
        let ended = (1..=200).find_map(|i| r.push(&quiet, &quiet).unwrap().map(|e| (i, e)));
        // The detector's 200 ms hangover, then 2 s of silence.
        let (frames, by) = ended.unwrap();
        assert_eq!(by, FinishedBy::Silence);
        assert!((100..=112).contains(&frames), "ended after {frames} frames");
        let (_, done) = r.finish(by).unwrap();
        assert!(done.voice_heard);
        // Trailing silence is trimmed: about the second of speech (plus hangover) is kept.
        assert!(
            done.duration_ms >= 1000 && done.duration_ms < 1400,
            "{done:?}"
        );
    }

    #[test]
    fn silence_timeout_is_the_callers_even_while_we_send_audio() {
        let mut r = Recording::new(
            Cursor::new(Vec::new()),
            &RecordingRequest {
                silence_timeout_ms: Some(1000),
                ..request(Channels::Mixed)
            },
        )
        .unwrap();
        let (v, quiet) = (voice(), vec![0i16; 160]);
        let ended = (1..=200).find_map(|i| r.push(&quiet, &v).unwrap().map(|e| (i, e)));
        assert_eq!(ended, Some((50, FinishedBy::Silence)));
    }

    #[test]
    fn stereo_puts_the_caller_left_and_the_called_party_right() {
        let mut r = Recording::new(Cursor::new(Vec::new()), &request(Channels::Stereo)).unwrap();
        r.push(&[100; 160], &[-200; 160]).unwrap();
        let (out, done) = r.finish(FinishedBy::Stopped).unwrap();
        let bytes = out.into_inner();
        let data = &bytes[bytes.len() - 640..];
        assert_eq!(i16::from_le_bytes([data[0], data[1]]), 100);
        assert_eq!(i16::from_le_bytes([data[2], data[3]]), -200);
        assert_eq!(done.duration_ms, 20);
        assert_eq!(done.finished_by, FinishedBy::Stopped);
    }

    #[test]
    fn a_caller_only_recording_ignores_what_we_send() {
        let mut r = Recording::new(Cursor::new(Vec::new()), &request(Channels::Caller)).unwrap();
        assert!(!r.wants_sent());
        r.push(&[0; 160], &[5000; 160]).unwrap();
        let (out, _) = r.finish(FinishedBy::Stopped).unwrap();
        assert!(out.into_inner()[44..].iter().all(|b| *b == 0));
    }

    #[test]
    fn pause_detection_reports_silence_once_it_has_lasted() {
        let mut d = Detector::new(DetectKind::Pause {
            min_noise_ms: None,
            min_silence_ms: Some(500),
        });
        let quiet = [0i16; 160];
        let at = (0..100u64).find_map(|i| d.frame(i * 20, &quiet).map(|e| (i, e)));
        assert_eq!(at, Some((24, Detection::Pause(PauseEnd::Silence))));
    }

    #[test]
    fn amd_reports_a_machine_on_initial_silence_and_hangup_otherwise() {
        let params = AmdParams {
            initial_silence_ms: 1000,
            ..AmdParams::default()
        };
        let mut d = Detector::new(DetectKind::Amd(params));
        let quiet = [0i16; 160];
        let found = (0..100u64).find_map(|i| d.frame(i * 20, &quiet));
        match found {
            Some(Detection::Amd(o)) => {
                assert_eq!(o.status, AmdStatus::Machine);
                assert!(o.cause.starts_with("INITIALSILENCE-"), "{}", o.cause);
            }
            other => panic!("{other:?}"),
        }
        let d = Detector::new(DetectKind::Amd(params));
        match d.hangup() {
            Some(Detection::Amd(o)) => assert_eq!(o.status, AmdStatus::Hangup),
            other => panic!("{other:?}"),
        }
    }
}
