//! Where a playback stands, for PlayOffset: time played, plus skip, plus the forward/rewind
//! keys pressed, minus the time spent paused.

use super::PlayControl;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct PlayClock {
    started: Instant,
    skip_secs: i64,
    moved_secs: i64,
    paused_at: Option<Instant>,
    paused_total: Duration,
}

impl PlayClock {
    pub fn new(now: Instant, skip_secs: u32) -> Self {
        PlayClock {
            started: now,
            skip_secs: skip_secs as i64,
            moved_secs: 0,
            paused_at: None,
            paused_total: Duration::ZERO,
        }
    }

    fn played(&self, now: Instant) -> Duration {
        let paused_now = self
            .paused_at
            .map(|p| now.saturating_duration_since(p))
            .unwrap_or_default();
        now.saturating_duration_since(self.started)
            .saturating_sub(self.paused_total + paused_now)
    }

    /// Seconds from the start of the file.
    pub fn offset_secs(&self, now: Instant) -> u64 {
        (self.played(now).as_secs() as i64 + self.skip_secs + self.moved_secs).max(0) as u64
    }

    pub fn apply(&mut self, now: Instant, control: &PlayControl) {
        match control {
            PlayControl::Forward { secs, .. } => self.moved_secs += *secs as i64,
            PlayControl::Rewind { secs } => {
                // Rewinding past the start stops at the start.
                let position = self.offset_secs(now) as i64;
                self.moved_secs -= (*secs as i64).min(position);
            }
            PlayControl::Pause { .. } => {
                self.paused_at.get_or_insert(now);
            }
            PlayControl::Restart => {
                if let Some(p) = self.paused_at.take() {
                    self.paused_total += now.saturating_duration_since(p);
                }
            }
            PlayControl::Information { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_rewind_and_pause_move_the_offset() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut c = PlayClock::new(t0, 5);
        assert_eq!(c.offset_secs(at(10)), 15);
        c.apply(
            at(10),
            &PlayControl::Forward {
                secs: 60,
                strict: false,
            },
        );
        assert_eq!(c.offset_secs(at(10)), 75);
        c.apply(at(12), &PlayControl::Rewind { secs: 500 });
        assert_eq!(c.offset_secs(at(12)), 0, "rewind stops at the start");
        c.apply(at(12), &PlayControl::Pause { audio_url: None });
        assert_eq!(c.offset_secs(at(30)), 0, "paused time does not count");
        c.apply(at(30), &PlayControl::Restart);
        assert_eq!(c.offset_secs(at(34)), 4);
    }
}
