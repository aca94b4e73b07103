//! `flexvox bench-media`: the real media engine on 127.0.0.1 with N sessions, each looping a
//! prompt and listening for keys, against N loopback peers that talk to it like callers. It
//! reports the media thread's CPU, the spacing of the packets it sends and their loss.
//!
//! The peers live on a few threads of their own and read with kernel receive timestamps
//! (`SO_TIMESTAMPNS`), so the spacing measured is the engine's, not when a peer got round to
//! reading; the kernel's own delivery still adds a little.

use crate::media_engine::{EngineEvent, MediaEngine, MediaEngineError, StreamFormat};
use media::session::Encoding;
use media::{g711, Prompt};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FRAME: Duration = Duration::from_millis(20);
const TELEPHONE_EVENT_PT: u8 = 101;
/// Each peer presses `5` once every this many frames (5 s), staggered across peers.
const PRESS_EVERY: u64 = 250;

#[derive(clap::Args)]
pub struct BenchMediaArgs {
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Negotiate telephone-event: keys arrive as RFC 4733 events and the in-band detector is
    /// off (the session only runs it without telephone-event). Default: in-band keys.
    #[arg(long)]
    telephone_event: bool,
    /// A WAV file to loop as the prompt instead of the built-in 3 s tone.
    #[arg(long)]
    prompt: Option<PathBuf>,
    /// Lowest engine RTP port; kept below the kernel's ephemeral range the peers bind in.
    #[arg(long, default_value_t = 20000)]
    first_port: u16,
    #[arg(long, default_value_t = 2)]
    peer_threads: usize,
    /// Seconds at the start left out of the figures (sessions being set up).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Engine(#[from] MediaEngineError),
    #[error("the prompt WAV: {0}")]
    Prompt(String),
    #[error("the media thread was not found in /proc/self/task")]
    NoMediaThread,
    #[error(
        "--sessions and --peer-threads must be at least 1, and the ports must fit below 65536"
    )]
    Args,
}

struct Peer {
    socket: UdpSocket,
    engine: SocketAddr,
    ssrc: u32,
    /// Frame index at which this peer's key presses fall within each `PRESS_EVERY`.
    press_phase: u64,
    last: Option<(u16, i64)>,
    first_ext: Option<i64>,
    ext: i64,
    last_measured_ext: i64,
    received: u64,
}

#[derive(Default)]
struct PeerTotals {
    deviations_us: Vec<u32>,
    received: u64,
    expected: u64,
    sent: u64,
    presses: u64,
}

pub fn run(args: BenchMediaArgs) -> Result<(), BenchError> {
    let top = u32::from(args.first_port) + 4 * args.sessions as u32;
    if args.sessions == 0 || args.peer_threads == 0 || top > 65535 {
        return Err(BenchError::Args);
    }
    let prompt: Arc<[i16]> = match &args.prompt {
        Some(path) => media::wav::decode_to_call_rate(&std::fs::read(path)?)
            .map_err(|e| BenchError::Prompt(e.to_string()))?
            .into(),
        None => tone(3),
    };
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let engine = MediaEngine::start(localhost, (args.first_port, top as u16));
    let media_tid =
        find_thread(crate::media_engine::THREAD_NAME).ok_or(BenchError::NoMediaThread)?;
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel::<EngineEvent>();
    let stream = StreamFormat {
        encoding: Encoding::Ulaw,
        payload_type: 0,
        telephone_event: args.telephone_event.then_some(TELEPHONE_EVENT_PT),
    };
    let mut peers = Vec::with_capacity(args.sessions);
    for i in 0..args.sessions {
        let rtp = engine.allocate()?;
        let engine_addr = SocketAddr::new(localhost, rtp.port);
        let socket = UdpSocket::bind((localhost, 0))?;
        socket.set_nonblocking(true)?;
        enable_timestamps(&socket)?;
        let peer_addr = socket.local_addr()?;
        engine.add(i as u64, rtp, peer_addr, stream, events_tx.clone());
        engine.play(i as u64, Prompt::audio(i as u64, prompt.clone(), 0, 0));
        engine.start_sending(i as u64);
        peers.push(Peer {
            socket,
            engine: engine_addr,
            ssrc: 0x5EED_0000 + i as u32,
            press_phase: (i as u64 * 7) % PRESS_EVERY,
            last: None,
            first_ext: None,
            ext: 0,
            last_measured_ext: 0,
            received: 0,
        });
    }
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let talk: Arc<[u8]> = speech().iter().map(|s| g711::linear_to_ulaw(*s)).collect();
    let key_tone: Arc<[u8]> = dtmf_five()
        .iter()
        .map(|s| g711::linear_to_ulaw(*s))
        .collect();
    let per_thread = args.sessions.div_ceil(args.peer_threads);
    let mut handles = Vec::new();
    while !peers.is_empty() {
        let mine: Vec<Peer> = peers.drain(..per_thread.min(peers.len())).collect();
        let (measuring, stop, talk, key_tone) = (
            measuring.clone(),
            stop.clone(),
            talk.clone(),
            key_tone.clone(),
        );
        let events_mode = args.telephone_event;
        handles.push(
            std::thread::Builder::new()
                .name("bench-peers".into())
                .spawn(move || peer_loop(mine, &measuring, &stop, &talk, &key_tone, events_mode))?,
        );
    }
    std::thread::sleep(Duration::from_secs(args.warmup));
    let cpu_start = (thread_cpu(media_tid), process_cpu(), Instant::now());
    measuring.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(
        args.seconds.saturating_sub(args.warmup).max(1),
    ));
    measuring.store(false, Ordering::SeqCst);
    let cpu_end = (thread_cpu(media_tid), process_cpu(), Instant::now());
    stop.store(true, Ordering::SeqCst);
    let mut totals = PeerTotals::default();
    for h in handles {
        if let Ok(t) = h.join() {
            totals.deviations_us.extend(t.deviations_us);
            totals.received += t.received;
            totals.expected += t.expected;
            totals.sent += t.sent;
            totals.presses += t.presses;
        }
    }
    let mut digits = 0u64;
    while let Ok(e) = events.try_recv() {
        digits += u64::from(matches!(e, EngineEvent::Digit('5')));
    }
    for i in 0..args.sessions {
        engine.remove(i as u64);
    }
    let wall = (cpu_end.2 - cpu_start.2).as_secs_f64();
    let share = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.1}%", (b - a) / wall * 100.0),
        _ => "n/a".into(),
    };
    let d = &mut totals.deviations_us;
    d.sort_unstable();
    let pct = |p: f64| -> f64 {
        d.get(((d.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |v| *v as f64 / 1000.0)
    };
    let lost = totals.expected.saturating_sub(totals.received);
    println!(
        "bench-media: {} sessions, {:.1} s measured after {} s warm-up, keys {}, {} CPUs",
        args.sessions,
        wall,
        args.warmup,
        if args.telephone_event {
            "as RFC 4733 events"
        } else {
            "in-band (Goertzel on)"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("load average before: {}", load_before.trim());
    println!(
        "media thread CPU: {} of one core; whole process: {} (includes the {} peer threads)",
        share(cpu_start.0, cpu_end.0),
        share(cpu_start.1, cpu_end.1),
        args.peer_threads,
    );
    println!(
        "engine send spacing, deviation from 20 ms (kernel receive timestamps at the peers; \
         the receive side adds its own scheduling noise): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} gaps",
        pct(0.5),
        pct(0.99),
        pct(1.0),
        d.len()
    );
    let media_cpu = match (cpu_start.0, cpu_end.0) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    // A steady clock sends one packet per session per 20 ms; a thread that cannot keep up
    // skips ticks (it resynchronises rather than bursting), which shows here and not as loss.
    let clock_packets = args.sessions as f64 * wall / FRAME.as_secs_f64();
    let sent = totals.expected.max(1) as f64;
    println!(
        "engine kept time for {:.1}% of the ticks; media thread CPU per packet sent: {:.2} µs \
         ({:.1}% of one core at the full rate)",
        sent * 100.0 / clock_packets,
        media_cpu * 1e6 / sent,
        media_cpu / sent * clock_packets / wall * 100.0,
    );
    println!(
        "engine -> peers: {} packets received, {} lost ({:.3}%); peers -> engine: {} sent",
        totals.received,
        lost,
        lost as f64 * 100.0 / totals.expected.max(1) as f64,
        totals.sent
    );
    println!(
        "keys: {} presses sent over the whole run, {} detected by the engine",
        totals.presses, digits
    );
    Ok(())
}

fn peer_loop(
    mut peers: Vec<Peer>,
    measuring: &AtomicBool,
    stop: &AtomicBool,
    talk: &[u8],
    key_tone: &[u8],
    events_mode: bool,
) -> PeerTotals {
    let mut totals = PeerTotals::default();
    let mut packet = Vec::with_capacity(200);
    let mut buf = [0u8; 2048];
    let mut next = Instant::now();
    let mut frame: u64 = 0;
    let frames_in_talk = (talk.len() / 160) as u64;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now < next {
            std::thread::sleep(next - now);
        }
        next += FRAME;
        let measure = measuring.load(Ordering::Relaxed);
        for p in peers.iter_mut() {
            // A 100 ms press (5 frames) every PRESS_EVERY frames, otherwise talk.
            let press = (frame + p.press_phase) % PRESS_EVERY;
            packet.clear();
            let seq = frame as u16;
            let ts = (frame as u32).wrapping_mul(160);
            if press < 5 && events_mode {
                let duration = ((press + 1) * 160) as u16;
                let end = if press == 4 { 0x80 } else { 0 };
                write_rtp(
                    &mut packet,
                    TELEPHONE_EVENT_PT,
                    press == 0,
                    seq,
                    ts.wrapping_sub(press as u32 * 160),
                    p.ssrc,
                );
                packet.extend_from_slice(&[5, end | 10]);
                packet.extend_from_slice(&duration.to_be_bytes());
            } else {
                write_rtp(&mut packet, 0, false, seq, ts, p.ssrc);
                let payload = if press < 5 {
                    &key_tone[press as usize * 160..][..160]
                } else {
                    let f = ((frame + p.press_phase * 13) % frames_in_talk) as usize;
                    &talk[f * 160..][..160]
                };
                packet.extend_from_slice(payload);
            }
            // A peer that starts mid-press still presses: count it once too.
            totals.presses += u64::from(press == 0 || (frame == 0 && press < 5));
            if p.socket.send_to(&packet, p.engine).is_ok() {
                totals.sent += 1;
            }
            while let Ok((n, stamp)) = recv_stamped(&p.socket, &mut buf) {
                if n < 12 || media::rtcp::is_rtcp(&buf[..n]) {
                    continue;
                }
                let seq = u16::from_be_bytes([buf[2], buf[3]]);
                let stamp = stamp.unwrap_or_else(realtime_ns);
                p.on_packet(seq, stamp, measure, &mut totals.deviations_us);
            }
        }
        frame += 1;
    }
    for p in &peers {
        if let Some(first) = p.first_ext {
            totals.expected += (p.last_measured_ext - first + 1) as u64;
            totals.received += p.received;
        }
    }
    totals
}

impl Peer {
    fn on_packet(&mut self, seq: u16, stamp: i64, measure: bool, deviations: &mut Vec<u32>) {
        let step = match self.last {
            Some((last_seq, _)) => i64::from(seq.wrapping_sub(last_seq) as i16),
            None => 1,
        };
        // A duplicate or a straggler: the stream's position is where it was.
        if step <= 0 {
            return;
        }
        let previous = self.last.replace((seq, stamp));
        self.ext += step;
        if !measure {
            return;
        }
        self.first_ext.get_or_insert(self.ext);
        self.last_measured_ext = self.ext;
        self.received += 1;
        if let (1, Some((_, last_stamp))) = (step, previous) {
            let gap = stamp - last_stamp;
            deviations.push(((gap - 20_000_000).unsigned_abs() / 1000) as u32);
        }
    }
}

fn write_rtp(out: &mut Vec<u8>, pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32) {
    out.push(0x80);
    out.push(pt | if marker { 0x80 } else { 0 });
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
}

fn sine(freqs: &[(f64, f64)], seconds: f64, envelope: impl Fn(f64) -> f64) -> Vec<i16> {
    let n = (seconds * 8000.0) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let v: f64 = freqs
                .iter()
                .map(|(f, a)| a * (2.0 * std::f64::consts::PI * f * t).sin())
                .sum();
            (v * envelope(t)) as i16
        })
        .collect()
}

/// The prompt: a two-tone chime, 3 s a loop.
fn tone(seconds: u32) -> Arc<[i16]> {
    sine(&[(440.0, 6000.0), (660.0, 3000.0)], seconds as f64, |t| {
        0.5 + 0.5 * (2.0 * std::f64::consts::PI * 0.5 * t).cos()
    })
    .into()
}

/// A caller talking: a harmonic-rich voice at 140 Hz in syllables of about 200 ms with pauses.
fn speech() -> Vec<i16> {
    let harmonics: Vec<(f64, f64)> = (1..12)
        .map(|k| (140.0 * k as f64, 2500.0 / k as f64))
        .collect();
    sine(&harmonics, 2.0, |t| {
        let phase = (t * 4.0).fract();
        if (t * 4.0) as u32 % 4 == 3 {
            0.0
        } else {
            (std::f64::consts::PI * phase).sin()
        }
    })
}

fn dtmf_five() -> Vec<i16> {
    sine(&[(770.0, 7000.0), (1336.0, 7000.0)], 0.1, |_| 1.0)
}

fn find_thread(name: &str) -> Option<u32> {
    // The engine names its thread before it runs; give the kernel a moment to show it.
    for _ in 0..100 {
        for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            if comm.trim() == name {
                return entry.file_name().to_str()?.parse().ok();
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// utime + stime of a /proc stat file, in seconds.
fn stat_cpu(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some(ticks as f64 / hz.max(1) as f64)
}

fn thread_cpu(tid: u32) -> Option<f64> {
    stat_cpu(&format!("/proc/self/task/{tid}/stat"))
}

fn process_cpu() -> Option<f64> {
    stat_cpu("/proc/self/stat")
}

fn realtime_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

fn enable_timestamps(socket: &UdpSocket) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value that outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One datagram and the kernel's receive time (ns since the Unix epoch), without blocking.
fn recv_stamped(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, Option<i64>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 16];
    // SAFETY: msghdr is plain data; every pointer set below outlives the recvmsg call, and
    // the control messages are read only within the length the kernel returned.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut stamp = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                stamp = Some(ts.tv_sec * 1_000_000_000 + ts.tv_nsec);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        Ok((n as usize, stamp))
    }
}
