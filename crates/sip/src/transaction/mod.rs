//! RFC 3261 §17 transaction state machines (unreliable transport), with the 2xx handling of
//! RFC 6026: the INVITE server transaction keeps retransmitting its 2xx until the ACK arrives,
//! so the user agent above it never has to.
//!
//! Each machine is pure: `send_*`/`on_*` feed it, `poll_transmit` and `poll_timeout` drain it,
//! `handle_timeout(now)` fires whatever timer is due.

use std::time::{Duration, Instant};

mod invite_client;

pub use invite_client::{
    InviteClientEvent, InviteClientState, InviteClientTransaction, TIMER_D_UDP,
};

/// Timer base values (RFC 3261 §17.1.1.1, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub t1: Duration,
    pub t2: Duration,
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteServerState {
    Proceeding,
    /// Non-2xx final sent, waiting for ACK (Timer G retransmits, Timer H gives up).
    Completed,
    /// ACK for a non-2xx final received; absorbing retransmitted ACKs (Timer I).
    Confirmed,
    /// 2xx sent, retransmitted until the ACK arrives or Timer H fires (RFC 6026 §8.5).
    Accepted,
    Terminated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteServerEvent {
    /// The ACK for our final response arrived.
    Acked,
    /// Timer H: no ACK for our final response within 64·T1.
    AckTimeout,
}

#[derive(Debug)]
pub struct InviteServerTransaction {
    timers: Timers,
    reliable: bool,
    state: InviteServerState,
    last_response: Option<Vec<u8>>,
    retransmit_at: Option<Instant>,
    retransmit_interval: Duration,
    give_up_at: Option<Instant>,
    terminate_at: Option<Instant>,
    transmits: Vec<Vec<u8>>,
    events: Vec<InviteServerEvent>,
}

impl InviteServerTransaction {
    pub fn new(timers: Timers) -> Self {
        InviteServerTransaction {
            timers,
            reliable: false,
            state: InviteServerState::Proceeding,
            last_response: None,
            retransmit_at: None,
            retransmit_interval: timers.t1,
            give_up_at: None,
            terminate_at: None,
            transmits: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn state(&self) -> InviteServerState {
        self.state
    }

    /// Over a reliable transport a 3xx–6xx is not retransmitted (no Timer G) and Timer I is
    /// zero; a 2xx still is, since it may cross unreliable hops further on (§13.3.1.4).
    pub fn reliable(mut self, reliable: bool) -> Self {
        self.reliable = reliable;
        self
    }

    /// The TU sends a response with status `status`.
    pub fn send_response(&mut self, now: Instant, status: u16, bytes: Vec<u8>) {
        if self.state != InviteServerState::Proceeding {
            return;
        }
        self.transmits.push(bytes.clone());
        self.last_response = Some(bytes);
        if status < 200 {
            return;
        }
        self.state = if status < 300 {
            InviteServerState::Accepted
        } else {
            InviteServerState::Completed
        };
        self.retransmit_interval = self.timers.t1;
        let retransmits = status < 300 || !self.reliable;
        self.retransmit_at = retransmits.then(|| now + self.timers.t1);
        self.give_up_at = Some(now + self.timers.t1 * 64);
    }

    /// The INVITE arrived again: repeat the last response (RFC 3261 §17.2.1).
    pub fn on_retransmitted_request(&mut self) {
        if let (
            Some(last),
            InviteServerState::Proceeding
            | InviteServerState::Completed
            | InviteServerState::Accepted,
        ) = (&self.last_response, self.state)
        {
            self.transmits.push(last.clone());
        }
    }

    pub fn on_ack(&mut self, now: Instant) {
        match self.state {
            InviteServerState::Completed => {
                self.state = InviteServerState::Confirmed;
                self.retransmit_at = None;
                self.give_up_at = None;
                let timer_i = if self.reliable {
                    Duration::ZERO
                } else {
                    self.timers.t4
                };
                self.terminate_at = Some(now + timer_i);
                self.events.push(InviteServerEvent::Acked);
            }
            InviteServerState::Accepted if self.give_up_at.is_some() => {
                // Stay in Accepted until Timer L so retransmitted ACKs are absorbed.
                self.retransmit_at = None;
                self.give_up_at = None;
                self.terminate_at = Some(now + self.timers.t1 * 64);
                self.events.push(InviteServerEvent::Acked);
            }
            _ => {}
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.retransmit_at, self.give_up_at, self.terminate_at]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.give_up_at.is_some_and(|t| now >= t) {
            self.state = InviteServerState::Terminated;
            self.retransmit_at = None;
            self.give_up_at = None;
            self.events.push(InviteServerEvent::AckTimeout);
            return;
        }
        if self.terminate_at.is_some_and(|t| now >= t) {
            self.state = InviteServerState::Terminated;
            self.terminate_at = None;
            return;
        }
        if let Some(at) = self.retransmit_at.filter(|t| now >= *t) {
            if let Some(last) = &self.last_response {
                self.transmits.push(last.clone());
            }
            self.retransmit_interval = (self.retransmit_interval * 2).min(self.timers.t2);
            self.retransmit_at = Some(at + self.retransmit_interval);
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.transmits.is_empty()).then(|| self.transmits.remove(0))
    }

    pub fn poll_event(&mut self) -> Option<InviteServerEvent> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }
}

/// Non-INVITE server transaction (§17.2.2): answers retransmissions with the last response and
/// lingers for Timer J.
#[derive(Debug)]
pub struct NonInviteServerTransaction {
    timers: Timers,
    reliable: bool,
    last_response: Option<Vec<u8>>,
    terminate_at: Option<Instant>,
    transmits: Vec<Vec<u8>>,
}

impl NonInviteServerTransaction {
    pub fn new(timers: Timers) -> Self {
        NonInviteServerTransaction {
            timers,
            reliable: false,
            last_response: None,
            terminate_at: None,
            transmits: Vec::new(),
        }
    }

    /// Over a reliable transport Timer J is zero: no retransmitted request can arrive.
    pub fn reliable(mut self, reliable: bool) -> Self {
        self.reliable = reliable;
        self
    }

    pub fn send_response(&mut self, now: Instant, status: u16, bytes: Vec<u8>) {
        if self.terminate_at.is_some() {
            return;
        }
        self.transmits.push(bytes.clone());
        self.last_response = Some(bytes);
        if status >= 200 {
            let timer_j = if self.reliable {
                Duration::ZERO
            } else {
                self.timers.t1 * 64
            };
            self.terminate_at = Some(now + timer_j);
        }
    }

    pub fn on_retransmitted_request(&mut self) {
        if let Some(last) = &self.last_response {
            self.transmits.push(last.clone());
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.terminate_at
    }

    /// True once Timer J has fired and the transaction can be forgotten.
    pub fn is_terminated(&self, now: Instant) -> bool {
        self.terminate_at.is_some_and(|t| now >= t)
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.transmits.is_empty()).then(|| self.transmits.remove(0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientOutcome {
    /// A final response with this status arrived.
    Final(u16),
    /// Timer F: no final response within 64·T1.
    Timeout,
}

/// Non-INVITE client transaction (§17.1.2) for the requests we send, such as BYE.
#[derive(Debug)]
pub struct NonInviteClientTransaction {
    timers: Timers,
    request: Vec<u8>,
    retransmit_at: Option<Instant>,
    interval: Duration,
    give_up_at: Option<Instant>,
    outcome: Option<ClientOutcome>,
    reported: bool,
    transmits: Vec<Vec<u8>>,
}

impl NonInviteClientTransaction {
    pub fn new(now: Instant, timers: Timers, request: Vec<u8>) -> Self {
        NonInviteClientTransaction {
            timers,
            transmits: vec![request.clone()],
            request,
            retransmit_at: Some(now + timers.t1),
            interval: timers.t1,
            give_up_at: Some(now + timers.t1 * 64),
            outcome: None,
            reported: false,
        }
    }

    /// Over a reliable transport the request is sent once (no Timer E); Timer F still runs.
    pub fn reliable(mut self, reliable: bool) -> Self {
        if reliable {
            self.retransmit_at = None;
        }
        self
    }

    pub fn on_response(&mut self, status: u16) {
        if status >= 200 && self.outcome.is_none() {
            self.outcome = Some(ClientOutcome::Final(status));
            self.retransmit_at = None;
            self.give_up_at = None;
        } else if status < 200 {
            // Provisional: keep retransmitting at T2 (§17.1.2.2).
            self.interval = self.timers.t2;
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.retransmit_at, self.give_up_at]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.give_up_at.is_some_and(|t| now >= t) {
            self.outcome = Some(ClientOutcome::Timeout);
            self.retransmit_at = None;
            self.give_up_at = None;
            return;
        }
        if let Some(at) = self.retransmit_at.filter(|t| now >= *t) {
            self.transmits.push(self.request.clone());
            self.interval = (self.interval * 2).min(self.timers.t2);
            self.retransmit_at = Some(at + self.interval);
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.transmits.is_empty()).then(|| self.transmits.remove(0))
    }

    /// The outcome, reported once.
    pub fn poll_outcome(&mut self) -> Option<ClientOutcome> {
        if self.reported {
            return None;
        }
        let outcome = self.outcome?;
        self.reported = true;
        Some(outcome)
    }
}
