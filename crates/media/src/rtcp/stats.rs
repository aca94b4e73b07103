//! Receiver statistics for one source, as RFC 3550 appendix A.1 (sequence validation),
//! A.3 (expected and lost packets) and A.8 (interarrival jitter) compute them.

use super::ReportBlock;

const RTP_SEQ_MOD: u32 = 1 << 16;
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
/// Packets in sequence before a new source is believed (A.1): one stray packet from an old
/// stream must not reset the counters.
const MIN_SEQUENTIAL: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverStats {
    ssrc: u32,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u8,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    transit: Option<i32>,
    /// The jitter estimate scaled by 16, as A.8 keeps it to avoid fractions.
    jitter_q4: u32,
}

impl ReceiverStats {
    /// Starts on the first packet heard from `ssrc` (A.1 `init_seq` with probation).
    pub fn new(ssrc: u32, seq: u16) -> Self {
        let mut s = ReceiverStats {
            ssrc,
            max_seq: seq.wrapping_sub(1),
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter_q4: 0,
        };
        s.init(seq);
        s.max_seq = seq.wrapping_sub(1);
        s.probation = MIN_SEQUENTIAL;
        s
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    fn init(&mut self, seq: u16) {
        self.base_seq = seq as u32;
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// Counts a packet. `arrival` is its arrival time in RTP timestamp units (from any
    /// origin: only differences matter), `None` when unknown, which leaves the jitter alone.
    /// Returns whether the packet was accepted as part of the stream (A.1 `update_seq`).
    pub fn update(&mut self, seq: u16, rtp_timestamp: u32, arrival: Option<u32>) -> bool {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init(seq);
                    self.received += 1;
                    self.add_transit(rtp_timestamp, arrival);
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += RTP_SEQ_MOD;
            }
            self.max_seq = seq;
        } else if udelta as u32 <= RTP_SEQ_MOD - MAX_MISORDER as u32 {
            // A very large jump: two in a row mean the sender restarted its sequence.
            if seq as u32 == self.bad_seq {
                self.init(seq);
                self.transit = None;
            } else {
                self.bad_seq = (seq as u32 + 1) & (RTP_SEQ_MOD - 1);
                return false;
            }
        }
        // Otherwise a duplicate or reordered packet: counted, as A.3's arithmetic expects.
        self.received += 1;
        self.add_transit(rtp_timestamp, arrival);
        true
    }

    /// A.8: J += (|D(i-1, i)| - J) / 16, in fixed point.
    fn add_transit(&mut self, rtp_timestamp: u32, arrival: Option<u32>) {
        let Some(arrival) = arrival else { return };
        let transit = arrival.wrapping_sub(rtp_timestamp) as i32;
        if let Some(last) = self.transit {
            let d = transit.wrapping_sub(last).unsigned_abs();
            self.jitter_q4 = self
                .jitter_q4
                .wrapping_add(d)
                .wrapping_sub((self.jitter_q4 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// Interarrival jitter in timestamp units, as reported.
    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }

    pub fn extended_highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(self.max_seq as u32)
    }

    pub fn expected(&self) -> u32 {
        if self.probation > 0 {
            return 0;
        }
        self.extended_highest_seq()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    pub fn received(&self) -> u32 {
        self.received
    }

    /// Cumulative loss; negative when duplicates outnumber losses.
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// A report block for this source; closes the interval the fraction lost covers.
    /// `last_sr`/`delay_since_last_sr` come from the reporter, which knows when SRs arrived.
    pub fn report(&mut self, last_sr: u32, delay_since_last_sr: u32) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.lost().clamp(-0x80_0000, 0x7F_FFFF) as i32,
            extended_highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }
}
