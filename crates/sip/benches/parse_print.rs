//! Parse and print of a typical INVITE with SDP (what a carrier sends), and the same through
//! the user agent (parse, transaction, 100 Trying out): messages per second on one core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sip::message::parse;
use sip::policy::{AccessPolicy, Cidr};
use sip::{UaConfig, UserAgent};
use std::hint::black_box;
use std::time::Instant;

const HEAD: &str = "INVITE sip:15550000001@198.51.100.1:5060;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK776asdhds;rport\r\n\
Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK1234;received=10.1.1.1\r\n\
Max-Forwards: 69\r\n\
Record-Route: <sip:203.0.113.7;lr;ftag=1928301774>\r\n\
From: \"Alice Caller\" <sip:+15162065338@203.0.113.7>;tag=1928301774\r\n\
To: <sip:+15550000001@198.51.100.1>\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:+15162065338@203.0.113.7:5060;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n\
Supported: timer, 100rel\r\n\
Session-Expires: 1800\r\n\
P-Asserted-Identity: <sip:+15162065338@carrier.example.com>\r\n\
User-Agent: Carrier SBC 5.1\r\n\
Content-Type: application/sdp\r\n";

const SDP: &str = "v=0\r\n\
o=sbc 2890844526 2890844526 IN IP4 203.0.113.7\r\n\
s=-\r\n\
c=IN IP4 203.0.113.7\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

fn bench(c: &mut Criterion) {
    let invite = format!("{HEAD}Content-Length: {}\r\n\r\n{SDP}", SDP.len());
    let bytes = invite.as_bytes();
    assert!(parse(bytes).is_ok());
    let mut g = c.benchmark_group("invite");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| b.iter(|| parse(black_box(bytes))));
    let msg = parse(bytes).unwrap();
    g.bench_function("print", |b| b.iter(|| black_box(&msg).to_bytes()));
    g.bench_function("parse+print", |b| {
        b.iter(|| parse(black_box(bytes)).map(|m| m.to_bytes()))
    });
    // Through the user agent: each INVITE has its own Call-ID and branch, so each one makes
    // a call (transaction, dialog, 100 Trying) that is then refused to keep memory flat.
    let mut ua = UserAgent::new(UaConfig {
        access: AccessPolicy {
            allow: Cidr::parse_list("0.0.0.0/0").unwrap(),
        },
        max_calls: usize::MAX,
        ..UaConfig::default()
    });
    let from = "203.0.113.7:5060".parse().unwrap();
    let t0 = Instant::now();
    let mut n = 0u64;
    g.bench_function("ua_invite_to_100_trying", |b| {
        b.iter(|| {
            n += 1;
            let text = invite
                .replace("a84b4c76e66710", &format!("c{n}"))
                .replace("z9hG4bK776asdhds", &format!("z9hG4bK{n}"));
            ua.handle_datagram(t0, from, text.as_bytes());
            while ua.poll_transmit().is_some() {}
            while let Some(ev) = ua.poll_event() {
                if let sip::UaEvent::IncomingCall(call) = ev {
                    ua.reject(t0, call.call, 486, "Busy Here");
                }
            }
            while ua.poll_transmit().is_some() {}
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
