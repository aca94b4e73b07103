//! Play on a call beyond playing a prompt whole: `skip` and `timeLimit`, `background`, and the
//! control keys: forward and rewind move the playing prompt, pause holds it (looping
//! `pauseAudioUrl` if given), restart resumes it, and information plays its audio in between,
//! after which the prompt goes on where it was.

use super::Leg;
use callflow::interpreter::PlayControl;
use media::session::{PlaybackControl, Source};
use media::{Prompt, PromptId};
use std::future::Future;

/// Play's `skip` and `timeLimit` (0: none), in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cut {
    pub skip_secs: u32,
    pub limit_secs: u32,
}

impl Cut {
    pub fn prompt(self, id: PromptId, source: Source, loops: u32, gap_secs: u32) -> Prompt {
        let rate = media::CALL_RATE as usize;
        let prompt = Prompt::of(id, source, loops, gap_secs as usize * rate)
            .starting_at(self.skip_secs as usize * rate);
        match self.limit_secs {
            0 => prompt,
            secs => prompt.limited_to(secs as usize * rate),
        }
    }
}

impl Leg {
    /// `background="true"`: plays while the next verbs run, until one of them plays
    /// something. The interpreter does not wait for it, so its end and failure are only logged.
    pub(super) fn play_in_background(
        &mut self,
        load: impl Future<Output = Result<Source, String>> + Send + 'static,
        loops: u32,
        gap_secs: u32,
        cut: Cut,
    ) {
        self.stop_background();
        let id = self.fresh_prompt_id();
        self.background_prompt = Some(id);
        let (ctx, media_id, call_sid) = (self.ctx.clone(), self.media_id, self.call_sid.clone());
        self.background_task = Some(tokio::spawn(async move {
            match load.await {
                Ok(source) => ctx
                    .media
                    .play(media_id, cut.prompt(id, source, loops, gap_secs)),
                Err(e) => tracing::info!(%call_sid, error = %e, "background audio cannot play"),
            }
        }));
    }

    /// Ends background audio (a background Play, or Record's backgroundAudioUrl).
    pub(super) fn stop_background(&mut self) {
        if let Some(task) = self.background_task.take() {
            task.abort();
        }
        if self.background_prompt.take().is_some() {
            self.ctx.media.stop(self.media_id);
        }
    }

    pub(super) fn play_control(&mut self, control: PlayControl) {
        let Some(prompt) = self.current_prompt else {
            self.note(format!("play control {control:?} with nothing playing"));
            return;
        };
        let rate = media::CALL_RATE as i64;
        let (ctx, media_id) = (self.ctx.clone(), self.media_id);
        let seek = |secs: u32, forward: bool, strict: bool| PlaybackControl::Seek {
            prompt,
            samples: if forward { 1 } else { -1 } * secs as i64 * rate,
            strict,
        };
        match control {
            PlayControl::Forward { secs, strict } => {
                ctx.media.control(media_id, seek(secs, true, strict))
            }
            PlayControl::Rewind { secs } => ctx.media.control(media_id, seek(secs, false, false)),
            PlayControl::Restart => ctx
                .media
                .control(media_id, PlaybackControl::Resume { prompt }),
            PlayControl::Pause { audio_url } => {
                ctx.media
                    .control(media_id, PlaybackControl::Pause { prompt });
                let Some(url) = audio_url else { return };
                let call_sid = self.call_sid.clone();
                tokio::spawn(async move {
                    match ctx.prompts.play_whole(&url).await {
                        // Applies only while still paused: a quick resume wins.
                        Ok(audio) => ctx
                            .media
                            .control(media_id, PlaybackControl::Hold { prompt, audio }),
                        Err(e) => {
                            tracing::info!(%call_sid, error = %e, "pauseAudioUrl cannot play")
                        }
                    }
                });
            }
            PlayControl::Information { audio_url } => {
                let id = self.fresh_prompt_id();
                let call_sid = self.call_sid.clone();
                tokio::spawn(async move {
                    match ctx.prompts.play_whole(&audio_url).await {
                        Ok(audio) => ctx.media.control(
                            media_id,
                            PlaybackControl::Interject(Prompt::audio(id, audio, 1, 0)),
                        ),
                        Err(e) => {
                            tracing::info!(%call_sid, error = %e, "informationAudioUrl cannot play")
                        }
                    }
                });
            }
        }
    }
}
