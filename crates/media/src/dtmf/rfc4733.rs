//! RFC 4733 telephone-events: the 4-byte payload, a receiver that turns the packet stream of
//! each key press into one start and one end, and a sender that turns a dial string into the
//! packets of each 20 ms tick.

mod receiver;
mod sender;

pub use receiver::TelephoneEventReceiver;
pub use sender::{EventPacket, SenderTick, TelephoneEventSender};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rfc4733Error {
    #[error("telephone-event payload of {0} bytes is shorter than one 4-byte event")]
    TooShort(usize),
}

/// One event block (RFC 4733 §2.3). A payload may pack more than one block (§2.5.1.5, for
/// events that ended within one packet interval); only the first is read, because the others
/// are older and already reported by the packets that carried them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    /// Power of the tone in -dBm0 (0 is loudest); 6 bits.
    pub volume: u8,
    /// Time since the event began, in RTP timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn parse(payload: &[u8]) -> Result<Self, Rfc4733Error> {
        let block = payload
            .get(..4)
            .ok_or(Rfc4733Error::TooShort(payload.len()))?;
        Ok(TelephoneEvent {
            event: block[0],
            end: block[1] & 0x80 != 0,
            volume: block[1] & 0x3F,
            duration: u16::from_be_bytes([block[2], block[3]]),
        })
    }

    pub fn to_bytes(&self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        // The R bit (0x40) is reserved: sent as zero, ignored on receipt.
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3F);
        [self.event, flags, d0, d1]
    }

    /// The key this event stands for, if it is one of the sixteen DTMF events.
    pub fn digit(&self) -> Option<char> {
        super::digit_for_event(self.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_ignores_the_reserved_bit() {
        let ev = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        let bytes = ev.to_bytes();
        assert_eq!(bytes, [11, 0x8A, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&bytes), Ok(ev));
        assert_eq!(ev.digit(), Some('#'));
        let reserved = TelephoneEvent::parse(&[1, 0x4A, 0, 160]).unwrap();
        assert_eq!((reserved.end, reserved.volume), (false, 10));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(Rfc4733Error::TooShort(3))
        );
        assert_eq!(TelephoneEvent::parse(&[16, 0, 0, 0]).unwrap().digit(), None);
    }
}
