//! The media thread: owns every call's RTP socket and `MediaSession`, and ticks them all
//! on one 20 ms clock. No task or timer per packet or per call.

use media::session::Encoding;
use media::{MediaEvent, MediaSession, Prompt, PromptId};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

const FRAME: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    PromptFinished(PromptId),
    /// The first RTP packet of the session left at this instant.
    FirstPacketSent(Instant),
    /// The first packet carrying prompt audio (not silence) left at this instant.
    FirstAudioSent(Instant),
    /// The caller pressed a key (RFC 4733 or in-band; reported when the press starts).
    Digit(char),
    /// Digits queued with `send_digits` have all been sent.
    DigitsSent,
    /// Digits could not be queued (not a DTMF string).
    DigitsRefused(String),
}

enum Command {
    Add {
        id: u64,
        socket: UdpSocket,
        remote: SocketAddr,
        session: Box<MediaSession>,
        events: UnboundedSender<EngineEvent>,
    },
    Start(u64),
    Play(u64, Prompt),
    SendDigits(u64, String),
    /// Relay each leg's received audio to the other (None unbridges).
    Bridge(u64, Option<u64>),
    Stop(u64),
    Remove(u64),
    /// A re-INVITE moved the far end's media, or put it on hold (nothing is sent then).
    Retarget(u64, SocketAddr, bool),
}

struct Slot {
    socket: UdpSocket,
    remote: SocketAddr,
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

/// Hands out RTP ports (even numbers, RTCP on the odd one above) from the configured range.
struct PortPool {
    low: u16,
    high: u16,
    next: u16,
    in_use: HashSet<u16>,
}

#[derive(Clone)]
pub struct MediaEngine {
    commands: mpsc::Sender<Command>,
    ports: Arc<Mutex<PortPool>>,
    bind_ip: IpAddr,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaEngineError {
    #[error("no free RTP port in the configured range")]
    NoPort,
}

/// What was negotiated for a call's stream.
#[derive(Debug, Clone, Copy)]
pub struct StreamFormat {
    pub encoding: Encoding,
    pub payload_type: u8,
    pub telephone_event: Option<u8>,
}

/// An allocated RTP socket, before it joins the engine.
pub struct RtpSocket {
    pub socket: UdpSocket,
    pub port: u16,
}

impl MediaEngine {
    pub fn start(bind_ip: IpAddr, (low, high): (u16, u16)) -> MediaEngine {
        let (tx, rx) = mpsc::channel();
        let ports = Arc::new(Mutex::new(PortPool {
            low,
            high,
            next: low,
            in_use: HashSet::new(),
        }));
        let pool = ports.clone();
        std::thread::Builder::new()
            .name("flexvox-media".into())
            .spawn(move || run(rx, pool))
            .expect("spawning the media thread");
        MediaEngine {
            commands: tx,
            ports,
            bind_ip,
        }
    }

    pub fn allocate(&self) -> Result<RtpSocket, MediaEngineError> {
        let mut pool = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        let span = (pool.high - pool.low) / 2 + 1;
        for _ in 0..span {
            let port = pool.next;
            pool.next = if pool.next + 2 > pool.high {
                pool.low
            } else {
                pool.next + 2
            };
            if pool.in_use.contains(&port) {
                continue;
            }
            if let Ok(socket) = UdpSocket::bind((self.bind_ip, port)) {
                if socket.set_nonblocking(true).is_ok() {
                    pool.in_use.insert(port);
                    return Ok(RtpSocket { socket, port });
                }
            }
        }
        Err(MediaEngineError::NoPort)
    }

    /// Adds a call's stream; with no RFC 4733 payload type negotiated, keys are detected in
    /// the audio and sent as tones.
    pub fn add(
        &self,
        id: u64,
        rtp: RtpSocket,
        remote: SocketAddr,
        stream: StreamFormat,
        events: UnboundedSender<EngineEvent>,
    ) {
        let mut session = MediaSession::new(
            stream.encoding,
            stream.payload_type,
            rand::random(),
            rand::random(),
            rand::random(),
        );
        session.set_telephone_event(stream.telephone_event);
        let _ = self.commands.send(Command::Add {
            id,
            socket: rtp.socket,
            remote,
            session: Box::new(session),
            events,
        });
    }

    pub fn start_sending(&self, id: u64) {
        let _ = self.commands.send(Command::Start(id));
    }

    pub fn play(&self, id: u64, prompt: Prompt) {
        let _ = self.commands.send(Command::Play(id, prompt));
    }

    /// Sends DTMF keys (`,` = 0.5 s pause); `EngineEvent::DigitsSent` follows.
    pub fn send_digits(&self, id: u64, digits: &str) {
        let _ = self
            .commands
            .send(Command::SendDigits(id, digits.to_string()));
    }

    /// Connects two legs' audio both ways.
    pub fn bridge(&self, a: u64, b: u64) {
        let _ = self.commands.send(Command::Bridge(a, Some(b)));
        let _ = self.commands.send(Command::Bridge(b, Some(a)));
    }

    pub fn unbridge(&self, a: u64) {
        let _ = self.commands.send(Command::Bridge(a, None));
    }

    /// Drops what the session is playing and has queued (barge-in, stopOnKey).
    pub fn stop(&self, id: u64) {
        let _ = self.commands.send(Command::Stop(id));
    }

    pub fn remove(&self, id: u64) {
        let _ = self.commands.send(Command::Remove(id));
    }

    /// Sends the stream to `remote` from now on; `held` stops sending without stopping time.
    pub fn retarget(&self, id: u64, remote: SocketAddr, held: bool) {
        let _ = self.commands.send(Command::Retarget(id, remote, held));
    }

    /// Returns a port that never joined the engine (the call failed before answer).
    pub fn release(&self, rtp: RtpSocket) {
        self.ports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .in_use
            .remove(&rtp.port);
    }
}

fn run(commands: mpsc::Receiver<Command>, ports: Arc<Mutex<PortPool>>) {
    let mut slots: HashMap<u64, Slot> = HashMap::new();
    let mut next_tick = Instant::now() + FRAME;
    let mut buf = [0u8; 2048];
    loop {
        let now = Instant::now();
        if now >= next_tick {
            let mut relayed: Vec<(u64, Vec<u8>, Encoding)> = Vec::new();
            for slot in slots.values_mut() {
                while let Ok((n, _from)) = slot.socket.recv_from(&mut buf) {
                    slot.session.receive(&buf[..n]);
                    if let Some(peer) = slot.bridged_to {
                        if let Ok(p) = media::rtp::RtpPacket::parse(&buf[..n]) {
                            if p.payload_type == slot.session.payload_type() {
                                relayed.push((peer, p.payload.to_vec(), slot.session.encoding()));
                            }
                        }
                    }
                }
                forward_events(slot);
                // A session started just before this tick already sent its first frame.
                if slot.started && slot.last_sent.is_none_or(|t| now >= t + FRAME / 2) {
                    send_frame(slot, now);
                }
            }
            for (peer, payload, encoding) in relayed {
                if let Some(p) = slots.get_mut(&peer) {
                    p.session.relay(&payload, encoding);
                }
            }
            next_tick += FRAME;
            if now > next_tick + FRAME * 5 {
                // We fell far behind (machine suspended or overloaded): resynchronise instead of bursting.
                next_tick = now + FRAME;
            }
            continue;
        }
        // Commands wake the thread at once, so a call starts sending within the same frame.
        match commands.recv_timeout(next_tick - now) {
            Ok(cmd) => apply(cmd, &mut slots, &ports),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn send_frame(slot: &mut Slot, now: Instant) {
    let packet = slot.session.tick();
    // A refused send (ICMP port unreachable from a far end not listening yet) is not fatal:
    // RTP is best effort and the next tick sends the next frame.
    if !slot.held {
        let _ = slot.socket.send_to(packet, slot.remote);
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

fn apply(cmd: Command, slots: &mut HashMap<u64, Slot>, ports: &Mutex<PortPool>) {
    match cmd {
        Command::Add {
            id,
            socket,
            remote,
            session,
            events,
        } => {
            let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
            slots.insert(
                id,
                Slot {
                    socket,
                    remote,
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
                s.remote = remote;
                s.held = held;
            }
        }
        Command::Stop(id) => {
            if let Some(s) = slots.get_mut(&id) {
                s.session.stop();
            }
        }
        Command::Remove(id) => {
            if let Some(s) = slots.remove(&id) {
                ports
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .in_use
                    .remove(&s.port);
            }
        }
    }
}
