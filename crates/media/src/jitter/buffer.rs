//! The adaptive jitter buffer. Packets are kept in timestamp order (which is sequence order
//! within a stream, and also right when a sender changes its packet size); one frame is
//! played per `pop`. The playout point trails the arrivals by a target delay that follows the
//! spread of recent network delays, between the configured bounds:
//!
//! - on an underrun while playout runs ahead of the target it waits (concealing) instead of
//!   declaring the packet lost, which is how the delay grows mid-stream;
//! - when it trails the target by more than two frames it skips a quiet frame (any frame past
//!   four), which is how the delay shrinks and how sender clock drift is absorbed;
//! - at a talkspurt start (marker bit, or after concealment has faded out) playout is
//!   re-anchored at the current target, where a gap is inaudible.

use super::delay::DelayWindow;
use super::plc::Concealer;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A relative delay this far (1 s) from the recent ones is not network jitter but a sender
/// that reset its timestamps: start over rather than wait or drop for seconds.
const RESYNC_JUMP: i64 = 8000;
/// Late packets in a row after which the stream is taken to have stepped to a longer delay.
const LATE_RESYNC: u32 = 5;
/// Peak level under which a frame may be skipped unnoticed (about -30 dBov).
const QUIET: i16 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    pub min_delay: Duration,
    pub max_delay: Duration,
    pub clock_rate: u32,
    /// Packets held at most; beyond it the oldest go, so a stalled reader cannot grow memory.
    pub capacity: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            clock_rate: crate::CALL_RATE,
            capacity: 50,
        }
    }
}

/// The RTP header fields the buffer orders and times packets by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    pub ssrc: u32,
    pub sequence: u16,
    pub timestamp: u32,
    pub marker: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    Buffered,
    /// Its time to play had passed: dropped.
    Late,
    Duplicate,
    /// No samples in it.
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// All received audio.
    Audio,
    /// Partly or wholly made up by loss concealment.
    Concealed,
    /// Nothing playing: before the first packet, between talkspurts, or after a fade-out.
    Silence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitterStats {
    pub pushed: u64,
    pub late: u64,
    pub duplicates: u64,
    pub overflowed: u64,
    pub frames_audio: u64,
    pub frames_concealed: u64,
    pub frames_silent: u64,
    /// Frames dropped to shorten the delay.
    pub skipped: u64,
    /// Frames waited for to lengthen it.
    pub stalled: u64,
    pub resyncs: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    ts: i64,
    samples: Vec<i16>,
}

impl Entry {
    fn end(&self) -> i64 {
        self.ts + self.samples.len() as i64
    }
}

#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterConfig,
    entries: VecDeque<Entry>,
    /// Sample vectors of played packets, reused so the steady state does not allocate.
    pool: Vec<Vec<i16>>,
    ssrc: Option<u32>,
    /// Timestamp unwrapping: the last timestamp seen and its extended value.
    last_ts: u32,
    last_ext: i64,
    epoch: Option<Instant>,
    window: DelayWindow,
    playing: bool,
    next_ts: i64,
    late_run: u32,
    concealer: Concealer,
    stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        Self::new(JitterConfig::default())
    }
}

impl JitterBuffer {
    pub fn new(config: JitterConfig) -> Self {
        JitterBuffer {
            config,
            entries: VecDeque::with_capacity(config.capacity + 1),
            pool: Vec::new(),
            ssrc: None,
            last_ts: 0,
            last_ext: 0,
            epoch: None,
            window: DelayWindow::new(),
            playing: false,
            next_ts: 0,
            late_run: 0,
            concealer: Concealer::new(),
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    fn samples(&self, d: Duration) -> i64 {
        // Whole seconds and the rest apart: the same floor as over the whole in nanoseconds,
        // without 128-bit division (a library call) several times a packet.
        let rate = u64::from(self.config.clock_rate);
        let whole = d.as_secs().saturating_mul(rate);
        let part = u64::from(d.subsec_nanos()) * rate / 1_000_000_000;
        whole.saturating_add(part) as i64
    }

    fn target_samples(&self) -> i64 {
        let frame_half = self.config.clock_rate as i64 / 100;
        let lo = self.samples(self.config.min_delay);
        let hi = self.samples(self.config.max_delay).max(lo);
        (self.window.spread() + frame_half).clamp(lo, hi)
    }

    /// The delay playout aims for now, from the recent spread of network delays.
    pub fn target_delay(&self) -> Duration {
        let nanos = self.target_samples() as u128 * 1_000_000_000 / self.config.clock_rate as u128;
        Duration::from_nanos(nanos as u64)
    }

    /// Audio held, from the playout point to the end of the newest packet.
    pub fn buffered(&self) -> Duration {
        let from = match (self.playing, self.entries.front()) {
            (true, _) => self.next_ts,
            (false, Some(e)) => e.ts,
            (false, None) => return Duration::ZERO,
        };
        let end = self.entries.back().map_or(from, Entry::end);
        let samples = (end - from).max(0) as u128;
        Duration::from_nanos((samples * 1_000_000_000 / self.config.clock_rate as u128) as u64)
    }

    fn now_samples(&self, now: Instant) -> i64 {
        self.epoch
            .map_or(0, |e| self.samples(now.saturating_duration_since(e)))
    }

    /// The timestamp that should be playing at `now`: arrival of the fastest recent packet
    /// plus the target delay.
    fn ideal(&self, now: Instant) -> i64 {
        self.now_samples(now) - self.window.min() - self.target_samples()
    }

    fn recycle_front(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            let mut v = e.samples;
            v.clear();
            self.pool.push(v);
        }
    }

    fn flush(&mut self) {
        while !self.entries.is_empty() {
            self.recycle_front();
        }
        self.playing = false;
        self.late_run = 0;
    }

    fn discard_before(&mut self, ts: i64) {
        while self.entries.front().is_some_and(|e| e.end() <= ts) {
            self.recycle_front();
        }
    }

    /// Takes one packet's decoded audio, arrived at `now`.
    pub fn push(&mut self, now: Instant, info: PacketInfo, pcm: &[i16]) -> PushOutcome {
        if pcm.is_empty() {
            return PushOutcome::Empty;
        }
        self.stats.pushed += 1;
        if self.ssrc != Some(info.ssrc) {
            // A new source has its own timestamps and timing: nothing carries over but the
            // concealer, which smooths the switch.
            if self.ssrc.is_some() {
                self.flush();
                self.window.clear();
                self.stats.resyncs += 1;
            }
            self.ssrc = Some(info.ssrc);
            self.last_ts = info.timestamp;
            self.last_ext = info.timestamp as i64;
        }
        self.epoch.get_or_insert(now);
        let ext = self.last_ext + info.timestamp.wrapping_sub(self.last_ts) as i32 as i64;
        self.last_ts = info.timestamp;
        self.last_ext = ext;
        let relative = self.now_samples(now) - ext;
        if !self.window.is_empty() && (relative - self.window.min()).abs() > RESYNC_JUMP {
            self.flush();
            self.window.clear();
            self.stats.resyncs += 1;
        }
        self.window.push(relative);
        let end = ext + pcm.len() as i64;
        if info.marker && self.playing && self.entries.front().is_none_or(|e| e.ts >= ext) {
            // A talkspurt starts with nothing before it to play: re-anchor at the target.
            self.playing = false;
        }
        if self.playing && end <= self.next_ts {
            self.stats.late += 1;
            self.late_run += 1;
            if self.late_run < LATE_RESYNC {
                return PushOutcome::Late;
            }
            self.flush();
            self.stats.resyncs += 1;
        } else {
            self.late_run = 0;
        }
        let at = self.entries.iter().rposition(|e| e.ts <= ext);
        if at.is_some_and(|i| self.entries[i].ts == ext) {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        let mut samples = self.pool.pop().unwrap_or_default();
        samples.extend_from_slice(pcm);
        let entry = Entry { ts: ext, samples };
        match at {
            Some(i) => self.entries.insert(i + 1, entry),
            None => self.entries.push_front(entry),
        }
        while self.entries.len() > self.config.capacity.max(1) {
            self.recycle_front();
            self.stats.overflowed += 1;
        }
        PushOutcome::Buffered
    }

    /// Plays the next frame (`out.len()` samples, 160 for 20 ms) at `now`.
    pub fn pop(&mut self, now: Instant, out: &mut [i16]) -> FrameKind {
        let n = out.len() as i64;
        if !self.playing {
            self.try_start(now);
        }
        if !self.playing {
            self.concealer.conceal(out);
            self.stats.frames_silent += 1;
            return FrameKind::Silence;
        }
        let drift = self.next_ts - self.ideal(now);
        self.discard_before(self.next_ts);
        if drift > n / 2 && !self.covers(self.next_ts, n) {
            // Early, and the packet is not here: wait for it rather than call it lost.
            self.concealer.conceal(out);
            self.stats.stalled += 1;
            self.stats.frames_concealed += 1;
            return FrameKind::Concealed;
        }
        if drift < -2 * n && (drift < -4 * n || self.is_quiet(self.next_ts, n)) {
            self.next_ts += n;
            self.discard_before(self.next_ts);
            self.stats.skipped += 1;
        }
        let kind = self.fill(out);
        self.next_ts += n;
        self.discard_before(self.next_ts);
        if kind == FrameKind::Silence && self.entries.is_empty() {
            // Faded out with nothing waiting: the next packet starts a new talkspurt.
            self.playing = false;
        }
        match kind {
            FrameKind::Audio => self.stats.frames_audio += 1,
            FrameKind::Concealed => self.stats.frames_concealed += 1,
            FrameKind::Silence => self.stats.frames_silent += 1,
        }
        kind
    }

    fn try_start(&mut self, now: Instant) {
        let ideal = self.ideal(now);
        if self.entries.front().is_none_or(|e| e.ts > ideal) {
            return;
        }
        // A backlog (nobody popped for a while) is dropped down to the target delay.
        while self.entries.len() > 1 && self.entries.front().is_some_and(|e| e.end() <= ideal) {
            self.recycle_front();
        }
        if let Some(front) = self.entries.front() {
            self.next_ts = front.ts;
            self.playing = true;
        }
    }

    fn covers(&self, from: i64, n: i64) -> bool {
        let mut cursor = from;
        for e in &self.entries {
            if e.ts > cursor {
                return false;
            }
            cursor = cursor.max(e.end());
            if cursor >= from + n {
                return true;
            }
        }
        false
    }

    fn is_quiet(&self, from: i64, n: i64) -> bool {
        self.entries
            .iter()
            .take_while(|e| e.ts < from + n)
            .flat_map(|e| {
                let lo = (from - e.ts).clamp(0, e.samples.len() as i64) as usize;
                let hi = (from + n - e.ts).clamp(0, e.samples.len() as i64) as usize;
                e.samples[lo..hi].iter()
            })
            .all(|s| s.unsigned_abs() < QUIET as u16)
    }

    /// Copies the frame at `next_ts` into `out`, concealing what is missing.
    fn fill(&mut self, out: &mut [i16]) -> FrameKind {
        let from = self.next_ts;
        let end = from + out.len() as i64;
        let mut cursor = from;
        let (mut heard, mut missed) = (false, false);
        for e in self.entries.iter() {
            if e.ts >= end {
                break;
            }
            if e.end() <= cursor {
                continue;
            }
            if e.ts > cursor {
                let gap = &mut out[(cursor - from) as usize..(e.ts - from) as usize];
                self.concealer.conceal(gap);
                missed = true;
                cursor = e.ts;
            }
            let stop = e.end().min(end);
            let src = &e.samples[(cursor - e.ts) as usize..(stop - e.ts) as usize];
            let dst = &mut out[(cursor - from) as usize..(stop - from) as usize];
            dst.copy_from_slice(src);
            self.concealer.good(dst);
            heard = true;
            cursor = stop;
        }
        if cursor < end {
            self.concealer.conceal(&mut out[(cursor - from) as usize..]);
            missed = true;
        }
        match (heard, missed) {
            (true, false) => FrameKind::Audio,
            (false, true) if self.concealer.is_silent() => FrameKind::Silence,
            _ => FrameKind::Concealed,
        }
    }
}
