//! SIP over TCP, sans-IO: responses leave on the connection the request came on, Via names
//! TCP, nothing is retransmitted below the transaction user (only the 2xx, §13.3.1.4), and the
//! stream framer cuts any chunking of a byte stream into the same messages.

mod support;

use proptest::prelude::*;
use sip::message::{Message, Method};
use sip::transport::{StreamFramer, DEFAULT_MAX_MESSAGE};
use sip::{OutboundCall, Transport, UaEvent};
use support::*;

#[test]
fn an_invite_over_tcp_is_answered_on_its_connection_without_retransmissions() {
    let mut h = Harness::new(config(), "127.0.0.1:40001", Transport::Tcp);
    let call = h.invite("").unwrap();
    let out = h.out();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0, out[0].1), (h.peer.addr, Transport::Tcp));
    assert!(response(&out[0].2)
        .headers
        .get("Via")
        .unwrap()
        .starts_with("SIP/2.0/TCP"));

    h.ua.reject(h.at(ms(10)), call, 486, "Busy Here");
    assert_eq!(h.statuses(), vec![486]);
    // No Timer G over TCP: the 486 is not repeated while the ACK is awaited.
    assert!(h.run_until(secs(10)).is_empty());
}

#[test]
fn our_bye_over_tcp_names_tcp_and_is_sent_once() {
    let mut h = Harness::new(config(), "127.0.0.1:40001", Transport::Tcp);
    let (call, _) = h.established("");
    h.ua.hangup(h.at(secs(1)), call);
    let out = h.out();
    let Message::Request(bye) = &out[0].2 else {
        panic!("a BYE")
    };
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(out[0].1, Transport::Tcp);
    assert!(bye.headers.get("Via").unwrap().starts_with("SIP/2.0/TCP "));
    // No Timer E over TCP; Timer F still ends the call at 64·T1.
    assert!(h.run_until(secs(32)).is_empty());
    h.run_until(secs(34));
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, UaEvent::Ended { call: c, .. } if *c == call)));
}

#[test]
fn the_200_ok_is_still_retransmitted_over_tcp_until_the_ack() {
    let mut h = Harness::new(config(), "127.0.0.1:40001", Transport::Tcp);
    let call = h.invite("").unwrap();
    h.out();
    h.ua.answer(h.at(ms(0)), call, ANSWER.to_string());
    h.out();
    let again: Vec<_> = h.run_until(ms(1600)).into_iter().map(|(t, _)| t).collect();
    assert_eq!(again, vec![ms(500), ms(1500)]);
}

#[test]
fn an_outbound_call_over_tcp_is_sent_once_with_a_tcp_via_and_contact() {
    let mut h = Harness::new(config(), "127.0.0.1:40001", Transport::Tcp);
    let now = h.at(ms(0));
    h.ua.place_call(
        now,
        OutboundCall {
            request_uri: "sip:alice@10.0.0.5:5062;transport=tcp".into(),
            from_user: "15550000001".into(),
            from_display: None,
            to_user: "alice".into(),
            destination: "127.0.0.1:40001".parse().unwrap(),
            transport: Transport::Tcp,
            sdp_offer: ANSWER.into(),
            extra_headers: Vec::new(),
            credentials: None,
        },
    );
    let out = h.out();
    assert_eq!(out.len(), 1);
    let Message::Request(invite) = &out[0].2 else {
        panic!("an INVITE")
    };
    assert_eq!(out[0].1, Transport::Tcp);
    assert!(invite
        .headers
        .get("Via")
        .unwrap()
        .starts_with("SIP/2.0/TCP "));
    assert!(invite
        .headers
        .get("Contact")
        .unwrap()
        .contains(";transport=tcp"));
    // No Timer A: only Timer B, which fails the call at 32 s.
    assert!(h.run_until(secs(31)).is_empty());
    h.run_until(secs(33));
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, UaEvent::OutboundFailed { status: None, .. })));
}

fn messages() -> Vec<Vec<u8>> {
    let invite = invite(Transport::Tcp, "z9hG4bK-p1", "", OFFER).into_bytes();
    let bye = in_dialog(Transport::Tcp, "BYE", "z9hG4bK-p2", 2, "t", "", "").into_bytes();
    let info = in_dialog(
        Transport::Tcp,
        "INFO",
        "z9hG4bK-p3",
        3,
        "t",
        "Content-Type: application/dtmf-relay\r\n",
        "Signal=1\r\nDuration=100\r\n",
    )
    .into_bytes();
    vec![invite, bye, info]
}

proptest! {
    /// Any split of a stream of messages and keep-alives into chunks frames the same messages.
    #[test]
    fn any_chunking_frames_the_same_messages(
        cuts in prop::collection::vec(0usize..4000, 0..40),
        keepalives in prop::collection::vec(0usize..3, 3),
    ) {
        let msgs = messages();
        let mut stream = Vec::new();
        for (m, k) in msgs.iter().zip(&keepalives) {
            stream.extend(std::iter::repeat_n(b"\r\n".to_vec(), *k).flatten());
            stream.extend_from_slice(m);
        }
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.sort_unstable();
        let mut framer = StreamFramer::new(DEFAULT_MAX_MESSAGE);
        let mut got = Vec::new();
        let mut last = 0;
        for cut in cuts.into_iter().chain([stream.len()]) {
            framer.push(&stream[last..cut]);
            last = cut;
            while let Some(m) = framer.next_message().unwrap() {
                got.push(m);
            }
        }
        prop_assert_eq!(got, msgs);
        prop_assert_eq!(framer.buffered(), 0);
    }

    /// Garbage never panics the framer: it frames, waits, or reports an error.
    #[test]
    fn garbage_streams_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..10)) {
        let mut framer = StreamFramer::new(1024);
        for c in chunks {
            framer.push(&c);
            while let Ok(Some(m)) = framer.next_message() {
                prop_assert!(m.len() <= 1024);
            }
        }
    }
}

#[test]
fn udp_responses_go_where_rport_or_the_via_says() {
    // With rport: back to the source port, rport= and received= filled in.
    let mut h = Harness::new(config(), "203.0.113.7:40000", Transport::Udp);
    let opts = |via: &str| {
        format!(
            "OPTIONS sip:198.51.100.1 SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
    };
    h.recv(
        ms(0),
        &opts("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-o1;rport"),
    );
    let out = h.out();
    assert_eq!(out[0].0, "203.0.113.7:40000".parse().unwrap());
    assert_eq!(
        response(&out[0].2).headers.get("Via"),
        Some("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-o1;rport=40000;received=203.0.113.7")
    );
    // Without rport: to the source address and the Via's port, with received=.
    h.recv(ms(10), &opts("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-o2"));
    let out = h.out();
    assert_eq!(out[0].0, "203.0.113.7:5062".parse().unwrap());
    assert_eq!(
        response(&out[0].2).headers.get("Via"),
        Some("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-o2;received=203.0.113.7")
    );
    // No port in the Via: 5060; a sent-by equal to the source gets no received=.
    let mut h = Harness::new(config(), "10.0.0.5:40000", Transport::Udp);
    h.recv(ms(0), &opts("SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK-o3"));
    let out = h.out();
    assert_eq!(out[0].0, "10.0.0.5:5060".parse().unwrap());
    assert_eq!(
        response(&out[0].2).headers.get("Via"),
        Some("SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK-o3")
    );
}
