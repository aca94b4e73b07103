//! The media thread's loop: every 20 ms it drains each session's sockets, plays one frame out
//! of each jitter buffer and sends one packet per session; between ticks it sleeps, woken
//! early only by commands.

use super::{Command, EngineEvent, PortPool, RtpSocket};
use media::session::Encoding;
use media::{MediaEvent, MediaSession};
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

const FRAME: Duration = Duration::from_millis(20);
/// RTCP comes every few seconds and nothing waits on it, so each RTCP socket is read every
/// 10th tick (sessions staggered) instead of costing a syscall per session per tick.
const RTCP_POLL_TICKS: u64 = 10;

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

struct Engine {
    slots: HashMap<u64, Slot>,
    buf: Box<[u8; 2048]>,
    /// Bridged payloads read this tick, handed to the other leg after the sweep; kept across
    /// ticks so a busy bridge does not allocate the list every 20 ms.
    relayed: Vec<(u64, Vec<u8>, Encoding)>,
    ticks: u64,
}

pub(super) fn run(commands: mpsc::Receiver<Command>, ports: std::sync::Arc<Mutex<PortPool>>) {
    let mut engine = Engine {
        slots: HashMap::new(),
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
            while let Ok((n, from)) = slot.socket.recv_from(buf) {
                let datagram = &buf[..n];
                slot.session.receive_at(now, from, datagram);
                if let Some(peer) = slot.bridged_to {
                    if let Ok(p) = media::rtp::RtpPacket::parse(datagram) {
                        if p.payload_type == slot.session.payload_type() {
                            self.relayed
                                .push((peer, p.payload.to_vec(), slot.session.encoding()));
                        }
                    }
                }
            }
            if let Some(actual) = slot.session.poll_latched_remote() {
                tracing::info!(
                    port = slot.port,
                    sdp = %slot.remote,
                    actual = %actual,
                    "far end's media comes from another address than its SDP (NAT?): sending there"
                );
            }
            if (ticks + u64::from(slot.port / 2)) % RTCP_POLL_TICKS == 0 {
                read_rtcp(slot, buf, now);
            }
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
            Command::Remove(id) => {
                if let Some(mut s) = slots.remove(&id) {
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

fn read_rtcp(slot: &mut Slot, buf: &mut [u8], now: Instant) {
    while let Ok((n, from)) = slot.rtcp.recv_from(buf) {
        match slot.session.receive_rtcp(now, &buf[..n]) {
            Ok(()) => {
                // Only a report that parsed moves where ours go: anyone can spray the port.
                if slot.rtcp_source.is_none() && from.ip() == slot.media_target().ip() {
                    slot.rtcp_source = Some(from);
                }
            }
            Err(e) => tracing::debug!(port = slot.port, %from, error = %e, "bad RTCP dropped"),
        }
    }
    while let Some(event) = slot.session.poll_rtcp_event() {
        if let media::rtcp::RtcpEvent::Bye { ssrc, reason } = event {
            tracing::debug!(port = slot.port, ssrc, ?reason, "far end sent RTCP BYE");
        }
    }
}

fn send_frame(slot: &mut Slot, now: Instant) {
    let to = slot.media_target();
    let can_send = !slot.held;
    let packet = slot.session.tick_at(now);
    // A refused send (ICMP port unreachable from a far end not listening yet) is not fatal:
    // RTP is best effort and the next tick sends the next frame.
    if can_send {
        let _ = slot.socket.send_to(packet, to);
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
