//! Outbound-call scenarios for the sans-IO `UserAgent` (UAC side), on virtual time: every
//! instant is `t0 + Duration`, nothing sleeps. What the UA sends is parsed back, and the
//! carrier's answers are written here by hand.

use md5::Md5;
use sha2::{Digest, Sha256};
use sip::message::{param, parse, uri_of, Headers, Message, Method, Request, Response};
use sip::transaction::Timers;
use sip::ua::{call_status_for, EndReason, FailReason, OutboundCall};
use sip::{CallId, UaConfig, UaEvent, UserAgent};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const LOCAL: &str = "198.51.100.1:5060";
const CARRIER: &str = "203.0.113.50:5060";
const REQUEST_URI: &str = "sip:+15557654321@carrier.example.com";
const REMOTE_TAG: &str = "callee-tag-77";
const REMOTE_CONTACT: &str = "sip:+15557654321@203.0.113.60:5070";
const OFFER: &str = "v=0\r\no=flexvox 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const ANSWER: &str = "v=0\r\no=callee 7 7 IN IP4 203.0.113.60\r\ns=-\r\nc=IN IP4 203.0.113.60\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn carrier() -> SocketAddr {
    CARRIER.parse().unwrap()
}

struct Harness {
    ua: UserAgent,
    t0: Instant,
}

impl Harness {
    fn new() -> Self {
        Harness {
            ua: UserAgent::new(UaConfig {
                local_addr: LOCAL.parse().unwrap(),
                timers: Timers::default(),
                user_agent: "flexvox-test".to_string(),
                seed: 0xca11,
                ..UaConfig::default()
            }),
            t0: Instant::now(),
        }
    }

    fn at(&self, offset: Duration) -> Instant {
        self.t0 + offset
    }

    fn spec(credentials: Option<(&str, &str)>) -> OutboundCall {
        OutboundCall {
            request_uri: REQUEST_URI.to_string(),
            from_user: "+15550000001".to_string(),
            from_display: Some("Flex Vox".to_string()),
            to_user: "+15557654321".to_string(),
            destination: carrier(),
            sdp_offer: OFFER.to_string(),
            extra_headers: vec![("X-Test".to_string(), "1".to_string())],
            credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
            transport: sip::Transport::Udp,
        }
    }

    /// Places a call at t0 and returns it with the INVITE that went out.
    fn place(&mut self, credentials: Option<(&str, &str)>) -> (CallId, Request) {
        let now = self.at(Duration::ZERO);
        let call = self.ua.place_call(now, Self::spec(credentials));
        let invite = self.one_request();
        assert_eq!(invite.method, Method::Invite);
        (call, invite)
    }

    fn recv(&mut self, offset: Duration, resp: &Response) {
        let now = self.at(offset);
        self.ua.handle_datagram(now, carrier(), &resp.to_bytes());
    }

    fn transmits(&mut self) -> Vec<Message> {
        std::iter::from_fn(|| self.ua.poll_transmit())
            .map(|t| {
                assert_eq!(t.to, carrier(), "everything goes to the destination");
                parse(&t.bytes).expect("UA sent unparsable bytes")
            })
            .collect()
    }

    fn one_request(&mut self) -> Request {
        let mut out = self.transmits();
        assert_eq!(out.len(), 1, "expected one datagram, got {out:?}");
        match out.remove(0) {
            Message::Request(r) => r,
            Message::Response(r) => panic!("expected a request, got {}", r.status),
        }
    }

    fn events(&mut self) -> Vec<UaEvent> {
        std::iter::from_fn(|| self.ua.poll_event()).collect()
    }

    fn run_timers_until(&mut self, until: Duration) -> Vec<(Duration, Message)> {
        let until = self.at(until);
        let mut sent = Vec::new();
        let mut rounds = 0;
        while let Some(at) = self.ua.poll_timeout().filter(|t| *t <= until) {
            rounds += 1;
            assert!(rounds < 10_000, "timers keep firing without time passing");
            self.ua.handle_timeout(at);
            for msg in self.transmits() {
                sent.push((at - self.t0, msg));
            }
        }
        sent
    }
}

fn h<'a>(headers: &'a Headers, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
}

fn branch(req: &Request) -> String {
    req.branch().expect("a branch").to_string()
}

/// The carrier's response to `req`, with the callee's To tag for anything but 100.
fn response_to(req: &Request, status: u16, reason: &str) -> Response {
    let mut resp = req.make_response(status, reason);
    if status > 100 {
        let to = h(&resp.headers, "To").to_string();
        resp.headers.set("To", format!("{to};tag={REMOTE_TAG}"));
    }
    resp
}

fn with_sdp(mut resp: Response, sdp: &str) -> Response {
    resp.headers.push("Content-Type", "application/sdp");
    resp.body = sdp.as_bytes().to_vec();
    resp
}

/// A 200 OK with Contact, two Record-Routes and the answer SDP.
fn ok_200(invite: &Request) -> Response {
    let mut resp = response_to(invite, 200, "OK");
    resp.headers.push("Contact", format!("<{REMOTE_CONTACT}>"));
    resp.headers
        .push("Record-Route", "<sip:proxy1.example.com;lr>");
    resp.headers
        .push("Record-Route", "<sip:proxy2.example.com;lr>");
    with_sdp(resp, ANSWER)
}

/// Places a call, has it ring and answered; returns the call, INVITE and first ACK.
fn answered_call(hs: &mut Harness) -> (CallId, Request, Request) {
    let (call, invite) = hs.place(None);
    hs.recv(ms(100), &response_to(&invite, 180, "Ringing"));
    hs.recv(ms(2000), &ok_200(&invite));
    let ack = hs.one_request();
    let events = hs.events();
    assert!(
        matches!(events.last(), Some(UaEvent::OutboundAnswered { call: c, sdp }) if *c == call && sdp == ANSWER.as_bytes()),
        "{events:?}"
    );
    (call, invite, ack)
}

#[test]
fn invite_is_well_formed() {
    let mut hs = Harness::new();
    let (_, invite) = hs.place(None);
    assert_eq!(invite.uri, REQUEST_URI);
    let via = h(&invite.headers, "Via");
    assert!(via.starts_with("SIP/2.0/UDP 198.51.100.1:5060;"), "{via}");
    assert!(branch(&invite).starts_with("z9hG4bK"));
    assert!(sip::message::has_param(via, "rport"));
    let from = h(&invite.headers, "From");
    assert!(from.starts_with("\"Flex Vox\" <sip:+15550000001@198.51.100.1>"));
    assert!(param(from, "tag").is_some_and(|t| !t.is_empty()));
    let to = h(&invite.headers, "To");
    assert_eq!(to, "<sip:+15557654321@carrier.example.com>");
    assert!(!h(&invite.headers, "Call-ID").is_empty());
    assert_eq!(h(&invite.headers, "CSeq"), "1 INVITE");
    assert_eq!(
        uri_of(h(&invite.headers, "Contact")),
        "sip:flexvox@198.51.100.1:5060"
    );
    assert_eq!(h(&invite.headers, "Max-Forwards"), "70");
    assert_eq!(h(&invite.headers, "Content-Type"), "application/sdp");
    assert_eq!(h(&invite.headers, "X-Test"), "1");
    assert_eq!(invite.body, OFFER.as_bytes());
}

#[test]
fn unanswered_invite_is_retransmitted_then_timer_b_fails_it() {
    let mut hs = Harness::new();
    let (call, invite) = hs.place(None);
    let sent = hs.run_timers_until(ms(31_999));
    let times: Vec<Duration> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        times,
        vec![
            ms(500),
            ms(1500),
            ms(3500),
            ms(7500),
            ms(15_500),
            ms(31_500)
        ]
    );
    for (_, msg) in &sent {
        assert_eq!(msg, &Message::Request(invite.clone()), "same bytes again");
    }
    assert!(hs.events().is_empty());
    assert!(hs.run_timers_until(ms(32_000)).is_empty());
    assert_eq!(
        hs.events(),
        vec![UaEvent::OutboundFailed {
            call,
            status: None,
            reason: FailReason::Timeout
        }]
    );
    assert_eq!(call_status_for(None), "noanswer");
    assert_eq!(hs.ua.active_calls(), 0);
    assert!(hs.run_timers_until(ms(120_000)).is_empty());
}

#[test]
fn trying_stops_retransmission() {
    let mut hs = Harness::new();
    let (_, invite) = hs.place(None);
    let sent = hs.run_timers_until(ms(600));
    assert_eq!(sent.len(), 1);
    hs.recv(ms(700), &response_to(&invite, 100, "Trying"));
    assert!(hs.transmits().is_empty());
    assert!(hs.events().is_empty(), "100 is not reported");
    assert!(hs.run_timers_until(ms(60_000)).is_empty());
    assert!(hs.events().is_empty(), "no Timer B once proceeding");
}

#[test]
fn ringing_and_early_media_are_reported() {
    let mut hs = Harness::new();
    let (call, invite) = hs.place(None);
    hs.recv(ms(100), &response_to(&invite, 180, "Ringing"));
    hs.recv(
        ms(200),
        &with_sdp(response_to(&invite, 183, "Session Progress"), ANSWER),
    );
    assert_eq!(
        hs.events(),
        vec![
            UaEvent::OutboundProgress {
                call,
                status: 180,
                sdp: None
            },
            UaEvent::OutboundProgress {
                call,
                status: 183,
                sdp: Some(ANSWER.as_bytes().to_vec())
            },
        ]
    );
    assert!(hs.run_timers_until(ms(40_000)).is_empty());
}

#[test]
fn answer_is_acked_in_the_dialog_and_retransmitted_200_is_acked_again() {
    let mut hs = Harness::new();
    let (_, invite, ack) = answered_call(&mut hs);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, REMOTE_CONTACT, "remote target from Contact");
    assert_eq!(h(&ack.headers, "CSeq"), "1 ACK");
    assert_eq!(param(h(&ack.headers, "To"), "tag"), Some(REMOTE_TAG));
    assert_eq!(h(&ack.headers, "From"), h(&invite.headers, "From"));
    assert_eq!(h(&ack.headers, "Call-ID"), h(&invite.headers, "Call-ID"));
    assert_ne!(
        branch(&ack),
        branch(&invite),
        "the 2xx ACK is a new transaction"
    );
    assert_eq!(
        ack.headers.get_all("Route"),
        vec!["<sip:proxy2.example.com;lr>", "<sip:proxy1.example.com;lr>"],
        "route set is Record-Route reversed"
    );

    // The 200 comes again (our ACK was lost): the same ACK goes out, no new event.
    hs.recv(ms(2500), &ok_200(&invite));
    assert_eq!(hs.one_request(), ack);
    assert!(hs.events().is_empty());
    // And again after the transaction is gone (Timer M), still ACKed from the dialog.
    assert!(hs.run_timers_until(ms(40_000)).is_empty());
    hs.recv(ms(40_000), &ok_200(&invite));
    assert_eq!(hs.one_request(), ack);
    assert!(hs.events().is_empty());
}

fn hash_hex(sha: bool, data: &str) -> String {
    let bytes: Vec<u8> = if sha {
        Sha256::digest(data.as_bytes()).to_vec()
    } else {
        Md5::digest(data.as_bytes()).to_vec()
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `k="v"` / `k=v` parameters of a Digest credentials value.
fn auth_param(value: &str, name: &str) -> String {
    let rest = value.strip_prefix("Digest ").expect("Digest scheme");
    rest.split(", ")
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in {value}"))
}

fn challenge_then_answer(status: u16, sha: bool) {
    let (challenge_header, answer_header) = match status {
        401 => ("WWW-Authenticate", "Authorization"),
        _ => ("Proxy-Authenticate", "Proxy-Authorization"),
    };
    let mut hs = Harness::new();
    let (call, invite) = hs.place(Some(("alice", "s3cret")));
    let mut challenge = response_to(&invite, status, "Authentication Required");
    let algorithm = if sha { "SHA-256" } else { "MD5" };
    if sha {
        // RFC 8760: offer both, the client must answer the SHA-256 one.
        challenge.headers.push(
            challenge_header,
            "Digest realm=\"carrier.example.com\", nonce=\"md5nonce\", qop=\"auth\", algorithm=MD5",
        );
    }
    challenge.headers.push(
        challenge_header,
        format!(
            "Digest realm=\"carrier.example.com\", nonce=\"abc123nonce\", opaque=\"op4que\", qop=\"auth,auth-int\", algorithm={algorithm}, stale=FALSE"
        ),
    );
    hs.recv(ms(100), &challenge);

    let sent = hs.transmits();
    assert_eq!(sent.len(), 2, "ACK for the challenge, then the new INVITE");
    let (Message::Request(ack), Message::Request(invite2)) = (&sent[0], &sent[1]) else {
        panic!("{sent:?}");
    };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(
        branch(ack),
        branch(&invite),
        "non-2xx ACK on the INVITE's branch"
    );
    assert_eq!(h(&ack.headers, "CSeq"), "1 ACK");
    assert_eq!(invite2.method, Method::Invite);
    assert_eq!(h(&invite2.headers, "CSeq"), "2 INVITE");
    assert_ne!(branch(invite2), branch(&invite));
    assert_eq!(
        h(&invite2.headers, "Call-ID"),
        h(&invite.headers, "Call-ID")
    );
    assert_eq!(h(&invite2.headers, "From"), h(&invite.headers, "From"));
    assert_eq!(h(&invite2.headers, "To"), h(&invite.headers, "To"));
    assert!(
        hs.events().is_empty(),
        "the challenge is handled inside the UA"
    );

    let auth = h(&invite2.headers, answer_header);
    assert_eq!(auth_param(auth, "username"), "alice");
    assert_eq!(auth_param(auth, "realm"), "carrier.example.com");
    assert_eq!(auth_param(auth, "nonce"), "abc123nonce");
    assert_eq!(auth_param(auth, "uri"), REQUEST_URI);
    assert_eq!(auth_param(auth, "qop"), "auth");
    assert_eq!(auth_param(auth, "nc"), "00000001");
    assert_eq!(auth_param(auth, "opaque"), "op4que");
    assert_eq!(auth_param(auth, "algorithm"), algorithm);
    let cnonce = auth_param(auth, "cnonce");
    assert!(!cnonce.is_empty());
    let ha1 = hash_hex(sha, "alice:carrier.example.com:s3cret");
    let ha2 = hash_hex(sha, &format!("INVITE:{REQUEST_URI}"));
    let expected = hash_hex(
        sha,
        &format!("{ha1}:abc123nonce:00000001:{cnonce}:auth:{ha2}"),
    );
    assert_eq!(auth_param(auth, "response"), expected);

    // A retransmitted challenge is ACKed again by the old transaction and changes nothing.
    hs.recv(ms(150), &challenge);
    let again = hs.one_request();
    assert_eq!(&again, ack);
    assert!(hs.events().is_empty());

    hs.recv(ms(300), &ok_200(invite2));
    let ack2 = hs.one_request();
    assert_eq!(h(&ack2.headers, "CSeq"), "2 ACK");
    assert_eq!(
        h(&ack2.headers, answer_header),
        auth,
        "ACK carries the credentials"
    );
    assert!(matches!(
        hs.events().as_slice(),
        [UaEvent::OutboundAnswered { call: c, .. }] if *c == call
    ));
}

#[test]
fn proxy_challenge_md5_is_answered_once() {
    challenge_then_answer(407, false);
}

#[test]
fn proxy_challenge_sha256_is_answered_once() {
    challenge_then_answer(407, true);
}

#[test]
fn www_challenge_sha256_is_answered_with_authorization() {
    challenge_then_answer(401, true);
}

#[test]
fn second_challenge_fails_the_call_without_a_loop() {
    let mut hs = Harness::new();
    let (call, invite) = hs.place(Some(("alice", "wrong")));
    let challenge_value =
        "Digest realm=\"carrier.example.com\", nonce=\"n1\", qop=\"auth\", algorithm=MD5";
    let mut challenge = response_to(&invite, 407, "Proxy Authentication Required");
    challenge
        .headers
        .push("Proxy-Authenticate", challenge_value);
    hs.recv(ms(100), &challenge);
    let sent = hs.transmits();
    assert_eq!(sent.len(), 2);
    let Message::Request(invite2) = &sent[1] else {
        panic!()
    };
    let mut challenge2 = response_to(invite2, 407, "Proxy Authentication Required");
    challenge2
        .headers
        .push("Proxy-Authenticate", challenge_value);
    hs.recv(ms(200), &challenge2);
    let ack = hs.one_request();
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(branch(&ack), branch(invite2));
    assert_eq!(h(&ack.headers, "CSeq"), "2 ACK");
    assert_eq!(
        hs.events(),
        vec![UaEvent::OutboundFailed {
            call,
            status: Some(407),
            reason: FailReason::Rejected("Proxy Authentication Required".into())
        }]
    );
    assert_eq!(call_status_for(Some(407)), "failed");
}

#[test]
fn challenge_without_credentials_fails() {
    let mut hs = Harness::new();
    let (call, invite) = hs.place(None);
    let mut challenge = response_to(&invite, 401, "Unauthorized");
    challenge
        .headers
        .push("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n\"");
    hs.recv(ms(100), &challenge);
    assert_eq!(hs.one_request().method, Method::Ack);
    assert!(matches!(
        hs.events().as_slice(),
        [UaEvent::OutboundFailed { call: c, status: Some(401), .. }] if *c == call
    ));
}

#[test]
fn busy_is_acked_on_the_invite_branch_and_reported() {
    let mut hs = Harness::new();
    let (call, invite) = hs.place(None);
    hs.recv(ms(100), &response_to(&invite, 180, "Ringing"));
    hs.events();
    let busy = response_to(&invite, 486, "Busy Here");
    hs.recv(ms(1000), &busy);
    let ack = hs.one_request();
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    assert_eq!(branch(&ack), branch(&invite));
    assert_eq!(h(&ack.headers, "CSeq"), "1 ACK");
    assert_eq!(param(h(&ack.headers, "To"), "tag"), Some(REMOTE_TAG));
    assert_eq!(h(&ack.headers, "From"), h(&invite.headers, "From"));
    let events = hs.events();
    assert_eq!(
        events,
        vec![UaEvent::OutboundFailed {
            call,
            status: Some(486),
            reason: FailReason::Rejected("Busy Here".into())
        }]
    );
    assert_eq!(call_status_for(Some(486)), "busy");

    // Retransmitted 486: ACKed again, not reported again; Timer D then frees everything.
    hs.recv(ms(1500), &busy);
    assert_eq!(hs.one_request(), ack);
    assert!(hs.events().is_empty());
    assert!(hs.run_timers_until(ms(33_001)).is_empty());
    assert_eq!(hs.ua.poll_timeout(), None);
}

#[test]
fn cancel_after_ringing_gets_200_then_487_which_is_acked() {
    let mut hs = Harness::new();
    let (call, invite) = hs.place(None);
    hs.recv(ms(100), &response_to(&invite, 180, "Ringing"));
    hs.events();
    hs.ua.cancel(hs.at(ms(5000)), call);
    let cancel = hs.one_request();
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(cancel.uri, invite.uri);
    assert_eq!(branch(&cancel), branch(&invite));
    assert_eq!(h(&cancel.headers, "CSeq"), "1 CANCEL");
    assert_eq!(h(&cancel.headers, "To"), h(&invite.headers, "To"));
    assert_eq!(h(&cancel.headers, "Call-ID"), h(&invite.headers, "Call-ID"));

    let cancel_ok = cancel.make_response(200, "OK");
    hs.recv(ms(5100), &cancel_ok);
    assert!(hs.transmits().is_empty());
    assert!(hs.events().is_empty());

    hs.recv(ms(5200), &response_to(&invite, 487, "Request Terminated"));
    let ack = hs.one_request();
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(branch(&ack), branch(&invite));
    assert_eq!(
        hs.events(),
        vec![UaEvent::OutboundFailed {
            call,
            status: Some(487),
            reason: FailReason::Cancelled
        }]
    );
    assert!(hs.run_timers_until(ms(60_000)).is_empty());
    assert_eq!(hs.ua.active_calls(), 0);
}

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    let mut hs = Harness::new();
    let (call, invite) = hs.place(None);
    hs.ua.cancel(hs.at(ms(100)), call);
    assert!(
        hs.transmits().is_empty(),
        "no CANCEL before a provisional (§9.1)"
    );
    hs.recv(ms(300), &response_to(&invite, 100, "Trying"));
    let cancel = hs.one_request();
    assert_eq!(cancel.method, Method::Cancel);
    assert!(hs.events().is_empty());
    hs.recv(ms(400), &response_to(&invite, 487, "Request Terminated"));
    assert_eq!(hs.one_request().method, Method::Ack);
    assert!(matches!(
        hs.events().as_slice(),
        [UaEvent::OutboundFailed {
            status: Some(487),
            reason: FailReason::Cancelled,
            ..
        }]
    ));
}

#[test]
fn ok_crossing_our_cancel_is_acked_and_hung_up() {
    let mut hs = Harness::new();
    let (call, invite) = hs.place(None);
    hs.recv(ms(100), &response_to(&invite, 180, "Ringing"));
    hs.events();
    hs.ua.cancel(hs.at(ms(1000)), call);
    assert_eq!(hs.one_request().method, Method::Cancel);
    hs.recv(ms(1050), &ok_200(&invite));
    let sent = hs.transmits();
    let methods: Vec<Method> = sent
        .iter()
        .map(|m| match m {
            Message::Request(r) => r.method.clone(),
            Message::Response(r) => panic!("{}", r.status),
        })
        .collect();
    assert_eq!(methods, vec![Method::Ack, Method::Bye]);
    assert_eq!(
        hs.events(),
        vec![UaEvent::OutboundFailed {
            call,
            status: None,
            reason: FailReason::Cancelled
        }]
    );
    let Message::Request(bye) = &sent[1] else {
        panic!()
    };
    hs.recv(ms(1100), &bye.make_response(200, "OK"));
    assert!(hs.events().is_empty(), "nothing more after OutboundFailed");
    assert_eq!(hs.ua.active_calls(), 0);
}

#[test]
fn hangup_after_answer_sends_bye_in_the_dialog() {
    let mut hs = Harness::new();
    let (call, invite, _) = answered_call(&mut hs);
    hs.ua.hangup(hs.at(ms(10_000)), call);
    let bye = hs.one_request();
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.uri, REMOTE_CONTACT);
    assert_eq!(h(&bye.headers, "CSeq"), "2 BYE");
    assert_eq!(param(h(&bye.headers, "To"), "tag"), Some(REMOTE_TAG));
    assert_eq!(h(&bye.headers, "From"), h(&invite.headers, "From"));
    assert_eq!(
        bye.headers.get_all("Route"),
        vec!["<sip:proxy2.example.com;lr>", "<sip:proxy1.example.com;lr>"]
    );
    // Lost once: retransmitted at T1.
    let resent = hs.run_timers_until(ms(10_500));
    assert_eq!(resent.len(), 1);
    hs.recv(ms(10_600), &bye.make_response(200, "OK"));
    assert_eq!(
        hs.events(),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::LocalBye
        }]
    );
    assert_eq!(hs.ua.active_calls(), 0);
    assert!(hs.run_timers_until(ms(60_000)).is_empty());
}

#[test]
fn remote_bye_ends_an_outbound_call() {
    let mut hs = Harness::new();
    let (call, invite, ack) = answered_call(&mut hs);
    let bye = format!(
        "BYE sip:flexvox@198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bK-remote-bye\r\n\
Max-Forwards: 70\r\n\
From: {}\r\n\
To: {}\r\n\
Call-ID: {}\r\n\
CSeq: 1 BYE\r\n\
Content-Length: 0\r\n\r\n",
        h(&ack.headers, "To"),
        h(&invite.headers, "From"),
        h(&invite.headers, "Call-ID"),
    );
    hs.ua
        .handle_datagram(hs.at(ms(5000)), carrier(), bye.as_bytes());
    let ok = match hs.transmits().remove(0) {
        Message::Response(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(ok.status, 200);
    assert_eq!(
        hs.events(),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::RemoteBye
        }]
    );
}

#[test]
fn call_status_mapping() {
    assert_eq!(call_status_for(Some(486)), "busy");
    assert_eq!(call_status_for(Some(600)), "busy");
    assert_eq!(call_status_for(Some(408)), "noanswer");
    assert_eq!(call_status_for(Some(480)), "noanswer");
    assert_eq!(call_status_for(Some(487)), "noanswer");
    assert_eq!(call_status_for(None), "noanswer");
    assert_eq!(call_status_for(Some(404)), "failed");
    assert_eq!(call_status_for(Some(503)), "failed");
}
