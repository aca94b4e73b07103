//! Record on a call: what the media engine is asked to write, where the finished file is
//! stored, and what the interpreter is told. The engine writes a temporary WAV or µ-law file;
//! once it reports the recording stopped, the bytes become a storage File in the container
//! the app, the endpoint or the default names, published at `/f/{file_access_name}`.

use super::recording_audio;
use crate::media_engine::{FinishedBy, RecordingDone, RecordingRequest};
use crate::recording_store::{Sidecar, SIDECAR_VERSION};
use crate::CallContext;
use callflow::interpreter::RecordOutcome;
use callflow::model::Record;
use media::record::{Channels, RecordFormat};
use media::{Prompt, PromptId};
use std::path::{Path, PathBuf};
use store::StoredFileFields;

/// Record without `maxLength` stops after an hour (Twilio's default; the reference has none).
pub const DEFAULT_MAX_LENGTH_SECS: u64 = 3600;

/// A recording the engine is writing for this leg.
#[derive(Debug)]
pub struct Active {
    pub path: PathBuf,
    pub record: Record,
    /// The Record verb waits for it (`recordSession` does not).
    pub foreground: bool,
    /// The finishOnKey key that stopped it.
    pub key: Option<char>,
}

/// Whether `fileFormat="mp3"` gives MP3 files: only with LAME (LGPL), the opt-in
/// `mp3-recording` feature. Without it such recordings are stored as WAV (the timeline says so).
pub const MP3_ENCODER: bool = cfg!(feature = "mp3-recording");

/// How the verb's attributes map onto the engine's recording: (format, file extension of the
/// engine's file, MIME type of the stored File). MP3 is encoded from the engine's WAV when the
/// recording is stored.
pub fn file_format(record: &Record) -> (RecordFormat, &'static str, &'static str) {
    match record.file_format.as_str() {
        "ul" => (RecordFormat::Ulaw, "ul", "audio/basic"),
        "mp3" if MP3_ENCODER => (RecordFormat::Wav, "wav", "audio/mpeg"),
        _ => (RecordFormat::Wav, "wav", "audio/wav"),
    }
}

/// `direction`: `in` the caller, `out` what the caller hears. `any` is both sides mixed for a
/// session recording; a Record verb's own recording has only the caller to hear (a background
/// prompt plays to the caller but is not recorded, reference), so it records the caller.
fn channels(record: &Record, foreground: bool) -> Channels {
    match record.direction.as_str() {
        "in" => Channels::Caller,
        "out" => Channels::Called,
        _ if foreground => Channels::Caller,
        _ => Channels::Mixed,
    }
}

pub fn request(record: &Record, path: PathBuf, foreground: bool) -> RecordingRequest {
    // A session (or Dial) recording lasts as long as the call unless maxLength says otherwise.
    let max_secs = match record.max_length_secs {
        Some(secs) => Some(u64::from(secs)),
        None => foreground.then_some(DEFAULT_MAX_LENGTH_SECS),
    };
    RecordingRequest {
        path,
        format: file_format(record).0,
        channels: channels(record, foreground),
        trim_silence: record.trim != "do-not-trim",
        max_ms: max_secs.map(|s| s * 1000),
        // Only the Record verb ends on silence; a session recording lasts as long as the call.
        silence_timeout_ms: foreground.then_some(record.timeout_secs.saturating_mul(1000)),
    }
}

/// What storing the recording needs should the server die before the call stores it.
pub fn sidecar(record: &Record, call_sid: &str, account_sid: &str) -> Sidecar {
    let (_, extension, mime_type) = file_format(record);
    Sidecar {
        version: SIDECAR_VERSION,
        call_sid: call_sid.into(),
        account_sid: account_sid.into(),
        container_sid: record.container_sid.clone(),
        extension: extension.into(),
        mime_type: mime_type.into(),
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        recording_status_callback: record
            .recording_status_callback
            .as_ref()
            .map(|a| a.url.clone()),
    }
}

/// A fresh temporary path for the engine to write to.
pub fn temporary_path(dir: &Path, call_sid: &str, extension: &str) -> PathBuf {
    dir.join(format!(
        "{call_sid}-{}.{extension}",
        uuid::Uuid::new_v4().simple()
    ))
}

/// playBeep: 400 ms of 1 kHz, a little below full scale.
pub fn beep(id: PromptId) -> Prompt {
    let samples: Vec<i16> = (0..3200)
        .map(|i| {
            let t = i as f64 / 8000.0;
            (9000.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16
        })
        .collect();
    Prompt::audio(id, samples.into(), 1, 0)
}

/// A recording's outcome with no file behind it (failed, absent).
pub fn outcome(status: &str) -> RecordOutcome {
    RecordOutcome {
        status: status.into(),
        sid: String::new(),
        url: String::new(),
        duration_secs: 0,
        digits: None,
    }
}

/// Turns what the engine reported into a stored File and the interpreter's RecordDone.
/// The temporary file and its sidecar (`recording_store`) are removed in every case.
pub async fn conclude(
    ctx: &CallContext,
    account_sid: &str,
    active: Active,
    result: Result<RecordingDone, String>,
) -> (RecordOutcome, Option<String>) {
    let digits = active.key.map(String::from);
    let (outcome, note) = match result {
        Err(why) => (outcome("failed"), Some(format!("recording failed: {why}"))),
        Ok(done) => save(ctx, account_sid, &active, &done).await,
    };
    // The sidecar first: a crash between the two leaves a file without one, which the next
    // start discards rather than storing a second time.
    crate::recording_store::remove_sidecar(&active.path).await;
    let _ = tokio::fs::remove_file(&active.path).await;
    (RecordOutcome { digits, ..outcome }, note)
}

async fn save(
    ctx: &CallContext,
    account_sid: &str,
    active: &Active,
    done: &RecordingDone,
) -> (RecordOutcome, Option<String>) {
    let trimmed_away = active.record.trim != "do-not-trim" && !done.voice_heard;
    if done.duration_ms == 0 || trimmed_away {
        return (
            outcome("absent"),
            Some("recording absent: no audio was heard".into()),
        );
    }
    let stored = async {
        let bytes = tokio::fs::read(&active.path)
            .await
            .map_err(|e| format!("reading the recording: {e}"))?;
        if let Some(file_sid) = &active.record.file_sid {
            return recording_audio::into_existing_file(
                ctx,
                account_sid,
                &active.record,
                file_sid,
                bytes,
            )
            .await;
        }
        let (partner_sid, container_sid) = crate::recording_store::container_for(
            &ctx.store,
            account_sid,
            active.record.container_sid.as_deref(),
        )
        .await?;
        let bytes = recording_audio::new_file_bytes(&active.record, bytes).await?;
        let fields = StoredFileFields {
            name: String::new(),
            mime_type: file_format(&active.record).2.into(),
            publish: "file_sid".into(),
        };
        ctx.store
            .save_file(&partner_sid, &container_sid, &fields, bytes)
            .await
            .map_err(|e| format!("storing the recording in container {container_sid}: {e}"))
    }
    .await;
    match stored {
        Ok(file) => {
            let ended = match done.finished_by {
                FinishedBy::MaxLength => "maxLength reached",
                FinishedBy::Silence => "silence timeout",
                FinishedBy::Stopped => "stopped",
                FinishedBy::Hangup => "hang-up",
            };
            let note = format!(
                "recording {} stored: {} ms, {} bytes, ended by {ended}",
                file.file_sid, done.duration_ms, done.bytes
            );
            let outcome = RecordOutcome {
                status: "completed".into(),
                url: format!("{}/f/{}", ctx.http_base, file.file_access_name),
                sid: file.file_sid,
                duration_secs: (done.duration_ms + 500) / 1000,
                digits: None,
            };
            (outcome, Some(note))
        }
        Err(why) => (outcome("failed"), Some(format!("recording failed: {why}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(xml_attrs: &str) -> Record {
        let doc = format!("<Response><Record {xml_attrs}/></Response>");
        let parsed = callflow::flexml::parse(&doc).expect("valid FlexML");
        match parsed.verbs.into_iter().next() {
            Some(callflow::model::Verb::Record(r)) => r,
            other => panic!("not a Record: {other:?}"),
        }
    }

    #[test]
    fn the_verb_s_defaults_make_a_trimmed_caller_wav_ending_on_5_s_of_silence() {
        let r = request(&record(""), "x.wav".into(), true);
        assert_eq!(r.format, RecordFormat::Wav);
        assert_eq!(r.channels, Channels::Caller);
        assert!(r.trim_silence);
        assert_eq!(r.silence_timeout_ms, Some(5000));
        assert_eq!(r.max_ms, Some(3_600_000));
    }

    #[test]
    fn attributes_map_onto_the_engine_request() {
        let r = request(
            &record(
                r#"fileFormat="ul" direction="out" trim="do-not-trim" maxLength="7" timeout="2""#,
            ),
            "x.ul".into(),
            true,
        );
        assert_eq!(r.format, RecordFormat::Ulaw);
        assert_eq!(r.channels, Channels::Called);
        assert!(!r.trim_silence);
        assert_eq!((r.max_ms, r.silence_timeout_ms), (Some(7000), Some(2000)));
        // A session recording mixes both sides and does not stop on silence.
        let s = request(&record(r#"recordSession="true""#), "s.wav".into(), false);
        assert_eq!(s.channels, Channels::Mixed);
        assert_eq!((s.silence_timeout_ms, s.max_ms), (None, None));
        // mp3 is recorded as WAV, and stored as MP3 only with the encoder.
        let mp3 = file_format(&record(r#"fileFormat="mp3""#));
        assert_eq!(mp3.1, "wav");
        assert_eq!(mp3.2 == "audio/mpeg", MP3_ENCODER);
    }
}
