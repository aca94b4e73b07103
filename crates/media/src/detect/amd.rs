//! Answering machine detection for the FlexML Amd verb, after Asterisk's app_amd, whose
//! parameters the verb's attributes are and whose cause strings it returns.
//!
//! A frame is silent when the mean absolute value of its samples is below `silenceThreshold`
//! (0..32767), as in Asterisk's DSP. Then, per frame, in this order:
//! - total time ≥ `totalAnalysisTime` → NOTSURE, `TOOLONG-<total>`;
//! - silent frames: after `betweenWordSilence` of silence the next voice starts a new word;
//!   before any word, silence ≥ `initialSilence` → MACHINE, `INITIALSILENCE-<silence>-<max>`;
//!   after the first word, silence ≥ `afterGreetingSilence` → HUMAN,
//!   `HUMAN-<silence>-<afterGreetingSilence>`;
//! - voiced frames: a run of voice reaching `minimumWordLength` after a between-word silence is
//!   a word; a run reaching `maximumWordLength` → MACHINE, `MAXWORDLENGTH-<run>`; more words
//!   than `maximumNumberOfWords` → MACHINE, `MAXWORDS-<words>-<max>`; voice in the greeting
//!   reaching `greeting` → MACHINE, `LONGGREETING-<voice>-<greeting>`;
//! - the call ends first → HANGUP, `HANGUP-<total>`.
//!
//! Durations "exceeded" count as reached at equality, as the reference's example result
//! `HUMAN-500-500` for `afterGreetingSilence="500"` shows. Two departures from app_amd, both
//! from the reference's wording: the word count must *exceed* `maximumNumberOfWords` (app_amd
//! stops when it reaches it), and a word at the very start counts (app_amd begins "in a word",
//! so speech from the first frame is not counted until a pause has come).
//!
//! Time comes from the frames' timestamps: a gap (lost or suppressed packets) counts as silence,
//! as app_amd counts comfort-noise frames.

use super::samples_ms;

/// The Amd verb's attributes, in milliseconds unless noted. Defaults are callflow's (the
/// reference gives none; these are app_amd's classic values with three words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmdParams {
    pub initial_silence_ms: u32,
    pub greeting_ms: u32,
    pub after_greeting_silence_ms: u32,
    pub total_analysis_time_ms: u32,
    pub minimum_word_length_ms: u32,
    pub between_word_silence_ms: u32,
    pub maximum_number_of_words: u32,
    pub maximum_word_length_ms: u32,
    /// Mean absolute sample value (0..32767) at or above which a frame is voice.
    pub silence_threshold: u32,
}

impl Default for AmdParams {
    fn default() -> Self {
        AmdParams {
            initial_silence_ms: 2500,
            greeting_ms: 1500,
            after_greeting_silence_ms: 800,
            total_analysis_time_ms: 5000,
            minimum_word_length_ms: 100,
            between_word_silence_ms: 50,
            maximum_number_of_words: 3,
            maximum_word_length_ms: 5000,
            silence_threshold: 256,
        }
    }
}

/// The `AMDStatus` request parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmdStatus {
    Human,
    Machine,
    NotSure,
    Hangup,
}

impl AmdStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AmdStatus::Human => "HUMAN",
            AmdStatus::Machine => "MACHINE",
            AmdStatus::NotSure => "NOTSURE",
            AmdStatus::Hangup => "HANGUP",
        }
    }
}

impl std::fmt::Display for AmdStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `AMDStatus` and `AMDCause`, and when (ms since the first frame) it was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmdOutcome {
    pub status: AmdStatus,
    pub cause: String,
    pub at_ms: u32,
}

#[derive(Debug, Clone)]
pub struct Amd {
    p: AmdParams,
    start_ms: Option<u64>,
    /// Where the next frame is expected to start, relative to `start_ms`.
    next_ms: u64,
    total_ms: u32,
    silence_ms: u32,
    voice_run_ms: u32,
    voice_total_ms: u32,
    words: u32,
    in_word: bool,
    in_greeting: bool,
    outcome: Option<AmdOutcome>,
}

impl Amd {
    pub fn new(params: AmdParams) -> Self {
        Amd {
            p: params,
            start_ms: None,
            next_ms: 0,
            total_ms: 0,
            silence_ms: 0,
            voice_run_ms: 0,
            voice_total_ms: 0,
            words: 0,
            in_word: false,
            in_greeting: false,
            outcome: None,
        }
    }

    pub fn outcome(&self) -> Option<&AmdOutcome> {
        self.outcome.as_ref()
    }

    /// Words counted so far.
    pub fn words(&self) -> u32 {
        self.words
    }

    /// One received frame starting at `at_ms` (any clock, in ms). Gives the outcome once
    /// decided, and the same outcome for any later call.
    pub fn frame(&mut self, at_ms: u64, samples: &[i16]) -> Option<AmdOutcome> {
        if self.outcome.is_some() {
            return self.outcome.clone();
        }
        let start = *self.start_ms.get_or_insert(at_ms);
        let rel = at_ms.saturating_sub(start);
        if rel > self.next_ms {
            let gap = rel - self.next_ms;
            if let Some(o) = self.no_audio(u32::try_from(gap).unwrap_or(u32::MAX)) {
                return Some(o);
            }
        }
        let ms = samples_ms(samples.len());
        self.next_ms = rel.max(self.next_ms) + ms as u64;
        let silent = mean_abs(samples) < self.p.silence_threshold as u64;
        self.step(ms, silent)
    }

    /// The call ended before a decision.
    pub fn hangup(&mut self) -> AmdOutcome {
        if let Some(o) = &self.outcome {
            return o.clone();
        }
        self.decide(AmdStatus::Hangup, format!("HANGUP-{}", self.total_ms))
    }

    /// A stretch with no audio at all, counted as silence in 20 ms steps.
    fn no_audio(&mut self, mut ms: u32) -> Option<AmdOutcome> {
        while ms > 0 {
            let step = ms.min(20);
            ms -= step;
            if let Some(o) = self.step(step, true) {
                return Some(o);
            }
        }
        None
    }

    fn step(&mut self, ms: u32, silent: bool) -> Option<AmdOutcome> {
        let p = self.p;
        self.total_ms = self.total_ms.saturating_add(ms);
        if self.total_ms >= p.total_analysis_time_ms {
            return Some(self.decide(AmdStatus::NotSure, format!("TOOLONG-{}", self.total_ms)));
        }
        if silent {
            self.silence_ms = self.silence_ms.saturating_add(ms);
            if self.silence_ms >= p.between_word_silence_ms {
                self.in_word = false;
                self.voice_run_ms = 0;
            }
            if !self.in_greeting && self.silence_ms >= p.initial_silence_ms {
                let cause = format!(
                    "INITIALSILENCE-{}-{}",
                    self.silence_ms, p.initial_silence_ms
                );
                return Some(self.decide(AmdStatus::Machine, cause));
            }
            if self.in_greeting && self.silence_ms >= p.after_greeting_silence_ms {
                let cause = format!("HUMAN-{}-{}", self.silence_ms, p.after_greeting_silence_ms);
                return Some(self.decide(AmdStatus::Human, cause));
            }
            return None;
        }
        self.silence_ms = 0;
        self.voice_run_ms = self.voice_run_ms.saturating_add(ms);
        self.voice_total_ms = self.voice_total_ms.saturating_add(ms);
        if self.voice_run_ms >= p.minimum_word_length_ms && !self.in_word {
            self.words += 1;
            self.in_word = true;
        }
        if self.voice_run_ms >= p.maximum_word_length_ms {
            let cause = format!("MAXWORDLENGTH-{}", self.voice_run_ms);
            return Some(self.decide(AmdStatus::Machine, cause));
        }
        if self.words > p.maximum_number_of_words {
            let cause = format!("MAXWORDS-{}-{}", self.words, p.maximum_number_of_words);
            return Some(self.decide(AmdStatus::Machine, cause));
        }
        if self.in_greeting && self.voice_total_ms >= p.greeting_ms {
            let cause = format!("LONGGREETING-{}-{}", self.voice_total_ms, p.greeting_ms);
            return Some(self.decide(AmdStatus::Machine, cause));
        }
        if self.voice_run_ms >= p.minimum_word_length_ms {
            self.in_greeting = true;
        }
        None
    }

    fn decide(&mut self, status: AmdStatus, cause: String) -> AmdOutcome {
        let outcome = AmdOutcome {
            status,
            cause,
            at_ms: self.total_ms,
        };
        self.outcome = Some(outcome.clone());
        outcome
    }
}

fn mean_abs(samples: &[i16]) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    samples.iter().map(|s| s.unsigned_abs() as u64).sum::<u64>() / samples.len() as u64
}
