//! The outbound side of the user agent (UAC): INVITE with digest retry, CANCEL, the ACK for
//! a 2xx and BYE (RFC 3261 §8.1, §9.1, §13.2, §22).
//!
//! Every request of an outbound call goes to `OutboundCall::destination` (the carrier or
//! outbound proxy); the route set and remote target only shape the Route headers and the
//! Request-URI of in-dialog requests, since resolving them to addresses needs DNS.

use super::{CallId, EndReason, UaEvent, UserAgent, ALLOW};
use crate::digest::{self, DigestInput};
use crate::message::{uri_of, Headers, Method, Request, Response};
use crate::transaction::{InviteClientEvent, InviteClientTransaction, NonInviteClientTransaction};
use crate::transport::{Peer, Transport};
use std::net::SocketAddr;
use std::time::Instant;

/// What the call manager asks for when it dials out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundCall {
    /// `sip:+15551234@carrier.example.com`
    pub request_uri: String,
    pub from_user: String,
    pub from_display: Option<String>,
    pub to_user: String,
    /// Where every request of this call is sent.
    pub destination: SocketAddr,
    /// How: UDP, or the TCP connection to `destination` (reused when one is open).
    pub transport: Transport,
    pub sdp_offer: String,
    /// Added to the INVITE as they are (e.g. `P-Asserted-Identity`).
    pub extra_headers: Vec<(String, String)>,
    /// Username and password answering one 401/407 digest challenge.
    pub credentials: Option<(String, String)>,
}

/// Why an outbound call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailReason {
    /// A final error response, with its reason phrase.
    Rejected(String),
    /// Timer B: no response at all within 64·T1.
    Timeout,
    /// We cancelled it (the 487, or whatever ended it after our `cancel`).
    Cancelled,
}

/// The FlexML `DialCallStatus` for a failed outbound INVITE: 486/600 → busy; no response,
/// 408, 480 and 487 (a CANCEL after a ring timeout) → noanswer; anything else → failed.
/// When the caller's hangup caused the CANCEL the status is `cancel`, which only the call
/// manager knows: `FailReason::Cancelled` tells it the CANCEL was ours.
pub fn call_status_for(status: Option<u16>) -> &'static str {
    match status {
        Some(486 | 600) => "busy",
        None | Some(408 | 480 | 487) => "noanswer",
        Some(_) => "failed",
    }
}

/// The key of a CANCEL's client transaction, which shares its INVITE's branch.
pub(super) fn cancel_key(branch: &str) -> String {
    format!("{branch}|CANCEL")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    /// INVITE sent, no final response yet.
    Inviting,
    /// 2xx received and ACKed.
    Confirmed,
    /// BYE sent (also after a 2xx that crossed our CANCEL).
    ByeSent,
}

#[derive(Debug)]
pub(super) struct Outbound {
    spec: OutboundCall,
    state: OutState,
    from: String,
    to: String,
    call_id: String,
    cseq: u32,
    /// The INVITE currently in flight (the one with credentials after a challenge).
    invite: Request,
    invite_branch: String,
    auth_tried: bool,
    provisional: bool,
    cancel_requested: bool,
    cancel_sent: bool,
    /// To header of the 2xx (with the remote tag), remote target and route set (§12.1.2).
    remote_to: String,
    remote_target: String,
    route_set: Vec<String>,
    ack: Option<Vec<u8>>,
    bye_branch: Option<String>,
    /// OutboundFailed already went out (a 2xx crossed our CANCEL): the BYE ends silently.
    reported: bool,
}

/// The host part of a SIP URI (`sip:user@host:port;params` → `host:port`).
fn uri_host(uri: &str) -> Option<&str> {
    let rest = uri.split_once(':')?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = rest.split([';', '?', '>']).next()?;
    (!host.is_empty()).then_some(host)
}

impl Outbound {
    fn peer(&self) -> Peer {
        Peer {
            addr: self.spec.destination,
            transport: self.spec.transport,
        }
    }
}

fn quote_display(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

impl UserAgent {
    /// Starts an outbound call: sends the INVITE and returns the call's id. Progress comes as
    /// `OutboundProgress`, then `OutboundAnswered` or `OutboundFailed`.
    pub fn place_call(&mut self, now: Instant, spec: OutboundCall) -> CallId {
        let call = CallId(self.next_call);
        self.next_call += 1;
        let local = self.config.local_addr;
        let tag = self.fresh_id();
        let call_id = format!("{}@{}", self.fresh_id(), local.ip());
        let from_uri = format!("<sip:{}@{}>", spec.from_user, local.ip());
        let from = match &spec.from_display {
            Some(d) if !d.is_empty() => format!("{} {from_uri};tag={tag}", quote_display(d)),
            _ => format!("{from_uri};tag={tag}"),
        };
        let to_host = uri_host(&spec.request_uri)
            .map(str::to_string)
            .unwrap_or_else(|| spec.destination.to_string());
        let to = format!("<sip:{}@{to_host}>", spec.to_user);
        let mut o = Outbound {
            spec,
            state: OutState::Inviting,
            from,
            to,
            call_id,
            cseq: 1,
            invite: Request {
                method: Method::Invite,
                uri: String::new(),
                headers: Headers::new(),
                body: Vec::new(),
            },
            invite_branch: String::new(),
            auth_tried: false,
            provisional: false,
            cancel_requested: false,
            cancel_sent: false,
            remote_to: String::new(),
            remote_target: String::new(),
            route_set: Vec::new(),
            ack: None,
            bye_branch: None,
            reported: false,
        };
        self.by_sip_call_id.insert(o.call_id.clone(), call);
        self.send_invite(now, call, &mut o, None);
        self.outbound.insert(call, o);
        call
    }

    /// Builds and sends an INVITE for `o` on a fresh branch, with an optional
    /// `(header name, value)` carrying credentials.
    fn send_invite(
        &mut self,
        now: Instant,
        call: CallId,
        o: &mut Outbound,
        auth: Option<(&str, String)>,
    ) {
        let branch = format!("z9hG4bK{}", self.fresh_id());
        let mut headers = Headers::new();
        headers.push("Via", self.via(o.peer(), &branch));
        headers.push("Max-Forwards", "70");
        headers.push("From", o.from.clone());
        headers.push("To", o.to.clone());
        headers.push("Call-ID", o.call_id.clone());
        headers.push("CSeq", format!("{} INVITE", o.cseq));
        headers.push("Contact", self.contact(o.spec.transport));
        if let Some((name, value)) = auth {
            headers.push(name, value);
        }
        for (name, value) in &o.spec.extra_headers {
            headers.push(name, value.clone());
        }
        headers.push("Allow", ALLOW);
        headers.push("User-Agent", self.config.user_agent.clone());
        headers.push("Content-Type", "application/sdp");
        let invite = Request {
            method: Method::Invite,
            uri: o.spec.request_uri.clone(),
            headers,
            body: o.spec.sdp_offer.clone().into_bytes(),
        };
        o.invite = invite.clone();
        o.invite_branch = branch.clone();
        o.provisional = false;
        let tx = InviteClientTransaction::new(now, self.config.timers, invite)
            .reliable(o.spec.transport.is_reliable());
        self.invite_client_txs
            .insert(branch.clone(), (call, o.peer(), tx));
        self.flush_invite_client_tx(&branch);
    }

    /// Cancels an outbound call that has no final response yet. The CANCEL goes out once a
    /// provisional response has arrived (§9.1); the 487 then ends the call.
    pub fn cancel(&mut self, now: Instant, call: CallId) {
        let Some(o) = self.outbound.get_mut(&call) else {
            return;
        };
        if o.state != OutState::Inviting || o.cancel_requested {
            return;
        }
        o.cancel_requested = true;
        if o.provisional {
            self.send_cancel(now, call);
        }
    }

    /// `hangup` for an outbound call: CANCEL while ringing, BYE once answered.
    pub(super) fn hangup_outbound(&mut self, now: Instant, call: CallId) {
        match self.outbound.get(&call).map(|o| o.state) {
            Some(OutState::Inviting) => self.cancel(now, call),
            Some(OutState::Confirmed) => self.send_outbound_bye(now, call),
            _ => {}
        }
    }

    fn send_cancel(&mut self, now: Instant, call: CallId) {
        let Some(o) = self.outbound.get_mut(&call) else {
            return;
        };
        if o.cancel_sent {
            return;
        }
        o.cancel_sent = true;
        let inv = &o.invite;
        let mut headers = Headers::new();
        if let Some(via) = inv.headers.get_all("Via").first() {
            headers.push("Via", *via);
        }
        headers.push("Max-Forwards", "70");
        headers.push("From", o.from.clone());
        headers.push("To", o.to.clone());
        headers.push("Call-ID", o.call_id.clone());
        headers.push("CSeq", format!("{} CANCEL", o.cseq));
        for route in inv.headers.get_all("Route") {
            headers.push("Route", route);
        }
        headers.push("User-Agent", self.config.user_agent.clone());
        let cancel = Request {
            method: Method::Cancel,
            uri: inv.uri.clone(),
            headers,
            body: Vec::new(),
        };
        let tx = NonInviteClientTransaction::new(now, self.config.timers, cancel.to_bytes())
            .reliable(o.spec.transport.is_reliable());
        self.client_txs
            .insert(cancel_key(&o.invite_branch), (call, o.peer(), tx));
        self.flush_client_txs(now);
    }

    /// A request inside the confirmed dialog of `o` (§12.2.1.1), on a fresh branch.
    fn in_dialog_request(&self, o: &Outbound, method: Method, cseq: u32, branch: &str) -> Request {
        let mut headers = Headers::new();
        headers.push("Via", self.via(o.peer(), branch));
        headers.push("Max-Forwards", "70");
        headers.push("From", o.from.clone());
        headers.push("To", o.remote_to.clone());
        headers.push("Call-ID", o.call_id.clone());
        headers.push("CSeq", format!("{cseq} {method}"));
        for route in &o.route_set {
            headers.push("Route", route.clone());
        }
        headers.push("User-Agent", self.config.user_agent.clone());
        Request {
            method,
            uri: o.remote_target.clone(),
            headers,
            body: Vec::new(),
        }
    }

    fn send_outbound_bye(&mut self, now: Instant, call: CallId) {
        let branch = format!("z9hG4bK{}", self.fresh_id());
        let Some(o) = self.outbound.get(&call) else {
            return;
        };
        let bye = self.in_dialog_request(o, Method::Bye, o.cseq + 1, &branch);
        let to = o.peer();
        if let Some(o) = self.outbound.get_mut(&call) {
            o.cseq += 1;
            o.state = OutState::ByeSent;
            o.bye_branch = Some(branch.clone());
        }
        let tx = NonInviteClientTransaction::new(now, self.config.timers, bye.to_bytes())
            .reliable(to.transport.is_reliable());
        self.client_txs.insert(branch, (call, to, tx));
        self.flush_client_txs(now);
    }

    /// A non-INVITE client transaction of an outbound call finished (final or Timer F).
    pub(super) fn on_outbound_client_outcome(&mut self, call: CallId, key: &str) {
        let is_bye = self
            .outbound
            .get(&call)
            .is_some_and(|o| o.bye_branch.as_deref() == Some(key));
        // The CANCEL's own outcome changes nothing: the INVITE's 487 (or Timer B) ends it.
        if is_bye {
            self.end_outbound(call, EndReason::LocalBye);
        }
    }

    /// Forgets an outbound call, reporting `Ended` unless a failure was already reported.
    pub(super) fn end_outbound(&mut self, call: CallId, reason: EndReason) {
        if let Some(o) = self.outbound.remove(&call) {
            self.by_sip_call_id.remove(&o.call_id);
            if !o.reported {
                self.events.push_back(UaEvent::Ended { call, reason });
            }
        }
    }

    fn fail_outbound(&mut self, call: CallId, status: Option<u16>, reason: FailReason) {
        if let Some(o) = self.outbound.remove(&call) {
            self.by_sip_call_id.remove(&o.call_id);
            self.events.push_back(UaEvent::OutboundFailed {
                call,
                status,
                reason,
            });
        }
    }

    pub(super) fn flush_invite_client_tx(&mut self, branch: &str) {
        let mut timed_out = None;
        if let Some((call, to, tx)) = self.invite_client_txs.get_mut(branch) {
            while let Some(bytes) = tx.poll_transmit() {
                super::transmit(&mut self.transmits, *to, bytes);
            }
            while let Some(InviteClientEvent::Timeout) = tx.poll_event() {
                timed_out = Some(*call);
            }
        }
        if let Some(call) = timed_out {
            // Only the INVITE in flight counts: an earlier, challenged one is over.
            let current = self
                .outbound
                .get(&call)
                .filter(|o| o.state == OutState::Inviting && o.invite_branch == branch);
            if let Some(o) = current {
                let reason = match o.cancel_requested {
                    true => FailReason::Cancelled,
                    false => FailReason::Timeout,
                };
                self.fail_outbound(call, None, reason);
            }
        }
    }

    /// A response whose CSeq method is INVITE.
    pub(super) fn on_invite_response(&mut self, now: Instant, branch: &str, resp: Response) {
        let Some((call, _, tx)) = self.invite_client_txs.get_mut(branch) else {
            // A 2xx retransmitted after its transaction ended: ACK it again from the dialog.
            if resp.status / 100 == 2 {
                self.reack(resp.headers.get("Call-ID").unwrap_or(""));
            }
            return;
        };
        let call = *call;
        let pass_up = tx.on_response(now, &resp);
        self.flush_invite_client_tx(branch);
        if !pass_up {
            return;
        }
        if self.dialogs.contains_key(&call) {
            self.on_refresh_invite_response(now, call, branch, resp);
            return;
        }
        let Some(o) = self.outbound.get(&call) else {
            return;
        };
        if o.invite_branch != branch {
            return;
        }
        match resp.status {
            100..=199 => self.on_outbound_provisional(now, call, resp),
            200..=299 => self.on_outbound_success(now, call, resp),
            401 | 407 => self.on_outbound_challenge(now, call, resp),
            status => {
                let reason = match o.cancel_requested {
                    true => FailReason::Cancelled,
                    false => FailReason::Rejected(resp.reason.clone()),
                };
                self.fail_outbound(call, Some(status), reason);
            }
        }
    }

    fn on_outbound_provisional(&mut self, now: Instant, call: CallId, resp: Response) {
        let Some(o) = self.outbound.get_mut(&call) else {
            return;
        };
        o.provisional = true;
        if o.cancel_requested && !o.cancel_sent {
            self.send_cancel(now, call);
            return;
        }
        if resp.status == 100 {
            return;
        }
        let sdp = (!resp.body.is_empty()).then_some(resp.body);
        self.events.push_back(UaEvent::OutboundProgress {
            call,
            status: resp.status,
            sdp,
        });
    }

    fn on_outbound_success(&mut self, now: Instant, call: CallId, resp: Response) {
        let Some(o) = self.outbound.get(&call) else {
            return;
        };
        if o.state != OutState::Inviting {
            // The same 2xx again (its ACK was lost): ACK it again.
            let call_id = o.call_id.clone();
            self.reack(&call_id);
            return;
        }
        let branch = format!("z9hG4bK{}", self.fresh_id());
        let Some(o) = self.outbound.get_mut(&call) else {
            return;
        };
        o.remote_to = resp.headers.get("To").unwrap_or(&o.to).to_string();
        o.remote_target = resp
            .headers
            .get("Contact")
            .map(|c| uri_of(c).to_string())
            .unwrap_or_else(|| o.spec.request_uri.clone());
        o.route_set = resp
            .headers
            .get_all("Record-Route")
            .into_iter()
            .rev()
            .map(str::to_string)
            .collect();
        o.state = OutState::Confirmed;
        let o = &self.outbound[&call];
        // §13.2.2.4: the INVITE's CSeq number and the same credentials.
        let mut ack = self.in_dialog_request(o, Method::Ack, o.cseq, &branch);
        for name in ["Authorization", "Proxy-Authorization"] {
            if let Some(v) = o.invite.headers.get(name) {
                ack.headers.push(name, v);
            }
        }
        let bytes = ack.to_bytes();
        let to = o.peer();
        let cancelled = o.cancel_requested;
        self.send(to, bytes.clone());
        if let Some(o) = self.outbound.get_mut(&call) {
            o.ack = Some(bytes);
        }
        if cancelled {
            // The 2xx crossed our CANCEL: end the session we did not want (§15).
            self.events.push_back(UaEvent::OutboundFailed {
                call,
                status: None,
                reason: FailReason::Cancelled,
            });
            if let Some(o) = self.outbound.get_mut(&call) {
                o.reported = true;
            }
            self.send_outbound_bye(now, call);
            return;
        }
        self.events.push_back(UaEvent::OutboundAnswered {
            call,
            sdp: resp.body,
        });
    }

    /// Our SDP on an answered outbound call, to answer the peer's re-offers from.
    pub(super) fn outbound_local_sdp(&self, call: CallId) -> Option<String> {
        self.outbound
            .get(&call)
            .filter(|o| o.state == OutState::Confirmed)
            .map(|o| o.spec.sdp_offer.clone())
    }

    /// Re-sends the ACK of the confirmed outbound dialog with this Call-ID.
    fn reack(&mut self, call_id: &str) {
        let found = self
            .outbound
            .values()
            .find(|o| o.call_id == call_id)
            .and_then(|o| Some((o.peer(), o.ack.clone()?)));
        if let Some((to, bytes)) = found {
            self.send(to, bytes);
        }
    }

    /// 401/407: answer the challenge once, with a higher CSeq and a new branch (§22.2).
    fn on_outbound_challenge(&mut self, now: Instant, call: CallId, resp: Response) {
        let Some(mut o) = self.outbound.remove(&call) else {
            return;
        };
        let (challenge_header, answer_header) = match resp.status {
            401 => ("WWW-Authenticate", "Authorization"),
            _ => ("Proxy-Authenticate", "Proxy-Authorization"),
        };
        let challenge = digest::best_challenge(
            resp.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(challenge_header))
                .map(|(_, v)| v),
        );
        let retry = match (&o.spec.credentials, challenge) {
            (Some(creds), Some(ch)) if !o.auth_tried && !o.cancel_requested => {
                Some((creds.clone(), ch))
            }
            _ => None,
        };
        let Some(((username, password), ch)) = retry else {
            self.outbound.insert(call, o);
            let reason = match self.outbound[&call].cancel_requested {
                true => FailReason::Cancelled,
                false => FailReason::Rejected(resp.reason),
            };
            self.fail_outbound(call, Some(resp.status), reason);
            return;
        };
        let cnonce = self.fresh_id();
        let value = digest::authorization(
            &ch,
            &DigestInput {
                method: "INVITE",
                uri: &o.spec.request_uri,
                username: &username,
                password: &password,
                cnonce: &cnonce,
                nc: 1,
            },
        );
        o.auth_tried = true;
        o.cseq += 1;
        self.send_invite(now, call, &mut o, Some((answer_header, value)));
        self.outbound.insert(call, o);
    }
}
