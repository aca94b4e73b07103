//! The media thread: owns every call's RTP and RTCP sockets and `MediaSession`, and ticks them
//! all on one 20 ms clock. No task or timer per packet or per call.

mod capture;
mod run;
mod slots;
#[cfg(test)]
mod tests;

// `FinishedBy` is for the call layer, which matches on why a recording ended.
#[allow(unused_imports)]
pub use capture::{DetectKind, Detection, FinishedBy, RecordingDone, RecordingRequest};

use media::rtcp::{ntp_from_unix, RtcpConfig};
use media::session::{Encoding, PlaybackControl};
use media::{MediaSession, Prompt, PromptId};
use std::collections::HashSet;
use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};
use tokio::sync::mpsc::UnboundedSender;

/// The media thread's name, by which `bench-media` finds its CPU time in /proc.
pub(crate) const THREAD_NAME: &str = "flexvox-media";

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
    /// A recording ended (stopped, by itself, or with the call) and its file is complete.
    RecordingStopped(RecordingDone),
    /// Writing a recording failed part way; the file at `path` is not to be trusted.
    RecordingFailed {
        path: std::path::PathBuf,
        error: String,
    },
    /// A detection started with `detect` found what it watched for (then it ends).
    Detected(Detection),
}

enum Command {
    Add {
        id: u64,
        rtp: RtpSocket,
        remote: SocketAddr,
        session: Box<MediaSession>,
        events: UnboundedSender<EngineEvent>,
    },
    Start(u64),
    Play(u64, Prompt),
    Control(u64, PlaybackControl),
    SendDigits(u64, String),
    /// Relay each leg's received audio to the other (None unbridges).
    Bridge(u64, Option<u64>),
    Stop(u64),
    Remove(u64),
    /// A re-INVITE moved the far end's media, or put it on hold (nothing is sent then).
    Retarget(u64, SocketAddr, bool),
    StartRecording(u64, Box<capture::Recording<BufWriter<File>>>),
    StopRecording(u64),
    Detect(u64, DetectKind),
    StopDetect(u64),
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
    /// RTCP CNAME for every session of this process (RFC 3550 §6.5.1: user@host).
    cname: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaEngineError {
    #[error("no free RTP port in the configured range")]
    NoPort,
    #[error("cannot start the recording: {0}")]
    Recording(#[from] media::record::RecordError),
}

/// What was negotiated for a call's stream.
#[derive(Debug, Clone, Copy)]
pub struct StreamFormat {
    pub encoding: Encoding,
    pub payload_type: u8,
    pub telephone_event: Option<u8>,
}

/// An allocated RTP socket and its RTCP companion (the odd port above), before they join the
/// engine.
pub struct RtpSocket {
    pub socket: UdpSocket,
    pub port: u16,
    rtcp: UdpSocket,
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
            .name(THREAD_NAME.into())
            .spawn(move || run::run(rx, pool))
            .expect("spawning the media thread");
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| bind_ip.to_string());
        MediaEngine {
            commands: tx,
            ports,
            bind_ip,
            cname: format!("flexvox@{host}").into(),
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
            let Some(rtcp_port) = port.checked_add(1) else {
                continue;
            };
            // Far ends without `a=rtcp` send RTCP to RTP + 1, so a pair whose odd port is
            // taken is no use.
            let bound = UdpSocket::bind((self.bind_ip, port)).and_then(|rtp| {
                let rtcp = UdpSocket::bind((self.bind_ip, rtcp_port))?;
                rtp.set_nonblocking(true)?;
                rtcp.set_nonblocking(true)?;
                Ok((rtp, rtcp))
            });
            if let Ok((socket, rtcp)) = bound {
                pool.in_use.insert(port);
                return Ok(RtpSocket { socket, port, rtcp });
            }
        }
        Err(MediaEngineError::NoPort)
    }

    /// Adds a call's stream; with no RFC 4733 payload type negotiated, keys are detected in
    /// the audio and sent as tones. `remote` is the SDP's address: if the far end's media
    /// comes from elsewhere (NAT), the stream follows it there.
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
        session.set_remote(remote);
        let wallclock = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        session.enable_rtcp(RtcpConfig::new(
            &self.cname,
            rand::random(),
            Instant::now(),
            ntp_from_unix(wallclock),
        ));
        let _ = self.commands.send(Command::Add {
            id,
            rtp,
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

    /// Seeks, pauses or interrupts the prompt playing (Play's control keys).
    pub fn control(&self, id: u64, control: PlaybackControl) {
        let _ = self.commands.send(Command::Control(id, control));
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

    /// Ends the stream: an RTCP BYE goes out and the ports return to the pool.
    pub fn remove(&self, id: u64) {
        let _ = self.commands.send(Command::Remove(id));
    }

    /// Sends the stream to `remote` from now on; `held` stops sending without stopping time.
    pub fn retarget(&self, id: u64, remote: SocketAddr, held: bool) {
        let _ = self.commands.send(Command::Retarget(id, remote, held));
    }

    /// Records the leg's audio into `request.path` (created now, so a bad path fails here);
    /// `EngineEvent::RecordingStopped` follows when it ends, by `stop_recording`, by its own
    /// limits (`max_ms`, `silence_timeout_ms`) or with the call. A recording already running
    /// on the leg is stopped first.
    pub fn start_recording(
        &self,
        id: u64,
        request: &RecordingRequest,
    ) -> Result<(), MediaEngineError> {
        let file = File::create(&request.path).map_err(media::record::RecordError::from)?;
        let recording = capture::Recording::new(BufWriter::new(file), request)?;
        let _ = self
            .commands
            .send(Command::StartRecording(id, Box::new(recording)));
        Ok(())
    }

    pub fn stop_recording(&self, id: u64) {
        let _ = self.commands.send(Command::StopRecording(id));
    }

    /// Watches what the leg hears; `EngineEvent::Detected` follows once, when found. Replaces
    /// a detection already running.
    pub fn detect(&self, id: u64, kind: DetectKind) {
        let _ = self.commands.send(Command::Detect(id, kind));
    }

    pub fn stop_detect(&self, id: u64) {
        let _ = self.commands.send(Command::StopDetect(id));
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
