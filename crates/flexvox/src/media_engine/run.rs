//! The media thread's loop: every 20 ms it drains each session's sockets, plays one frame out
//! of each jitter buffer and sends one packet per session; between ticks it sleeps, woken
//! early only by commands.

use super::capture::{Detector, FinishedBy, Recording};
use super::slots::Slots;
use super::{Command, EngineEvent, PortPool, RtpSocket};
use media::session::Encoding;
use media::{g711, MediaEvent, MediaSession, FRAME_SAMPLES};
use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

const FRAME: Duration = Duration::from_millis(20);
/// RTCP comes every few seconds and nothing waits on it, so each RTCP socket is read once a
/// second (sessions staggered) instead of costing a syscall per session per tick.
const RTCP_POLL_TICKS: u64 = 50;

struct Slot {
    socket: UdpSocket,
    rtcp: UdpSocket,
    /// The far end's media address from the SDP.
    remote: SocketAddr,
    /// Where the far end's RTCP actually comes from, once it has come.
    rtcp_source: Option<SocketAddr>,
    session: Box<MediaSession>,
    events: UnboundedSender<EngineEvent>,
    started: bool,
    first_sent: bool,
    first_audio_sent: bool,
    last_sent: Option<Instant>,
    port: u16,
    /// The other leg of a bridge: the audio this leg receives is sent on that one.
    bridged_to: Option<u64>,
    /// The far end put us on hold: the session keeps its clock, its packets are not sent.
    held: bool,
    /// While a recording wants what this leg sends, each sent frame decoded; boxed so the
    /// slots the tick walks stay small.
    sent_pcm: Option<Box<[i16; FRAME_SAMPLES]>>,
}

impl Slot {
    /// Symmetric RTP: a far end behind NAT is reached where its packets come from.
    fn media_target(&self) -> SocketAddr {
        self.session.latched_remote().unwrap_or(self.remote)
    }

    fn rtcp_target(&self) -> SocketAddr {
        self.rtcp_source.unwrap_or_else(|| {
            let media = self.media_target();
            SocketAddr::new(media.ip(), media.port().wrapping_add(1))
        })
    }

    /// RTCP is not worth sending to an old-style hold address (0.0.0.0).
    fn can_send_rtcp(&self) -> bool {
        !self.held && !self.remote.ip().is_unspecified()
    }

    /// Polled even when not sent, so the next report is scheduled rather than due every tick.
    fn send_rtcp(&mut self, now: Instant) {
        let to = self.rtcp_target();
        let can_send = self.can_send_rtcp();
        if let Some(report) = self.session.poll_rtcp(now) {
            if can_send {
                let _ = self.rtcp.send_to(report, to);
            }
        }
    }
}

/// A leg's recording and detection, apart from its slot so that a bridged recording can
/// read the other leg's slot while it writes.
#[derive(Default)]
struct Capture {
    recording: Option<Recording<BufWriter<File>>>,
    detector: Option<Detector>,
}

const SILENCE: [i16; FRAME_SAMPLES] = [0; FRAME_SAMPLES];

struct Engine {
    slots: Slots<Slot>,
    captures: HashMap<u64, Capture>,
    buf: Box<[u8; 2048]>,
    /// Bridged payloads read this tick, handed to the other leg after the sweep; kept across
    /// ticks so a busy bridge does not allocate the list every 20 ms.
    relayed: Vec<(u64, Vec<u8>, Encoding)>,
    ticks: u64,
}

pub(super) fn run(commands: mpsc::Receiver<Command>, ports: std::sync::Arc<Mutex<PortPool>>) {
    let mut engine = Engine {
        slots: Slots::default(),
        captures: HashMap::new(),
        buf: Box::new([0u8; 2048]),
        relayed: Vec::new(),
        ticks: 0,
    };
    let mut next_tick = Instant::now() + FRAME;
    loop {
        let now = Instant::now();
        if now >= next_tick {
            engine.tick(now);
            next_tick += FRAME;
            if now > next_tick + FRAME * 5 {
                // We fell far behind (machine suspended or overloaded): resynchronise instead of bursting.
                next_tick = now + FRAME;
            }
            continue;
        }
        // Commands wake the thread at once, so a call starts sending within the same frame.
        match commands.recv_timeout(next_tick - now) {
            Ok(cmd) => engine.apply(cmd, &ports),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl Engine {
    fn tick(&mut self, now: Instant) {
        let ticks = self.ticks;
        self.ticks += 1;
        let buf = &mut self.buf[..];
        for slot in self.slots.values_mut() {
            while read_rtp(slot, buf, now, &mut self.relayed) {}
            if (ticks + u64::from(slot.port / 2)).is_multiple_of(RTCP_POLL_TICKS) {
                while read_rtcp(slot, buf, now) {}
            }
            if let Some(actual) = slot.session.poll_latched_remote() {
                tracing::info!(
                    port = slot.port,
                    sdp = %slot.remote,
                    actual = %actual,
                    "far end's media comes from another address than its SDP (NAT?): sending there"
                );
            }
            forward_rtcp_events(slot);
            forward_events(slot);
            // A session started just before this tick already sent its first frame.
            if slot.started && slot.last_sent.is_none_or(|t| now >= t + FRAME / 2) {
                send_frame(slot, now);
            }
            if slot.session.rtcp_timeout().is_some_and(|at| now >= at) {
                slot.send_rtcp(now);
            }
        }
        for (peer, payload, encoding) in self.relayed.drain(..) {
            if let Some(p) = self.slots.get_mut(&peer) {
                p.session.relay(&payload, encoding);
            }
        }
        if !self.captures.is_empty() {
            self.capture(now, ticks);
        }
    }

    /// Runs after every leg has played its frame, so a bridged recording gets both legs'
    /// frames of the same tick.
    fn capture(&mut self, now: Instant, ticks: u64) {
        let slots = &mut self.slots;
        for (id, capture) in self.captures.iter_mut() {
            let Some(slot) = slots.get(id).filter(|s| s.last_sent == Some(now)) else {
                continue;
            };
            let heard = heard_or_silence(slot);
            if let Some(found) = capture
                .detector
                .as_mut()
                .and_then(|d| d.frame(ticks * 20, heard))
            {
                capture.detector = None;
                let _ = slot.events.send(EngineEvent::Detected(found));
            }
            let Some(recording) = capture.recording.as_mut() else {
                continue;
            };
            let called = match slot.bridged_to.and_then(|peer| slots.get(&peer)) {
                Some(peer) => heard_or_silence(peer),
                None => slot.sent_pcm.as_deref().map_or(&SILENCE[..], |f| &f[..]),
            };
            let ended = match recording.push(heard, called) {
                Ok(None) => continue,
                Ok(Some(by)) => Ok(by),
                Err(e) => Err(e),
            };
            if let (Some(recording), Some(slot)) = (capture.recording.take(), slots.get_mut(id)) {
                slot.sent_pcm = None;
                match ended {
                    Ok(by) => finish_recording(recording, by, &slot.events),
                    Err(e) => {
                        let _ = slot.events.send(EngineEvent::RecordingFailed {
                            path: recording.path().clone(),
                            error: e.to_string(),
                        });
                    }
                }
            }
        }
        self.captures
            .retain(|_, c| c.recording.is_some() || c.detector.is_some());
    }

    fn apply(&mut self, cmd: Command, ports: &Mutex<PortPool>) {
        let slots = &mut self.slots;
        match cmd {
            Command::Add {
                id,
                rtp,
                remote,
                session,
                events,
            } => {
                let RtpSocket { socket, port, rtcp } = rtp;
                slots.insert(
                    id,
                    Slot {
                        socket,
                        rtcp,
                        remote,
                        rtcp_source: None,
                        session,
                        events,
                        started: false,
                        first_sent: false,
                        first_audio_sent: false,
                        last_sent: None,
                        port,
                        bridged_to: None,
                        held: false,
                        sent_pcm: None,
                    },
                );
            }
            Command::Start(id) => {
                if let Some(s) = slots.get_mut(&id).filter(|s| !s.started) {
                    s.started = true;
                    send_frame(s, Instant::now());
                }
            }
            Command::Play(id, prompt) => {
                if let Some(s) = slots.get_mut(&id) {
                    s.session.play(prompt);
                }
            }
            Command::Control(id, control) => {
                if let Some(s) = slots.get_mut(&id) {
                    s.session.control(control);
                }
            }
            Command::Bridge(id, peer) => {
                if let Some(s) = slots.get_mut(&id) {
                    s.bridged_to = peer;
                }
            }
            Command::SendDigits(id, digits) => {
                if let Some(s) = slots.get_mut(&id) {
                    if let Err(e) = s.session.send_digits(&digits) {
                        let _ = s.events.send(EngineEvent::DigitsRefused(e.to_string()));
                    }
                }
            }
            Command::Retarget(id, remote, held) => {
                if let Some(s) = slots.get_mut(&id) {
                    if s.remote != remote {
                        s.rtcp_source = None;
                    }
                    s.remote = remote;
                    s.held = held;
                    // The new address is judged afresh: NAT latching starts over.
                    s.session.set_remote(remote);
                }
            }
            Command::Stop(id) => {
                if let Some(s) = slots.get_mut(&id) {
                    s.session.stop();
                }
            }
            Command::StartRecording(id, recording) => {
                let Some(slot) = slots.get_mut(&id) else {
                    // The leg went before the command came: nobody is left to report to, so
                    // the header-only file is not left behind either.
                    let _ = std::fs::remove_file(recording.path());
                    return;
                };
                let capture = self.captures.entry(id).or_default();
                if let Some(old) = capture.recording.take() {
                    finish_recording(old, FinishedBy::Stopped, &slot.events);
                }
                slot.sent_pcm = recording.wants_sent().then(|| Box::new([0; FRAME_SAMPLES]));
                capture.recording = Some(*recording);
            }
            Command::StopRecording(id) => {
                let recording = self.captures.get_mut(&id).and_then(|c| c.recording.take());
                if let (Some(recording), Some(slot)) = (recording, slots.get_mut(&id)) {
                    slot.sent_pcm = None;
                    finish_recording(recording, FinishedBy::Stopped, &slot.events);
                }
            }
            Command::Detect(id, kind) => {
                if slots.contains_key(&id) {
                    self.captures.entry(id).or_default().detector = Some(Detector::new(kind));
                }
            }
            Command::StopDetect(id) => {
                if let Some(c) = self.captures.get_mut(&id) {
                    c.detector = None;
                }
            }
            Command::Remove(id) => {
                if let Some(mut s) = slots.remove(&id) {
                    if let Some(capture) = self.captures.remove(&id) {
                        if let Some(recording) = capture.recording {
                            finish_recording(recording, FinishedBy::Hangup, &s.events);
                        }
                        if let Some(found) = capture.detector.and_then(Detector::hangup) {
                            let _ = s.events.send(EngineEvent::Detected(found));
                        }
                    }
                    let to = s.rtcp_target();
                    let can_send = s.can_send_rtcp();
                    if let Some(bye) = s.session.rtcp_bye(Instant::now(), None) {
                        if can_send {
                            let _ = s.rtcp.send_to(bye, to);
                        }
                    }
                    ports
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .in_use
                        .remove(&s.port);
                }
            }
        }
    }
}

/// Takes one datagram from the RTP socket; false when none was waiting.
fn read_rtp(
    slot: &mut Slot,
    buf: &mut [u8],
    now: Instant,
    relayed: &mut Vec<(u64, Vec<u8>, Encoding)>,
) -> bool {
    let Ok((n, from)) = slot.socket.recv_from(buf) else {
        return false;
    };
    let datagram = &buf[..n];
    slot.session.receive_at(now, from, datagram);
    if let Some(peer) = slot.bridged_to {
        if let Ok(p) = media::rtp::RtpPacket::parse(datagram) {
            if p.payload_type == slot.session.payload_type() {
                relayed.push((peer, p.payload.to_vec(), slot.session.encoding()));
            }
        }
    }
    true
}

/// Takes one datagram from the RTCP socket; false when none was waiting.
fn read_rtcp(slot: &mut Slot, buf: &mut [u8], now: Instant) -> bool {
    let Ok((n, from)) = slot.rtcp.recv_from(buf) else {
        return false;
    };
    match slot.session.receive_rtcp(now, &buf[..n]) {
        Ok(()) => {
            // Only a report that parsed moves where ours go: anyone can spray the port.
            if slot.rtcp_source.is_none() && from.ip() == slot.media_target().ip() {
                slot.rtcp_source = Some(from);
            }
        }
        Err(e) => tracing::debug!(port = slot.port, %from, error = %e, "bad RTCP dropped"),
    }
    true
}

fn forward_rtcp_events(slot: &mut Slot) {
    while let Some(event) = slot.session.poll_rtcp_event() {
        if let media::rtcp::RtcpEvent::Bye { ssrc, reason } = event {
            tracing::debug!(port = slot.port, ssrc, ?reason, "far end sent RTCP BYE");
        }
    }
}

fn send_frame(slot: &mut Slot, now: Instant) {
    let to = slot.media_target();
    let can_send = !slot.held;
    let format = (slot.session.payload_type(), slot.session.encoding());
    let packet = slot.session.tick_at(now);
    // A refused send (ICMP port unreachable from a far end not listening yet) is not fatal:
    // RTP is best effort and the next tick sends the next frame.
    if can_send {
        let _ = slot.socket.send_to(packet, to);
    }
    if let Some(sent) = slot.sent_pcm.as_deref_mut() {
        decode_sent(packet, format, sent);
    }
    slot.last_sent = Some(now);
    if !slot.first_sent {
        slot.first_sent = true;
        let _ = slot
            .events
            .send(EngineEvent::FirstPacketSent(Instant::now()));
    }
    if !slot.first_audio_sent && slot.session.last_had_audio() {
        slot.first_audio_sent = true;
        let _ = slot
            .events
            .send(EngineEvent::FirstAudioSent(Instant::now()));
    }
    forward_events(slot);
}

fn forward_events(slot: &mut Slot) {
    while let Some(event) = slot.session.poll_event() {
        let forwarded = match event {
            MediaEvent::PromptFinished(id) => EngineEvent::PromptFinished(id),
            MediaEvent::DigitStarted(digit) => EngineEvent::Digit(digit),
            MediaEvent::DigitsSent => EngineEvent::DigitsSent,
            MediaEvent::DigitEnded { .. } => continue,
        };
        let _ = slot.events.send(forwarded);
    }
}

/// What the leg heard this tick; silence before any timed audio came.
fn heard_or_silence(slot: &Slot) -> &[i16] {
    slot.session
        .heard()
        .map_or(&SILENCE[..], |(frame, _)| &frame[..])
}

/// The audio of a packet this leg sent; an RFC 4733 event packet records as silence.
fn decode_sent(packet: &[u8], (pt, encoding): (u8, Encoding), out: &mut [i16; FRAME_SAMPLES]) {
    out.fill(0);
    let Ok(p) = media::rtp::RtpPacket::parse(packet) else {
        return;
    };
    if p.payload_type != pt {
        return;
    }
    for (o, b) in out.iter_mut().zip(p.payload) {
        *o = match encoding {
            Encoding::Ulaw => g711::ulaw_to_linear(*b),
            Encoding::Alaw => g711::alaw_to_linear(*b),
        };
    }
}

/// Ends the file and reports it. Runs on the media thread: the final header rewrite is a
/// few small writes to the page cache, not a sync.
fn finish_recording(
    recording: Recording<BufWriter<File>>,
    by: FinishedBy,
    events: &UnboundedSender<EngineEvent>,
) {
    let path = recording.path().clone();
    let event = match recording.finish(by) {
        Ok((_, done)) => EngineEvent::RecordingStopped(done),
        Err(e) => EngineEvent::RecordingFailed {
            path,
            error: e.to_string(),
        },
    };
    let _ = events.send(event);
}
