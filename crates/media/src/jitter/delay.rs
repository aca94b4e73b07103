//! How late packets arrive relative to each other, over the last second or so: the spread
//! between the earliest and the latest sets the buffer's target delay.

/// 64 packets: a little over a second of 20 ms packets, long enough to see a burst of
/// jitter, short enough to give the delay back soon after it passes.
const WINDOW: usize = 64;

#[derive(Debug, Clone)]
pub(super) struct DelayWindow {
    /// Arrival minus timestamp, in samples: a constant plus the packet's network delay.
    relative: [i64; WINDOW],
    len: usize,
    next: usize,
    min: i64,
    max: i64,
    /// How many of the values held equal `min` and `max`: the window is only rescanned when
    /// the last of them leaves it, so that most packets read none of its 512 bytes (one
    /// session's among a thousand, which would otherwise all be pulled into the cache).
    at_min: usize,
    at_max: usize,
}

impl DelayWindow {
    pub(super) fn new() -> Self {
        DelayWindow {
            relative: [0; WINDOW],
            len: 0,
            next: 0,
            min: 0,
            max: 0,
            at_min: 0,
            at_max: 0,
        }
    }

    pub(super) fn clear(&mut self) {
        *self = Self::new();
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn push(&mut self, relative: i64) {
        if self.len == WINDOW {
            let evicted = self.relative[self.next];
            self.at_min -= usize::from(evicted == self.min);
            self.at_max -= usize::from(evicted == self.max);
        } else {
            self.len += 1;
        }
        self.relative[self.next] = relative;
        self.next = (self.next + 1) % WINDOW;
        if self.len == 1 || self.at_min == 0 || self.at_max == 0 {
            // The first value, or the last of an extreme has left: a full rescan (64
            // compares, simpler than a monotonic deque).
            let live = &self.relative[..self.len];
            self.min = live.iter().copied().min().unwrap_or(relative);
            self.max = live.iter().copied().max().unwrap_or(relative);
            self.at_min = live.iter().filter(|v| **v == self.min).count();
            self.at_max = live.iter().filter(|v| **v == self.max).count();
            return;
        }
        if relative < self.min {
            (self.min, self.at_min) = (relative, 1);
        } else if relative == self.min {
            self.at_min += 1;
        }
        if relative > self.max {
            (self.max, self.at_max) = (relative, 1);
        } else if relative == self.max {
            self.at_max += 1;
        }
    }

    /// The earliest relative arrival: the delay of the fastest recent packet.
    pub(super) fn min(&self) -> i64 {
        self.min
    }

    pub(super) fn spread(&self) -> i64 {
        self.max - self.min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_follow_the_window_exactly() {
        let mut window = DelayWindow::new();
        let mut all = Vec::new();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for i in 0..5000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Few distinct values (as packets on a steady clock give), then many, then a step.
            let value = match i / 1000 {
                0 => (state % 3) as i64 * 80,
                1 => (state % 1000) as i64 - 500,
                2 => 7,
                3 => 10_000 + (state % 5) as i64,
                _ => -(i as i64),
            };
            window.push(value);
            all.push(value);
            let live = &all[all.len().saturating_sub(WINDOW)..];
            let (min, max) = (*live.iter().min().unwrap(), *live.iter().max().unwrap());
            assert_eq!((window.min(), window.spread()), (min, max - min), "at {i}");
        }
        window.clear();
        assert!(window.is_empty());
        window.push(-3);
        assert_eq!((window.min(), window.spread()), (-3, 0));
    }
}
