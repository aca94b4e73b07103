//! Turns a dial string into what the session sends on each 20 ms tick: a telephone-event packet
//! or ordinary audio. The session owns the RTP header (payload type, sequence, SSRC); this only
//! says which timestamp and marker each event packet carries.

use super::TelephoneEvent;
use crate::dtmf::dial::{DialError, DialSchedule, DialTick, DialTiming};
use crate::FRAME_SAMPLES;

/// RFC 4733 §2.5.1.4: the end packet is sent three times in all, so that losing one or two
/// still ends the press at the far end.
const END_PACKETS: u8 = 3;
/// Reported tone power, -dBm0. Informational for the receiver; -10 dBm0 is a usual level.
const VOLUME: u8 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// Set on the first packet of each event only.
    pub marker: bool,
    /// The RTP timestamp of the event's first tick, shared by all its packets.
    pub timestamp: u32,
    pub payload: [u8; 4],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderTick {
    Event(EventPacket),
    /// No event on this tick: send the usual audio packet.
    Audio,
}

#[derive(Debug, Clone)]
pub struct TelephoneEventSender {
    schedule: DialSchedule,
    next_timestamp: u32,
    event_timestamp: u32,
    /// The end packet still to be repeated and how many more times.
    repeat: Option<(EventPacket, u8)>,
}

impl TelephoneEventSender {
    /// `first_timestamp` is the RTP timestamp the session will give the first tick; the sender
    /// assumes one tick per 20 ms frame from there.
    pub fn new(digits: &str, timing: DialTiming, first_timestamp: u32) -> Result<Self, DialError> {
        Ok(TelephoneEventSender {
            schedule: DialSchedule::new(digits, timing)?,
            next_timestamp: first_timestamp,
            event_timestamp: first_timestamp,
            repeat: None,
        })
    }

    /// Whether every tick has been taken.
    pub fn is_done(&self) -> bool {
        self.repeat.is_none() && self.schedule.peek().is_none()
    }
}

impl Iterator for TelephoneEventSender {
    type Item = SenderTick;

    fn next(&mut self) -> Option<SenderTick> {
        let timestamp = self.next_timestamp;
        let tick = if let Some((packet, left)) = self.repeat.take() {
            // Repeats go out in the gap after the tone; when the gap is too short for them
            // they push the next key back rather than overlap it.
            if self.schedule.peek() == Some(DialTick::Silence) {
                self.schedule.next();
            }
            if left > 1 {
                self.repeat = Some((packet, left - 1));
            }
            SenderTick::Event(packet)
        } else {
            match self.schedule.next()? {
                DialTick::Silence => SenderTick::Audio,
                DialTick::Tone { code, index, ticks } => {
                    if index == 0 {
                        self.event_timestamp = timestamp;
                    }
                    let end = index + 1 == ticks;
                    let event = TelephoneEvent {
                        event: code,
                        end,
                        volume: VOLUME,
                        // The schedule caps tones at 8 s, which fits 16 bits at 8 kHz.
                        duration: ((index + 1) * FRAME_SAMPLES as u32).min(0xFFFF) as u16,
                    };
                    let packet = EventPacket {
                        marker: index == 0,
                        timestamp: self.event_timestamp,
                        payload: event.to_bytes(),
                    };
                    if end {
                        let repeat = EventPacket {
                            marker: false,
                            ..packet
                        };
                        self.repeat = Some((repeat, END_PACKETS - 1));
                    }
                    SenderTick::Event(packet)
                }
            }
        };
        self.next_timestamp = timestamp.wrapping_add(FRAME_SAMPLES as u32);
        Some(tick)
    }
}
