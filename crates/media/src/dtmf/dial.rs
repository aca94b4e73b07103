//! Dial strings ("1234#", ",,12") and their timing, cut into 20 ms ticks so the RTP and the
//! in-band senders walk through the same schedule.

use crate::{CALL_RATE, FRAME_SAMPLES};

const FRAME_MS: u32 = FRAME_SAMPLES as u32 * 1000 / CALL_RATE;

/// How long keys and pauses last. The defaults are FlexML's: each `,` in `sendDigits` or a
/// `Dtmf` verb waits half a second; 100 ms tones with 100 ms gaps are what most gateways send
/// and are well above every receiver's minimum (40 ms tone, 40 ms gap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialTiming {
    pub tone_ms: u32,
    pub gap_ms: u32,
    pub pause_ms: u32,
}

impl Default for DialTiming {
    fn default() -> Self {
        DialTiming {
            tone_ms: 100,
            gap_ms: 100,
            pause_ms: 500,
        }
    }
}

/// Longest tone one RFC 4733 event can describe without splitting it into segments: its
/// duration field is 16 bits of 8 kHz timestamp units.
pub const MAX_TONE_MS: u32 = 8000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DialError {
    #[error("{ch:?} at position {position} is not a DTMF key (0-9 * # A-D) or ','")]
    InvalidCharacter { ch: char, position: usize },
    #[error("a {0} ms tone is longer than the {MAX_TONE_MS} ms one telephone-event can carry")]
    ToneTooLong(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialStep {
    /// A key, by its RFC 4733 event code.
    Key(u8),
    Pause,
}

pub fn parse(digits: &str) -> Result<Vec<DialStep>, DialError> {
    digits
        .chars()
        .enumerate()
        .map(|(position, ch)| match ch {
            ',' => Ok(DialStep::Pause),
            _ => super::event_for_digit(ch)
                .map(DialStep::Key)
                .ok_or(DialError::InvalidCharacter { ch, position }),
        })
        .collect()
}

/// What one 20 ms tick of a dial string holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialTick {
    /// Frame `index` (from 0) of the `ticks` frames of a key's tone.
    Tone {
        code: u8,
        index: u32,
        ticks: u32,
    },
    Silence,
}

/// A dial string as a sequence of ticks: each key is its tone then its gap; each pause is
/// silence. Durations round up to whole frames because the session sends whole frames.
#[derive(Debug, Clone)]
pub struct DialSchedule {
    steps: Vec<DialStep>,
    tone_ticks: u32,
    gap_ticks: u32,
    pause_ticks: u32,
    step: usize,
    pos: u32,
}

impl DialSchedule {
    pub fn new(digits: &str, timing: DialTiming) -> Result<Self, DialError> {
        if timing.tone_ms > MAX_TONE_MS {
            return Err(DialError::ToneTooLong(timing.tone_ms));
        }
        Ok(DialSchedule {
            steps: parse(digits)?,
            // A zero-length tone would be a key press nobody can hear or count.
            tone_ticks: timing.tone_ms.div_ceil(FRAME_MS).max(1),
            gap_ticks: timing.gap_ms.div_ceil(FRAME_MS),
            pause_ticks: timing.pause_ms.div_ceil(FRAME_MS),
            step: 0,
            pos: 0,
        })
    }

    fn step_ticks(&self, step: DialStep) -> u32 {
        match step {
            DialStep::Key(_) => self.tone_ticks + self.gap_ticks,
            DialStep::Pause => self.pause_ticks,
        }
    }

    /// The tick `next` would return, without taking it.
    pub fn peek(&self) -> Option<DialTick> {
        let mut step = self.step;
        let mut pos = self.pos;
        loop {
            let current = *self.steps.get(step)?;
            if pos < self.step_ticks(current) {
                return Some(match current {
                    DialStep::Key(code) if pos < self.tone_ticks => DialTick::Tone {
                        code,
                        index: pos,
                        ticks: self.tone_ticks,
                    },
                    _ => DialTick::Silence,
                });
            }
            step += 1;
            pos = 0;
        }
    }
}

impl Iterator for DialSchedule {
    type Item = DialTick;

    fn next(&mut self) -> Option<DialTick> {
        let tick = self.peek()?;
        // `peek` may have skipped empty steps (zero-length pauses); catch up with it.
        while let Some(step) = self.steps.get(self.step) {
            if self.pos < self.step_ticks(*step) {
                break;
            }
            self.step += 1;
            self.pos = 0;
        }
        self.pos += 1;
        Some(tick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_a_key() {
        assert_eq!(
            parse("12x"),
            Err(DialError::InvalidCharacter {
                ch: 'x',
                position: 2
            })
        );
        assert_eq!(
            parse("1,#d").unwrap(),
            vec![
                DialStep::Key(1),
                DialStep::Pause,
                DialStep::Key(11),
                DialStep::Key(15)
            ]
        );
        let long = DialTiming {
            tone_ms: 9000,
            ..DialTiming::default()
        };
        assert!(matches!(
            DialSchedule::new("1", long),
            Err(DialError::ToneTooLong(9000))
        ));
    }

    #[test]
    fn ticks_follow_the_timing() {
        let ticks: Vec<DialTick> = DialSchedule::new(",5", DialTiming::default())
            .unwrap()
            .collect();
        assert_eq!(ticks.len(), 25 + 5 + 5);
        assert!(ticks[..25].iter().all(|t| *t == DialTick::Silence));
        assert_eq!(
            ticks[25],
            DialTick::Tone {
                code: 5,
                index: 0,
                ticks: 5
            }
        );
        assert!(ticks[30..].iter().all(|t| *t == DialTick::Silence));
    }

    #[test]
    fn zero_pauses_take_no_time() {
        let timing = DialTiming {
            tone_ms: 30,
            gap_ms: 0,
            pause_ms: 0,
        };
        let ticks: Vec<DialTick> = DialSchedule::new(",1,,2,", timing).unwrap().collect();
        assert_eq!(ticks.len(), 4, "{ticks:?}");
    }
}
