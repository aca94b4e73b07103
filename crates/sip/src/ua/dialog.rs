//! Inside an established dialog: re-INVITE and UPDATE offers (hold, unhold, a new media
//! address) answered from our current SDP, INFO key presses, session timers (RFC 4028), and
//! the requests we send ourselves along the route set (§12.2.1.1).

use super::{CallId, Dialog, DialogState, UaEvent, UserAgent, ALLOW};
use crate::message::{param, uri_of, Headers, Method, Request, Response};
use crate::sdp;
use crate::transaction::{
    ClientOutcome, InviteClientTransaction, InviteServerTransaction, NonInviteClientTransaction,
};
use crate::transport::{Peer, Transport};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// The smallest Session-Expires we accept (RFC 4028 Min-SE; never below 90).
    pub min_se: u32,
}

impl Default for SessionTimerConfig {
    fn default() -> Self {
        SessionTimerConfig { min_se: 90 }
    }
}

const MAX_SESSION_INTERVAL: u32 = 86_400;

/// A dialog's session timer as negotiated by the INVITE and its 200 OK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SessionTimer {
    interval: u32,
    we_refresh: bool,
    /// The peer said `Supported: timer`, so our 2xx may `Require` it.
    peer_supports: bool,
    /// When to refresh (we are the refresher) or give up on the peer's refresh.
    pub(super) due: Instant,
}

impl SessionTimer {
    /// Reads Session-Expires of an INVITE; `Err(min_se)` when it is too brief (422).
    pub(super) fn from_request(
        config: &SessionTimerConfig,
        req: &Request,
        now: Instant,
    ) -> Result<Option<SessionTimer>, u32> {
        let Some(value) = req.headers.get("Session-Expires") else {
            return Ok(None);
        };
        let min_se = config.min_se.max(90);
        let interval: u32 = match value.split(';').next().unwrap_or("").trim().parse::<u32>() {
            Ok(n) => n,
            Err(_) => return Ok(None),
        };
        // A day is plenty; a larger value would only postpone the check indefinitely.
        let interval = interval.min(MAX_SESSION_INTERVAL);
        if interval < min_se {
            return Err(min_se);
        }
        let peer_supports = req
            .headers
            .get_all("Supported")
            .iter()
            .chain(req.headers.get_all("Require").iter())
            .any(|t| t.eq_ignore_ascii_case("timer"));
        // §9: without the peer's support only we can refresh; with it, the peer's choice
        // stands and by default the caller refreshes (it asked for the timer).
        let we_refresh = !peer_supports
            || param(value, "refresher").is_some_and(|r| r.eq_ignore_ascii_case("uas"));
        let mut timer = SessionTimer {
            interval,
            we_refresh,
            peer_supports,
            due: now,
        };
        timer.schedule(now);
        Ok(Some(timer))
    }

    pub(super) fn add_headers(&self, headers: &mut Headers) {
        let who = if self.we_refresh { "uas" } else { "uac" };
        headers.push(
            "Session-Expires",
            format!("{};refresher={who}", self.interval),
        );
        if self.peer_supports {
            headers.push("Require", "timer");
        }
    }

    /// §10: refresh at half the interval; expect the peer's refresh before the interval
    /// minus a third of it (at most 32 s).
    pub(super) fn schedule(&mut self, now: Instant) {
        let secs = if self.we_refresh {
            self.interval as u64 / 2
        } else {
            self.interval as u64 - (self.interval as u64 / 3).min(32)
        };
        self.due = now + Duration::from_secs(secs.max(1));
    }

    /// A refresh arrived (or we sent one): take its interval if it names one we accept.
    fn refreshed(&mut self, config: &SessionTimerConfig, req: Option<&Request>, now: Instant) {
        let new = req
            .and_then(|r| r.headers.get("Session-Expires"))
            .and_then(|v| v.split(';').next()?.trim().parse::<u32>().ok())
            .filter(|n| *n >= config.min_se.max(90));
        if let Some(n) = new {
            self.interval = n.min(MAX_SESSION_INTERVAL);
        }
        self.schedule(now);
    }
}

/// The key of an INFO body: `application/dtmf-relay` (`Signal=5`, `Duration=160`) or
/// `application/dtmf` (`5`). Returns the key and its duration in ms (default 160).
pub fn dtmf_from_info(content_type: &str, body: &[u8]) -> Option<(char, u32)> {
    let ctype = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let text = std::str::from_utf8(body).ok()?;
    let (signal, duration) = match ctype.as_str() {
        "application/dtmf-relay" => {
            let mut signal = None;
            let mut duration = None;
            for line in text.lines() {
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                match k.trim().to_ascii_lowercase().as_str() {
                    "signal" => signal = Some(v.trim().to_string()),
                    "duration" => duration = v.trim().parse().ok(),
                    _ => {}
                }
            }
            (signal?, duration)
        }
        "application/dtmf" => (text.trim().to_string(), None),
        _ => return None,
    };
    let key = match signal.as_str() {
        "10" => '*',
        "11" => '#',
        s if s.len() == 1 => s.chars().next()?.to_ascii_uppercase(),
        _ => return None,
    };
    matches!(key, '0'..='9' | '*' | '#' | 'A'..='D').then_some((key, duration.unwrap_or(160)))
}

/// The address of a SIP URI whose host is an IP literal (`sip:x@10.0.0.1:5070;lr`).
fn uri_addr(uri: &str) -> Option<Peer> {
    let rest = uri.split_once(':')?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = rest.split([';', '?', '>']).next()?;
    let addr = match hostport.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => {
            let host = hostport.trim_start_matches('[').trim_end_matches(']');
            SocketAddr::new(host.parse::<IpAddr>().ok()?, 5060)
        }
    };
    Some(Peer {
        addr,
        transport: Transport::from_uri(uri),
    })
}

/// Request-URI, Route headers and next hop of a request along `route_set` to `target`
/// (§12.2.1.1, with §16.12.1.2 for a strict router). Without an IP-literal hop the request
/// goes where the peer's requests come from, which also gets through its NAT.
pub(super) fn route_request(
    route_set: &[String],
    target: &str,
    fallback: Peer,
) -> (String, Vec<String>, Peer) {
    let Some(first) = route_set.first() else {
        return (target.to_string(), Vec::new(), fallback);
    };
    let first_uri = uri_of(first);
    let hop = uri_addr(first_uri).unwrap_or(fallback);
    let loose = first_uri
        .split(';')
        .skip(1)
        .any(|p| p.trim().eq_ignore_ascii_case("lr"));
    if loose {
        (target.to_string(), route_set.to_vec(), hop)
    } else {
        let mut routes = route_set[1..].to_vec();
        routes.push(format!("<{target}>"));
        (first_uri.to_string(), routes, hop)
    }
}

impl UserAgent {
    /// A request in the dialog of inbound call `call`, with CSeq `cseq`.
    fn uas_request(&self, d: &Dialog, method: Method, cseq: u32, branch: &str) -> (Request, Peer) {
        let inv = &d.invite;
        let remote_from = inv.headers.get("From").unwrap_or("");
        let route_set: Vec<String> = inv
            .headers
            .get_all("Record-Route")
            .into_iter()
            .map(str::to_string)
            .collect();
        let (uri, routes, hop) = route_request(&route_set, &d.remote_target, d.source);
        let mut headers = Headers::new();
        headers.push("Via", self.via(hop, branch));
        headers.push("Max-Forwards", "70");
        headers.push(
            "From",
            super::with_tag(inv.headers.get("To").unwrap_or(""), &d.local_tag),
        );
        headers.push("To", remote_from);
        headers.push("Call-ID", inv.call_id());
        headers.push("CSeq", format!("{cseq} {method}"));
        for route in routes {
            headers.push("Route", route);
        }
        headers.push("User-Agent", self.config.user_agent.clone());
        let req = Request {
            method,
            uri,
            headers,
            body: Vec::new(),
        };
        (req, hop)
    }

    /// The next request of our side in the dialog (its CSeq counted up).
    pub(super) fn uas_dialog_request(
        &mut self,
        call: CallId,
        method: Method,
        branch: &str,
    ) -> Option<(Request, Peer)> {
        let d = self.dialogs.get_mut(&call)?;
        d.local_cseq += 1;
        let cseq = d.local_cseq;
        let d = &self.dialogs[&call];
        Some(self.uas_request(d, method, cseq, branch))
    }

    /// §12.2.2: a request with a CSeq not above the last one is out of order.
    fn in_order(&mut self, call: CallId, req: &Request) -> bool {
        let cseq = req.cseq().map(|(n, _)| n).unwrap_or(0);
        match self.dialogs.get_mut(&call) {
            Some(d) if cseq <= d.remote_cseq => false,
            Some(d) => {
                d.remote_cseq = cseq;
                true
            }
            None => true,
        }
    }

    /// An offer in a re-INVITE or UPDATE: our answer, and the new remote media reported.
    fn answer_reoffer(
        &mut self,
        call: CallId,
        req: &Request,
    ) -> Result<Option<String>, (u16, &'static str)> {
        let previous = match self.dialogs.get(&call) {
            Some(d) => d.answer_sdp.clone(),
            None => self.outbound_local_sdp(call),
        };
        let Some(previous) = previous else {
            return Err((491, "Request Pending"));
        };
        if req.body.is_empty() {
            // An offerless re-INVITE: our current SDP is the offer (its answer is in the ACK).
            return Ok(Some(previous));
        }
        let negotiated = sdp::parse_offer(&req.body)
            .and_then(|o| sdp::negotiate(&o))
            .map_err(|_| (488, "Not Acceptable Here"))?;
        let direction = sdp::direction(&req.body);
        let version = self.dialogs.get(&call).map_or(1, |d| d.sdp_version);
        let mut answer = sdp::reanswer(&previous, direction.answer(), version);
        if answer != previous {
            answer = sdp::reanswer(&previous, direction.answer(), version + 1);
        }
        if let Some(d) = self.dialogs.get_mut(&call) {
            if answer != previous {
                d.sdp_version = version + 1;
            }
            d.answer_sdp = Some(answer.clone());
        }
        let remote = SocketAddr::new(negotiated.remote_address, negotiated.remote_port);
        self.events.push_back(UaEvent::MediaUpdate {
            call,
            remote,
            direction,
            hold: !direction.receives() || remote.ip().is_unspecified(),
        });
        Ok(Some(answer))
    }

    /// Target refresh and session refresh that every accepted re-INVITE/UPDATE brings.
    fn refreshed_by(&mut self, now: Instant, call: CallId, req: &Request) {
        let config = self.config.session_timer;
        if let Some(d) = self.dialogs.get_mut(&call) {
            if let Some(contact) = req.headers.get("Contact") {
                d.remote_target = uri_of(contact).to_string();
            }
            if let Some(s) = d.session.as_mut() {
                s.refreshed(&config, Some(req), now);
            }
        }
    }

    /// The 2xx to a re-INVITE/UPDATE: Contact, Allow, the session timer and our SDP.
    fn in_dialog_ok(
        &self,
        call: CallId,
        req: &Request,
        from: Peer,
        sdp: Option<String>,
    ) -> Response {
        let mut resp = self.response_to(req, from, 200, "OK");
        resp.headers.push("Contact", self.contact(from.transport));
        resp.headers.push("Allow", ALLOW);
        if let Some(s) = self.dialogs.get(&call).and_then(|d| d.session.as_ref()) {
            s.add_headers(&mut resp.headers);
        }
        match sdp {
            Some(sdp) => self.with_body(resp, sdp),
            None => resp,
        }
    }

    pub(super) fn on_reinvite(
        &mut self,
        now: Instant,
        from: Peer,
        branch: String,
        call: CallId,
        req: Request,
    ) {
        let mut tx =
            InviteServerTransaction::new(self.config.timers).reliable(from.transport.is_reliable());
        let busy = self.dialogs.get(&call).is_some_and(|d| {
            !matches!(d.state, DialogState::Confirmed | DialogState::Answered)
                || d.refresh.as_ref().is_some_and(|(b, _)| {
                    self.invite_client_txs
                        .get(b)
                        .is_some_and(|(_, _, t)| !t.is_terminated())
                })
        });
        let resp = if busy {
            // §14.2: an INVITE of ours is still open on this dialog.
            self.response_to(&req, from, 491, "Request Pending")
        } else if !self.in_order(call, &req) {
            self.response_to(&req, from, 500, "Server Internal Error")
        } else {
            match self.answer_reoffer(call, &req) {
                Ok(sdp) => {
                    self.refreshed_by(now, call, &req);
                    if let (Some(d), Ok((cseq, _))) = (self.dialogs.get_mut(&call), req.cseq()) {
                        d.reinvite = Some((cseq, branch.clone()));
                    }
                    self.in_dialog_ok(call, &req, from, sdp)
                }
                Err((status, reason)) => self.response_to(&req, from, status, reason),
            }
        };
        tx.send_response(now, resp.status, resp.to_bytes());
        self.invite_txs.insert(branch.clone(), (call, from, tx));
        self.flush_invite_tx(now, &branch);
    }

    pub(super) fn on_update(&mut self, now: Instant, from: Peer, branch: String, req: Request) {
        let Some(call) = self.by_sip_call_id.get(req.call_id()).copied() else {
            let resp = self.response_to(&req, from, 481, "Call/Transaction Does Not Exist");
            return self.reply_non_invite(now, from, branch, &req, resp);
        };
        let resp = if !self.in_order(call, &req) {
            self.response_to(&req, from, 500, "Server Internal Error")
        } else if req.body.is_empty() {
            self.refreshed_by(now, call, &req);
            self.in_dialog_ok(call, &req, from, None)
        } else {
            match self.answer_reoffer(call, &req) {
                Ok(sdp) => {
                    self.refreshed_by(now, call, &req);
                    self.in_dialog_ok(call, &req, from, sdp)
                }
                Err((status, reason)) => self.response_to(&req, from, status, reason),
            }
        };
        self.reply_non_invite(now, from, branch, &req, resp);
    }

    /// INFO: a key press becomes `UaEvent::Digit`; any other package is acknowledged with 200
    /// as Sofia-SIP (FreeSWITCH) does, so a peer's keep-alive INFO does not end the call.
    pub(super) fn on_info(&mut self, now: Instant, from: Peer, branch: String, req: Request) {
        let Some(call) = self.by_sip_call_id.get(req.call_id()).copied() else {
            let resp = self.response_to(&req, from, 481, "Call/Transaction Does Not Exist");
            return self.reply_non_invite(now, from, branch, &req, resp);
        };
        let ctype = req.headers.get("Content-Type").unwrap_or("");
        if let Some((digit, duration_ms)) = dtmf_from_info(ctype, &req.body) {
            self.events.push_back(UaEvent::Digit {
                call,
                digit,
                duration_ms,
            });
        }
        let resp = self.response_to(&req, from, 200, "OK");
        self.reply_non_invite(now, from, branch, &req, resp);
    }

    /// Fires due session timers: refresh when we are the refresher, BYE when the peer's
    /// refresh did not come (RFC 4028 §10).
    pub(super) fn session_timers_due(&mut self, now: Instant) {
        let due: Vec<(CallId, bool, DialogState)> = self
            .dialogs
            .iter()
            .filter_map(|(c, d)| {
                let s = d.session.as_ref().filter(|s| s.due <= now)?;
                Some((*c, s.we_refresh, d.state))
            })
            .collect();
        for (call, we_refresh, state) in due {
            match state {
                DialogState::Early => {
                    if let Some(s) = self.dialogs.get_mut(&call).and_then(|d| d.session.as_mut()) {
                        s.schedule(now);
                    }
                }
                DialogState::ByeSent => {
                    if let Some(d) = self.dialogs.get_mut(&call) {
                        d.session = None;
                    }
                }
                DialogState::Answered | DialogState::Confirmed if we_refresh => {
                    if let Some(s) = self.dialogs.get_mut(&call).and_then(|d| d.session.as_mut()) {
                        s.schedule(now);
                    }
                    self.send_refresh(now, call);
                }
                DialogState::Answered | DialogState::Confirmed => self.send_bye(now, call),
            }
        }
    }

    /// A session refresh: UPDATE when the peer allows it (no SDP needed), else a re-INVITE
    /// with our unchanged SDP.
    fn send_refresh(&mut self, now: Instant, call: CallId) {
        let branch = format!("z9hG4bK{}", self.fresh_id());
        let Some(d) = self.dialogs.get(&call) else {
            return;
        };
        let use_update = d
            .invite
            .headers
            .get_all("Allow")
            .iter()
            .any(|m| m.eq_ignore_ascii_case("UPDATE"));
        let method = if use_update {
            Method::Update
        } else {
            Method::Invite
        };
        let sdp = d.answer_sdp.clone();
        let Some((mut req, hop)) = self.uas_dialog_request(call, method.clone(), &branch) else {
            return;
        };
        let cseq = req.cseq().map(|(n, _)| n).unwrap_or(0);
        if let Some(s) = self.dialogs.get(&call).and_then(|d| d.session.as_ref()) {
            req.headers
                .push("Session-Expires", format!("{};refresher=uas", s.interval));
        }
        req.headers.push("Supported", "timer");
        req.headers.push("Contact", self.contact(hop.transport));
        if let Some(d) = self.dialogs.get_mut(&call) {
            d.refresh = Some((branch.clone(), cseq));
        }
        let reliable = hop.transport.is_reliable();
        if method == Method::Update {
            let tx = NonInviteClientTransaction::new(now, self.config.timers, req.to_bytes())
                .reliable(reliable);
            self.client_txs.insert(branch, (call, hop, tx));
            self.flush_client_txs(now);
        } else {
            if let Some(sdp) = sdp {
                req.headers.push("Content-Type", "application/sdp");
                req.body = sdp.into_bytes();
            }
            let tx = InviteClientTransaction::new(now, self.config.timers, req).reliable(reliable);
            self.invite_client_txs
                .insert(branch.clone(), (call, hop, tx));
            self.flush_invite_client_tx(&branch);
        }
    }

    pub(super) fn is_refresh(&self, call: CallId, branch: &str) -> bool {
        self.dialogs
            .get(&call)
            .and_then(|d| d.refresh.as_ref())
            .is_some_and(|(b, _)| b == branch)
    }

    /// Our UPDATE refresh ended: a dead dialog (481, 408, no answer) is hung up (§10).
    pub(super) fn on_refresh_outcome(
        &mut self,
        now: Instant,
        call: CallId,
        outcome: ClientOutcome,
    ) {
        if let Some(d) = self.dialogs.get_mut(&call) {
            d.refresh = None;
        }
        if matches!(
            outcome,
            ClientOutcome::Final(408 | 481) | ClientOutcome::Timeout
        ) {
            self.send_bye(now, call);
        }
    }

    /// A response to our refresh re-INVITE: every 2xx is ACKed (§13.2.2.4).
    pub(super) fn on_refresh_invite_response(
        &mut self,
        now: Instant,
        call: CallId,
        branch: &str,
        resp: Response,
    ) {
        let Some((_, cseq)) = self
            .dialogs
            .get(&call)
            .and_then(|d| d.refresh.clone())
            .filter(|(b, _)| b == branch)
        else {
            return;
        };
        match resp.status {
            200..=299 => {
                let ack_branch = format!("z9hG4bK{}", self.fresh_id());
                let Some(d) = self.dialogs.get(&call) else {
                    return;
                };
                let (ack, hop) = self.uas_request(d, Method::Ack, cseq, &ack_branch);
                self.send(hop, ack.to_bytes());
            }
            408 | 481 => self.send_bye(now, call),
            _ => {}
        }
    }
}
