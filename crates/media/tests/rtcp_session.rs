//! RTCP in a session: when reports go out, what they carry, the round-trip time from
//! LSR/DLSR, RTCP multiplexed on the RTP port, and symmetric-RTP latching.

use media::rtcp::{
    ntp_from_unix, parse_compound, RtcpConfig, RtcpEvent, RtcpPacket, RtcpReporter, SDES_CNAME,
};
use media::rtp::RtpPacket;
use media::session::Encoding;
use media::MediaSession;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config(seed: u64, epoch: Instant, ntp: u64) -> RtcpConfig {
    RtcpConfig::new("flexvox@test", seed, epoch, ntp)
}

fn rtp(seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let payload = [0xFFu8; 160];
    RtpPacket {
        payload_type: 0,
        marker: false,
        sequence: seq,
        timestamp: ts,
        ssrc,
        payload: &payload,
    }
    .write(&mut out);
    out
}

#[test]
fn reports_follow_a_randomised_five_second_interval() {
    let t0 = Instant::now();
    let mut times = Vec::new();
    let mut r = RtcpReporter::new(1, config(42, t0, 0));
    assert_eq!(
        r.poll_timeout(),
        None,
        "nothing to report before any traffic"
    );
    for i in 0..3000u64 {
        let now = t0 + ms(20 * i);
        r.on_sent(now, 160 * i as u32, 160);
        if r.poll_transmit(now).is_some() {
            times.push(now - t0);
        }
    }
    // First after 2.5 s x [0.5, 1.5] / 1.218; then 5 s x [0.5, 1.5] / 1.218, give or take a tick.
    assert!(times[0] >= ms(1000) && times[0] <= ms(3100), "{times:?}");
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= ms(2040) && gap <= ms(6180), "{gap:?}");
    }
    assert!(times.len() >= 9 && times.len() <= 30, "{}", times.len());
    let distinct: std::collections::HashSet<_> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(distinct.len() > 3, "randomised: {times:?}");
    // Deterministic for a seed.
    let mut again = RtcpReporter::new(1, config(42, t0, 0));
    again.on_sent(t0, 0, 160);
    let mut other = RtcpReporter::new(1, config(43, t0, 0));
    other.on_sent(t0, 0, 160);
    let mut same = RtcpReporter::new(1, config(42, t0, 0));
    same.on_sent(t0, 0, 160);
    assert_eq!(again.poll_timeout(), same.poll_timeout());
    assert_ne!(again.poll_timeout(), other.poll_timeout());
}

#[test]
fn round_trip_time_comes_from_lsr_and_dlsr_whatever_the_far_clock() {
    let t0 = Instant::now();
    // Unsynchronised wallclocks: only our own matters to the computation.
    let mut a = RtcpReporter::new(
        0xA,
        config(1, t0, ntp_from_unix(Duration::from_secs(1_700_000_000))),
    );
    let mut b = RtcpReporter::new(0xB, config(2, t0, 0x1234_5678_0000_0000));
    a.on_sent(t0, 0, 160);
    b.on_received(Some(t0 + ms(40)), 0xA, 1, 0);
    b.on_received(Some(t0 + ms(60)), 0xA, 2, 160);
    let sent = t0 + ms(5000);
    let sr = a.poll_transmit(sent).expect("due").to_vec();
    // 40 ms one way; B holds it 1.2 s; 60 ms back: 100 ms round trip.
    b.handle(sent + ms(40), &sr).unwrap();
    b.on_received(Some(sent + ms(40)), 0xA, 3, 320);
    let rr = b.poll_transmit(sent + ms(1240)).expect("due").to_vec();
    let parsed = parse_compound(&rr).unwrap();
    let RtcpPacket::ReceiverReport(report) = &parsed[0] else {
        panic!("B sends nothing, so it sends an RR: {parsed:?}")
    };
    assert_eq!(report.reports[0].ssrc, 0xA);
    assert_ne!(report.reports[0].last_sr, 0);
    a.handle(sent + ms(1300), &rr).unwrap();
    let rtt = a.round_trip().expect("measured");
    assert!(rtt >= ms(99) && rtt <= ms(101), "{rtt:?}");
    assert!(matches!(a.poll_event(), Some(RtcpEvent::Report(b)) if b.ssrc == 0xA));
}

fn session() -> MediaSession {
    MediaSession::new(Encoding::Ulaw, 0, 0x5EED, 100, 8000)
}

#[test]
fn a_session_sends_sr_with_counts_and_cname_and_reports_on_what_it_hears() {
    let t0 = Instant::now();
    let far: SocketAddr = "192.0.2.1:4000".parse().unwrap();
    let mut s = session();
    s.enable_rtcp(config(
        7,
        t0,
        ntp_from_unix(Duration::from_secs(1_700_000_000)),
    ));
    let mut reports = Vec::new();
    for i in 0..400u64 {
        let now = t0 + ms(20 * i);
        if i % 10 != 5 {
            // One packet in ten lost.
            s.receive_at(now, far, &rtp(i as u16, 160 * i as u32, 77));
        }
        s.tick_at(now);
        if let Some(r) = s.poll_rtcp(now) {
            reports.push((i, r.to_vec()));
        }
    }
    assert!(s.rtcp_timeout().is_some());
    let (tick, last) = reports.last().unwrap();
    let packets = parse_compound(last).unwrap();
    let RtcpPacket::SenderReport(sr) = &packets[0] else {
        panic!("{packets:?}")
    };
    assert_eq!(sr.ssrc, 0x5EED);
    assert_eq!(sr.info.packet_count as u64, tick + 1);
    assert_eq!(sr.info.octet_count as u64, 160 * (tick + 1));
    let block = sr.reports[0];
    assert_eq!(block.ssrc, 77);
    assert!(
        (20..=30).contains(&block.fraction_lost),
        "{}",
        block.fraction_lost
    );
    let RtcpPacket::SourceDescription(sdes) = &packets[1] else {
        panic!()
    };
    assert_eq!(sdes[0].find(SDES_CNAME), Some(&b"flexvox@test"[..]));
    let summary = s.rtcp_summary().unwrap();
    assert!(summary.reports_sent >= 1 && summary.expected >= 390);
}

#[test]
fn rtcp_multiplexed_on_the_rtp_port_is_handled_as_rtcp() {
    let t0 = Instant::now();
    let far: SocketAddr = "192.0.2.1:4000".parse().unwrap();
    let mut s = session();
    s.enable_rtcp(config(7, t0, 0));
    let mut peer = RtcpReporter::new(77, config(9, t0, 0));
    peer.on_sent(t0, 0, 160);
    let sr = peer.poll_transmit(t0 + ms(5000)).unwrap().to_vec();
    s.receive_at(t0 + ms(5000), far, &sr);
    let bye = peer.bye(t0 + ms(6000), Some("done")).to_vec();
    s.receive_at(t0 + ms(6000), far, &bye);
    assert_eq!(s.stats().packets_received, 0, "not counted as RTP");
    assert_eq!(s.stats().malformed_received, 0);
    assert_eq!(s.rtcp_summary().unwrap().reports_received, 2);
    assert_eq!(
        s.poll_rtcp_event(),
        Some(RtcpEvent::Bye {
            ssrc: 77,
            reason: Some("done".into())
        })
    );
    // Garbage in the RTCP range is counted as malformed, not taken as audio.
    s.receive_at(t0 + ms(6020), far, &[0x80, 200, 0, 9]);
    assert_eq!(s.stats().malformed_received, 1);
    assert_eq!(s.latched_remote(), None, "RTCP does not latch");
}

#[test]
fn the_first_media_packet_from_elsewhere_latches_the_remote_once() {
    let t0 = Instant::now();
    let sdp: SocketAddr = "10.0.0.5:4000".parse().unwrap();
    let nat: SocketAddr = "203.0.113.9:61000".parse().unwrap();
    let other: SocketAddr = "198.51.100.1:5000".parse().unwrap();
    let mut s = session();
    s.set_remote(sdp);
    s.receive_at(t0, nat, &rtp(1, 0, 5));
    assert_eq!(s.poll_latched_remote(), Some(nat));
    assert_eq!(s.poll_latched_remote(), None, "reported once");
    s.receive_at(t0 + ms(20), other, &rtp(2, 160, 5));
    assert_eq!(
        s.latched_remote(),
        Some(nat),
        "later sources cannot steal the stream"
    );

    let mut direct = session();
    direct.set_remote(sdp);
    direct.receive_at(t0, sdp, &rtp(1, 0, 5));
    direct.receive_at(t0 + ms(20), nat, &rtp(2, 160, 5));
    assert_eq!(direct.poll_latched_remote(), None);
    assert_eq!(direct.latched_remote(), None);

    // A new answer moves the far end: the next first packet decides again.
    direct.set_remote("10.0.0.6:4000".parse().unwrap());
    direct.receive_at(t0 + ms(40), nat, &rtp(3, 320, 5));
    assert_eq!(direct.poll_latched_remote(), Some(nat));
}
