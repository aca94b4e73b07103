//! RTCP packets: a hand-built compound read field by field, round trips, and refusals.

use media::rtcp::{
    is_rtcp, parse_compound, write_compound, Bye, ReceiverReport, ReportBlock, RtcpError,
    RtcpPacket, SdesChunk, SdesItem, SenderInfo, SenderReport, SDES_CNAME,
};

/// SR with one report block, SDES with a CNAME, BYE with a reason: as a peer would send.
#[rustfmt::skip]
const COMPOUND: &[u8] = &[
    // SR: V=2, RC=1, PT=200, length 12 words.
    0x81, 200, 0x00, 0x0C,
    0x11, 0x22, 0x33, 0x44, // SSRC
    0xE8, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, // NTP: secs 0xE8000001, frac 0.5
    0x00, 0x00, 0x1F, 0x40, // RTP timestamp 8000
    0x00, 0x00, 0x00, 0x32, // packets 50
    0x00, 0x00, 0x1F, 0x40, // octets 8000
    0xAA, 0xBB, 0xCC, 0xDD, // report block: SSRC
    0x40, 0xFF, 0xFF, 0xFE, // fraction 64/256, cumulative lost -2
    0x00, 0x01, 0x00, 0x05, // extended highest seq: 1 cycle, seq 5
    0x00, 0x00, 0x00, 0x2A, // jitter 42
    0x00, 0x01, 0x80, 0x00, // LSR
    0x00, 0x02, 0x00, 0x00, // DLSR: 2 s
    // SDES: SC=1, length 3 words: SSRC, CNAME "abc", end, pad.
    0x81, 202, 0x00, 0x03,
    0x11, 0x22, 0x33, 0x44,
    0x01, 0x03, b'a', b'b', b'c', 0x00, 0x00, 0x00,
    // BYE: SC=1, reason "bye", length 2 words.
    0x81, 203, 0x00, 0x02,
    0x11, 0x22, 0x33, 0x44,
    0x03, b'b', b'y', b'e',
];

#[test]
fn a_hand_built_compound_reads_field_by_field() {
    let packets = parse_compound(COMPOUND).unwrap();
    assert_eq!(packets.len(), 3);
    let RtcpPacket::SenderReport(sr) = &packets[0] else {
        panic!("{:?}", packets[0])
    };
    assert_eq!(sr.ssrc, 0x1122_3344);
    assert_eq!(sr.info.ntp_timestamp, 0xE800_0001_8000_0000);
    assert_eq!(sr.info.rtp_timestamp, 8000);
    assert_eq!(sr.info.packet_count, 50);
    assert_eq!(sr.info.octet_count, 8000);
    assert_eq!(sr.reports.len(), 1);
    let b = sr.reports[0];
    assert_eq!(b.ssrc, 0xAABB_CCDD);
    assert_eq!(b.fraction_lost, 64);
    assert_eq!(b.cumulative_lost, -2);
    assert_eq!(b.extended_highest_seq, 0x0001_0005);
    assert_eq!(b.jitter, 42);
    assert_eq!(b.last_sr, 0x0001_8000);
    assert_eq!(b.delay_since_last_sr, 2 << 16);
    let RtcpPacket::SourceDescription(chunks) = &packets[1] else {
        panic!("{:?}", packets[1])
    };
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].ssrc, 0x1122_3344);
    assert_eq!(chunks[0].find(SDES_CNAME), Some(&b"abc"[..]));
    assert_eq!(
        packets[2],
        RtcpPacket::Bye(Bye {
            sources: vec![0x1122_3344],
            reason: Some(b"bye".to_vec()),
        })
    );
    // And we write it back byte for byte.
    let mut out = Vec::new();
    write_compound(&packets, &mut out);
    assert_eq!(out, COMPOUND);
}

fn block(ssrc: u32, lost: i32) -> ReportBlock {
    ReportBlock {
        ssrc,
        fraction_lost: 17,
        cumulative_lost: lost,
        extended_highest_seq: 0x0002_FFFF,
        jitter: 123,
        last_sr: 0xDEAD_BEEF,
        delay_since_last_sr: 65536 * 3 / 2,
    }
}

#[test]
fn every_packet_type_round_trips_in_one_compound() {
    let packets = vec![
        RtcpPacket::SenderReport(SenderReport {
            ssrc: 1,
            info: SenderInfo {
                ntp_timestamp: 0x0123_4567_89AB_CDEF,
                rtp_timestamp: 0xFFFF_FFF0,
                packet_count: 7,
                octet_count: 1120,
            },
            reports: vec![block(2, -8_388_608), block(3, 8_388_607)],
        }),
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 4,
            reports: vec![],
        }),
        RtcpPacket::SourceDescription(vec![
            SdesChunk::cname(1, "flexvox@10.0.0.1"),
            SdesChunk {
                ssrc: 5,
                items: vec![
                    SdesItem {
                        kind: 1,
                        text: b"x".to_vec(),
                    },
                    SdesItem {
                        kind: 6,
                        text: b"tool".to_vec(),
                    },
                ],
            },
        ]),
        RtcpPacket::Other {
            packet_type: 205,
            count: 1,
            body: vec![1, 2, 3, 4, 5, 6, 7, 8],
        },
        RtcpPacket::Bye(Bye {
            sources: vec![1, 5],
            reason: None,
        }),
    ];
    let mut out = Vec::new();
    write_compound(&packets, &mut out);
    assert_eq!(out.len() % 4, 0);
    assert_eq!(parse_compound(&out).unwrap(), packets);
}

#[test]
fn cumulative_loss_beyond_24_bits_is_clamped_not_wrapped() {
    let mut out = Vec::new();
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: vec![block(2, -20_000_000), block(3, 20_000_000)],
    });
    write_compound(&[rr], &mut out);
    let RtcpPacket::ReceiverReport(back) = &parse_compound(&out).unwrap()[0] else {
        panic!()
    };
    assert_eq!(back.reports[0].cumulative_lost, -8_388_608);
    assert_eq!(back.reports[1].cumulative_lost, 8_388_607);
}

#[test]
fn malformed_datagrams_are_refused() {
    assert_eq!(parse_compound(&[]), Err(RtcpError::Empty));
    assert_eq!(parse_compound(&[0x80, 201]), Err(RtcpError::TooShort));
    assert_eq!(
        parse_compound(&[0x40, 201, 0, 1, 0, 0, 0, 1]),
        Err(RtcpError::Version(1))
    );
    // Length says 3 words; only 2 are there.
    assert_eq!(
        parse_compound(&[0x80, 201, 0, 2, 0, 0, 0, 1]),
        Err(RtcpError::Truncated)
    );
    // RC=1 but no report block.
    assert_eq!(
        parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
        Err(RtcpError::Body(201))
    );
    // Padding on the first of two packets.
    let mut two = vec![0xA0, 201, 0, 1, 0, 0, 0, 4];
    two.extend_from_slice(&[0x80, 201, 0, 1, 0, 0, 0, 1]);
    assert_eq!(parse_compound(&two), Err(RtcpError::Padding));
    // SDES item running past the chunk.
    assert_eq!(
        parse_compound(&[0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, b'a', 0]),
        Err(RtcpError::Body(202))
    );
    // Padding on the last packet is allowed and stripped.
    let padded = [0xA0, 201, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4];
    assert_eq!(
        parse_compound(&padded).unwrap(),
        vec![RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 1,
            reports: vec![]
        })]
    );
}

#[test]
fn rtcp_mux_tells_rtcp_from_rtp_by_the_second_byte() {
    for pt in [0u8, 8, 13, 96, 101, 127] {
        assert!(!is_rtcp(&[0x80, pt]), "RTP {pt}");
        assert!(!is_rtcp(&[0x80, pt | 0x80]), "RTP {pt} with marker");
    }
    for pt in 200..=207u8 {
        assert!(is_rtcp(&[0x80, pt]), "RTCP {pt}");
    }
    assert!(!is_rtcp(&[0x80]));
}
