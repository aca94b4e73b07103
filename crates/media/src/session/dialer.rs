//! The sending side of DTMF for a session: queued dial strings played out one tick at a
//! time, as telephone-event packets when the far end negotiated them and as tone pairs in the
//! audio otherwise.

use crate::dtmf::dial::{DialError, DialSchedule, DialTiming};
use crate::dtmf::rfc4733::{EventPacket, SenderTick, TelephoneEventSender};
use crate::dtmf::ToneSender;
use std::collections::VecDeque;

/// What one tick sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DialOutput {
    /// Nothing to dial: the frame goes out as it is.
    Idle,
    /// A telephone-event packet in place of the audio packet.
    Event(EventPacket),
    /// The frame now holds a tone pair.
    Tone,
    /// Between keys: the frame goes out as it is.
    Gap,
}

#[derive(Debug, Clone)]
enum Active {
    Events(TelephoneEventSender),
    Tones(ToneSender),
}

#[derive(Debug, Clone, Default)]
pub(super) struct Dialer {
    queue: VecDeque<(String, DialTiming)>,
    active: Option<Active>,
}

impl Dialer {
    /// Queues a dial string after any still being sent; checked now so that the caller hears
    /// of a bad key at once rather than when its turn comes.
    pub(super) fn push(&mut self, digits: &str, timing: DialTiming) -> Result<(), DialError> {
        DialSchedule::new(digits, timing)?;
        self.queue.push_back((digits.to_owned(), timing));
        Ok(())
    }

    pub(super) fn is_idle(&self) -> bool {
        self.active.is_none() && self.queue.is_empty()
    }

    /// Plays one tick. `timestamp` is the RTP timestamp this tick's packet gets; `frame` is
    /// the audio it would carry. `finished` is called once for each dial string that this
    /// tick completes.
    pub(super) fn tick(
        &mut self,
        telephone_event: bool,
        timestamp: u32,
        frame: &mut [i16],
        mut finished: impl FnMut(),
    ) -> DialOutput {
        loop {
            if self.active.is_none() {
                let Some((digits, timing)) = self.queue.pop_front() else {
                    return DialOutput::Idle;
                };
                // The string was checked when queued, so neither constructor fails here.
                self.active = if telephone_event {
                    TelephoneEventSender::new(&digits, timing, timestamp)
                        .ok()
                        .map(Active::Events)
                } else {
                    ToneSender::new(&digits, timing).ok().map(Active::Tones)
                };
            }
            let output = match self.active.as_mut() {
                Some(Active::Events(sender)) => sender.next().map(|t| match t {
                    SenderTick::Event(packet) => DialOutput::Event(packet),
                    SenderTick::Audio => DialOutput::Gap,
                }),
                Some(Active::Tones(tones)) => tones.next_frame(frame).map(|tone| {
                    if tone {
                        DialOutput::Tone
                    } else {
                        DialOutput::Gap
                    }
                }),
                None => None,
            };
            let done = match self.active.as_ref() {
                Some(Active::Events(sender)) => sender.is_done(),
                Some(Active::Tones(tones)) => tones.is_done(),
                None => true,
            };
            if done {
                self.active = None;
                finished();
            }
            match output {
                Some(output) => return output,
                // An empty string takes no tick: go on with the next one, if any.
                None => continue,
            }
        }
    }
}
