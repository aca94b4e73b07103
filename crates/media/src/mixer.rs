//! The conference mixer, sans-IO: each tick, every participant may bring one 20 ms frame;
//! the loudest few are mixed, each of them hears the mix without themselves, and everyone
//! else hears one shared mix. Cost is one level measurement per frame brought plus a
//! handful of frame additions, whatever the room's size: what keeps 1,000 listeners cheap.
//!
//! Who speaks changes with hysteresis, so the set does not flap between two similar voices
//! or drop a speaker pausing between words: a speaker stays at least `min_dwell` frames and
//! while heard in the last `hangover` frames, and a newcomer displaces the quietest speaker
//! only when louder by `switch_ratio`.

use crate::FRAME_SAMPLES;

pub type Frame = [i16; FRAME_SAMPLES];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixerConfig {
    pub max_speakers: usize,
    /// Mean absolute level (0-32768) a participant must reach to count as speaking; line
    /// noise and breathing sit under it.
    pub min_level: u32,
    pub hangover: u32,
    pub min_dwell: u32,
    pub switch_ratio: f32,
}

impl Default for MixerConfig {
    fn default() -> Self {
        MixerConfig {
            max_speakers: 3,
            min_level: 150,
            hangover: 15,
            min_dwell: 10,
            switch_ratio: 1.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u32);

#[derive(Debug, Clone, Default)]
struct Slot {
    in_use: bool,
    /// Smoothed mean absolute level.
    level: u32,
    /// The tick `level` was last updated, so absent participants decay lazily.
    seen: u64,
    speaker: Option<usize>,
}

#[derive(Debug, Clone)]
struct Speaker {
    id: ParticipantId,
    frame: Frame,
    present: bool,
    since: u64,
    last_loud: u64,
}

#[derive(Debug, Clone)]
pub struct Mixer {
    config: MixerConfig,
    slots: Vec<Slot>,
    free: Vec<u32>,
    tick: u64,
    speakers: Vec<Speaker>,
    /// The loudest non-speakers of this tick, with their frames: who may join.
    candidates: Vec<(u32, ParticipantId, Frame)>,
    shared: Frame,
    minus: Vec<Frame>,
    active: Vec<ParticipantId>,
}

fn mean_abs(frame: &Frame) -> u32 {
    frame.iter().map(|s| s.unsigned_abs() as u32).sum::<u32>() / FRAME_SAMPLES as u32
}

fn saturate(v: i32) -> i16 {
    v.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

impl Mixer {
    pub fn new(config: MixerConfig) -> Self {
        Mixer {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            tick: 0,
            speakers: Vec::with_capacity(config.max_speakers),
            candidates: Vec::with_capacity(config.max_speakers),
            shared: [0; FRAME_SAMPLES],
            minus: Vec::with_capacity(config.max_speakers),
            active: Vec::with_capacity(config.max_speakers),
        }
    }

    pub fn join(&mut self) -> ParticipantId {
        let slot = Slot {
            in_use: true,
            seen: self.tick,
            ..Slot::default()
        };
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                ParticipantId(i)
            }
            None => {
                self.slots.push(slot);
                ParticipantId(self.slots.len() as u32 - 1)
            }
        }
    }

    pub fn leave(&mut self, id: ParticipantId) {
        let Some(slot) = self.slots.get_mut(id.0 as usize).filter(|s| s.in_use) else {
            return;
        };
        *slot = Slot::default();
        self.free.push(id.0);
        self.speakers.retain(|s| s.id != id);
        self.reindex();
    }

    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn reindex(&mut self) {
        for (i, s) in self.speakers.iter().enumerate() {
            self.slots[s.id.0 as usize].speaker = Some(i);
        }
        self.active.clear();
        self.active.extend(self.speakers.iter().map(|s| s.id));
    }

    /// Mixes one tick from the frames participants brought; absent ones are silent.
    pub fn mix<'a>(&mut self, inputs: impl IntoIterator<Item = (ParticipantId, &'a Frame)>) {
        self.tick += 1;
        let tick = self.tick;
        for s in &mut self.speakers {
            s.present = false;
        }
        self.candidates.clear();
        for (id, frame) in inputs {
            let Some(slot) = self.slots.get_mut(id.0 as usize).filter(|s| s.in_use) else {
                continue;
            };
            let level = mean_abs(frame);
            decay(slot, tick - 1);
            // Fast attack, slow release: a voice counts at once and fades over ~8 frames.
            slot.level = if level > slot.level {
                (slot.level + level).div_ceil(2)
            } else {
                slot.level - (slot.level - level) / 8
            };
            slot.seen = tick;
            if let Some(i) = slot.speaker {
                let s = &mut self.speakers[i];
                s.frame = *frame;
                s.present = true;
                if slot.level >= self.config.min_level {
                    s.last_loud = tick;
                }
            } else if slot.level >= self.config.min_level {
                offer(
                    &mut self.candidates,
                    self.config.max_speakers,
                    slot.level,
                    id,
                    frame,
                );
            }
        }
        for s in &self.speakers {
            decay(&mut self.slots[s.id.0 as usize], tick);
        }
        self.select(tick);
        self.render();
    }

    fn select(&mut self, tick: u64) {
        let cfg = self.config;
        let slots = &self.slots;
        let before = self.speakers.len();
        self.speakers.retain(|s| {
            slots[s.id.0 as usize].level >= cfg.min_level
                || tick - s.last_loud < cfg.hangover as u64
                || tick - s.since < cfg.min_dwell as u64
        });
        let mut changed = before != self.speakers.len();
        self.candidates
            .sort_unstable_by_key(|c| std::cmp::Reverse(c.0));
        for (level, id, frame) in self.candidates.drain(..) {
            let joining = Speaker {
                id,
                frame,
                present: true,
                since: tick,
                last_loud: tick,
            };
            if self.speakers.len() < cfg.max_speakers {
                self.speakers.push(joining);
                changed = true;
                continue;
            }
            let weakest = self
                .speakers
                .iter()
                .enumerate()
                .filter(|(_, s)| tick - s.since >= cfg.min_dwell as u64)
                .min_by_key(|(_, s)| slots[s.id.0 as usize].level);
            match weakest {
                Some((i, s))
                    if level as f32 > slots[s.id.0 as usize].level as f32 * cfg.switch_ratio =>
                {
                    self.speakers[i] = joining;
                    changed = true;
                }
                _ => break,
            }
        }
        if changed {
            for slot in self.slots.iter_mut() {
                slot.speaker = None;
            }
            self.reindex();
        }
    }

    fn render(&mut self) {
        let mut sum = [0i32; FRAME_SAMPLES];
        for s in self.speakers.iter().filter(|s| s.present) {
            for (acc, x) in sum.iter_mut().zip(&s.frame) {
                *acc += *x as i32;
            }
        }
        for (out, v) in self.shared.iter_mut().zip(&sum) {
            *out = saturate(*v);
        }
        self.minus.resize(self.speakers.len(), [0; FRAME_SAMPLES]);
        for (minus, s) in self.minus.iter_mut().zip(&self.speakers) {
            if !s.present {
                *minus = self.shared;
                continue;
            }
            for ((out, v), own) in minus.iter_mut().zip(&sum).zip(&s.frame) {
                *out = saturate(*v - *own as i32);
            }
        }
    }

    /// What `id` hears this tick: the mix without their own voice if they are speaking.
    pub fn output(&self, id: ParticipantId) -> &Frame {
        match self.slots.get(id.0 as usize).and_then(|s| s.speaker) {
            Some(i) => &self.minus[i],
            None => &self.shared,
        }
    }

    /// What every non-speaker hears.
    pub fn shared(&self) -> &Frame {
        &self.shared
    }

    pub fn active_speakers(&self) -> &[ParticipantId] {
        &self.active
    }

    pub fn is_speaking(&self, id: ParticipantId) -> bool {
        self.slots
            .get(id.0 as usize)
            .is_some_and(|s| s.speaker.is_some())
    }
}

/// Brings an absent participant's level down as if silence had been heard since last seen.
fn decay(slot: &mut Slot, now: u64) {
    for _ in 0..now.saturating_sub(slot.seen).min(64) {
        slot.level -= slot.level / 8;
    }
    slot.seen = slot.seen.max(now);
}

/// Keeps the `k` loudest offers, copying a frame only when it makes the cut.
fn offer(
    candidates: &mut Vec<(u32, ParticipantId, Frame)>,
    k: usize,
    level: u32,
    id: ParticipantId,
    frame: &Frame,
) {
    if candidates.len() < k {
        candidates.push((level, id, *frame));
        return;
    }
    if let Some(min) = candidates.iter_mut().min_by_key(|c| c.0) {
        if level > min.0 {
            *min = (level, id, *frame);
        }
    }
}
