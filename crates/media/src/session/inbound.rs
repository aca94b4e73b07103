//! The timed receive side of a session, for callers that say when and from where packets
//! came: symmetric-RTP latching, RTCP (its own port, or multiplexed per RFC 5761), and the
//! jitter buffer whose frames are what the session hears.

use super::Encoding;
use crate::g711;
use crate::jitter::{FrameKind, JitterBuffer, PacketInfo};
use crate::rtcp::{RtcpReporter, RtcpSummary};
use crate::rtp::RtpPacket;
use crate::FRAME_SAMPLES;
use std::net::SocketAddr;
use std::time::Instant;

#[derive(Debug)]
pub(super) struct Inbound {
    /// Where the SDP says the far end's media comes from.
    sdp_remote: Option<SocketAddr>,
    /// Whether the first media packet has been seen since the remote was set.
    decided: bool,
    latched: Option<SocketAddr>,
    latch_unreported: bool,
    pub(super) jitter: JitterBuffer,
    /// Set once a packet came with its arrival time: only then is there playout to run.
    pub(super) timed: bool,
    pub(super) heard: [i16; FRAME_SAMPLES],
    pub(super) heard_kind: Option<FrameKind>,
    pub(super) rtcp: Option<RtcpReporter>,
    /// The latest time a caller gave, for the calls that do not carry one.
    pub(super) now: Option<Instant>,
    pcm: Vec<i16>,
}

impl Default for Inbound {
    fn default() -> Self {
        Inbound {
            sdp_remote: None,
            decided: false,
            latched: None,
            latch_unreported: false,
            jitter: JitterBuffer::default(),
            timed: false,
            heard: [0; FRAME_SAMPLES],
            heard_kind: None,
            rtcp: None,
            now: None,
            pcm: Vec::with_capacity(FRAME_SAMPLES),
        }
    }
}

impl Inbound {
    pub(super) fn set_sdp_remote(&mut self, addr: SocketAddr) {
        if self.sdp_remote != Some(addr) {
            // A new offer/answer may move the far end: decide afresh on its first packet.
            self.sdp_remote = Some(addr);
            self.decided = false;
            self.latched = None;
            self.latch_unreported = false;
        }
    }

    /// Latches on the first media packet only: later packets from elsewhere could be anyone
    /// spraying the port, and following them would hand our audio to them.
    pub(super) fn observe_source(&mut self, from: SocketAddr) {
        if self.decided {
            return;
        }
        self.decided = true;
        if self.sdp_remote != Some(from) {
            self.latched = Some(from);
            self.latch_unreported = true;
        }
    }

    pub(super) fn latched(&self) -> Option<SocketAddr> {
        self.latched
    }

    pub(super) fn take_latch_notice(&mut self) -> Option<SocketAddr> {
        if std::mem::take(&mut self.latch_unreported) {
            self.latched
        } else {
            None
        }
    }

    pub(super) fn buffer_audio(&mut self, now: Instant, packet: &RtpPacket, encoding: Encoding) {
        self.timed = true;
        self.pcm.clear();
        match encoding {
            Encoding::Ulaw => self
                .pcm
                .extend(packet.payload.iter().map(|b| g711::ulaw_to_linear(*b))),
            Encoding::Alaw => self
                .pcm
                .extend(packet.payload.iter().map(|b| g711::alaw_to_linear(*b))),
        }
        let info = PacketInfo {
            ssrc: packet.ssrc,
            sequence: packet.sequence,
            timestamp: packet.timestamp,
            marker: packet.marker,
        };
        self.jitter.push(now, info, &self.pcm);
    }

    /// Plays one frame out of the jitter buffer into `heard`.
    pub(super) fn play(&mut self, now: Instant) -> Option<&[i16; FRAME_SAMPLES]> {
        if !self.timed {
            return None;
        }
        let kind = self.jitter.pop(now, &mut self.heard);
        self.heard_kind = Some(kind);
        Some(&self.heard)
    }

    pub(super) fn rtcp_summary(&self) -> Option<RtcpSummary> {
        self.rtcp.as_ref().map(RtcpReporter::summary)
    }
}
