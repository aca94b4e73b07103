//! How a leg runs recordings: the Record verb's beep, background audio and finish key,
//! session recordings, and handing finished files to storage off the call loop.

use super::recording::{self, Active};
use super::{ready, Leg, Pending, Stored};
use crate::media_engine::RecordingDone;
use callflow::interpreter::RecordOutcome;
use callflow::model::Record;
use callflow::{Input, Output};
use std::path::PathBuf;

impl Leg {
    /// The Record verb (or `recordSession`): beep first if asked, then record.
    pub(super) fn record(&mut self, record: Record) -> Option<Pending> {
        let foreground = !record.record_session;
        if foreground && record.play_beep {
            let id = self.fresh_prompt_id();
            self.beeping = Some((id, record));
            return Some(Box::pin(async move {
                super::Step::PromptReady(Ok(recording::beep(id)))
            }));
        }
        self.begin_recording(record, foreground).map(ready)
    }

    /// Starts the engine's recording; a Record verb that cannot start is reported failed.
    pub(super) fn begin_recording(&mut self, record: Record, foreground: bool) -> Option<Input> {
        let (_, extension, _) = recording::file_format(&record);
        if record.file_format == "mp3" && !recording::MP3_ENCODER {
            self.note(
                "mp3 recordings are stored as WAV: this build has no mp3 encoder \
                 (the mp3-recording feature)"
                    .into(),
            );
        }
        let path = recording::temporary_path(&self.ctx.recordings_dir, &self.call_sid, extension);
        let request = recording::request(&record, path.clone(), foreground);
        // Before the engine creates the file, so that no recording is ever without one.
        let sidecar = recording::sidecar(&record, &self.call_sid, &self.account_sid);
        if let Err(e) = crate::recording_store::write_sidecar(&path, &sidecar) {
            self.note(format!(
                "the recording's sidecar cannot be written ({e}): a crash would lose it"
            ));
        }
        if let Err(e) = self.ctx.media.start_recording(self.media_id, &request) {
            self.note(format!("recording could not start: {e}"));
            let _ = std::fs::remove_file(crate::recording_store::sidecar_path(&path));
            return foreground.then(|| Input::RecordDone(recording::outcome("failed")));
        }
        if foreground {
            if let Some(url) = record.background_audio_url.clone() {
                self.start_background_audio(url, record.background_audio_loop);
            }
        }
        self.recordings.push(Active {
            path,
            record,
            foreground,
            key: None,
        });
        None
    }

    /// backgroundAudioUrl: fetched and played beside the recording, which does not hear it.
    fn start_background_audio(&mut self, url: String, loops: u32) {
        let id = self.fresh_prompt_id();
        self.background_prompt = Some(id);
        let ctx = self.ctx.clone();
        let media_id = self.media_id;
        let call_sid = self.call_sid.clone();
        self.background_task = Some(tokio::spawn(async move {
            match ctx.prompts.play(&url).await {
                Ok(audio) => ctx.media.play(
                    media_id,
                    media::Prompt::of(id, audio.into_source(), loops, 0),
                ),
                Err(e) => {
                    tracing::info!(%call_sid, error = %e, "background audio for the recording cannot play")
                }
            }
        }));
    }

    /// finishOnKey: the key pressed ends the Record verb's recording (or its beep).
    pub(super) fn stop_recording(&mut self, key: char) {
        if let Some(active) = self.recordings.iter_mut().find(|a| a.foreground) {
            active.key = Some(key);
            self.ctx.media.stop_recording(self.media_id);
        } else if self.beeping.take().is_some() {
            // Ended before it started: nothing was recorded.
            let outcome = RecordOutcome {
                digits: Some(key.to_string()),
                ..recording::outcome("absent")
            };
            let _ = self.stored.send(Stored {
                outcome,
                note: None,
                foreground: true,
            });
            self.storing += 1;
        }
    }

    /// The engine finished a file (or failed to): store it off the call loop.
    pub(super) fn recording_ended(&mut self, path: PathBuf, result: Result<RecordingDone, String>) {
        let Some(at) = self.recordings.iter().position(|a| a.path == path) else {
            return;
        };
        let active = self.recordings.remove(at);
        let foreground = active.foreground;
        if foreground {
            self.stop_background();
        }
        self.storing += 1;
        let ctx = self.ctx.clone();
        let account_sid = self.account_sid.clone();
        let stored = self.stored.clone();
        tokio::spawn(async move {
            let (outcome, note) = recording::conclude(&ctx, &account_sid, active, result).await;
            let _ = stored.send(Stored {
                outcome,
                note,
                foreground,
            });
        });
    }

    /// A stored recording's RecordDone, in the order the interpreter expects: a session
    /// recording ended by a Record verb (the engine keeps one per leg) waits for the verb's.
    pub fn on_stored(&mut self, stored: Stored) -> Vec<Input> {
        self.storing = self.storing.saturating_sub(1);
        if let Some(note) = stored.note {
            self.note(note);
        }
        let verb_pending = self.beeping.is_some() || self.recordings.iter().any(|a| a.foreground);
        if !stored.foreground && verb_pending {
            self.held.push(stored.outcome);
            return Vec::new();
        }
        std::iter::once(stored.outcome)
            .chain(self.held.drain(..))
            .map(Input::RecordDone)
            .collect()
    }

    /// Ends every recording (the call is ending); true if outcomes are still to come.
    pub fn stop_recordings(&mut self) -> bool {
        self.beeping = None;
        if !self.recordings.is_empty() {
            self.ctx.media.stop_recording(self.media_id);
        }
        self.recording_work_left()
    }

    pub fn recording_work_left(&self) -> bool {
        !self.recordings.is_empty() || self.storing > 0
    }

    /// What the interpreter asks for once the caller is gone: notifications still go out, and
    /// a Record action is requested with the recording (its answer is not run, as with
    /// Twilio); media and SIP outputs have no call to act on.
    pub fn perform_after_hangup(&mut self, out: Output) {
        match out {
            Output::Callback(req) => self.ctx.outbox.send(Some(&self.call_sid), "recording", req),
            Output::Fetch(req) => self.ctx.outbox.send(Some(&self.call_sid), "action", req),
            Output::Timeline(entry) => self.note(entry),
            other => {
                tracing::debug!(call_sid = %self.call_sid, ?other, "not performed: the call has ended")
            }
        }
    }
}
