//! One call's media, sans-IO: a queue of prompts played out one 20 ms RTP packet per `tick`,
//! DTMF sent and received (as RFC 4733 events or in-band tones), and the receive side's
//! counters. The engine calls `tick` on its frame clock and sends whatever bytes it returns.
//!
//! Callers that pass times and source addresses (`receive_at`, `tick_at`) also get
//! symmetric-RTP latching, RTCP, and a jitter buffer in front of what the session hears;
//! `receive` and `tick` keep their original, untimed behaviour.

mod dialer;
mod growing;
mod inbound;
mod listener;
mod playback;

pub use growing::GrowingAudio;
pub use playback::{PlaybackControl, Prompt, Source};

use crate::dtmf::{DialError, DialTiming, DtmfEvent};
use crate::g711;
use crate::jitter::{FrameKind, JitterStats};
use crate::rtcp::{self, RtcpConfig, RtcpError, RtcpEvent, RtcpReporter, RtcpSummary};
use crate::rtp::RtpPacket;
use crate::FRAME_SAMPLES;
use dialer::{DialOutput, Dialer};
use inbound::Inbound;
use listener::Listener;
use playback::Player;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

pub type PromptId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Ulaw,
    Alaw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// Every repetition of the prompt has been sent.
    PromptFinished(PromptId),
    /// The far end pressed a key: reported once, as early as it is certain (on the first
    /// telephone-event packet, or 40-45 ms into an in-band tone), so barge-in can act on it.
    DigitStarted(char),
    /// The key was released; follows its `DigitStarted` exactly once.
    DigitEnded { digit: char, duration_ms: u32 },
    /// A dial string from `send_digits` has been sent in full.
    DigitsSent,
}

impl From<DtmfEvent> for MediaEvent {
    fn from(e: DtmfEvent) -> Self {
        match e {
            DtmfEvent::DigitStarted(d) => MediaEvent::DigitStarted(d),
            DtmfEvent::DigitEnded { digit, duration_ms } => {
                MediaEvent::DigitEnded { digit, duration_ms }
            }
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub packets_sent: u64,
    pub packets_received: u64,
    pub bytes_received: u64,
    pub malformed_received: u64,
}

#[derive(Debug)]
pub struct MediaSession {
    encoding: Encoding,
    payload_type: u8,
    /// The telephone-event payload type both sides agreed on, if any.
    telephone_event: Option<u8>,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    was_talking: bool,
    last_had_audio: bool,
    player: Player,
    events: VecDeque<MediaEvent>,
    frame: [i16; FRAME_SAMPLES],
    payload: Vec<u8>,
    packet: Vec<u8>,
    stats: Stats,
    dialer: Dialer,
    listener: Listener,
    /// Payloads from the other leg of a bridge, in this session's encoding, sent as they come.
    relay: VecDeque<Vec<u8>>,
    inbound: Inbound,
}

/// At most this many bridged frames wait to be sent: more would only add delay.
const MAX_RELAY_FRAMES: usize = 3;

impl MediaSession {
    /// `ssrc`, `first_sequence` and `first_timestamp` should be random (RFC 3550 §5.1); the
    /// caller draws them so this type stays deterministic.
    pub fn new(
        encoding: Encoding,
        payload_type: u8,
        ssrc: u32,
        first_sequence: u16,
        first_timestamp: u32,
    ) -> Self {
        MediaSession {
            encoding,
            payload_type,
            telephone_event: None,
            ssrc,
            sequence: first_sequence,
            timestamp: first_timestamp,
            was_talking: false,
            last_had_audio: false,
            player: Player::default(),
            events: VecDeque::new(),
            frame: [0; FRAME_SAMPLES],
            payload: Vec::with_capacity(FRAME_SAMPLES),
            packet: Vec::with_capacity(12 + FRAME_SAMPLES),
            stats: Stats::default(),
            dialer: Dialer::default(),
            listener: Listener::default(),
            relay: VecDeque::new(),
            inbound: Inbound::default(),
        }
    }

    /// Sets the telephone-event (RFC 4733) payload type from the SDP answer, or `None` when
    /// the far end did not offer it. With it, digits travel as events both ways; without it,
    /// they are tones in the audio. A press being received is forgotten.
    pub fn set_telephone_event(&mut self, payload_type: Option<u8>) {
        if self.telephone_event != payload_type {
            self.telephone_event = payload_type;
            self.listener.reset();
        }
    }

    /// Queues keys to send (0-9, *, #, A-D; `,` waits half a second) with 100 ms tones and
    /// 100 ms gaps; `MediaEvent::DigitsSent` follows once they are all out.
    pub fn send_digits(&mut self, digits: &str) -> Result<(), DialError> {
        self.send_digits_with(digits, DialTiming::default())
    }

    pub fn send_digits_with(&mut self, digits: &str, timing: DialTiming) -> Result<(), DialError> {
        self.dialer.push(digits, timing)
    }

    /// Whether keys are still queued or being sent.
    pub fn is_sending_digits(&self) -> bool {
        !self.dialer.is_idle()
    }

    pub fn play(&mut self, prompt: Prompt) {
        self.player.play(prompt);
    }

    /// Seeks, pauses or interrupts what is playing (an IVR caller's keys); false when the
    /// control names a prompt that is not the one playing.
    pub fn control(&mut self, control: PlaybackControl) -> bool {
        self.player.control(control)
    }

    /// Drops the playing prompt and everything queued; returns their ids (not reported as finished).
    pub fn stop(&mut self) -> Vec<PromptId> {
        self.player.stop()
    }

    pub fn is_playing(&self) -> bool {
        self.player.is_playing()
    }

    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Queues one 20 ms payload from the other leg of a bridge. The same encoding passes through
    /// untouched; µ-law and A-law are converted. It is sent when no prompt or key is playing.
    pub fn relay(&mut self, payload: &[u8], from: Encoding) {
        let converted = match (from, self.encoding) {
            (a, b) if a == b => payload.to_vec(),
            (Encoding::Ulaw, Encoding::Alaw) => payload
                .iter()
                .map(|b| g711::linear_to_alaw(g711::ulaw_to_linear(*b)))
                .collect(),
            (Encoding::Alaw, _) => payload
                .iter()
                .map(|b| g711::linear_to_ulaw(g711::alaw_to_linear(*b)))
                .collect(),
            (Encoding::Ulaw, _) => payload.to_vec(),
        };
        if self.relay.len() == MAX_RELAY_FRAMES {
            self.relay.pop_front();
        }
        self.relay.push_back(converted);
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Produces the next 20 ms packet. Silence is sent between prompts so the stream stays
    /// continuous for the far end's jitter buffer and for NAT bindings. While keys are being
    /// sent, their packets or tones take the place of the prompt, which plays on unheard so
    /// that it stays in time.
    pub fn tick(&mut self) -> &[u8] {
        self.tick_inner(None)
    }

    /// `tick` at a known time: also plays one frame out of the jitter buffer (listened to
    /// for in-band keys, and available from `heard`) and counts the packet for RTCP.
    pub fn tick_at(&mut self, now: Instant) -> &[u8] {
        self.tick_inner(Some(now))
    }

    fn tick_inner(&mut self, now: Option<Instant>) -> &[u8] {
        if let Some(now) = now {
            self.inbound.now = Some(now);
        }
        let now = self.inbound.now;
        if let Some(now) = now {
            self.hear(now);
        }
        let media_timestamp = self.timestamp;
        let relayed = match self.is_playing() {
            false => self.relay.pop_front(),
            true => None,
        };
        let talking = self.player.fill(&mut self.frame, &mut self.events);
        let events = &mut self.events;
        let dial = self.dialer.tick(
            self.telephone_event.is_some(),
            self.timestamp,
            &mut self.frame,
            || events.push_back(MediaEvent::DigitsSent),
        );
        // Keys being sent as events when a re-negotiation took telephone-events away are
        // dropped: there is no payload type left to send them with.
        let event = match (dial, self.telephone_event) {
            (DialOutput::Event(event), Some(pt)) => Some((event, pt)),
            _ => None,
        };
        let (sent_prompt, sound) = match dial {
            DialOutput::Idle | DialOutput::Gap => (talking, talking),
            DialOutput::Tone => (false, true),
            DialOutput::Event(_) if event.is_some() => (false, false),
            DialOutput::Event(_) => (talking, talking),
        };
        let packet = match event {
            Some((event, payload_type)) => {
                self.payload.clear();
                self.payload.extend_from_slice(&event.payload);
                RtpPacket {
                    payload_type,
                    marker: event.marker,
                    sequence: self.sequence,
                    timestamp: event.timestamp,
                    ssrc: self.ssrc,
                    payload: &self.payload,
                }
            }
            None => {
                match relayed.filter(|_| matches!(dial, DialOutput::Idle | DialOutput::Gap)) {
                    Some(bytes) => {
                        self.payload.clear();
                        self.payload.extend_from_slice(&bytes);
                    }
                    None => self.encode_frame(),
                }
                RtpPacket {
                    payload_type: self.payload_type,
                    marker: sound && !self.was_talking,
                    sequence: self.sequence,
                    timestamp: self.timestamp,
                    ssrc: self.ssrc,
                    payload: &self.payload,
                }
            }
        };
        packet.write(&mut self.packet);
        if let (Some(rtcp), Some(now)) = (self.inbound.rtcp.as_mut(), now) {
            rtcp.on_sent(now, media_timestamp, self.packet.len() - 12);
        }
        self.was_talking = sound;
        self.last_had_audio = sent_prompt;
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        self.stats.packets_sent += 1;
        &self.packet
    }

    fn encode_frame(&mut self) {
        self.payload.clear();
        match self.encoding {
            Encoding::Ulaw => self
                .payload
                .extend(self.frame.iter().map(|s| g711::linear_to_ulaw(*s))),
            Encoding::Alaw => self
                .payload
                .extend(self.frame.iter().map(|s| g711::linear_to_alaw(*s))),
        }
    }

    /// Whether the packet from the last `tick` carried prompt audio rather than silence.
    pub fn last_had_audio(&self) -> bool {
        self.last_had_audio
    }

    /// Takes a datagram from the far end: counts it, and listens for keys in it, which come
    /// out of `poll_event` as `DigitStarted` and `DigitEnded`.
    pub fn receive(&mut self, data: &[u8]) {
        self.receive_inner(None, data);
    }

    /// Takes a datagram that arrived at `now` from `from` on the RTP port. RTCP multiplexed
    /// there (RFC 5761) is told apart and handled as by `receive_rtcp`. Audio goes through the
    /// jitter buffer, played out by `tick_at`, rather than straight to the key detector.
    pub fn receive_at(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        self.inbound.now = Some(now);
        if rtcp::is_rtcp(data) {
            if self.receive_rtcp(now, data).is_err() {
                self.stats.malformed_received += 1;
            }
            return;
        }
        self.receive_inner(Some((now, from)), data);
    }

    fn receive_inner(&mut self, timed: Option<(Instant, SocketAddr)>, data: &[u8]) {
        let packet = match RtpPacket::parse(data) {
            Ok(packet) => packet,
            Err(_) => {
                self.stats.malformed_received += 1;
                return;
            }
        };
        self.stats.packets_received += 1;
        self.stats.bytes_received += data.len() as u64;
        let media = packet.payload_type == self.payload_type
            || Some(packet.payload_type) == self.telephone_event;
        if let Some((now, from)) = timed.filter(|_| media) {
            self.inbound.observe_source(from);
            if packet.payload_type == self.payload_type {
                self.inbound.buffer_audio(now, &packet, self.encoding);
            }
        }
        if let Some(rtcp) = self.inbound.rtcp.as_mut().filter(|_| media) {
            rtcp.on_received(
                timed.map(|(now, _)| now),
                packet.ssrc,
                packet.sequence,
                packet.timestamp,
            );
        }
        let events = &mut self.events;
        let heard = self.listener.packet(
            &packet,
            self.encoding,
            self.payload_type,
            self.telephone_event,
            // Timed audio reaches the key detector through the jitter buffer instead.
            timed.is_none(),
            |e| events.push_back(e.into()),
        );
        if heard.is_err() {
            self.stats.malformed_received += 1;
        }
    }

    /// Plays a frame out of the jitter buffer and listens to it for keys.
    fn hear(&mut self, now: Instant) {
        let Some(frame) = self.inbound.play(now) else {
            return;
        };
        if self.telephone_event.is_none() {
            let events = &mut self.events;
            self.listener.pcm(frame, |e| events.push_back(e.into()));
        }
    }

    /// The frame the last `tick_at` played out of the jitter buffer, and how it was made:
    /// what a recording or a conference hears from this leg. `None` until timed audio came.
    pub fn heard(&self) -> Option<(&[i16; FRAME_SAMPLES], FrameKind)> {
        self.inbound.heard_kind.map(|k| (&self.inbound.heard, k))
    }

    pub fn jitter_stats(&self) -> JitterStats {
        self.inbound.jitter.stats()
    }

    /// The address the SDP gave for the far end's media; the first packet from anywhere
    /// else latches the session there (symmetric RTP, for far ends behind NAT).
    pub fn set_remote(&mut self, sdp_address: SocketAddr) {
        self.inbound.set_sdp_remote(sdp_address);
    }

    /// Where the far end's media actually comes from, when it is not the SDP address: send
    /// there instead.
    pub fn latched_remote(&self) -> Option<SocketAddr> {
        self.inbound.latched()
    }

    /// The latched address, once, when it is first learnt.
    pub fn poll_latched_remote(&mut self) -> Option<SocketAddr> {
        self.inbound.take_latch_notice()
    }

    /// Starts RTCP for this session's stream: reports then come out of `poll_rtcp`.
    pub fn enable_rtcp(&mut self, config: RtcpConfig) {
        self.inbound.rtcp = Some(RtcpReporter::new(self.ssrc, config));
    }

    /// A compound RTCP report to send, when one is due.
    pub fn poll_rtcp(&mut self, now: Instant) -> Option<&[u8]> {
        self.inbound.rtcp.as_mut()?.poll_transmit(now)
    }

    /// When `poll_rtcp` next has a report.
    pub fn rtcp_timeout(&self) -> Option<Instant> {
        self.inbound.rtcp.as_ref()?.poll_timeout()
    }

    /// The last report and a BYE, to send as the call ends.
    pub fn rtcp_bye(&mut self, now: Instant, reason: Option<&str>) -> Option<&[u8]> {
        Some(self.inbound.rtcp.as_mut()?.bye(now, reason))
    }

    /// Takes an RTCP datagram (from the RTCP port, or demultiplexed by `receive_at`).
    pub fn receive_rtcp(&mut self, now: Instant, data: &[u8]) -> Result<(), RtcpError> {
        self.inbound.now = Some(now);
        match self.inbound.rtcp.as_mut() {
            Some(rtcp) => rtcp.handle(now, data),
            // Not reporting: still check it, so garbage is counted the same either way.
            None => rtcp::parse_compound(data).map(|_| ()),
        }
    }

    pub fn poll_rtcp_event(&mut self) -> Option<RtcpEvent> {
        self.inbound.rtcp.as_mut()?.poll_event()
    }

    pub fn rtcp_summary(&self) -> Option<RtcpSummary> {
        self.inbound.rtcp_summary()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn session() -> MediaSession {
        MediaSession::new(Encoding::Ulaw, 0, 42, 65534, 1000)
    }

    #[test]
    fn plays_a_prompt_frame_by_frame_and_reports_its_end() {
        let mut s = session();
        let samples: Arc<[i16]> = vec![1000i16; 400].into();
        s.play(Prompt::audio(7, samples, 2, 80));
        // 2 × 400 samples + 80 gap = 880 samples = 5.5 frames: finished during the 6th tick.
        let mut markers = Vec::new();
        for i in 0..6 {
            let pkt = RtpPacket::parse(s.tick()).unwrap();
            markers.push(pkt.marker);
            assert_eq!(pkt.timestamp, 1000 + 160 * i);
            assert_eq!(pkt.sequence, 65534u16.wrapping_add(i as u16));
            if i < 5 {
                assert_eq!(s.poll_event(), None, "tick {i}");
            }
        }
        assert_eq!(s.poll_event(), Some(MediaEvent::PromptFinished(7)));
        assert_eq!(markers, vec![true, false, false, false, false, false]);
        // Idle: silence (µ-law 0xFF) keeps flowing.
        let pkt = RtpPacket::parse(s.tick()).unwrap();
        assert!(pkt.payload.iter().all(|b| *b == 0xFF));
    }

    #[test]
    fn silence_prompts_take_their_length_and_stop_clears_the_queue() {
        let mut s = session();
        s.play(Prompt::silence(1, 1000));
        for _ in 0..49 {
            s.tick();
        }
        assert_eq!(s.poll_event(), None);
        s.tick();
        assert_eq!(s.poll_event(), Some(MediaEvent::PromptFinished(1)));
        s.play(Prompt::silence(2, 1000));
        s.play(Prompt::silence(3, 1000));
        s.tick();
        assert_eq!(s.stop(), vec![2, 3]);
        assert!(!s.is_playing());
    }
}
