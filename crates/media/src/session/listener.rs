//! The receiving side of DTMF for a session: telephone-event packets when the far end
//! negotiated them, otherwise tone pairs detected in the decoded audio.

use super::Encoding;
use crate::dtmf::rfc4733::Rfc4733Error;
use crate::dtmf::{DtmfDetector, DtmfEvent, TelephoneEventReceiver};
use crate::g711;
use crate::rtp::RtpPacket;
use crate::{CALL_RATE, FRAME_SAMPLES};

/// An audio packet this many sequence numbers behind the newest is not late but from a
/// restarted stream, and is taken.
const MAX_REORDER: i16 = 100;

#[derive(Debug, Clone)]
pub(super) struct Listener {
    events: TelephoneEventReceiver,
    tones: DtmfDetector,
    remote_ssrc: Option<u32>,
    last_sequence: Option<u16>,
    decoded: Vec<i16>,
}

impl Default for Listener {
    fn default() -> Self {
        Listener {
            // Beside G.711 the telephone-event clock is the audio clock.
            events: TelephoneEventReceiver::new(CALL_RATE),
            tones: DtmfDetector::new(),
            remote_ssrc: None,
            last_sequence: None,
            decoded: Vec::with_capacity(FRAME_SAMPLES),
        }
    }
}

impl Listener {
    pub(super) fn reset(&mut self) {
        *self = Listener::default();
    }

    /// Takes a packet from the far end. `audio_type` is the G.711 payload type and
    /// `telephone_event` the negotiated telephone-event one; other payloads (comfort noise,
    /// stray codecs) are ignored.
    pub(super) fn packet(
        &mut self,
        packet: &RtpPacket,
        encoding: Encoding,
        audio_type: u8,
        telephone_event: Option<u8>,
        decode_inband: bool,
        report: impl FnMut(DtmfEvent),
    ) -> Result<(), Rfc4733Error> {
        if self.remote_ssrc != Some(packet.ssrc) {
            // A new source (after a re-INVITE or a transfer upstream) has its own timestamps
            // and sequence numbers; nothing in progress carries over.
            if self.remote_ssrc.is_some() {
                self.reset();
            }
            self.remote_ssrc = Some(packet.ssrc);
        }
        if Some(packet.payload_type) == telephone_event {
            return self.events.feed(packet.timestamp, packet.payload, report);
        }
        if packet.payload_type != audio_type {
            return Ok(());
        }
        if telephone_event.is_some() {
            // Tones in the audio are not looked for when the far end sends events: the same
            // press would be reported twice, and speech would risk talk-off for nothing.
            self.events.observe_audio(packet.timestamp, report);
            return Ok(());
        }
        if !decode_inband || !self.is_next(packet.sequence) {
            return Ok(());
        }
        self.decoded.clear();
        match encoding {
            Encoding::Ulaw => self
                .decoded
                .extend(packet.payload.iter().map(|b| g711::ulaw_to_linear(*b))),
            Encoding::Alaw => self
                .decoded
                .extend(packet.payload.iter().map(|b| g711::alaw_to_linear(*b))),
        }
        self.tones.process(&self.decoded, report);
        Ok(())
    }

    /// Listens to audio already put in order (by the jitter buffer) for tones.
    pub(super) fn pcm(&mut self, frame: &[i16], report: impl FnMut(DtmfEvent)) {
        self.tones.process(frame, report);
    }

    /// Whether an audio packet is new rather than a duplicate or a late one: the detector
    /// needs audio in order, and a lost packet costs less as a short gap than replayed.
    fn is_next(&mut self, sequence: u16) -> bool {
        if let Some(last) = self.last_sequence {
            let ahead = sequence.wrapping_sub(last) as i16;
            if ahead <= 0 && ahead > -MAX_REORDER {
                return false;
            }
        }
        self.last_sequence = Some(sequence);
        true
    }
}
