//! A sans-IO user agent server: datagrams in, responses, BYEs and call events out.
//!
//! It owns the transactions and the dialogs of inbound calls. The call manager above it sees
//! only `UaEvent`s and answers with `ringing`, `answer`, `reject` and `hangup`.

use crate::message::{self, param, parse, uri_of, uri_user, Message, Method, Request, Response};
use crate::policy::AccessPolicy;
use crate::registrar::{Binding, Registrar, RegistrarConfig};
use crate::sdp::Direction;
use crate::transaction::{
    InviteClientTransaction, InviteServerEvent, InviteServerState, InviteServerTransaction,
    NonInviteClientTransaction, NonInviteServerTransaction, Timers,
};
use crate::transport::{Peer, Transport};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

mod admission;
mod dialog;
mod outbound;
mod wire;

use wire::{reason_phrase, response_peer, salvage_bad_request};

pub use dialog::{dtmf_from_info, SessionTimerConfig};
pub use outbound::{call_status_for, FailReason, OutboundCall};

#[derive(Debug, Clone)]
pub struct UaConfig {
    /// The address written into Via and Contact (UDP and TCP share it).
    pub local_addr: SocketAddr,
    pub timers: Timers,
    pub user_agent: String,
    /// Seeds tags, branches, Call-IDs and nonces so that two runs never reuse them.
    pub seed: u64,
    /// New INVITEs past this many calls (inbound and outbound) get 503 with Retry-After.
    pub max_calls: usize,
    /// Sources whose INVITEs are trusted without credentials (trunks, this machine).
    pub access: AccessPolicy,
    /// SIP users (name, password): they REGISTER, and may call from anywhere with digest.
    pub users: Vec<(String, String)>,
    pub realm: String,
    /// The digest algorithms our 401/407 challenges offer, in this order. MD5 alone by
    /// default: older clients (libre/baresip 1.0) give up on a challenge list that holds an
    /// algorithm they do not know. Credentials with either algorithm are verified.
    pub digest_algorithms: Vec<crate::digest::Algorithm>,
    pub registrar: RegistrarConfig,
    pub session_timer: SessionTimerConfig,
}

impl Default for UaConfig {
    fn default() -> Self {
        UaConfig {
            local_addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
            timers: Timers::default(),
            user_agent: "flexvox".into(),
            seed: 0,
            max_calls: 2000,
            access: AccessPolicy::default(),
            users: Vec::new(),
            realm: "flexvox".into(),
            digest_algorithms: vec![crate::digest::Algorithm::Md5],
            registrar: RegistrarConfig::default(),
            session_timer: SessionTimerConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub to: SocketAddr,
    /// UDP, or the stream connection to `to` (opened if there is none).
    pub transport: Transport,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCall {
    pub call: CallId,
    pub sip_call_id: String,
    pub request_uri: String,
    /// User part of the Request-URI (else of To): the dialed number as received.
    pub to_user: String,
    /// User part of the From URI as received.
    pub from_user: String,
    pub display_name: Option<String>,
    /// User part of the first Diversion header, when a carrier forwarded the call.
    pub diverted_from: Option<String>,
    pub sdp: Vec<u8>,
    pub source: SocketAddr,
    pub transport: Transport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The caller sent BYE.
    RemoteBye,
    /// Our BYE was answered (or timed out: the call is over either way).
    LocalBye,
    /// No ACK arrived for our 200 OK within 64·T1; we sent a BYE.
    AckTimeout,
    /// We rejected the call, or it was cancelled, before answer.
    NotAnswered,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UaEvent {
    IncomingCall(IncomingCall),
    /// The ACK for our 200 OK arrived: media may flow both ways.
    Confirmed(CallId),
    /// The caller cancelled before we answered; a 487 went out.
    Cancelled(CallId),
    Ended {
        call: CallId,
        reason: EndReason,
    },
    /// A provisional response (other than 100) to an INVITE we sent: 180 ringing, or 183
    /// with early-media SDP.
    OutboundProgress {
        call: CallId,
        status: u16,
        sdp: Option<Vec<u8>>,
    },
    /// A 2xx to our INVITE; the ACK went out and the dialog is confirmed.
    OutboundAnswered {
        call: CallId,
        sdp: Vec<u8>,
    },
    /// Our INVITE ended without a dialog: a final error response (`status`), no response at
    /// all (Timer B, `status: None`), or our CANCEL. Nothing further is reported for `call`.
    OutboundFailed {
        call: CallId,
        status: Option<u16>,
        reason: FailReason,
    },
    /// A datagram we could not use, with why (a 400 was sent when we could address one).
    Malformed {
        from: SocketAddr,
        error: String,
    },
    /// A key pressed, signalled by SIP INFO (`application/dtmf-relay` or `application/dtmf`).
    Digit {
        call: CallId,
        digit: char,
        duration_ms: u32,
    },
    /// A re-INVITE or UPDATE changed the remote media: where to send, and whether the
    /// peer wants to receive (`hold`: sendonly, inactive or a 0.0.0.0 address).
    MediaUpdate {
        call: CallId,
        remote: SocketAddr,
        direction: Direction,
        hold: bool,
    },
    /// A new INVITE was refused before any call existed (403, 407, 422, 503).
    Refused {
        from: SocketAddr,
        status: u16,
    },
    /// A SIP user's reachable contact changed (`None`: no live registration left).
    Registration {
        user: String,
        contact: Option<Binding>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DialogState {
    Early,
    Answered,
    Confirmed,
    ByeSent,
}

#[derive(Debug)]
struct Dialog {
    invite: Request,
    source: Peer,
    local_tag: String,
    invite_branch: String,
    state: DialogState,
    local_cseq: u32,
    answer_sdp: Option<String>,
    ack_timed_out: bool,
    /// The remote CSeq seen last: a lower one in a new request is refused (§12.2.2).
    remote_cseq: u32,
    /// The remote target, refreshed by re-INVITE Contact (§12.2.2).
    remote_target: String,
    /// A re-INVITE of the peer that we answered: (CSeq, branch), to match its ACK.
    reinvite: Option<(u32, String)>,
    /// Version of our SDP's o= line; it grows whenever our SDP changes (RFC 3264 §8).
    sdp_version: u64,
    session: Option<dialog::SessionTimer>,
    /// The session refresh we sent last (UPDATE or re-INVITE): its branch and CSeq.
    refresh: Option<(String, u32)>,
}

pub struct UserAgent {
    config: UaConfig,
    counter: u64,
    next_call: u64,
    dialogs: HashMap<CallId, Dialog>,
    by_sip_call_id: HashMap<String, CallId>,
    invite_txs: HashMap<String, (CallId, Peer, InviteServerTransaction)>,
    server_txs: HashMap<(String, String), (Peer, NonInviteServerTransaction)>,
    client_txs: HashMap<String, (CallId, Peer, NonInviteClientTransaction)>,
    outbound: HashMap<CallId, outbound::Outbound>,
    invite_client_txs: HashMap<String, (CallId, Peer, InviteClientTransaction)>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<UaEvent>,
    registrar: Registrar,
    /// The first instant seen: nonces carry their age relative to it.
    epoch: Option<Instant>,
}

const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REGISTER";

impl UserAgent {
    pub fn new(config: UaConfig) -> Self {
        UserAgent {
            counter: 0,
            next_call: 1,
            dialogs: HashMap::new(),
            by_sip_call_id: HashMap::new(),
            invite_txs: HashMap::new(),
            server_txs: HashMap::new(),
            client_txs: HashMap::new(),
            outbound: HashMap::new(),
            invite_client_txs: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            registrar: Registrar::new(config.registrar),
            epoch: None,
            config,
        }
    }

    /// A fresh identifier for tags and branches (splitmix64 over seed and counter).
    fn fresh_id(&mut self) -> String {
        self.counter += 1;
        let mut z = self
            .config
            .seed
            .wrapping_add(self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        format!("{:016x}", z ^ (z >> 31))
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<UaEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let invite = self
            .invite_txs
            .values()
            .filter_map(|(_, _, t)| t.poll_timeout());
        let server = self
            .server_txs
            .values()
            .filter_map(|(_, t)| t.poll_timeout());
        let client = self
            .client_txs
            .values()
            .filter_map(|(_, _, t)| t.poll_timeout());
        let invite_client = self
            .invite_client_txs
            .values()
            .filter_map(|(_, _, t)| t.poll_timeout());
        let sessions = self
            .dialogs
            .values()
            .filter_map(|d| d.session.as_ref().map(|s| s.due));
        invite
            .chain(server)
            .chain(client)
            .chain(invite_client)
            .chain(sessions)
            .chain(self.registrar.poll_timeout())
            .min()
    }

    pub fn active_calls(&self) -> usize {
        self.dialogs.len() + self.outbound.len()
    }

    /// A UDP datagram arrived from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        self.handle_message(now, Peer::udp(from), data);
    }

    /// One whole message arrived: a datagram, or a message framed from a stream connection
    /// (`StreamFramer`) whose remote end is `from.addr`.
    pub fn handle_message(&mut self, now: Instant, from: Peer, data: &[u8]) {
        self.epoch.get_or_insert(now);
        match parse(data) {
            Ok(Message::Request(req)) => match req.check_mandatory() {
                Ok(()) => self.on_request(now, from, req),
                Err(e) => self.bad_request(from, &req, &e.to_string()),
            },
            Ok(Message::Response(resp)) => self.on_response(now, resp),
            Err(e) => {
                if let Some(resp) = salvage_bad_request(data, &e.to_string()) {
                    self.send(from, resp.to_bytes());
                }
                self.events.push_back(UaEvent::Malformed {
                    from: from.addr,
                    error: e.to_string(),
                });
            }
        }
    }

    pub(crate) fn send(&mut self, to: Peer, bytes: Vec<u8>) {
        transmit(&mut self.transmits, to, bytes);
    }

    fn bad_request(&mut self, from: Peer, req: &Request, why: &str) {
        if req.method != Method::Ack && req.headers.get("Via").is_some() {
            let resp = req.make_response(400, &reason_phrase(why));
            self.send(from, resp.to_bytes());
        }
        self.events.push_back(UaEvent::Malformed {
            from: from.addr,
            error: why.to_string(),
        });
    }

    fn on_request(&mut self, now: Instant, from: Peer, req: Request) {
        let from = response_peer(&req, from);
        let branch = req.branch().unwrap_or("").to_string();
        match req.method {
            Method::Invite => self.on_invite(now, from, branch, req),
            Method::Ack => self.on_ack(now, &branch, &req),
            Method::Cancel => self.on_cancel(now, from, branch, req),
            Method::Bye => self.on_bye(now, from, branch, req),
            Method::Options => {
                let mut resp = self.response_to(&req, from, 200, "OK");
                resp.headers.push("Allow", ALLOW);
                resp.headers.push("Accept", "application/sdp");
                self.reply_non_invite(now, from, branch, &req, resp);
            }
            Method::Register => self.on_register(now, from, branch, req),
            _ if self.absorb_retransmission(&branch, &req) => {}
            Method::Info => self.on_info(now, from, branch, req),
            Method::Update => self.on_update(now, from, branch, req),
            _ => {
                let mut resp = self.response_to(&req, from, 501, "Not Implemented");
                resp.headers.push("Allow", ALLOW);
                self.reply_non_invite(now, from, branch, &req, resp);
            }
        }
    }

    /// A retransmitted non-INVITE request gets the same response again, and nothing else.
    fn absorb_retransmission(&mut self, branch: &str, req: &Request) -> bool {
        let key = (branch.to_string(), req.method.as_str().to_string());
        match self.server_txs.get_mut(&key) {
            Some((_, tx)) => {
                tx.on_retransmitted_request();
                self.flush_server_txs();
                true
            }
            None => false,
        }
    }

    fn on_invite(&mut self, now: Instant, from: Peer, branch: String, req: Request) {
        if let Some((_, _, tx)) = self.invite_txs.get_mut(&branch) {
            tx.on_retransmitted_request();
            self.flush_invite_tx(now, &branch);
            return;
        }
        let to_tag = req.headers.get("To").and_then(|t| param(t, "tag"));
        if let (Some(_), Some(call)) = (to_tag, self.by_sip_call_id.get(req.call_id()).copied()) {
            self.on_reinvite(now, from, branch, call, req);
            return;
        }
        if to_tag.is_some() {
            // A re-INVITE for a dialog we do not know (§12.2.2).
            let resp = self.response_to(&req, from, 481, "Call/Transaction Does Not Exist");
            self.send(from, resp.to_bytes());
            return;
        }
        if self.by_sip_call_id.contains_key(req.call_id()) {
            let resp = self.response_to(&req, from, 482, "Loop Detected");
            self.send(from, resp.to_bytes());
            return;
        }
        let session = match self.admit_invite(now, from, &req) {
            Ok(session) => session,
            Err(resp) => {
                // Stateless: a flood of refused INVITEs must not build up transactions.
                self.events.push_back(UaEvent::Refused {
                    from: from.addr,
                    status: resp.status,
                });
                self.send(from, resp.to_bytes());
                return;
            }
        };

        let call = CallId(self.next_call);
        self.next_call += 1;
        let local_tag = self.fresh_id();
        let mut tx =
            InviteServerTransaction::new(self.config.timers).reliable(from.transport.is_reliable());
        let trying = self.response_to(&req, from, 100, "Trying");
        tx.send_response(now, 100, trying.to_bytes());
        self.invite_txs.insert(branch.clone(), (call, from, tx));
        self.flush_invite_tx(now, &branch);

        let to_user = uri_user(&req.uri)
            .or_else(|| req.headers.get("To").and_then(|t| uri_user(uri_of(t))))
            .unwrap_or("")
            .to_string();
        let from_header = req.headers.get("From").unwrap_or("");
        let incoming = IncomingCall {
            call,
            sip_call_id: req.call_id().to_string(),
            request_uri: req.uri.clone(),
            to_user,
            from_user: uri_user(uri_of(from_header)).unwrap_or("").to_string(),
            display_name: message::display_name(from_header),
            diverted_from: req
                .headers
                .get("Diversion")
                .and_then(|d| uri_user(uri_of(d)))
                .map(str::to_string),
            sdp: req.body.clone(),
            source: from.addr,
            transport: from.transport,
        };
        self.by_sip_call_id.insert(req.call_id().to_string(), call);
        let remote_cseq = req.cseq().map(|(n, _)| n).unwrap_or(0);
        let remote_target = req
            .headers
            .get("Contact")
            .map(uri_of)
            .unwrap_or_else(|| uri_of(from_header))
            .to_string();
        self.dialogs.insert(
            call,
            Dialog {
                invite: req,
                source: from,
                local_tag,
                invite_branch: branch,
                state: DialogState::Early,
                local_cseq: 0,
                answer_sdp: None,
                ack_timed_out: false,
                remote_cseq,
                remote_target,
                reinvite: None,
                sdp_version: 0,
                session,
                refresh: None,
            },
        );
        self.events.push_back(UaEvent::IncomingCall(incoming));
    }

    fn on_ack(&mut self, now: Instant, branch: &str, req: &Request) {
        // A non-2xx ACK shares the INVITE's branch; a 2xx ACK is matched through the dialog.
        let key = if self.invite_txs.contains_key(branch) {
            Some(branch.to_string())
        } else {
            let ack_cseq = req.cseq().map(|(n, _)| n).ok();
            self.by_sip_call_id
                .get(req.call_id())
                .and_then(|c| self.dialogs.get(c))
                .map(|d| match &d.reinvite {
                    Some((cseq, branch)) if Some(*cseq) == ack_cseq => branch.clone(),
                    _ => d.invite_branch.clone(),
                })
                .or_else(|| {
                    // The ACK of a re-INVITE on a call we placed: its transaction is the one
                    // of that call still waiting in Accepted.
                    let call = self.by_sip_call_id.get(req.call_id())?;
                    self.invite_txs
                        .iter()
                        .find(|(_, (c, _, t))| {
                            c == call && t.state() == InviteServerState::Accepted
                        })
                        .map(|(b, _)| b.clone())
                })
        };
        let Some(key) = key else { return };
        if let Some((_, _, tx)) = self.invite_txs.get_mut(&key) {
            tx.on_ack(now);
        }
        self.flush_invite_tx(now, &key);
    }

    fn on_cancel(&mut self, now: Instant, from: Peer, branch: String, req: Request) {
        let Some(call) = self.invite_txs.get(&branch).map(|(c, _, _)| *c) else {
            let resp = self.response_to(&req, from, 481, "Call/Transaction Does Not Exist");
            self.reply_non_invite(now, from, branch, &req, resp);
            return;
        };
        let resp = self.response_to(&req, from, 200, "OK");
        self.reply_non_invite(now, from, branch, &req, resp);
        if self
            .dialogs
            .get(&call)
            .is_some_and(|d| d.state == DialogState::Early)
        {
            self.send_final(now, call, 487, "Request Terminated", None);
            self.events.push_back(UaEvent::Cancelled(call));
            self.end_dialog(call, EndReason::NotAnswered);
        }
    }

    fn on_bye(&mut self, now: Instant, from: Peer, branch: String, req: Request) {
        if let Some((_, tx)) = self.server_txs.get_mut(&(branch.clone(), "BYE".into())) {
            tx.on_retransmitted_request();
            self.flush_server_txs();
            return;
        }
        let Some(call) = self.by_sip_call_id.get(req.call_id()).copied() else {
            let resp = self.response_to(&req, from, 481, "Call/Transaction Does Not Exist");
            self.reply_non_invite(now, from, branch, &req, resp);
            return;
        };
        let resp = self.response_to(&req, from, 200, "OK");
        self.reply_non_invite(now, from, branch, &req, resp);
        self.end_dialog(call, EndReason::RemoteBye);
        self.end_outbound(call, EndReason::RemoteBye);
    }

    fn on_response(&mut self, now: Instant, resp: Response) {
        let branch = resp
            .headers
            .get_all("Via")
            .first()
            .and_then(|v| param(v, "branch"))
            .unwrap_or("")
            .to_string();
        let method = resp.cseq().map(|(_, m)| m).ok();
        if method == Some(Method::Invite) {
            self.on_invite_response(now, &branch, resp);
            self.sweep(now);
            return;
        }
        // A CANCEL shares its INVITE's branch, so its client transaction is keyed apart.
        let key = match method {
            Some(Method::Cancel) => outbound::cancel_key(&branch),
            _ => branch,
        };
        if let Some((_, _, tx)) = self.client_txs.get_mut(&key) {
            tx.on_response(resp.status);
        }
        self.sweep(now);
    }

    /// Sends a 180 Ringing for an early call.
    pub fn ringing(&mut self, now: Instant, call: CallId) {
        let Some(d) = self
            .dialogs
            .get(&call)
            .filter(|d| d.state == DialogState::Early)
        else {
            return;
        };
        let resp = self.dialog_response(d, 180, "Ringing");
        self.send_on_invite_tx(now, call, resp);
    }

    /// Sends 183 Session Progress with our SDP, for early media before answer (PreAnswer).
    pub fn session_progress(&mut self, now: Instant, call: CallId, sdp: String) {
        let Some(d) = self
            .dialogs
            .get(&call)
            .filter(|d| d.state == DialogState::Early)
        else {
            return;
        };
        let resp = self.with_body(self.dialog_response(d, 183, "Session Progress"), sdp);
        self.send_on_invite_tx(now, call, resp);
    }

    /// Answers with a 200 OK carrying our SDP.
    pub fn answer(&mut self, now: Instant, call: CallId, sdp: String) {
        let Some(d) = self
            .dialogs
            .get_mut(&call)
            .filter(|d| d.state == DialogState::Early)
        else {
            return;
        };
        d.state = DialogState::Answered;
        d.answer_sdp = Some(sdp.clone());
        // The session timer runs from the 2xx (RFC 4028 §10).
        if let Some(s) = d.session.as_mut() {
            s.schedule(now);
        }
        let d = &self.dialogs[&call];
        let resp = self.with_body(self.dialog_response(d, 200, "OK"), sdp);
        self.send_on_invite_tx(now, call, resp);
    }

    /// Refuses an unanswered call with a final status (404, 486, 488, 603, …).
    pub fn reject(&mut self, now: Instant, call: CallId, status: u16, reason: &str) {
        self.reject_with(now, call, status, reason, None);
    }

    /// Like `reject`, with a Retry-After header (RFC 3261 §20.33) or other extra header.
    pub fn reject_with(
        &mut self,
        now: Instant,
        call: CallId,
        status: u16,
        reason: &str,
        extra: Option<(&str, String)>,
    ) {
        if self
            .dialogs
            .get(&call)
            .is_some_and(|d| d.state == DialogState::Early)
        {
            self.send_final(now, call, status, reason, extra);
            self.end_dialog(call, EndReason::NotAnswered);
        }
    }

    /// Ends an answered call with BYE; an unanswered one is refused with 480.
    pub fn hangup(&mut self, now: Instant, call: CallId) {
        match self.dialogs.get(&call).map(|d| d.state) {
            Some(DialogState::Early) => self.reject(now, call, 480, "Temporarily Unavailable"),
            Some(DialogState::Answered | DialogState::Confirmed) => self.send_bye(now, call),
            Some(DialogState::ByeSent) => {}
            None => self.hangup_outbound(now, call),
        }
    }

    fn send_bye(&mut self, now: Instant, call: CallId) {
        let branch = format!("z9hG4bK{}", self.fresh_id());
        let Some((bye, to)) = self.uas_dialog_request(call, Method::Bye, &branch) else {
            return;
        };
        if let Some(d) = self.dialogs.get_mut(&call) {
            d.state = DialogState::ByeSent;
            d.session = None;
        }
        let tx = NonInviteClientTransaction::new(now, self.config.timers, bye.to_bytes())
            .reliable(to.transport.is_reliable());
        self.client_txs.insert(branch, (call, to, tx));
        self.flush_client_txs(now);
    }

    fn send_final(
        &mut self,
        now: Instant,
        call: CallId,
        status: u16,
        reason: &str,
        extra: Option<(&str, String)>,
    ) {
        let Some(d) = self.dialogs.get(&call) else {
            return;
        };
        let mut resp = self.dialog_response(d, status, reason);
        if let Some((name, value)) = extra {
            resp.headers.push(name, value);
        }
        self.send_on_invite_tx(now, call, resp);
    }

    fn send_on_invite_tx(&mut self, now: Instant, call: CallId, resp: Response) {
        let Some(branch) = self.dialogs.get(&call).map(|d| d.invite_branch.clone()) else {
            return;
        };
        if let Some((_, _, tx)) = self.invite_txs.get_mut(&branch) {
            tx.send_response(now, resp.status, resp.to_bytes());
        }
        self.flush_invite_tx(now, &branch);
    }

    /// A response within the dialog: our To tag, Contact and the Record-Route set (§12.1.1).
    fn dialog_response(&self, d: &Dialog, status: u16, reason: &str) -> Response {
        let mut resp = self.response_to(&d.invite, d.source, status, reason);
        if let Some(to) = resp.headers.get("To").map(str::to_string) {
            resp.headers.set("To", with_tag(&to, &d.local_tag));
        }
        if (101..300).contains(&status) {
            for rr in d.invite.headers.get_all("Record-Route") {
                resp.headers.push("Record-Route", rr);
            }
            resp.headers
                .push("Contact", self.contact(d.source.transport));
            resp.headers.push("Allow", ALLOW);
        }
        if status / 100 == 2 {
            if let Some(session) = &d.session {
                session.add_headers(&mut resp.headers);
            }
        }
        resp
    }

    fn with_body(&self, mut resp: Response, sdp: String) -> Response {
        resp.headers.push("Content-Type", "application/sdp");
        resp.body = sdp.into_bytes();
        resp
    }

    fn reply_non_invite(
        &mut self,
        now: Instant,
        from: Peer,
        branch: String,
        req: &Request,
        resp: Response,
    ) {
        let mut tx = NonInviteServerTransaction::new(self.config.timers)
            .reliable(from.transport.is_reliable());
        tx.send_response(now, resp.status, resp.to_bytes());
        self.server_txs
            .insert((branch, req.method.as_str().to_string()), (from, tx));
        self.flush_server_txs();
    }

    fn end_dialog(&mut self, call: CallId, reason: EndReason) {
        if let Some(d) = self.dialogs.remove(&call) {
            self.by_sip_call_id.remove(d.invite.call_id());
            self.events.push_back(UaEvent::Ended { call, reason });
        }
    }

    fn flush_invite_tx(&mut self, now: Instant, branch: &str) {
        let mut acked = None;
        let mut timed_out = None;
        if let Some((call, to, tx)) = self.invite_txs.get_mut(branch) {
            while let Some(bytes) = tx.poll_transmit() {
                transmit(&mut self.transmits, *to, bytes);
            }
            while let Some(ev) = tx.poll_event() {
                match ev {
                    InviteServerEvent::Acked => acked = Some(*call),
                    InviteServerEvent::AckTimeout => timed_out = Some(*call),
                }
            }
        }
        if let Some(call) = acked {
            if let Some(d) = self
                .dialogs
                .get_mut(&call)
                .filter(|d| d.state == DialogState::Answered)
            {
                d.state = DialogState::Confirmed;
                self.events.push_back(UaEvent::Confirmed(call));
            }
        }
        if let Some(call) = timed_out {
            if let Some(d) = self
                .dialogs
                .get_mut(&call)
                .filter(|d| d.state == DialogState::Answered)
            {
                d.ack_timed_out = true;
                self.send_bye(now, call);
            }
        }
    }

    fn flush_server_txs(&mut self) {
        for (to, tx) in self.server_txs.values_mut() {
            while let Some(bytes) = tx.poll_transmit() {
                transmit(&mut self.transmits, *to, bytes);
            }
        }
    }

    fn flush_client_txs(&mut self, now: Instant) {
        let mut finished = Vec::new();
        for (branch, (call, to, tx)) in self.client_txs.iter_mut() {
            while let Some(bytes) = tx.poll_transmit() {
                transmit(&mut self.transmits, *to, bytes);
            }
            if let Some(outcome) = tx.poll_outcome() {
                finished.push((branch.clone(), *call, outcome));
            }
        }
        for (branch, call, outcome) in finished {
            self.client_txs.remove(&branch);
            if self.outbound.contains_key(&call) {
                self.on_outbound_client_outcome(call, &branch);
                continue;
            }
            if self.is_refresh(call, &branch) {
                self.on_refresh_outcome(now, call, outcome);
                continue;
            }
            let timed_out = self.dialogs.get(&call).is_some_and(|d| d.ack_timed_out);
            let reason = if timed_out {
                EndReason::AckTimeout
            } else {
                EndReason::LocalBye
            };
            // A BYE that was never answered (Timer F) still ends the call on our side.
            self.end_dialog(call, reason);
        }
    }

    /// Fires every due timer.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<String> = self
            .invite_txs
            .iter()
            .filter(|(_, (_, _, tx))| tx.poll_timeout().is_some_and(|t| t <= now))
            .map(|(b, _)| b.clone())
            .collect();
        for branch in due {
            if let Some((_, _, tx)) = self.invite_txs.get_mut(&branch) {
                tx.handle_timeout(now);
            }
            self.flush_invite_tx(now, &branch);
        }
        for (_, _, tx) in self.client_txs.values_mut() {
            if tx.poll_timeout().is_some_and(|t| t <= now) {
                tx.handle_timeout(now);
            }
        }
        let due: Vec<String> = self
            .invite_client_txs
            .iter()
            .filter(|(_, (_, _, tx))| tx.poll_timeout().is_some_and(|t| t <= now))
            .map(|(b, _)| b.clone())
            .collect();
        for branch in due {
            if let Some((_, _, tx)) = self.invite_client_txs.get_mut(&branch) {
                tx.handle_timeout(now);
            }
            self.flush_invite_client_tx(&branch);
        }
        self.session_timers_due(now);
        for user in self.registrar.handle_timeout(now) {
            self.events.push_back(UaEvent::Registration {
                user,
                contact: None,
            });
        }
        self.sweep(now);
    }

    fn sweep(&mut self, now: Instant) {
        self.flush_client_txs(now);
        self.flush_server_txs();
        self.server_txs.retain(|_, (_, tx)| !tx.is_terminated(now));
        let dialogs = &self.dialogs;
        self.invite_txs.retain(|_, (call, _, tx)| {
            tx.state() != InviteServerState::Terminated || dialogs.contains_key(call)
        });
        self.invite_client_txs
            .retain(|_, (_, _, tx)| !tx.is_terminated());
    }
}

/// Queues `bytes` for `to` (a free function so that loops over transactions can use it).
fn transmit(queue: &mut VecDeque<Transmit>, to: Peer, bytes: Vec<u8>) {
    queue.push_back(Transmit {
        to: to.addr,
        transport: to.transport,
        bytes,
    });
}

fn with_tag(header: &str, tag: &str) -> String {
    if param(header, "tag").is_some() {
        header.to_string()
    } else {
        format!("{header};tag={tag}")
    }
}
