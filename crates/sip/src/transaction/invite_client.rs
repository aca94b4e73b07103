//! INVITE client transaction (RFC 3261 §17.1.1, unreliable transport) with the Accepted state
//! of RFC 6026 §7.2: a 2xx and its retransmissions are passed up to the TU, which sends the
//! ACK for a 2xx itself in a new transaction; the ACK for a 3xx–6xx is generated here, on the
//! INVITE's branch.

use super::Timers;
use crate::message::{Headers, Method, Request, Response};
use std::time::{Duration, Instant};

/// Timer D on an unreliable transport (RFC 3261 Table 4: "> 32 s for UDP").
pub const TIMER_D_UDP: Duration = Duration::from_secs(32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteClientState {
    /// INVITE sent, retransmitted on Timer A until a response arrives or Timer B fires.
    Calling,
    /// A provisional response arrived: no more retransmissions.
    Proceeding,
    /// A 3xx–6xx arrived and was ACKed; retransmitted finals are ACKed again (Timer D).
    Completed,
    /// A 2xx arrived; further 2xx are passed up until Timer M (RFC 6026).
    Accepted,
    Terminated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteClientEvent {
    /// Timer B: no response within 64·T1 of sending the INVITE.
    Timeout,
}

#[derive(Debug)]
pub struct InviteClientTransaction {
    timers: Timers,
    reliable: bool,
    state: InviteClientState,
    invite: Request,
    invite_bytes: Vec<u8>,
    ack: Option<Vec<u8>>,
    retransmit_at: Option<Instant>,
    interval: Duration,
    timeout_at: Option<Instant>,
    terminate_at: Option<Instant>,
    transmits: Vec<Vec<u8>>,
    events: Vec<InviteClientEvent>,
}

impl InviteClientTransaction {
    /// Starts the transaction: the INVITE is queued for sending at once.
    pub fn new(now: Instant, timers: Timers, invite: Request) -> Self {
        let invite_bytes = invite.to_bytes();
        InviteClientTransaction {
            timers,
            reliable: false,
            state: InviteClientState::Calling,
            invite,
            transmits: vec![invite_bytes.clone()],
            invite_bytes,
            ack: None,
            retransmit_at: Some(now + timers.t1),
            interval: timers.t1,
            timeout_at: Some(now + timers.t1 * 64),
            terminate_at: None,
            events: Vec::new(),
        }
    }

    /// Over a reliable transport the INVITE is sent once (no Timer A) and Timer D is zero.
    pub fn reliable(mut self, reliable: bool) -> Self {
        self.reliable = reliable;
        if reliable {
            self.retransmit_at = None;
        }
        self
    }

    pub fn state(&self) -> InviteClientState {
        self.state
    }

    pub fn request(&self) -> &Request {
        &self.invite
    }

    /// Feeds a response matched to this transaction. Returns whether the TU must see it:
    /// provisional responses and the first final are passed up, as is every 2xx (RFC 6026);
    /// retransmitted non-2xx finals are absorbed (and ACKed again).
    pub fn on_response(&mut self, now: Instant, resp: &Response) -> bool {
        use InviteClientState::*;
        let status = resp.status;
        match (self.state, status) {
            (Calling | Proceeding, 100..=199) => {
                self.state = Proceeding;
                self.retransmit_at = None;
                self.timeout_at = None;
                true
            }
            (Calling | Proceeding, 200..=299) => {
                self.state = Accepted;
                self.retransmit_at = None;
                self.timeout_at = None;
                self.terminate_at = Some(now + self.timers.t1 * 64);
                true
            }
            (Accepted, 200..=299) => true,
            (Calling | Proceeding, _) if status >= 300 => {
                self.state = Completed;
                self.retransmit_at = None;
                self.timeout_at = None;
                let timer_d = if self.reliable {
                    Duration::ZERO
                } else {
                    TIMER_D_UDP
                };
                self.terminate_at = Some(now + timer_d);
                let ack = self.ack_for(resp).to_bytes();
                self.transmits.push(ack.clone());
                self.ack = Some(ack);
                true
            }
            (Completed, _) if status >= 300 => {
                if let Some(ack) = &self.ack {
                    self.transmits.push(ack.clone());
                }
                false
            }
            _ => false,
        }
    }

    /// The ACK for a non-2xx final (§17.1.1.3): Request-URI, Call-ID, From, top Via and Route
    /// of the INVITE, To of the response, the INVITE's CSeq number.
    fn ack_for(&self, resp: &Response) -> Request {
        let inv = &self.invite;
        let mut headers = Headers::new();
        if let Some(via) = inv.headers.get_all("Via").first() {
            headers.push("Via", *via);
        }
        headers.push("Max-Forwards", "70");
        headers.push("From", inv.headers.get("From").unwrap_or(""));
        headers.push(
            "To",
            resp.headers
                .get("To")
                .or(inv.headers.get("To"))
                .unwrap_or(""),
        );
        headers.push("Call-ID", inv.call_id());
        let cseq = inv.cseq().map(|(n, _)| n).unwrap_or(1);
        headers.push("CSeq", format!("{cseq} ACK"));
        for route in inv.headers.get_all("Route") {
            headers.push("Route", route);
        }
        Request {
            method: Method::Ack,
            uri: inv.uri.clone(),
            headers,
            body: Vec::new(),
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.retransmit_at, self.timeout_at, self.terminate_at]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timeout_at.is_some_and(|t| now >= t) {
            self.state = InviteClientState::Terminated;
            self.retransmit_at = None;
            self.timeout_at = None;
            self.events.push(InviteClientEvent::Timeout);
            return;
        }
        if self.terminate_at.is_some_and(|t| now >= t) {
            self.state = InviteClientState::Terminated;
            self.terminate_at = None;
            return;
        }
        if let Some(at) = self.retransmit_at.filter(|t| now >= *t) {
            // Timer A doubles without the T2 cap of non-INVITE transactions.
            self.transmits.push(self.invite_bytes.clone());
            self.interval *= 2;
            self.retransmit_at = Some(at + self.interval);
        }
    }

    pub fn is_terminated(&self) -> bool {
        self.state == InviteClientState::Terminated
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.transmits.is_empty()).then(|| self.transmits.remove(0))
    }

    pub fn poll_event(&mut self) -> Option<InviteClientEvent> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }
}
