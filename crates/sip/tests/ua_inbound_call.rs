//! Inbound-call scenarios for the sans-IO `UserAgent`, on virtual time: every instant is
//! `t0 + Duration`, nothing sleeps. Transmitted bytes are checked by parsing them back with
//! `sip::message::parse`.

use sip::message::{self, param, parse, Message, Method, Request, Response};
use sip::sdp;
use sip::transaction::Timers;
use sip::ua::{EndReason, IncomingCall};
use sip::{CallId, UaConfig, UaEvent, UserAgent};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Where the UA listens (written into its Via and Contact).
const LOCAL: &str = "198.51.100.1:5060";
/// Where the caller's datagrams come from: a NAT in front of the 10.0.0.5 it believes it has.
const CALLER: &str = "203.0.113.7:40000";
const CALL_ID: &str = "a84b4c76e66710@pc33.example.com";
const INVITE_BRANCH: &str = "z9hG4bK-inv-1";
const INVITE_CSEQ: u32 = 314159;
const CALLER_TAG: &str = "caller-tag-1928301774";
const CALLER_CONTACT_URI: &str = "sip:+15162065338@10.0.0.5:5062;transport=udp";
const OFFER: &str = "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 10.0.0.5\r\n\
s=-\r\n\
c=IN IP4 10.0.0.5\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=ptime:20\r\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn local() -> SocketAddr {
    LOCAL.parse().unwrap()
}

fn caller() -> SocketAddr {
    CALLER.parse().unwrap()
}

fn new_ua() -> UserAgent {
    UserAgent::new(UaConfig {
        local_addr: local(),
        timers: Timers::default(),
        user_agent: "flexvox-test".to_string(),
        seed: 0x5eed,
        access: sip::policy::AccessPolicy {
            allow: sip::policy::Cidr::parse_list("0.0.0.0/0").unwrap(),
        },
        ..UaConfig::default()
    })
}

/// The caller's INVITE with a PCMU offer; `;rport` asks for the source port back (RFC 3581).
fn invite_bytes(branch: &str) -> Vec<u8> {
    format!(
        "INVITE sip:15550000001@198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch={branch};rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:+15162065338@10.0.0.5:5062>;tag={CALLER_TAG}\r\n\
To: <sip:15550000001@198.51.100.1:5060>\r\n\
Call-ID: {CALL_ID}\r\n\
CSeq: {INVITE_CSEQ} INVITE\r\n\
Contact: <{CALLER_CONTACT_URI}>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\
\r\n\
{OFFER}",
        OFFER.len()
    )
    .into_bytes()
}

/// A request from the caller without body. `to_tag` is our tag once the dialog exists.
fn caller_request(
    method: &str,
    uri: &str,
    branch: &str,
    cseq: u32,
    to_tag: Option<&str>,
) -> Vec<u8> {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "{method} {uri} SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch={branch};rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:+15162065338@10.0.0.5:5062>;tag={CALLER_TAG}\r\n\
To: <sip:15550000001@198.51.100.1:5060>{to_tag}\r\n\
Call-ID: {CALL_ID}\r\n\
CSeq: {cseq} {method}\r\n\
Content-Length: 0\r\n\
\r\n"
    )
    .into_bytes()
}

/// The ACK for a 2xx: a new transaction (new branch) inside the dialog, sent to our Contact.
fn ack_2xx(branch: &str, local_tag: &str) -> Vec<u8> {
    caller_request(
        "ACK",
        "sip:flexvox@198.51.100.1:5060",
        branch,
        INVITE_CSEQ,
        Some(local_tag),
    )
}

/// The ACK for a non-2xx final: same branch as the INVITE, part of its transaction.
fn ack_non_2xx(local_tag: &str) -> Vec<u8> {
    caller_request(
        "ACK",
        "sip:15550000001@198.51.100.1:5060",
        INVITE_BRANCH,
        INVITE_CSEQ,
        Some(local_tag),
    )
}

/// A UA plus the virtual clock origin, with helpers to drain it.
struct Harness {
    ua: UserAgent,
    t0: Instant,
}

impl Harness {
    fn new() -> Self {
        Harness {
            ua: new_ua(),
            t0: Instant::now(),
        }
    }

    fn at(&self, offset: Duration) -> Instant {
        self.t0 + offset
    }

    fn recv(&mut self, offset: Duration, bytes: &[u8]) {
        let now = self.at(offset);
        self.ua.handle_datagram(now, caller(), bytes);
    }

    /// Every queued datagram, parsed.
    fn transmits(&mut self) -> Vec<(SocketAddr, Message, Vec<u8>)> {
        std::iter::from_fn(|| self.ua.poll_transmit())
            .map(|t| {
                let msg = parse(&t.bytes).unwrap_or_else(|e| {
                    panic!(
                        "UA sent unparsable bytes ({e}): {:?}",
                        String::from_utf8_lossy(&t.bytes)
                    )
                });
                (t.to, msg, t.bytes)
            })
            .collect()
    }

    /// Exactly one queued datagram, which must be a response to the caller.
    fn one_response(&mut self) -> (Response, Vec<u8>) {
        let mut out = self.transmits();
        assert_eq!(out.len(), 1, "expected one datagram, got {}", out.len());
        let (to, msg, bytes) = out.remove(0);
        assert_eq!(to, caller(), "responses go back to the source address");
        (response(msg), bytes)
    }

    fn events(&mut self) -> Vec<UaEvent> {
        std::iter::from_fn(|| self.ua.poll_event()).collect()
    }

    /// Fires timers at each `poll_timeout()` up to `until`, returning what went out and when.
    fn run_timers_until(&mut self, until: Duration) -> Vec<(Duration, SocketAddr, Message)> {
        let until = self.at(until);
        let mut sent = Vec::new();
        let mut rounds = 0;
        while let Some(at) = self.ua.poll_timeout().filter(|t| *t <= until) {
            rounds += 1;
            assert!(rounds < 10_000, "timers keep firing without time passing");
            self.ua.handle_timeout(at);
            for (to, msg, _) in self.transmits() {
                sent.push((at - self.t0, to, msg));
            }
        }
        sent
    }

    /// Feeds the INVITE at `t0` and returns its IncomingCall, checking the 100 Trying.
    fn incoming_call(&mut self) -> IncomingCall {
        self.recv(Duration::ZERO, &invite_bytes(INVITE_BRANCH));
        let (trying, _) = self.one_response();
        assert_eq!(trying.status, 100);
        let events = self.events();
        match events.as_slice() {
            [UaEvent::IncomingCall(call)] => call.clone(),
            other => panic!("expected one IncomingCall, got {other:?}"),
        }
    }

    /// Answers `call` at `offset` and returns the 200 OK with our To tag.
    fn answer(&mut self, offset: Duration, call: CallId) -> (Response, String) {
        let sdp = answer_sdp();
        let now = self.at(offset);
        self.ua.answer(now, call, sdp);
        let (ok, _) = self.one_response();
        assert_eq!(ok.status, 200);
        let tag = to_tag(&ok);
        (ok, tag)
    }
}

fn response(msg: Message) -> Response {
    match msg {
        Message::Response(r) => r,
        Message::Request(r) => panic!("expected a response, got a {} request", r.method),
    }
}

fn request(msg: Message) -> Request {
    match msg {
        Message::Request(r) => r,
        Message::Response(r) => panic!("expected a request, got a {} response", r.status),
    }
}

fn header<'a>(h: &'a message::Headers, name: &str) -> &'a str {
    h.get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
}

fn to_tag(resp: &Response) -> String {
    param(header(&resp.headers, "To"), "tag")
        .expect("a To tag")
        .to_string()
}

fn answer_sdp() -> String {
    let neg = sdp::negotiate(&sdp::parse_offer(OFFER.as_bytes()).unwrap()).unwrap();
    assert_eq!(neg.codec, sdp::Codec::Pcmu);
    sdp::answer(&neg, local().ip(), 20_000, 1)
}

fn is_status(msg: &Message, status: u16) -> bool {
    matches!(msg, Message::Response(r) if r.status == status)
}

#[test]
fn inbound_call_is_answered_confirmed_and_hung_up_locally() {
    let mut h = Harness::new();

    // INVITE → 100 Trying at once, to the source address, with the top Via completed.
    h.recv(Duration::ZERO, &invite_bytes(INVITE_BRANCH));
    let (trying, _) = h.one_response();
    assert_eq!(trying.status, 100);
    let via = header(&trying.headers, "Via");
    assert_eq!(param(via, "branch"), Some(INVITE_BRANCH));
    assert_eq!(param(via, "rport"), Some("40000"));
    assert_eq!(param(via, "received"), Some("203.0.113.7"));
    assert!(via.starts_with("SIP/2.0/UDP 10.0.0.5:5062"));
    assert_eq!(param(header(&trying.headers, "To"), "tag"), None);
    assert_eq!(header(&trying.headers, "Call-ID"), CALL_ID);
    assert_eq!(
        header(&trying.headers, "CSeq"),
        format!("{INVITE_CSEQ} INVITE")
    );

    let events = h.events();
    let [UaEvent::IncomingCall(incoming)] = events.as_slice() else {
        panic!("expected one IncomingCall, got {events:?}");
    };
    assert_eq!(incoming.to_user, "15550000001");
    assert_eq!(incoming.from_user, "+15162065338");
    assert_eq!(incoming.display_name.as_deref(), Some("Alice"));
    assert_eq!(incoming.sip_call_id, CALL_ID);
    assert_eq!(incoming.request_uri, "sip:15550000001@198.51.100.1:5060");
    assert_eq!(incoming.sdp, OFFER.as_bytes());
    assert_eq!(incoming.source, caller());
    assert_eq!(incoming.diverted_from, None);
    let call = incoming.call;
    assert_eq!(h.ua.active_calls(), 1);

    // ringing → 180 with our To tag and a Contact.
    h.ua.ringing(h.at(ms(100)), call);
    let (ringing, _) = h.one_response();
    assert_eq!(ringing.status, 180);
    let local_tag = to_tag(&ringing);
    assert!(!local_tag.is_empty());
    assert_eq!(
        param(header(&ringing.headers, "From"), "tag"),
        Some(CALLER_TAG)
    );
    assert_eq!(
        param(header(&ringing.headers, "Via"), "received"),
        Some("203.0.113.7")
    );

    // answer → 200 OK with the SDP answer, a Contact, the same To tag.
    let sdp = answer_sdp();
    h.ua.answer(h.at(ms(2_000)), call, sdp.clone());
    let (ok, _) = h.one_response();
    assert_eq!(ok.status, 200);
    assert_eq!(to_tag(&ok), local_tag);
    assert_eq!(ok.body, sdp.as_bytes());
    assert_eq!(header(&ok.headers, "Content-Type"), "application/sdp");
    assert_eq!(header(&ok.headers, "Content-Length"), sdp.len().to_string());
    let contact = message::uri_of(header(&ok.headers, "Contact"));
    assert!(contact.starts_with("sip:"), "Contact URI {contact:?}");
    assert!(contact.contains(LOCAL), "Contact {contact:?} names {LOCAL}");
    assert_eq!(header(&ok.headers, "CSeq"), format!("{INVITE_CSEQ} INVITE"));
    let answered = sdp::parse_offer(&ok.body).unwrap();
    assert_eq!(answered.port, 20_000);
    assert!(h.events().is_empty());

    // ACK (new branch, same Call-ID) → Confirmed, nothing sent.
    h.recv(ms(2_050), &ack_2xx("z9hG4bK-ack-1", &local_tag));
    assert_eq!(h.events(), vec![UaEvent::Confirmed(call)]);
    assert!(h.transmits().is_empty());

    // hangup → BYE within the dialog, to the caller's Contact.
    h.ua.hangup(h.at(ms(10_000)), call);
    let mut out = h.transmits();
    assert_eq!(out.len(), 1, "one BYE");
    let (to, bye, _) = out.remove(0);
    assert_eq!(to, caller());
    let bye = request(bye);
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.uri, CALLER_CONTACT_URI);
    let from = header(&bye.headers, "From");
    assert_eq!(param(from, "tag"), Some(local_tag.as_str()));
    assert_eq!(message::uri_of(from), "sip:15550000001@198.51.100.1:5060");
    let to_hdr = header(&bye.headers, "To");
    assert_eq!(param(to_hdr, "tag"), Some(CALLER_TAG));
    assert_eq!(message::uri_of(to_hdr), "sip:+15162065338@10.0.0.5:5062");
    assert_eq!(bye.call_id(), CALL_ID);
    assert_eq!(header(&bye.headers, "CSeq"), "1 BYE");
    assert_eq!(bye.cseq(), Ok((1, Method::Bye)));
    let bye_branch = bye.branch().expect("BYE has a branch");
    assert!(bye_branch.starts_with("z9hG4bK"));
    assert_ne!(bye_branch, INVITE_BRANCH);
    assert!(header(&bye.headers, "Via").contains(LOCAL));
    assert!(bye.check_mandatory().is_ok());
    assert!(
        h.events().is_empty(),
        "the call ends when the BYE is answered"
    );

    // 200 OK to the BYE → Ended{LocalBye}.
    let bye_ok = bye.make_response(200, "OK");
    h.recv(ms(10_040), &bye_ok.to_bytes());
    assert_eq!(
        h.events(),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::LocalBye
        }]
    );
    assert_eq!(h.ua.active_calls(), 0);

    // Nothing lingers: no BYE or 200 retransmissions, no further events.
    let late = h.run_timers_until(ms(120_000));
    assert!(late.is_empty(), "unexpected late transmits: {late:?}");
    assert!(h.events().is_empty());
    assert_eq!(h.ua.poll_timeout(), None);
}

#[test]
fn ok_lost_twice_is_retransmitted_until_the_ack_arrives() {
    let mut h = Harness::new();
    let call = h.incoming_call().call;
    let answered_at = ms(1_000);
    let (ok, local_tag) = h.answer(answered_at, call);

    // The two retransmissions come at +0.5 s and +1.5 s after the answer (T1, then 2·T1 later).
    let resent = h.run_timers_until(answered_at + ms(1_600));
    let times: Vec<Duration> = resent.iter().map(|(at, _, _)| *at).collect();
    assert_eq!(times, vec![answered_at + ms(500), answered_at + ms(1_500)]);
    for (_, to, msg) in &resent {
        assert_eq!(*to, caller());
        assert_eq!(*msg, Message::Response(ok.clone()), "the same 200 OK again");
    }
    assert!(h.events().is_empty());

    // The ACK arrives before the next retransmission (due at +3.5 s).
    h.recv(
        answered_at + ms(1_700),
        &ack_2xx("z9hG4bK-ack-2", &local_tag),
    );
    assert_eq!(h.events(), vec![UaEvent::Confirmed(call)]);
    assert!(h.transmits().is_empty());

    // No more retransmissions, no ACK timeout and no BYE, however long we wait.
    let later = h.run_timers_until(ms(120_000));
    assert!(
        later.is_empty(),
        "unexpected transmits after ACK: {later:?}"
    );
    assert!(h.events().is_empty());
    assert_eq!(h.ua.active_calls(), 1);

    // A retransmitted ACK is absorbed.
    h.recv(ms(121_000), &ack_2xx("z9hG4bK-ack-2", &local_tag));
    assert!(h.transmits().is_empty());
    assert!(h.events().is_empty());
}

#[test]
fn no_ack_within_64_t1_sends_bye_and_ends_with_ack_timeout() {
    let mut h = Harness::new();
    let call = h.incoming_call().call;
    let answered_at = ms(1_000);
    let (_, local_tag) = h.answer(answered_at, call);
    let timer_h = answered_at + Timers::default().t1 * 64;
    assert_eq!(timer_h, answered_at + ms(32_000));

    // Up to Timer H only 200 OK retransmissions go out, and no event.
    let before = h.run_timers_until(timer_h - ms(1));
    assert!(!before.is_empty());
    assert!(before.iter().all(|(_, _, m)| is_status(m, 200)));
    assert!(h.events().is_empty());

    // At 64·T1 the UA gives up on the ACK and sends a BYE.
    let sent = h.run_timers_until(timer_h);
    assert_eq!(sent.len(), 1, "one BYE at Timer H: {sent:?}");
    let (at, to, bye) = sent.into_iter().next().unwrap();
    assert_eq!(at, timer_h);
    assert_eq!(to, caller());
    let bye = request(bye);
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.uri, CALLER_CONTACT_URI);
    assert_eq!(
        param(header(&bye.headers, "From"), "tag"),
        Some(local_tag.as_str())
    );
    assert_eq!(param(header(&bye.headers, "To"), "tag"), Some(CALLER_TAG));
    assert_eq!(header(&bye.headers, "CSeq"), "1 BYE");
    assert!(h.events().is_empty(), "not ended until the BYE is answered");

    // The BYE is retransmitted while unanswered; no more 200s.
    let resent = h.run_timers_until(timer_h + ms(600));
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].0, timer_h + ms(500));
    assert_eq!(request(resent[0].2.clone()).method, Method::Bye);

    // Once the BYE is answered the call ends with AckTimeout.
    h.recv(timer_h + ms(700), &bye.make_response(200, "OK").to_bytes());
    assert_eq!(
        h.events(),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::AckTimeout
        }]
    );
    assert_eq!(h.ua.active_calls(), 0);
    let late = h.run_timers_until(ms(200_000));
    assert!(late.is_empty(), "unexpected late transmits: {late:?}");
    assert_eq!(h.ua.poll_timeout(), None);
}

#[test]
fn caller_bye_is_answered_and_a_retransmitted_bye_gets_the_same_200() {
    let mut h = Harness::new();
    let call = h.incoming_call().call;
    let (_, local_tag) = h.answer(ms(1_000), call);
    h.recv(ms(1_050), &ack_2xx("z9hG4bK-ack-3", &local_tag));
    assert_eq!(h.events(), vec![UaEvent::Confirmed(call)]);

    let bye = caller_request(
        "BYE",
        "sip:flexvox@198.51.100.1:5060",
        "z9hG4bK-bye-1",
        INVITE_CSEQ + 1,
        Some(&local_tag),
    );
    h.recv(ms(5_000), &bye);
    let (ok, ok_bytes) = h.one_response();
    assert_eq!(ok.status, 200);
    assert_eq!(
        header(&ok.headers, "CSeq"),
        format!("{} BYE", INVITE_CSEQ + 1)
    );
    assert_eq!(header(&ok.headers, "Call-ID"), CALL_ID);
    let via = header(&ok.headers, "Via");
    assert_eq!(param(via, "branch"), Some("z9hG4bK-bye-1"));
    assert_eq!(param(via, "rport"), Some("40000"));
    assert_eq!(param(via, "received"), Some("203.0.113.7"));
    assert_eq!(to_tag(&ok), local_tag);
    assert_eq!(
        h.events(),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::RemoteBye
        }]
    );
    assert_eq!(h.ua.active_calls(), 0);

    // The 200 was lost: the retransmitted BYE gets the very same response, and no new event.
    h.recv(ms(5_500), &bye);
    let (again, again_bytes) = h.one_response();
    assert_eq!(again_bytes, ok_bytes);
    assert_eq!(again, ok);
    assert!(h.events().is_empty());

    // Our hangup on an ended call does nothing.
    h.ua.hangup(h.at(ms(6_000)), call);
    assert!(h.transmits().is_empty());
    assert!(h.events().is_empty());
}

#[test]
fn cancel_before_answer_gets_200_and_487_and_the_ack_is_absorbed() {
    let mut h = Harness::new();
    let call = h.incoming_call().call;
    h.ua.ringing(h.at(ms(200)), call);
    let (ringing, _) = h.one_response();
    assert_eq!(ringing.status, 180);
    let local_tag = to_tag(&ringing);

    // CANCEL carries the INVITE's branch, Request-URI and CSeq number.
    let cancel = caller_request(
        "CANCEL",
        "sip:15550000001@198.51.100.1:5060",
        INVITE_BRANCH,
        INVITE_CSEQ,
        None,
    );
    h.recv(ms(3_000), &cancel);
    let out = h.transmits();
    assert_eq!(out.len(), 2, "200 for the CANCEL and 487 for the INVITE");
    assert!(out.iter().all(|(to, _, _)| *to == caller()));
    let cancel_ok = response(out[0].1.clone());
    assert_eq!(cancel_ok.status, 200);
    assert_eq!(
        header(&cancel_ok.headers, "CSeq"),
        format!("{INVITE_CSEQ} CANCEL")
    );
    let terminated = response(out[1].1.clone());
    assert_eq!(terminated.status, 487);
    assert_eq!(
        header(&terminated.headers, "CSeq"),
        format!("{INVITE_CSEQ} INVITE")
    );
    assert_eq!(to_tag(&terminated), local_tag);
    assert_eq!(
        param(header(&terminated.headers, "Via"), "branch"),
        Some(INVITE_BRANCH)
    );
    assert_eq!(
        h.events(),
        vec![
            UaEvent::Cancelled(call),
            UaEvent::Ended {
                call,
                reason: EndReason::NotAnswered
            }
        ]
    );
    assert_eq!(h.ua.active_calls(), 0);

    // The ACK for the 487 (same branch as the INVITE) is absorbed: nothing sent, no event.
    h.recv(ms(3_100), &ack_non_2xx(&local_tag));
    assert!(h.transmits().is_empty());
    assert!(h.events().is_empty());

    // Acked: the 487 is not retransmitted, and a late answer does nothing.
    let late = h.run_timers_until(ms(120_000));
    assert!(late.is_empty(), "unexpected transmits after ACK: {late:?}");
    h.ua.answer(h.at(ms(121_000)), call, answer_sdp());
    assert!(h.transmits().is_empty());
    assert!(h.events().is_empty());
    assert_eq!(h.ua.poll_timeout(), None);
}

#[test]
fn retransmitted_invite_resends_the_last_provisional_without_a_second_call() {
    let mut h = Harness::new();
    h.recv(Duration::ZERO, &invite_bytes(INVITE_BRANCH));
    let (trying, trying_bytes) = h.one_response();
    assert_eq!(trying.status, 100);
    let call = match h.events().as_slice() {
        [UaEvent::IncomingCall(c)] => c.call,
        other => panic!("expected one IncomingCall, got {other:?}"),
    };

    // Same branch again: the 100 goes out again, byte for byte, and no second call appears.
    h.recv(ms(500), &invite_bytes(INVITE_BRANCH));
    let (again, again_bytes) = h.one_response();
    assert_eq!(again.status, 100);
    assert_eq!(again_bytes, trying_bytes);
    assert!(h.events().is_empty());
    assert_eq!(h.ua.active_calls(), 1);

    // After ringing, a third copy is answered with the 180 instead.
    h.ua.ringing(h.at(ms(600)), call);
    let (ringing, _) = h.one_response();
    assert_eq!(ringing.status, 180);
    h.recv(ms(1_500), &invite_bytes(INVITE_BRANCH));
    let (third, _) = h.one_response();
    assert_eq!(third, ringing);
    assert!(h.events().is_empty());
    assert_eq!(h.ua.active_calls(), 1);
}

#[test]
fn options_gets_200_with_allow_and_an_unknown_method_gets_501() {
    let mut h = Harness::new();
    let options = caller_request("OPTIONS", "sip:198.51.100.1:5060", "z9hG4bK-opt-1", 7, None);
    h.recv(Duration::ZERO, &options);
    let (ok, _) = h.one_response();
    assert_eq!(ok.status, 200);
    let allow = ok.headers.get_all("Allow");
    for method in ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"] {
        assert!(allow.contains(&method), "Allow {allow:?} lacks {method}");
    }
    assert_eq!(header(&ok.headers, "CSeq"), "7 OPTIONS");
    assert_eq!(
        param(header(&ok.headers, "Via"), "received"),
        Some("203.0.113.7")
    );

    let frobnicate = caller_request(
        "FROBNICATE",
        "sip:198.51.100.1:5060",
        "z9hG4bK-frob-1",
        8,
        None,
    );
    h.recv(ms(100), &frobnicate);
    let (not_impl, _) = h.one_response();
    assert_eq!(not_impl.status, 501);
    assert_eq!(header(&not_impl.headers, "CSeq"), "8 FROBNICATE");
    assert_eq!(
        param(header(&not_impl.headers, "Via"), "branch"),
        Some("z9hG4bK-frob-1")
    );

    assert!(h.events().is_empty());
    assert_eq!(h.ua.active_calls(), 0);
}

/// A deterministic xorshift generator, so that a failure names a reproducible case.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Feeds `bytes` to `ua` and checks that whatever comes out is well formed.
fn feed_garbage(ua: &mut UserAgent, now: Instant, bytes: &[u8]) -> Vec<UaEvent> {
    ua.handle_datagram(now, caller(), bytes);
    while let Some(t) = ua.poll_transmit() {
        // To the source port with rport, else the Via's port (RFC 3261 §18.2.2).
        assert_eq!(t.to.ip(), caller().ip());
        match parse(&t.bytes) {
            Ok(Message::Response(_)) => {}
            other => panic!(
                "input {:?} made the UA send {:?} ({other:?})",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&t.bytes)
            ),
        }
    }
    std::iter::from_fn(|| ua.poll_event()).collect()
}

#[test]
fn malformed_input_gets_400_or_is_dropped_and_never_panics() {
    let t0 = Instant::now();

    // A request missing Call-ID is answered with 400 to its source.
    let mut h = Harness::new();
    let no_call_id = b"OPTIONS sip:198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-bad-1;rport\r\n\
From: <sip:alice@10.0.0.5>;tag=1\r\n\
To: <sip:198.51.100.1>\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";
    h.recv(Duration::ZERO, no_call_id);
    let (bad, bytes) = h.one_response();
    assert!(
        bytes.starts_with(b"SIP/2.0 400"),
        "{:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        param(header(&bad.headers, "Via"), "branch"),
        Some("z9hG4bK-bad-1")
    );
    assert!(matches!(
        h.events().as_slice(),
        [UaEvent::Malformed { from, .. }] if *from == caller()
    ));

    // A valid INVITE sliced at every length: only the whole message makes a call.
    let invite = invite_bytes(INVITE_BRANCH);
    for len in 0..=invite.len() {
        let mut ua = new_ua();
        let events = feed_garbage(&mut ua, t0, &invite[..len]);
        let calls = events
            .iter()
            .filter(|e| matches!(e, UaEvent::IncomingCall(_)))
            .count();
        let want = usize::from(len == invite.len());
        assert_eq!(calls, want, "INVITE truncated to {len} bytes");
        if len < invite.len() {
            assert!(
                events
                    .iter()
                    .all(|e| matches!(e, UaEvent::Malformed { .. })),
                "truncated to {len}: {events:?}"
            );
        }
    }

    // Hand-picked oddities, then random bytes, SIP-ish token soup and mutated INVITEs, all
    // fed to one long-lived UA that also has a call in progress.
    let mut ua = new_ua();
    ua.handle_datagram(t0, caller(), &invite);
    while ua.poll_transmit().is_some() {}
    while ua.poll_event().is_some() {}
    let oddities: &[&[u8]] = &[
        b"",
        b"\r\n\r\n",
        b"\0\0\0\0",
        b"SIP/2.0\r\n\r\n",
        b"SIP/2.0 \r\n\r\n",
        b"SIP/2.0 999 Nope\r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: ;branch=\r\n\r\n",
        b"INVITE  SIP/2.0\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\n",
        b"INVITE sip:x SIP/2.0\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nVia:\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nVia: x\r\nCSeq: 1\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nVia: x;rport\r\nFrom: <\r\nTo: >\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nVia: x;rport;rport=;received\r\nFrom: <sip:@>;tag=\r\nTo: \"\\\r\nCall-ID: \xff\r\nCSeq: 1 INVITE\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nl: 18446744073709551616\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nl: -1\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nl: 5\r\n\r\nabc",
        b"BYE sip:x SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 99999999999 BYE\r\n\r\n",
        b"ACK sip:x SIP/2.0\r\nVia: x\r\n\r\n",
        b"CANCEL sip:x SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 CANCEL\r\n\r\n",
        b"\xc3\x28 sip:x SIP/2.0\r\nVia: x\r\n\r\n",
        b" \r\n continuation first\r\n\r\n",
        b"OPTIONS sip:x SIP/2.0\r\nVia: \xe2\x82\r\n\r\n",
        b"\n\n\n\nINVITE sip:x SIP/2.0\nVia: a\nFrom: b\nTo: c\nCall-ID: d\nCSeq: 1 INVITE\n\n",
    ];
    for (i, bytes) in oddities.iter().enumerate() {
        feed_garbage(&mut ua, t0 + ms(i as u64), bytes);
    }

    let tokens: &[&[u8]] = &[
        b"INVITE ",
        b"ACK ",
        b"BYE ",
        b"CANCEL ",
        b"SIP/2.0",
        b"SIP/2.0 ",
        b"200 ",
        b"sip:",
        b"@",
        b":",
        b";",
        b"=",
        b",",
        b"<",
        b">",
        b"\"",
        b"\\",
        b" ",
        b"\t",
        b"\r\n",
        b"\n",
        b"\r\n\r\n",
        b"\r\n ",
        b"Via",
        b"v",
        b"From",
        b"To",
        b"t",
        b"Call-ID",
        b"i",
        b"CSeq",
        b"Content-Length",
        b"l",
        b"Contact",
        b";rport",
        b";branch=z9hG4bK",
        b";tag=",
        b"received",
        b"1",
        b"0",
        b"99999999999999999999",
        b"\xff",
        b"\xe2\x82",
        b"\0",
        b"\xf0\x9f\x93\x9e",
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..3_000u64 {
        let bytes: Vec<u8> = match i % 3 {
            // Uniform random bytes.
            0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
            // Token soup that often looks like SIP.
            1 => (0..rng.below(60))
                .flat_map(|_| tokens[rng.below(tokens.len())].iter().copied())
                .collect(),
            // A valid INVITE with a few bytes changed, inserted or removed.
            _ => {
                let mut b = invite.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(b.len());
                    match rng.below(3) {
                        0 => b[at] = rng.next() as u8,
                        1 => b.insert(at, tokens[rng.below(tokens.len())][0]),
                        _ => {
                            b.remove(at);
                        }
                    }
                }
                b
            }
        };
        feed_garbage(&mut ua, t0 + ms(1_000 + i), &bytes);
    }

    // The UA still works: timers run and the original call can be answered.
    ua.handle_timeout(t0 + ms(10_000));
    while ua.poll_transmit().is_some() {}
    assert!(ua.active_calls() >= 1);
}

#[test]
fn reject_404_on_an_early_call_ends_it_not_answered() {
    let mut h = Harness::new();
    let call = h.incoming_call().call;

    h.ua.reject(h.at(ms(300)), call, 404, "Not Found");
    let (not_found, bytes) = h.one_response();
    assert!(bytes.starts_with(b"SIP/2.0 404"));
    assert_eq!(not_found.status, 404);
    assert_eq!(
        header(&not_found.headers, "CSeq"),
        format!("{INVITE_CSEQ} INVITE")
    );
    let local_tag = to_tag(&not_found);
    assert_eq!(
        h.events(),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::NotAnswered
        }]
    );
    assert_eq!(h.ua.active_calls(), 0);

    // Unacknowledged, the 404 is retransmitted (Timer G) like the INVITE server transaction says.
    let resent = h.run_timers_until(ms(300 + 600));
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].0, ms(800));
    assert!(is_status(&resent[0].2, 404));

    // The ACK stops it, and commands on the ended call do nothing.
    h.recv(ms(1_000), &ack_non_2xx(&local_tag));
    assert!(h.transmits().is_empty());
    assert!(h.events().is_empty());
    h.ua.answer(h.at(ms(1_100)), call, answer_sdp());
    h.ua.ringing(h.at(ms(1_100)), call);
    h.ua.hangup(h.at(ms(1_100)), call);
    assert!(h.transmits().is_empty());
    assert!(h.events().is_empty());
    let late = h.run_timers_until(ms(120_000));
    assert!(late.is_empty(), "unexpected transmits after ACK: {late:?}");
    assert_eq!(h.ua.poll_timeout(), None);
}
