//! What a session plays: a queue of prompts, the one playing, and what an IVR caller's keys do
//! to it (seek forward and back, pause with optional hold audio, a prompt played in between
//! after which the interrupted one goes on where it was).

use super::growing::GrowingAudio;
use super::{MediaEvent, PromptId};
use crate::FRAME_SAMPLES;
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Source {
    Samples(Arc<[i16]>),
    Silence {
        samples: usize,
    },
    /// Audio still being downloaded and decoded: playback starts with the first samples.
    Growing(Arc<GrowingAudio>),
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub id: PromptId,
    pub source: Source,
    /// How many times to play; 0 means until stopped.
    pub loops: u32,
    /// Silence between repetitions, in samples.
    pub gap_samples: usize,
    /// Where the first repetition starts (Play's `skip`), in samples.
    pub start_sample: usize,
    /// The most that is played, repetitions and gaps included (Play's `timeLimit`), in samples.
    pub limit_samples: Option<usize>,
}

impl Prompt {
    pub fn audio(id: PromptId, samples: Arc<[i16]>, loops: u32, gap_samples: usize) -> Self {
        Prompt::of(id, Source::Samples(samples), loops, gap_samples)
    }

    pub fn of(id: PromptId, source: Source, loops: u32, gap_samples: usize) -> Self {
        Prompt {
            id,
            source,
            loops,
            gap_samples,
            start_sample: 0,
            limit_samples: None,
        }
    }

    pub fn silence(id: PromptId, millis: u64) -> Self {
        let samples = (millis * crate::CALL_RATE as u64 / 1000) as usize;
        Prompt::of(id, Source::Silence { samples }, 1, 0)
    }

    pub fn starting_at(mut self, sample: usize) -> Self {
        self.start_sample = sample;
        self
    }

    pub fn limited_to(mut self, samples: usize) -> Self {
        self.limit_samples = Some(samples);
        self
    }
}

/// A change to the prompt that is playing. Each names the prompt it is meant for and does
/// nothing if another one plays by the time it arrives.
#[derive(Debug, Clone)]
pub enum PlaybackControl {
    /// Moves by `samples` (negative: back; the start is as far back as it goes). Forward past
    /// the end ends this repetition, unless `strict`, which ignores the move.
    Seek {
        prompt: PromptId,
        samples: i64,
        strict: bool,
    },
    /// Holds the position; silence is sent until `Hold` audio or `Resume`.
    Pause {
        prompt: PromptId,
    },
    /// Audio looped while the prompt is paused.
    Hold {
        prompt: PromptId,
        audio: Arc<[i16]>,
    },
    Resume {
        prompt: PromptId,
    },
    /// Plays a prompt now; the one playing goes on where it was when that one ends.
    Interject(Prompt),
}

#[derive(Debug)]
struct Playing {
    prompt: Prompt,
    pos: usize,
    plays_done: u32,
    gap_left: usize,
    /// Samples sent, gaps included, for `limit_samples`.
    played: usize,
    paused: bool,
    hold: Option<(Arc<[i16]>, usize)>,
}

impl Playing {
    fn new(prompt: Prompt) -> Playing {
        Playing {
            pos: prompt.start_sample,
            prompt,
            plays_done: 0,
            gap_left: 0,
            played: 0,
            paused: false,
            hold: None,
        }
    }

    /// Copies prompt audio from `pos`; `None` when a download has not caught up.
    fn read(&self, out: &mut [i16]) -> Option<(usize, bool)> {
        let pos = self.pos;
        let whole = |len: usize| {
            let n = out.len().min(len.saturating_sub(pos));
            (n, pos + n >= len)
        };
        match &self.prompt.source {
            Source::Samples(s) => {
                let (n, end) = whole(s.len());
                out[..n].copy_from_slice(&s[pos..pos + n]);
                Some((n, end))
            }
            Source::Silence { samples } => {
                let (n, end) = whole(*samples);
                out[..n].fill(0);
                Some((n, end))
            }
            Source::Growing(audio) => {
                let read = audio.read(pos, out);
                match read.complete_len {
                    Some(len) => Some((read.copied, pos + read.copied >= len)),
                    None if read.copied == 0 => None,
                    None => Some((read.copied, false)),
                }
            }
        }
    }

    fn reached_limit(&self) -> bool {
        self.prompt.limit_samples.is_some_and(|l| self.played >= l)
    }

    fn seek(&mut self, samples: i64, strict: bool) {
        let (len, complete) = match &self.prompt.source {
            Source::Samples(s) => (s.len(), true),
            Source::Silence { samples } => (*samples, true),
            Source::Growing(audio) => audio.seekable_len(),
        };
        let target = (self.pos as i64).saturating_add(samples).max(0);
        if !complete {
            // Ahead of the download: silence until it gets there (or the end, if it is shorter).
            self.pos = target as usize;
            return;
        }
        if samples > 0 && strict && target >= len as i64 {
            return;
        }
        self.pos = target.min(len as i64) as usize;
    }

    fn fill_hold(&mut self, out: &mut [i16]) -> bool {
        let Some((audio, at)) = self.hold.as_mut().filter(|(a, _)| !a.is_empty()) else {
            out.fill(0);
            return false;
        };
        for slot in out.iter_mut() {
            *slot = audio[*at];
            *at = (*at + 1) % audio.len();
        }
        true
    }
}

#[derive(Debug, Default)]
pub(super) struct Player {
    queue: VecDeque<Prompt>,
    current: Option<Playing>,
    /// Prompts interrupted by an `Interject`, latest last.
    suspended: Vec<Playing>,
}

impl Player {
    pub fn play(&mut self, prompt: Prompt) {
        self.queue.push_back(prompt);
    }

    /// Drops everything; returns the ids (not reported as finished).
    pub fn stop(&mut self) -> Vec<PromptId> {
        let mut ids: Vec<PromptId> = self
            .current
            .take()
            .map(|p| p.prompt.id)
            .into_iter()
            .collect();
        ids.extend(self.suspended.drain(..).rev().map(|p| p.prompt.id));
        ids.extend(self.queue.drain(..).map(|p| p.id));
        ids
    }

    pub fn is_playing(&self) -> bool {
        self.current.is_some() || !self.suspended.is_empty() || !self.queue.is_empty()
    }

    /// Applies a control; false when it was for a prompt that is not playing (or ignored).
    pub fn control(&mut self, control: PlaybackControl) -> bool {
        if let PlaybackControl::Interject(prompt) = control {
            if let Some(current) = self.current.take() {
                self.suspended.push(current);
            }
            self.current = Some(Playing::new(prompt));
            return true;
        }
        let id = match &control {
            PlaybackControl::Seek { prompt, .. }
            | PlaybackControl::Pause { prompt }
            | PlaybackControl::Hold { prompt, .. }
            | PlaybackControl::Resume { prompt } => *prompt,
            PlaybackControl::Interject(_) => return false,
        };
        let Some(playing) = self.current.as_mut().filter(|p| p.prompt.id == id) else {
            return false;
        };
        match control {
            PlaybackControl::Seek {
                samples, strict, ..
            } => playing.seek(samples, strict),
            PlaybackControl::Pause { .. } => playing.paused = true,
            PlaybackControl::Hold { audio, .. } if playing.paused => {
                playing.hold = Some((audio, 0))
            }
            PlaybackControl::Hold { .. } => return false,
            PlaybackControl::Resume { .. } => {
                playing.paused = false;
                playing.hold = None;
            }
            PlaybackControl::Interject(_) => {}
        }
        true
    }

    /// Fills `frame`; returns whether any prompt audio (not silence) is in it.
    pub fn fill(
        &mut self,
        frame: &mut [i16; FRAME_SAMPLES],
        events: &mut VecDeque<MediaEvent>,
    ) -> bool {
        let mut filled = 0;
        let mut talking = false;
        while filled < FRAME_SAMPLES {
            if self.current.is_none() {
                self.current = match self.suspended.pop() {
                    Some(resumed) => Some(resumed),
                    None => match self.queue.pop_front() {
                        Some(prompt) => Some(Playing::new(prompt)),
                        None => break,
                    },
                };
            }
            let Some(playing) = self.current.as_mut() else {
                break;
            };
            if playing.paused {
                talking |= playing.fill_hold(&mut frame[filled..]);
                return talking;
            }
            let mut want = FRAME_SAMPLES - filled;
            if let Some(limit) = playing.prompt.limit_samples {
                if playing.reached_limit() {
                    self.finish(events);
                    continue;
                }
                want = want.min(limit - playing.played);
            }
            if playing.gap_left > 0 {
                let n = want.min(playing.gap_left);
                frame[filled..filled + n].fill(0);
                playing.gap_left -= n;
                playing.played += n;
                filled += n;
                if playing.reached_limit() {
                    self.finish(events);
                }
                continue;
            }
            let Some((n, at_end)) = playing.read(&mut frame[filled..filled + want]) else {
                break; // the download has not caught up: silence until it does
            };
            talking |= n > 0 && !matches!(playing.prompt.source, Source::Silence { .. });
            playing.pos += n;
            playing.played += n;
            filled += n;
            if playing.reached_limit() {
                self.finish(events);
            } else if at_end {
                playing.plays_done += 1;
                let loops = playing.prompt.loops;
                if loops != 0 && playing.plays_done >= loops {
                    self.finish(events);
                } else {
                    let was_empty = playing.pos == 0 || n == 0 && playing.plays_done > 1;
                    playing.pos = 0;
                    playing.gap_left = playing.prompt.gap_samples;
                    if was_empty && playing.gap_left == 0 {
                        // An empty prompt looped forever would spin; end it.
                        self.finish(events);
                    }
                }
            }
        }
        frame[filled..].fill(0);
        talking
    }

    fn finish(&mut self, events: &mut VecDeque<MediaEvent>) {
        if let Some(done) = self.current.take() {
            events.push_back(MediaEvent::PromptFinished(done.prompt.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prompt whose sample `i` is `i + 1`, so a frame tells where playback stands.
    fn ramp(len: usize) -> Arc<[i16]> {
        (1..=len as i16).collect::<Vec<_>>().into()
    }

    struct Run {
        player: Player,
        events: VecDeque<MediaEvent>,
    }

    impl Run {
        fn new(prompt: Prompt) -> Run {
            let mut player = Player::default();
            player.play(prompt);
            Run {
                player,
                events: VecDeque::new(),
            }
        }

        /// The first sample of the next frame.
        fn tick(&mut self) -> i16 {
            let mut frame = [0i16; FRAME_SAMPLES];
            self.player.fill(&mut frame, &mut self.events);
            frame[0]
        }

        fn finished(&mut self) -> Vec<PromptId> {
            self.events
                .drain(..)
                .filter_map(|e| match e {
                    MediaEvent::PromptFinished(id) => Some(id),
                    _ => None,
                })
                .collect()
        }
    }

    #[test]
    fn skip_starts_the_first_repetition_later_and_the_limit_cuts_the_whole() {
        let prompt = Prompt::audio(1, ramp(1600), 0, 0)
            .starting_at(800)
            .limited_to(2400);
        let mut run = Run::new(prompt);
        assert_eq!(run.tick(), 801);
        for _ in 0..4 {
            run.tick();
        }
        assert_eq!(run.tick(), 1, "the second repetition starts at the start");
        for _ in 0..8 {
            run.tick();
        }
        assert!(run.finished().is_empty());
        run.tick();
        assert_eq!(run.finished(), vec![1], "2400 samples = 15 frames");
    }

    #[test]
    fn seek_moves_within_bounds_and_strict_forward_past_the_end_is_ignored() {
        let mut run = Run::new(Prompt::audio(1, ramp(8000), 1, 0));
        run.tick();
        let seek = |samples, strict| PlaybackControl::Seek {
            prompt: 1,
            samples,
            strict,
        };
        assert!(run.player.control(seek(4000, false)));
        assert_eq!(run.tick(), 4161);
        run.player.control(seek(-100_000, false));
        assert_eq!(run.tick(), 1, "rewinding stops at the start");
        run.player.control(seek(100_000, true));
        assert_eq!(run.tick(), 161, "strict: a move past the end is ignored");
        let other = PlaybackControl::Seek {
            prompt: 2,
            samples: 10,
            strict: false,
        };
        assert!(
            !run.player.control(other),
            "another prompt's control does nothing"
        );
        run.player.control(seek(100_000, false));
        run.tick();
        assert_eq!(run.finished(), vec![1], "forward past the end ends it");
    }

    #[test]
    fn pause_holds_the_position_and_plays_hold_audio_until_resumed() {
        let mut run = Run::new(Prompt::audio(1, ramp(8000), 1, 0));
        run.tick();
        run.player.control(PlaybackControl::Pause { prompt: 1 });
        assert_eq!(run.tick(), 0, "silence while paused");
        run.player.control(PlaybackControl::Hold {
            prompt: 1,
            audio: vec![-5i16; 100].into(),
        });
        assert_eq!(run.tick(), -5);
        run.player.control(PlaybackControl::Resume { prompt: 1 });
        assert_eq!(run.tick(), 161, "goes on where it stopped");
        assert!(!run.player.control(PlaybackControl::Hold {
            prompt: 1,
            audio: vec![-5i16; 100].into(),
        }));
    }

    #[test]
    fn an_interjected_prompt_plays_then_the_interrupted_one_goes_on() {
        let mut run = Run::new(Prompt::audio(1, ramp(8000), 1, 0));
        run.tick();
        run.player.control(PlaybackControl::Interject(Prompt::audio(
            2,
            vec![-9i16; 320].into(),
            1,
            0,
        )));
        assert_eq!(run.tick(), -9);
        assert_eq!(run.tick(), -9);
        assert_eq!(run.tick(), 161);
        assert_eq!(run.finished(), vec![2]);
        assert_eq!(run.player.stop(), vec![1]);
    }

    #[test]
    fn a_growing_source_plays_what_has_arrived_and_waits_for_the_rest() {
        let audio = GrowingAudio::new();
        audio.append(&ramp(200));
        let mut run = Run::new(Prompt::of(1, Source::Growing(audio.clone()), 1, 0));
        assert_eq!(run.tick(), 1);
        assert_eq!(run.tick(), 161, "40 samples, then silence");
        assert_eq!(run.tick(), 0, "nothing more yet: silence, not the end");
        assert!(run.finished().is_empty());
        audio.append(&ramp(300)[200..]);
        audio.finish();
        assert_eq!(run.tick(), 201);
        run.tick();
        assert_eq!(run.finished(), vec![1]);
    }

    #[test]
    fn an_empty_prompt_looped_forever_ends() {
        let mut run = Run::new(Prompt::audio(1, ramp(0), 0, 0));
        run.tick();
        assert_eq!(run.finished(), vec![1]);
    }
}
