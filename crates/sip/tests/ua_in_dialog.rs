//! Inside an answered inbound call: hold and unhold by re-INVITE (RFC 3264 §6.1 directions),
//! a new media address, UPDATE, INFO key presses, out-of-order CSeq, session timers
//! (RFC 4028) both ways, and in-dialog requests along the Record-Route set.

mod support;

use sip::message::{param, Message, Method};
use sip::sdp::{self, Direction};
use sip::ua::EndReason;
use sip::{Transport, UaEvent};
use std::net::SocketAddr;
use support::*;

fn hold_offer(dir: &str, addr: &str) -> String {
    OFFER
        .replace("a=sendrecv", &format!("a={dir}"))
        .replace("c=IN IP4 10.0.0.5", &format!("c=IN IP4 {addr}"))
}

fn reinvite(h: &mut Harness, at: u64, cseq: u32, tag: &str, body: &str) -> sip::Response {
    let extra = "Contact: <sip:alice@10.0.0.5:5062>\r\nContent-Type: application/sdp\r\n";
    let branch = format!("z9hG4bK-re{cseq}-{at}");
    h.recv(
        ms(at),
        &in_dialog(Transport::Udp, "INVITE", &branch, cseq, tag, extra, body),
    );
    let out = h.out();
    assert_eq!(out.len(), 1, "one response to the re-INVITE");
    let resp = response(&out[0].2).clone();
    let ack_branch = format!("z9hG4bK-reack{cseq}");
    h.recv(
        ms(at + 5),
        &in_dialog(Transport::Udp, "ACK", &ack_branch, cseq, tag, "", ""),
    );
    resp
}

fn media_update(events: &[UaEvent]) -> (SocketAddr, Direction, bool) {
    events
        .iter()
        .find_map(|e| match e {
            UaEvent::MediaUpdate {
                remote,
                direction,
                hold,
                ..
            } => Some((*remote, *direction, *hold)),
            _ => None,
        })
        .expect("a MediaUpdate event")
}

#[test]
fn hold_and_unhold_by_re_invite_are_answered_with_the_reflected_direction() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let (_call, tag) = h.established("");

    let ok = reinvite(&mut h, 1000, 2, &tag, &hold_offer("sendonly", "10.0.0.5"));
    assert_eq!(ok.status, 200);
    assert_eq!(sdp::direction(&ok.body), Direction::RecvOnly);
    assert!(ok.headers.get("Contact").is_some());
    let body = String::from_utf8(ok.body.clone()).unwrap();
    assert!(
        body.contains("o=flexvox 7 1 IN IP4"),
        "the version grows: {body}"
    );
    assert!(body.contains("m=audio 20000 RTP/AVP 0 101"));
    let ev = h.events();
    assert_eq!(
        media_update(&ev),
        ("10.0.0.5:49170".parse().unwrap(), Direction::SendOnly, true)
    );
    // The ACK of the re-INVITE ends its transaction: no 200 retransmission follows.
    assert!(h.run_until(secs(10)).is_empty());

    let ok = reinvite(&mut h, 11_000, 3, &tag, &hold_offer("inactive", "10.0.0.5"));
    assert_eq!(sdp::direction(&ok.body), Direction::Inactive);
    h.events();

    // Old-style hold (c=0.0.0.0) keeps sendrecv but is reported as held.
    let ok = reinvite(&mut h, 12_000, 4, &tag, &hold_offer("sendrecv", "0.0.0.0"));
    assert_eq!(sdp::direction(&ok.body), Direction::SendRecv);
    assert!(media_update(&h.events()).2);

    // Unhold to a new address and port.
    let moved = hold_offer("sendrecv", "10.0.0.9").replace("49170", "50000");
    let ok = reinvite(&mut h, 13_000, 5, &tag, &moved);
    assert_eq!(sdp::direction(&ok.body), Direction::SendRecv);
    assert_eq!(
        media_update(&h.events()),
        (
            "10.0.0.9:50000".parse().unwrap(),
            Direction::SendRecv,
            false
        )
    );
    // The same offer again changes nothing in our SDP, so its version stays.
    let again = reinvite(&mut h, 14_000, 6, &tag, &moved);
    assert_eq!(again.body, ok.body);
}

#[test]
fn an_unusable_re_offer_gets_488_and_an_old_cseq_gets_500() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let (_call, tag) = h.established("");
    let g729 = OFFER
        .replace("RTP/AVP 0 101", "RTP/AVP 18")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000");
    assert_eq!(reinvite(&mut h, 1000, 2, &tag, &g729).status, 488);
    assert_eq!(reinvite(&mut h, 2000, 2, &tag, OFFER).status, 500);
    assert_eq!(reinvite(&mut h, 3000, 3, &tag, OFFER).status, 200);
}

#[test]
fn update_with_and_without_sdp() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let (_call, tag) = h.established("");
    let extra = "Content-Type: application/sdp\r\n";
    h.recv(
        secs(1),
        &in_dialog(
            Transport::Udp,
            "UPDATE",
            "z9hG4bK-up1",
            2,
            &tag,
            extra,
            &hold_offer("sendonly", "10.0.0.5"),
        ),
    );
    let ok = h.only(200);
    assert_eq!(sdp::direction(&ok.body), Direction::RecvOnly);
    assert!(media_update(&h.events()).2);
    h.recv(
        secs(2),
        &in_dialog(Transport::Udp, "UPDATE", "z9hG4bK-up2", 3, &tag, "", ""),
    );
    assert!(h.only(200).body.is_empty());
}

#[test]
fn info_key_presses_become_digit_events() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let (call, tag) = h.established("");
    let relay = "Content-Type: application/dtmf-relay\r\n";
    h.recv(
        secs(1),
        &in_dialog(
            Transport::Udp,
            "INFO",
            "z9hG4bK-i1",
            2,
            &tag,
            relay,
            "Signal=5\r\nDuration=160\r\n",
        ),
    );
    assert_eq!(h.statuses(), vec![200]);
    let dtmf = "Content-Type: application/dtmf\r\n";
    h.recv(
        secs(2),
        &in_dialog(Transport::Udp, "INFO", "z9hG4bK-i2", 3, &tag, dtmf, "11"),
    );
    assert_eq!(h.statuses(), vec![200]);
    let other = "Content-Type: application/media_control+xml\r\n";
    h.recv(
        secs(3),
        &in_dialog(Transport::Udp, "INFO", "z9hG4bK-i3", 4, &tag, other, "<x/>"),
    );
    assert_eq!(h.statuses(), vec![200]);
    // A retransmitted INFO is answered again but reports nothing new.
    h.recv(
        ms(3100),
        &in_dialog(
            Transport::Udp,
            "INFO",
            "z9hG4bK-i1",
            2,
            &tag,
            relay,
            "Signal=5\r\nDuration=160\r\n",
        ),
    );
    assert_eq!(h.statuses(), vec![200]);
    assert_eq!(
        h.events(),
        vec![
            UaEvent::Digit {
                call,
                digit: '5',
                duration_ms: 160
            },
            UaEvent::Digit {
                call,
                digit: '#',
                duration_ms: 160
            },
        ]
    );
    let stray = in_dialog(
        Transport::Udp,
        "INFO",
        "z9hG4bK-i4",
        5,
        &tag,
        relay,
        "Signal=1\r\n",
    )
    .replace(CALL_ID, "other-call");
    h.recv(secs(4), &stray);
    assert_eq!(h.statuses(), vec![481]);
}

#[test]
fn peer_refresher_that_stops_refreshing_is_hung_up() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let (call, tag) = h.established("Session-Expires: 120;refresher=uac\r\nSupported: timer\r\n");
    // The 200 carried Session-Expires/Require (checked in the next test); a refresh at 60 s
    // moves the deadline: 60 + 120 - 32 = 148 s.
    h.recv(
        secs(60),
        &in_dialog(
            Transport::Udp,
            "UPDATE",
            "z9hG4bK-r1",
            2,
            &tag,
            "Session-Expires: 120;refresher=uac\r\n",
            "",
        ),
    );
    assert_eq!(h.statuses(), vec![200]);
    let sent = h.run_until(secs(147));
    assert!(sent.is_empty(), "nothing before the deadline: {sent:?}");
    let sent = h.run_until(secs(149));
    let bye = request(&sent[0].1);
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(sent[0].0, secs(148));
    let _ = h.events();
    let bye_resp = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {CALL_ID}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
        bye.headers.get("Via").unwrap(),
        bye.headers.get("From").unwrap(),
        bye.headers.get("To").unwrap(),
        bye.headers.get("CSeq").unwrap()
    );
    h.recv(secs(149), &bye_resp);
    assert!(h.events().contains(&UaEvent::Ended {
        call,
        reason: EndReason::LocalBye
    }));
}

#[test]
fn as_refresher_we_send_update_at_half_the_interval() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let call = h
        .invite("Session-Expires: 1800;refresher=uas\r\nSupported: timer\r\nAllow: INVITE, ACK, BYE, UPDATE\r\n")
        .unwrap();
    h.out();
    h.ua.answer(h.at(ms(10)), call, ANSWER.to_string());
    let ok = h.only(200);
    assert_eq!(
        ok.headers.get("Session-Expires"),
        Some("1800;refresher=uas")
    );
    assert_eq!(ok.headers.get("Require"), Some("timer"));
    let tag = param(ok.headers.get("To").unwrap(), "tag")
        .unwrap()
        .to_string();
    h.recv(
        ms(20),
        &in_dialog(Transport::Udp, "ACK", "z9hG4bK-a", 1, &tag, "", ""),
    );
    let sent = h.run_until(secs(901));
    let update = request(&sent[0].1);
    assert_eq!(update.method, Method::Update);
    assert_eq!(sent[0].0, ms(10) + secs(900));
    assert_eq!(
        update.headers.get("Session-Expires"),
        Some("1800;refresher=uas")
    );
    assert_eq!(update.uri, "sip:alice@10.0.0.5:5062");
    // Without Allow: UPDATE the refresh is a re-INVITE with our SDP, and its 2xx is ACKed.
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let call = h.invite("Session-Expires: 100\r\n").unwrap();
    h.out();
    h.ua.answer(h.at(ms(0)), call, ANSWER.to_string());
    let ok = h.only(200);
    assert_eq!(ok.headers.get("Session-Expires"), Some("100;refresher=uas"));
    assert_eq!(
        ok.headers.get("Require"),
        None,
        "the peer did not say Supported: timer"
    );
    let tag = param(ok.headers.get("To").unwrap(), "tag")
        .unwrap()
        .to_string();
    h.recv(
        ms(20),
        &in_dialog(Transport::Udp, "ACK", "z9hG4bK-a", 1, &tag, "", ""),
    );
    let sent = h.run_until(secs(50));
    let re = request(&sent[0].1).clone();
    assert_eq!((re.method.clone(), sent[0].0), (Method::Invite, secs(50)));
    assert_eq!(re.body, ANSWER.as_bytes());
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {CALL_ID}\r\nCSeq: {}\r\nContact: <sip:alice@10.0.0.5:5062>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        re.headers.get("Via").unwrap(),
        re.headers.get("From").unwrap(),
        re.headers.get("To").unwrap(),
        re.headers.get("CSeq").unwrap(),
        OFFER.len()
    );
    h.recv(secs(50), &ok);
    let out = h.out();
    let ack = request(&out[0].2);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(
        ack.headers.get("CSeq"),
        re.headers
            .get("CSeq")
            .map(|c| c.replace("INVITE", "ACK"))
            .as_deref()
    );
}

#[test]
fn our_bye_follows_the_record_route_set() {
    // Loose router: Request-URI is the remote target, Route is the set, sent to the proxy.
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let rr = "Record-Route: <sip:192.0.2.50:5070;lr>, <sip:192.0.2.51;lr>\r\n";
    let (call, _) = h.established(rr);
    h.ua.hangup(h.at(secs(1)), call);
    let out = h.out();
    let (to, _, Message::Request(bye)) = &out[0] else {
        panic!("a BYE")
    };
    assert_eq!(*to, "192.0.2.50:5070".parse::<SocketAddr>().unwrap());
    assert_eq!(bye.uri, "sip:alice@10.0.0.5:5062");
    assert_eq!(
        bye.headers.get_all("Route"),
        vec!["<sip:192.0.2.50:5070;lr>", "<sip:192.0.2.51;lr>"]
    );
    // Strict router: Request-URI is the first route, the target goes last in Route.
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let (call, _) = h.established("Record-Route: <sip:192.0.2.60>\r\n");
    h.ua.hangup(h.at(secs(1)), call);
    let out = h.out();
    let (to, _, Message::Request(bye)) = &out[0] else {
        panic!("a BYE")
    };
    assert_eq!(*to, "192.0.2.60:5060".parse::<SocketAddr>().unwrap());
    assert_eq!(bye.uri, "sip:192.0.2.60");
    assert_eq!(
        bye.headers.get_all("Route"),
        vec!["<sip:alice@10.0.0.5:5062>"]
    );
}

#[test]
fn a_re_invite_on_a_call_we_placed_is_answered_and_its_ack_stops_the_200() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let call = h.ua.place_call(
        h.at(ms(0)),
        sip::OutboundCall {
            request_uri: "sip:bob@127.0.0.1:5062".into(),
            from_user: "15550000001".into(),
            from_display: None,
            to_user: "bob".into(),
            destination: "127.0.0.1:5062".parse().unwrap(),
            transport: Transport::Udp,
            sdp_offer: ANSWER.into(),
            extra_headers: Vec::new(),
            credentials: None,
        },
    );
    let out = h.out();
    let inv = request(&out[0].2).clone();
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=bob1\r\nCall-ID: {}\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.1:5062>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        inv.headers.get("Via").unwrap(),
        inv.headers.get("From").unwrap(),
        inv.headers.get("To").unwrap(),
        inv.call_id(),
        OFFER.len()
    );
    h.recv(ms(10), &ok);
    h.out();
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, UaEvent::OutboundAnswered { call: c, .. } if *c == call)));
    let from_tag = param(inv.headers.get("From").unwrap(), "tag")
        .unwrap()
        .to_string();
    let re = |method: &str, branch: &str, body: &str| {
        format!(
            "{method} sip:flexvox@198.51.100.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch={branch};rport\r\nFrom: <sip:bob@127.0.0.1>;tag=bob1\r\nTo: <sip:15550000001@198.51.100.1>;tag={from_tag}\r\nCall-ID: {}\r\nCSeq: 5 {method}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            inv.call_id(),
            body.len()
        )
    };
    h.recv(
        secs(1),
        &re(
            "INVITE",
            "z9hG4bK-bob-re",
            &hold_offer("sendonly", "10.0.0.5"),
        ),
    );
    let ok = h.only(200);
    assert_eq!(sdp::direction(&ok.body), Direction::RecvOnly);
    h.recv(secs(1), &re("ACK", "z9hG4bK-bob-ack", ""));
    assert!(
        h.run_until(secs(10)).is_empty(),
        "the ACK ends the 200's retransmissions"
    );
}
