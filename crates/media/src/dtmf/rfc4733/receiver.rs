//! Turns the telephone-event packet stream into one `DigitStarted` and one `DigitEnded` per key
//! press. A press arrives as many packets sharing one RTP timestamp (updates with a growing
//! duration, then the end packet, normally sent three times), and the network may drop,
//! duplicate or reorder any of them.

use super::{Rfc4733Error, TelephoneEvent};
use crate::dtmf::DtmfEvent;

/// A packet this far behind the current event (in seconds of timestamp) is a late packet of an
/// earlier event and is dropped; further back than that, the far end has restarted its
/// timestamps and the packet starts a new event.
const LATE_WINDOW_SECS: u32 = 10;
/// Audio this long past the last known end of an event that never sent an end packet means the
/// end packets were lost: RFC 4733 senders update at least every 50 ms, so four missed updates
/// is a safe margin.
const EXPIRE_MS: u32 = 200;
/// A segment must have reached this duration before a following one can be its continuation
/// (RFC 4733 §2.5.1.3 splits events only when the 16-bit duration runs out).
const LONG_SEGMENT: u32 = 0xF000;

#[derive(Debug, Clone, Copy)]
struct Current {
    segment: u32,
    event: u8,
    ended: bool,
    /// Timestamp units covered by segments before the current one.
    earlier: u32,
    /// Longest duration seen in the current segment.
    duration: u16,
}

impl Current {
    fn total(&self) -> u32 {
        self.earlier.saturating_add(self.duration as u32)
    }
}

#[derive(Debug, Clone)]
pub struct TelephoneEventReceiver {
    clock_rate: u32,
    current: Option<Current>,
}

impl TelephoneEventReceiver {
    /// `clock_rate` is the telephone-event rate from the SDP (8000 beside G.711).
    pub fn new(clock_rate: u32) -> Self {
        TelephoneEventReceiver {
            clock_rate: clock_rate.max(1),
            current: None,
        }
    }

    /// Forgets the event in progress, for a new stream (another SSRC) from the far end.
    pub fn reset(&mut self) {
        self.current = None;
    }

    /// Takes one telephone-event payload and its packet's RTP timestamp.
    pub fn feed(
        &mut self,
        timestamp: u32,
        payload: &[u8],
        mut report: impl FnMut(DtmfEvent),
    ) -> Result<(), Rfc4733Error> {
        let ev = TelephoneEvent::parse(payload)?;
        let late_window = LATE_WINDOW_SECS.saturating_mul(self.clock_rate);
        if let Some(cur) = self.current.as_mut() {
            if timestamp == cur.segment {
                // Another packet of the event in progress; a different code under the same
                // timestamp is a confused sender, not a new press.
                if ev.event == cur.event {
                    cur.duration = cur.duration.max(ev.duration);
                    if ev.end && !cur.ended {
                        cur.ended = true;
                        end(cur, self.clock_rate, &mut report);
                    }
                }
                return Ok(());
            }
            let behind = cur.segment.wrapping_sub(timestamp);
            if behind < late_window {
                return Ok(());
            }
            let ahead = timestamp.wrapping_sub(cur.segment);
            if !cur.ended
                && ev.event == cur.event
                && cur.duration as u32 >= LONG_SEGMENT
                && (cur.duration as u32..=0xFFFF).contains(&ahead)
            {
                cur.earlier = cur.earlier.saturating_add(ahead);
                cur.segment = timestamp;
                cur.duration = ev.duration;
                if ev.end {
                    cur.ended = true;
                    end(cur, self.clock_rate, &mut report);
                }
                return Ok(());
            }
            if !cur.ended {
                // A new timestamp means the previous press is over, whether or not its end
                // packets made it.
                cur.ended = true;
                end(cur, self.clock_rate, &mut report);
            }
        }
        let cur = Current {
            segment: timestamp,
            event: ev.event,
            ended: ev.end,
            earlier: 0,
            duration: ev.duration,
        };
        if let Some(digit) = ev.digit() {
            report(DtmfEvent::DigitStarted(digit));
            if ev.end {
                end(&cur, self.clock_rate, &mut report);
            }
        }
        self.current = Some(cur);
        Ok(())
    }

    /// Takes the RTP timestamp of an audio packet from the same stream: audio well past the
    /// end of an unfinished event ends it, so a press whose end packets were all lost is still
    /// reported as ended without waiting for the next press.
    pub fn observe_audio(&mut self, timestamp: u32, mut report: impl FnMut(DtmfEvent)) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        if cur.ended {
            return;
        }
        let last_known_end = cur.segment.wrapping_add(cur.duration as u32);
        let past = timestamp.wrapping_sub(last_known_end);
        let limit = (EXPIRE_MS as u64 * self.clock_rate as u64 / 1000) as u32;
        // A timestamp behind the event (reordered audio) wraps to a huge `past`; half the
        // number space is the usual RTP way to tell ahead from behind.
        if past > limit && past < 1 << 31 {
            cur.ended = true;
            end(cur, self.clock_rate, &mut report);
        }
    }
}

fn end(cur: &Current, clock_rate: u32, report: &mut impl FnMut(DtmfEvent)) {
    if let Some(digit) = crate::dtmf::digit_for_event(cur.event) {
        let duration_ms = (cur.total() as u64 * 1000 / clock_rate as u64) as u32;
        report(DtmfEvent::DigitEnded { digit, duration_ms });
    }
}
