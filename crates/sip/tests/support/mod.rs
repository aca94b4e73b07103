//! A virtual-time harness shared by the user-agent scenario tests: a caller at a fixed
//! address (UDP or TCP) sending text requests, and helpers that drain what the UA emits.

#![allow(dead_code)]

use sip::message::{param, parse, Message, Request, Response};
use sip::transport::Peer;
use sip::{Transport, UaConfig, UaEvent, UserAgent};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub const LOCAL: &str = "198.51.100.1:5060";
pub const CALL_ID: &str = "call-1@10.0.0.5";
pub const CALLER_TAG: &str = "caller-tag";
pub const OFFER: &str = "v=0\r\no=alice 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
pub const ANSWER: &str = "v=0\r\no=flexvox 7 7 IN IP4 198.51.100.1\r\ns=flexvox\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n";

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn config() -> UaConfig {
    UaConfig {
        local_addr: LOCAL.parse().unwrap(),
        user_agent: "flexvox-test".into(),
        seed: 0x5eed,
        ..UaConfig::default()
    }
}

pub struct Harness {
    pub ua: UserAgent,
    pub t0: Instant,
    pub peer: Peer,
}

pub fn response(msg: &Message) -> &Response {
    match msg {
        Message::Response(r) => r,
        Message::Request(r) => panic!("expected a response, got {} {}", r.method, r.uri),
    }
}

pub fn request(msg: &Message) -> &Request {
    match msg {
        Message::Request(r) => r,
        Message::Response(r) => panic!("expected a request, got {} {}", r.status, r.reason),
    }
}

impl Harness {
    /// A UA with `config`, and a caller at `from` over `transport`.
    pub fn new(config: UaConfig, from: &str, transport: Transport) -> Self {
        Harness {
            ua: UserAgent::new(config),
            t0: Instant::now(),
            peer: Peer {
                addr: from.parse().unwrap(),
                transport,
            },
        }
    }

    pub fn at(&self, offset: Duration) -> Instant {
        self.t0 + offset
    }

    pub fn recv(&mut self, offset: Duration, text: &str) {
        let now = self.at(offset);
        self.ua.handle_message(now, self.peer, text.as_bytes());
    }

    /// Everything queued: (destination, transport, parsed message).
    pub fn out(&mut self) -> Vec<(SocketAddr, Transport, Message)> {
        std::iter::from_fn(|| self.ua.poll_transmit())
            .map(|t| {
                let msg = parse(&t.bytes).unwrap_or_else(|e| {
                    panic!("unparsable ({e}): {}", String::from_utf8_lossy(&t.bytes))
                });
                (t.to, t.transport, msg)
            })
            .collect()
    }

    /// The statuses of the queued responses, in order.
    pub fn statuses(&mut self) -> Vec<u16> {
        self.out()
            .iter()
            .map(|(_, _, m)| response(m).status)
            .collect()
    }

    /// The one queued response with `status`, panicking on anything else queued.
    pub fn only(&mut self, status: u16) -> Response {
        let out = self.out();
        let found: Vec<&Response> = out.iter().map(|(_, _, m)| response(m)).collect();
        assert!(
            found.len() == 1 && found[0].status == status,
            "expected one {status}, got {:?}",
            found.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        found[0].clone()
    }

    pub fn events(&mut self) -> Vec<UaEvent> {
        std::iter::from_fn(|| self.ua.poll_event()).collect()
    }

    /// Fires timers at each deadline up to `until`: (when, message) of everything sent.
    pub fn run_until(&mut self, until: Duration) -> Vec<(Duration, Message)> {
        let until = self.at(until);
        let mut sent = Vec::new();
        let mut rounds = 0;
        while let Some(at) = self.ua.poll_timeout().filter(|t| *t <= until) {
            rounds += 1;
            assert!(rounds < 10_000, "timers fire without time passing");
            self.ua.handle_timeout(at);
            for (_, _, msg) in self.out() {
                sent.push((at - self.t0, msg));
            }
        }
        sent
    }

    /// Sends the INVITE (with `extra` header lines) and returns the new call, or the events.
    pub fn invite(&mut self, extra: &str) -> Option<sip::CallId> {
        let text = invite(self.peer.transport, "z9hG4bK-inv", extra, OFFER);
        self.recv(Duration::ZERO, &text);
        self.events().into_iter().find_map(|e| match e {
            UaEvent::IncomingCall(c) => Some(c.call),
            _ => None,
        })
    }

    /// A call answered and ACKed: returns it and our To tag.
    pub fn established(&mut self, extra: &str) -> (sip::CallId, String) {
        let call = self.invite(extra).expect("the INVITE is accepted");
        self.out();
        self.ua.answer(self.at(ms(10)), call, ANSWER.to_string());
        let ok = self.only(200);
        let tag = param(ok.headers.get("To").unwrap(), "tag")
            .unwrap()
            .to_string();
        let ack = in_dialog(self.peer.transport, "ACK", "z9hG4bK-ack", 1, &tag, "", "");
        self.recv(ms(20), &ack);
        assert!(self.events().contains(&UaEvent::Confirmed(call)));
        (call, tag)
    }
}

/// The caller's INVITE.
pub fn invite(transport: Transport, branch: &str, extra: &str, sdp: &str) -> String {
    let t = transport.via_token();
    format!(
        "INVITE sip:15550000001@198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/{t} 10.0.0.5:5062;branch={branch};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@10.0.0.5>;tag={CALLER_TAG}\r\n\
To: <sip:15550000001@198.51.100.1>\r\n\
Call-ID: {CALL_ID}\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@10.0.0.5:5062>\r\n\
{extra}Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

/// A request of the caller inside the dialog (our tag `tag`), with optional body.
pub fn in_dialog(
    transport: Transport,
    method: &str,
    branch: &str,
    cseq: u32,
    tag: &str,
    extra: &str,
    body: &str,
) -> String {
    let t = transport.via_token();
    let cseq_method = if method == "ACK" { "ACK" } else { method };
    format!(
        "{method} sip:flexvox@198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/{t} 10.0.0.5:5062;branch={branch};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@10.0.0.5>;tag={CALLER_TAG}\r\n\
To: <sip:15550000001@198.51.100.1>;tag={tag}\r\n\
Call-ID: {CALL_ID}\r\n\
CSeq: {cseq} {cseq_method}\r\n\
{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}
