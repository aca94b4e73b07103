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
}

impl DelayWindow {
    pub(super) fn new() -> Self {
        DelayWindow {
            relative: [0; WINDOW],
            len: 0,
            next: 0,
            min: 0,
            max: 0,
        }
    }

    pub(super) fn clear(&mut self) {
        *self = Self::new();
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn push(&mut self, relative: i64) {
        self.relative[self.next] = relative;
        self.next = (self.next + 1) % WINDOW;
        self.len = (self.len + 1).min(WINDOW);
        // A full rescan is 64 compares: cheaper and simpler than a monotonic deque.
        let live = &self.relative[..self.len];
        self.min = live.iter().copied().min().unwrap_or(relative);
        self.max = live.iter().copied().max().unwrap_or(relative);
    }

    /// The earliest relative arrival: the delay of the fastest recent packet.
    pub(super) fn min(&self) -> i64 {
        self.min
    }

    pub(super) fn spread(&self) -> i64 {
        self.max - self.min
    }
}
