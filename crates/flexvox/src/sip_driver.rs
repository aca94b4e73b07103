//! The SIP socket task: feeds datagrams, TCP messages and timeouts into the sans-IO
//! `UserAgent`, sends what it emits on the transport it names, starts a call task per INVITE,
//! routes dialog events to it, mirrors registrations for Dial, and places the outbound legs
//! that Dial asks for.

use crate::call::{self, CallSignal};
use crate::sip_tcp::TcpTransport;
use crate::CallContext;
use sip::ua::{EndReason, FailReason, UaEvent};
use sip::{CallId, OutboundCall, Peer, Transport, UserAgent};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

#[derive(Debug)]
pub enum SipCommand {
    Ringing(CallId),
    SessionProgress(CallId, String),
    Answer(CallId, String),
    /// Status, reason phrase, and the Call-Info text of an intermediary rejection.
    Reject(CallId, u16, String, Option<String>),
    Hangup(CallId),
    /// Places an outbound leg; its events come back tagged with `key`.
    Dial {
        key: u64,
        call: OutboundCall,
        events: mpsc::UnboundedSender<(u64, OutboundEvent)>,
    },
    /// Cancels a ringing outbound leg or hangs up an answered one.
    HangupOutbound(u64),
}

/// What happens to an outbound leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundEvent {
    Progress(u16),
    Answered(Vec<u8>),
    /// The INVITE failed: the final status (None: no answer at all) and whether we cancelled it.
    Failed {
        status: Option<u16>,
        cancelled: bool,
    },
    /// The answered leg ended (either side's BYE).
    Ended,
}

struct Outbound {
    key: u64,
    events: mpsc::UnboundedSender<(u64, OutboundEvent)>,
}

/// Receives a datagram, or waits forever when UDP is not served.
async fn recv_udp(
    socket: &Option<UdpSocket>,
    buf: &mut [u8],
) -> std::io::Result<(usize, std::net::SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

pub async fn run(
    socket: Option<UdpSocket>,
    tcp_listener: Option<TcpListener>,
    mut ua: UserAgent,
    ctx: Arc<CallContext>,
    mut commands: mpsc::UnboundedReceiver<SipCommand>,
) {
    let (mut tcp, mut tcp_events) = TcpTransport::start(tcp_listener);
    let mut calls: HashMap<CallId, mpsc::UnboundedSender<CallSignal>> = HashMap::new();
    let mut outbound: HashMap<CallId, Outbound> = HashMap::new();
    let mut by_key: HashMap<u64, CallId> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let deadline = ua
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            received = recv_udp(&socket, &mut buf) => match received {
                Ok((n, from)) => ua.handle_datagram(Instant::now(), from, &buf[..n]),
                Err(e) => tracing::warn!(error = %e, "SIP socket receive failed"),
            },
            Some(event) = tcp_events.recv() => {
                if let Some((from, bytes)) = tcp.on_event(event) {
                    ua.handle_message(Instant::now(), Peer::tcp(from), &bytes);
                }
            }
            Some(cmd) = commands.recv() => {
                let now = Instant::now();
                match cmd {
                    SipCommand::Ringing(c) => ua.ringing(now, c),
                    SipCommand::SessionProgress(c, sdp) => ua.session_progress(now, c, sdp),
                    SipCommand::Answer(c, sdp) => ua.answer(now, c, sdp),
                    SipCommand::Reject(c, status, reason, None) => ua.reject(now, c, status, &reason),
                    SipCommand::Reject(c, status, reason, Some(info)) => {
                        let quoted = format!("\"{}\"", info.replace(['"', '\r', '\n'], " "));
                        ua.reject_with(now, c, status, &reason, Some(("Call-Info", quoted)))
                    }
                    SipCommand::Hangup(c) => ua.hangup(now, c),
                    SipCommand::Dial { key, call, events } => {
                        let id = ua.place_call(now, call);
                        by_key.insert(key, id);
                        outbound.insert(id, Outbound { key, events });
                    }
                    SipCommand::HangupOutbound(key) => {
                        if let Some(id) = by_key.get(&key) {
                            ua.hangup(now, *id);
                        }
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => ua.handle_timeout(Instant::now()),
        }
        while let Some(t) = ua.poll_transmit() {
            match (t.transport, &socket) {
                (Transport::Tcp, _) => tcp.send(t.to, t.bytes),
                (Transport::Udp, Some(udp)) => {
                    if let Err(e) = udp.send_to(&t.bytes, t.to).await {
                        tracing::warn!(to = %t.to, error = %e, "SIP send failed");
                    }
                }
                (Transport::Udp, None) => {
                    tracing::warn!(to = %t.to, "UDP is not served (--sip-transports): message dropped")
                }
            }
        }
        while let Some(event) = ua.poll_event() {
            match event {
                UaEvent::IncomingCall(incoming) => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    calls.insert(incoming.call, tx);
                    tokio::spawn(call::run(ctx.clone(), incoming, Instant::now(), rx));
                }
                UaEvent::Confirmed(c) => signal(&calls, c, CallSignal::Confirmed),
                UaEvent::Cancelled(c) => {
                    signal(&calls, c, CallSignal::Ended(EndReason::NotAnswered))
                }
                UaEvent::Ended { call, reason } => {
                    if let Some(o) = outbound.remove(&call) {
                        by_key.remove(&o.key);
                        let _ = o.events.send((o.key, OutboundEvent::Ended));
                        continue;
                    }
                    signal(&calls, call, CallSignal::Ended(reason));
                    calls.remove(&call);
                }
                UaEvent::Malformed { from, error } => {
                    tracing::info!(%from, %error, "malformed SIP message")
                }
                UaEvent::Digit { call, digit, .. } => {
                    signal(&calls, call, CallSignal::Digit(digit))
                }
                UaEvent::MediaUpdate {
                    call, remote, hold, ..
                } => signal(&calls, call, CallSignal::RemoteMedia { remote, hold }),
                UaEvent::Refused { from, status } => {
                    tracing::info!(%from, status, "INVITE refused")
                }
                UaEvent::Registration { user, contact } => {
                    match &contact {
                        Some(b) => {
                            tracing::info!(%user, contact = %b.uri, source = %b.source.addr, "SIP user registered")
                        }
                        None => tracing::info!(%user, "SIP user unregistered"),
                    }
                    ctx.registrations.set(&user, contact);
                }
                UaEvent::OutboundProgress { call, status, .. } => {
                    notify(&outbound, call, OutboundEvent::Progress(status))
                }
                UaEvent::OutboundAnswered { call, sdp } => {
                    notify(&outbound, call, OutboundEvent::Answered(sdp))
                }
                UaEvent::OutboundFailed {
                    call,
                    status,
                    reason,
                } => {
                    let cancelled = reason == FailReason::Cancelled;
                    notify(&outbound, call, OutboundEvent::Failed { status, cancelled });
                    if let Some(o) = outbound.remove(&call) {
                        by_key.remove(&o.key);
                    }
                }
            }
        }
    }
}

fn notify(outbound: &HashMap<CallId, Outbound>, call: CallId, event: OutboundEvent) {
    if let Some(o) = outbound.get(&call) {
        let _ = o.events.send((o.key, event));
    }
}

fn signal(calls: &HashMap<CallId, mpsc::UnboundedSender<CallSignal>>, call: CallId, s: CallSignal) {
    if let Some(tx) = calls.get(&call) {
        let _ = tx.send(s);
    }
}
