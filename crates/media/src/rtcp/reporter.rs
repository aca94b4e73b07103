//! When a session sends its RTCP and what goes in it (RFC 3550 §6.2-6.4), and what it learns
//! from the far end's reports: the round-trip time (§6.4.1, LSR/DLSR) and the far end's view
//! of our stream.

use super::packet::{
    parse_compound, write_compound, Bye, ReceiverReport, ReportBlock, RtcpError, RtcpPacket,
    SdesChunk, SenderInfo, SenderReport,
};
use super::stats::ReceiverStats;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Seconds from the NTP era (1900) to the Unix epoch.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// e - 3/2: §6.3.1 divides the randomised interval by it to make up for timer
/// reconsideration, which a two-party session does not otherwise need.
const COMPENSATION: f64 = 1.218_281_828_459_045;

/// The NTP-format timestamp of a Unix time (as from `SystemTime::UNIX_EPOCH.elapsed()`).
pub fn ntp_from_unix(since_unix_epoch: Duration) -> u64 {
    let secs = since_unix_epoch.as_secs() + NTP_UNIX_OFFSET;
    let frac = ((since_unix_epoch.subsec_nanos() as u64) << 32) / 1_000_000_000;
    secs << 32 | frac
}

/// SplitMix64's finaliser: nearby seeds give unrelated sequences, and xorshift gets the
/// non-zero state it needs.
fn mix_seed(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).max(1)
}

fn ntp_duration(d: Duration) -> u64 {
    (d.as_secs() << 32) + (((d.subsec_nanos() as u64) << 32) / 1_000_000_000)
}

#[derive(Debug, Clone)]
pub struct RtcpConfig {
    pub cname: String,
    /// Nominal report interval: 5 s, the §6.2 minimum, is right for one call's two parties.
    pub interval: Duration,
    /// Seeds the interval's randomisation (§6.3.1), which keeps calls set up together from
    /// reporting in lockstep; the caller draws it so the reporter stays deterministic.
    pub seed: u64,
    /// The wallclock anchor for sender reports: `epoch_ntp` is the NTP time at `epoch`.
    pub epoch: Instant,
    pub epoch_ntp: u64,
    pub clock_rate: u32,
}

impl RtcpConfig {
    pub fn new(cname: &str, seed: u64, epoch: Instant, epoch_ntp: u64) -> Self {
        RtcpConfig {
            cname: cname.to_owned(),
            interval: Duration::from_secs(5),
            seed,
            epoch,
            epoch_ntp,
            clock_rate: crate::CALL_RATE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpEvent {
    /// The far end reported on our stream.
    Report(ReportBlock),
    /// The far end left (RTCP BYE), with its reason if it gave one.
    Bye { ssrc: u32, reason: Option<String> },
}

/// What RTCP knows about a call's quality, for logs and CDRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtcpSummary {
    pub round_trip: Option<Duration>,
    /// The far end's last report on our stream.
    pub remote_report: Option<ReportBlock>,
    pub received: u32,
    pub expected: u32,
    /// Interarrival jitter of the stream we receive, in timestamp units.
    pub jitter: u32,
    pub reports_sent: u32,
    pub reports_received: u32,
}

#[derive(Debug, Clone)]
pub struct RtcpReporter {
    ssrc: u32,
    config: RtcpConfig,
    rng: u64,
    next_report: Option<Instant>,
    remote: Option<ReceiverStats>,
    /// Middle 32 bits of the far end's last SR and when it arrived.
    last_sr: Option<(u32, Instant)>,
    packets_sent: u32,
    octets_sent: u32,
    /// Our last RTP timestamp and when it left, to place the SR's RTP timestamp.
    last_sent: Option<(u32, Instant)>,
    sent_since_report: bool,
    summary: RtcpSummary,
    events: VecDeque<RtcpEvent>,
    out: Vec<u8>,
}

impl RtcpReporter {
    pub fn new(ssrc: u32, config: RtcpConfig) -> Self {
        RtcpReporter {
            ssrc,
            rng: mix_seed(config.seed),
            config,
            next_report: None,
            remote: None,
            last_sr: None,
            packets_sent: 0,
            octets_sent: 0,
            last_sent: None,
            sent_since_report: false,
            summary: RtcpSummary::default(),
            events: VecDeque::new(),
            out: Vec::with_capacity(128),
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    fn random_unit(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn schedule(&mut self, now: Instant, initial: bool) {
        let nominal = if initial {
            // §6.2: the first report may go after half the minimum interval.
            self.config.interval / 2
        } else {
            self.config.interval
        };
        let factor = (0.5 + self.random_unit()) / COMPENSATION;
        self.next_report = Some(now + nominal.mul_f64(factor));
    }

    fn ntp(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.config.epoch);
        self.config.epoch_ntp.wrapping_add(ntp_duration(since))
    }

    fn rtp_units(&self, now: Instant) -> u32 {
        let since = now.saturating_duration_since(self.config.epoch);
        (since.as_nanos() * self.config.clock_rate as u128 / 1_000_000_000) as u32
    }

    /// Counts a packet we sent; `payload_len` excludes the RTP header, as §6.4.1 counts.
    pub fn on_sent(&mut self, now: Instant, rtp_timestamp: u32, payload_len: usize) {
        self.packets_sent = self.packets_sent.wrapping_add(1);
        self.octets_sent = self.octets_sent.wrapping_add(payload_len as u32);
        self.last_sent = Some((rtp_timestamp, now));
        self.sent_since_report = true;
        if self.next_report.is_none() {
            self.schedule(now, true);
        }
    }

    /// Counts a packet received from the far end; `arrival` is `None` when the caller does
    /// not know it, which leaves the jitter estimate alone.
    pub fn on_received(&mut self, arrival: Option<Instant>, ssrc: u32, seq: u16, ts: u32) {
        let stats = match &mut self.remote {
            Some(stats) if stats.ssrc() == ssrc => stats,
            _ => self.remote.insert(ReceiverStats::new(ssrc, seq)),
        };
        let units = arrival.map(|a| {
            let since = a.saturating_duration_since(self.config.epoch);
            (since.as_nanos() * self.config.clock_rate as u128 / 1_000_000_000) as u32
        });
        stats.update(seq, ts, units);
        if let (None, Some(at)) = (self.next_report, arrival) {
            self.schedule(at, true);
        }
    }

    pub fn receiver_stats(&self) -> Option<&ReceiverStats> {
        self.remote.as_ref()
    }

    /// When `poll_transmit` next has something to send.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_report
    }

    /// The compound report, when one is due at `now`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<&[u8]> {
        if self.next_report.is_none_or(|at| now < at) {
            return None;
        }
        self.schedule(now, false);
        let packets = self.report(now);
        self.out.clear();
        write_compound(&packets, &mut self.out);
        self.summary.reports_sent += 1;
        Some(&self.out)
    }

    /// A final compound ending in BYE, for when the call hangs up.
    pub fn bye(&mut self, now: Instant, reason: Option<&str>) -> &[u8] {
        let mut packets = self.report(now);
        packets.push(RtcpPacket::Bye(Bye {
            sources: vec![self.ssrc],
            reason: reason.map(|r| r.as_bytes().to_vec()),
        }));
        self.next_report = None;
        self.out.clear();
        write_compound(&packets, &mut self.out);
        &self.out
    }

    fn report(&mut self, now: Instant) -> Vec<RtcpPacket> {
        let last_sr = self.last_sr;
        let blocks: Vec<ReportBlock> = self
            .remote
            .as_mut()
            .filter(|s| s.expected() > 0)
            .map(|s| {
                let (lsr, dlsr) = match last_sr {
                    Some((lsr, at)) => {
                        let delay = now.saturating_duration_since(at);
                        (lsr, (ntp_duration(delay) >> 16) as u32)
                    }
                    None => (0, 0),
                };
                s.report(lsr, dlsr)
            })
            .into_iter()
            .collect();
        // An SR only while we send: §6.4's "since the last report" rather than "two reports
        // ago", since our stream does not stop and start within an interval.
        let head = match self.last_sent.filter(|_| self.sent_since_report) {
            Some((ts, at)) => {
                let elapsed = self.rtp_units(now).wrapping_sub(self.rtp_units(at));
                RtcpPacket::SenderReport(SenderReport {
                    ssrc: self.ssrc,
                    info: SenderInfo {
                        ntp_timestamp: self.ntp(now),
                        rtp_timestamp: ts.wrapping_add(elapsed),
                        packet_count: self.packets_sent,
                        octet_count: self.octets_sent,
                    },
                    reports: blocks,
                })
            }
            None => RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: self.ssrc,
                reports: blocks,
            }),
        };
        self.sent_since_report = false;
        vec![
            head,
            RtcpPacket::SourceDescription(vec![SdesChunk::cname(self.ssrc, &self.config.cname)]),
        ]
    }

    /// Takes an RTCP datagram from the far end.
    pub fn handle(&mut self, now: Instant, datagram: &[u8]) -> Result<(), RtcpError> {
        let packets = parse_compound(datagram)?;
        self.summary.reports_received += 1;
        for packet in packets {
            match packet {
                RtcpPacket::SenderReport(sr) => {
                    let middle = (sr.info.ntp_timestamp >> 16) as u32;
                    self.last_sr = Some((middle, now));
                    self.blocks(now, &sr.reports);
                }
                RtcpPacket::ReceiverReport(rr) => self.blocks(now, &rr.reports),
                RtcpPacket::Bye(bye) => {
                    let reason = bye.reason.map(|r| String::from_utf8_lossy(&r).into_owned());
                    for ssrc in bye.sources {
                        self.events.push_back(RtcpEvent::Bye {
                            ssrc,
                            reason: reason.clone(),
                        });
                    }
                }
                RtcpPacket::SourceDescription(_) | RtcpPacket::Other { .. } => {}
            }
        }
        Ok(())
    }

    fn blocks(&mut self, now: Instant, blocks: &[ReportBlock]) {
        for block in blocks.iter().filter(|b| b.ssrc == self.ssrc) {
            if block.last_sr != 0 {
                // §6.4.1: A - LSR - DLSR, all in the middle 32 bits of NTP time.
                let arrival = (self.ntp(now) >> 16) as u32;
                let rtt = arrival
                    .wrapping_sub(block.last_sr)
                    .wrapping_sub(block.delay_since_last_sr);
                // A negative result (clock trouble, a forged block) is no measurement.
                if rtt < 1 << 31 {
                    let nanos = (rtt as u64 * 1_000_000_000) >> 16;
                    self.summary.round_trip = Some(Duration::from_nanos(nanos));
                }
            }
            self.summary.remote_report = Some(*block);
            self.events.push_back(RtcpEvent::Report(*block));
        }
    }

    pub fn poll_event(&mut self) -> Option<RtcpEvent> {
        self.events.pop_front()
    }

    pub fn summary(&self) -> RtcpSummary {
        let mut s = self.summary;
        if let Some(r) = &self.remote {
            s.received = r.received();
            s.expected = r.expected();
            s.jitter = r.jitter();
        }
        s
    }

    pub fn round_trip(&self) -> Option<Duration> {
        self.summary.round_trip
    }
}
