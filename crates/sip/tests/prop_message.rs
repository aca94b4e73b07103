//! Property tests for the parsers of untrusted SIP input: the message parser and printer, the
//! SDP offer parser and the user agent that sits on top of them.

use proptest::prelude::*;
use sip::message::{parse, Headers, Message, Method, Request, Response};
use sip::sdp;
use sip::transaction::Timers;
use sip::{UaConfig, UserAgent};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const METHODS: &[&str] = &[
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "UPDATE", "PRACK",
];

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        prop::sample::select(METHODS).prop_map(Method::parse),
        "[A-Z]{1,12}".prop_map(|m| Method::parse(&m)),
    ]
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
        "[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?",
    ]
}

/// `sip:USER@HOST:PORT`.
fn sip_uri() -> impl Strategy<Value = String> {
    ("[A-Za-z0-9+._-]{1,16}", host(), any::<u16>())
        .prop_map(|(user, host, port)| format!("sip:{user}@{host}:{port}"))
}

/// RFC 3261 `token`s.
fn header_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.!%*_+`'~-]{1,20}"
}

/// Printable text without CR/LF and without leading or trailing white space (possibly empty).
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[!-~]([ -~]{0,40}[!-~])?",
        "[!-~]([\\PC]{0,40}[!-~])?",
    ]
}

/// Via, From, To, Call-ID and CSeq with values of the usual shapes, for `method`.
fn mandatory_headers(method: Method) -> impl Strategy<Value = Vec<(String, String)>> {
    (
        host(),
        any::<u16>(),
        "[A-Za-z0-9-]{1,20}",
        sip_uri(),
        sip_uri(),
        "[A-Za-z0-9]{1,12}",
        "[A-Za-z0-9.@-]{1,32}",
        any::<u32>(),
    )
        .prop_map(
            move |(via_host, via_port, branch, from, to, tag, call_id, cseq)| {
                vec![
                    (
                        "Via".to_string(),
                        format!("SIP/2.0/UDP {via_host}:{via_port};branch=z9hG4bK{branch};rport"),
                    ),
                    ("From".to_string(), format!("<{from}>;tag={tag}")),
                    ("To".to_string(), format!("<{to}>")),
                    ("Call-ID".to_string(), call_id),
                    ("CSeq".to_string(), format!("{cseq} {method}")),
                ]
            },
        )
}

/// The mandatory headers plus 0–8 random ones, in random order.
fn headers(method: Method) -> impl Strategy<Value = Headers> {
    (
        mandatory_headers(method),
        prop::collection::vec((header_name(), header_value()), 0..=8),
    )
        .prop_flat_map(|(mut all, extra)| {
            all.extend(extra);
            Just(all).prop_shuffle()
        })
        .prop_map(|all| {
            let mut h = Headers::new();
            for (name, value) in all {
                h.push(&name, value);
            }
            h
        })
}

/// Random bytes, or text made of lines (blank ones included), as SDP and other bodies are.
fn body() -> impl Strategy<Value = Vec<u8>> {
    const PIECES: &[&[u8]] = &[
        b"\r\n",
        b"\n",
        b"\r",
        b"v=0",
        b"m=audio 4000 RTP/AVP 0",
        b"Via: x",
        b"SIP/2.0 200 OK",
        b" ",
    ];
    let piece = prop::sample::select(PIECES);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        prop::collection::vec(piece, 0..24).prop_map(|p| p.concat()),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    method().prop_flat_map(|m| {
        (Just(m.clone()), sip_uri(), headers(m), body()).prop_map(|(method, uri, headers, body)| {
            Request {
                method,
                uri,
                headers,
                body,
            }
        })
    })
}

fn response() -> impl Strategy<Value = Response> {
    (
        100u16..700,
        prop_oneof!["[ -~]{0,30}", "[\\PC]{0,30}"],
        method().prop_flat_map(headers),
        body(),
    )
        .prop_map(|(status, reason, headers, body)| Response {
            status,
            reason,
            headers,
            body,
        })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        request().prop_map(Message::Request),
        response().prop_map(Message::Response),
    ]
}

/// A byte edit of a valid message: overwrite, insert, remove, or cut it short.
#[derive(Debug, Clone)]
enum Edit {
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Remove(prop::sample::Index),
    Truncate(prop::sample::Index),
}

/// Bytes that matter to the SIP grammar, to make edits more likely to hit an interesting path.
const SPECIAL: &[u8] = b"\r\n \t:;,=<>\"\\0123456789\xff\x00";

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![any::<u8>(), prop::sample::select(SPECIAL)];
    prop_oneof![
        (any::<prop::sample::Index>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<prop::sample::Index>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Edit::Remove),
        any::<prop::sample::Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        match e {
            Edit::Set(i, b) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
            Edit::Insert(i, b) => {
                let at = i.index(bytes.len() + 1);
                bytes.insert(at, *b);
            }
            Edit::Remove(i) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                bytes.remove(at);
            }
            Edit::Truncate(i) => {
                let at = i.index(bytes.len() + 1);
                bytes.truncate(at);
            }
            _ => {}
        }
    }
    bytes
}

/// Whatever `parse` accepts, the printer must turn into bytes that parse again, and printing
/// is a fixed point after one normalising pass (the printer rewrites Content-Length).
fn check_accepted(data: &[u8]) -> Result<(), TestCaseError> {
    let Ok(first) = parse(data) else {
        return Ok(());
    };
    let printed = first.to_bytes();
    let second = parse(&printed).map_err(|e| {
        TestCaseError::fail(format!(
            "{data:?} parsed, but its print {:?} does not: {e}",
            String::from_utf8_lossy(&printed)
        ))
    })?;
    let reprinted = second.to_bytes();
    prop_assert_eq!(
        String::from_utf8_lossy(&reprinted),
        String::from_utf8_lossy(&printed)
    );
    prop_assert_eq!(parse(&reprinted).ok(), Some(second));
    Ok(())
}

/// The headers of a message in order, without Content-Length (which the printer owns).
fn without_content_length(h: &Headers) -> Vec<(String, String)> {
    h.iter()
        .filter(|(n, _)| *n != "Content-Length")
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn ua_local() -> SocketAddr {
    "198.51.100.1:5060".parse().unwrap()
}

fn ua_peer() -> SocketAddr {
    "203.0.113.7:40000".parse().unwrap()
}

const OFFER: &str = "v=0\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

/// A valid INVITE that establishes a call, to put the UA in a state with a dialog.
fn setup_invite() -> Vec<u8> {
    format!(
        "INVITE sip:15550000001@198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-inv-1;rport\r\n\
From: \"Alice\" <sip:+15162065338@10.0.0.5:5062>;tag=caller-1\r\n\
To: <sip:15550000001@198.51.100.1:5060>\r\n\
Call-ID: call-1@10.0.0.5\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:+15162065338@10.0.0.5:5062>\r\n\
Record-Route: <sip:proxy.example.com;lr>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    )
    .into_bytes()
}

/// Requests in the setup call's dialog (or its INVITE transaction), for the UA to match.
fn in_dialog_request() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(&["INVITE", "ACK", "BYE", "CANCEL", "INFO", "OPTIONS", "FOO"][..]),
        prop::sample::select(&["z9hG4bK-inv-1", "z9hG4bK-x", ""][..]),
        prop::option::of(prop::sample::select(&["", "0123456789abcdef", "x"][..])),
        prop::sample::select(&["call-1@10.0.0.5", "other"][..]),
        prop::sample::select(&["", ";rport", ";rport=1", ";received=1.2.3.4;rport"][..]),
    )
        .prop_map(|(method, branch, to_tag, call_id, via_params)| {
            let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
            format!(
                "{method} sip:flexvox@198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch={branch}{via_params}\r\n\
From: <sip:+15162065338@10.0.0.5:5062>;tag=caller-1\r\n\
To: <sip:15550000001@198.51.100.1:5060>{to_tag}\r\n\
Call-ID: {call_id}\r\n\
CSeq: 2 {method}\r\n\
Content-Length: 0\r\n\r\n"
            )
            .into_bytes()
        })
}

/// Datagrams for the UA: random bytes, generated messages, in-dialog requests, and edited
/// copies of those.
fn datagram() -> impl Strategy<Value = Vec<u8>> {
    let valid = prop_oneof![
        message().prop_map(|m| m.to_bytes()),
        in_dialog_request(),
        Just(setup_invite()),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        valid.clone(),
        (valid, prop::collection::vec(edit(), 1..6)).prop_map(|(b, edits)| apply(b, &edits)),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_accepted(&data)?;
    }

    #[test]
    fn parse_never_panics_on_edited_messages(
        msg in message(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let data = apply(msg.to_bytes(), &edits);
        check_accepted(&data)?;
    }

    #[test]
    fn print_parse_print_round_trips(msg in message()) {
        let first = msg.to_bytes();
        let parsed = parse(&first).map_err(|e| {
            TestCaseError::fail(format!("{:?}: {e}", String::from_utf8_lossy(&first)))
        })?;
        let second = parsed.to_bytes();
        prop_assert_eq!(String::from_utf8_lossy(&second), String::from_utf8_lossy(&first));
        let reparsed = parse(&second).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&reparsed, &parsed);

        // And the parse gives back what was printed, Content-Length aside.
        match (&msg, &parsed) {
            (Message::Request(want), Message::Request(got)) => {
                prop_assert_eq!(&got.method, &want.method);
                prop_assert_eq!(&got.uri, &want.uri);
                prop_assert_eq!(&got.body, &want.body);
                prop_assert_eq!(
                    without_content_length(&got.headers),
                    without_content_length(&want.headers)
                );
                prop_assert!(got.check_mandatory().is_ok());
                prop_assert_eq!(&got.cseq().unwrap().1, &want.method);
            }
            (Message::Response(want), Message::Response(got)) => {
                prop_assert_eq!(got.status, want.status);
                prop_assert_eq!(&got.reason, &want.reason);
                prop_assert_eq!(&got.body, &want.body);
                prop_assert_eq!(
                    without_content_length(&got.headers),
                    without_content_length(&want.headers)
                );
            }
            _ => prop_assert!(false, "the kind of message changed: {:?}", parsed),
        }
        let body_len = parsed.headers().get("Content-Length").map(str::to_string);
        let want_len = match &msg {
            Message::Request(r) => r.body.len(),
            Message::Response(r) => r.body.len(),
        };
        prop_assert_eq!(body_len, Some(want_len.to_string()));
    }

    #[test]
    fn bare_lf_header_lines_parse_like_crlf(msg in message()) {
        // The parser accepts LF-only header sections; the body is taken as it is.
        let crlf = msg.to_bytes();
        let end = crlf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(crlf[..end].to_vec()).unwrap();
        let mut lf = head.replace("\r\n", "\n").into_bytes();
        lf.extend_from_slice(b"\n\n");
        lf.extend_from_slice(&crlf[end + 4..]);
        prop_assert_eq!(parse(&lf), parse(&crlf));
    }

    #[test]
    fn sdp_parse_offer_never_panics(text in "\\PC{0,400}", lines in prop::collection::vec(
        prop_oneof![
            Just("v=0".to_string()),
            "c=IN IP[46] [0-9a-f.:]{0,20}(/[0-9]{1,3})?",
            "m=audio [0-9]{0,6}(/[0-9])? RTP/AVP( [0-9]{1,4}){0,5}",
            "m=(video|audio) .{0,20}",
            "a=rtpmap:[0-9]{0,4} [A-Za-z-]{0,16}(/[0-9]{0,10}(/[0-9])?)?",
            "a=ptime:.{0,6}",
            ".{0,30}",
        ],
        0..12,
    ), eol in prop::sample::select(&["\r\n", "\n", "\r"][..])) {
        // Free text, then line soup that looks like an offer.
        let _ = sdp::parse_offer(text.as_bytes());
        let soup = lines.join(eol);
        if let Ok(offer) = sdp::parse_offer(soup.as_bytes()) {
            let _ = sdp::negotiate(&offer);
        }
    }

    #[test]
    fn sdp_parse_offer_never_panics_on_bytes(data in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = sdp::parse_offer(&data);
    }

    #[test]
    fn user_agent_answers_any_datagram_with_parsable_responses(
        established in prop_oneof![Just(0u8), Just(1), Just(2)],
        datagrams in prop::collection::vec(datagram(), 1..8),
    ) {
        let t0 = Instant::now();
        let mut ua = UserAgent::new(UaConfig {
            local_addr: ua_local(),
            timers: Timers::default(),
            user_agent: "flexvox-prop".to_string(),
            seed: 7,
            access: sip::policy::AccessPolicy {
                allow: sip::policy::Cidr::parse_list("0.0.0.0/0").unwrap(),
            },
            ..UaConfig::default()
        });
        // 0: an idle UA; 1: a call ringing; 2: a call answered.
        if established > 0 {
            ua.handle_datagram(t0, ua_peer(), &setup_invite());
            while ua.poll_transmit().is_some() {}
            let mut calls = Vec::new();
            while let Some(ev) = ua.poll_event() {
                if let sip::UaEvent::IncomingCall(c) = ev {
                    calls.push(c.call);
                }
            }
            prop_assert_eq!(calls.len(), 1);
            if established == 2 {
                let answer = "v=0\r\nc=IN IP4 198.51.100.1\r\nm=audio 20000 RTP/AVP 0\r\n";
                ua.answer(t0, calls[0], answer.to_string());
                while ua.poll_transmit().is_some() {}
            }
        }
        for (i, data) in datagrams.iter().enumerate() {
            let now = t0 + Duration::from_millis(10 * (i as u64 + 1));
            ua.handle_datagram(now, ua_peer(), data);
            while let Some(t) = ua.poll_transmit() {
                // To the source port with rport, else the Via's port (RFC 3261 §18.2.2).
                prop_assert_eq!(t.to.ip(), ua_peer().ip());
                match parse(&t.bytes) {
                    Ok(Message::Response(_)) => {}
                    other => prop_assert!(
                        false,
                        "input {:?} made the UA send {:?} ({:?})",
                        String::from_utf8_lossy(data),
                        String::from_utf8_lossy(&t.bytes),
                        other
                    ),
                }
            }
            while ua.poll_event().is_some() {}
        }
    }
}
