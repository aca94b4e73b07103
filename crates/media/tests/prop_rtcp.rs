//! Property tests for RTCP, which arrives from the network: parsing never panics, and what
//! we write parses back to itself.

use media::rtcp::{
    parse_compound, write_compound, Bye, ReceiverReport, ReportBlock, RtcpPacket, SdesChunk,
    SdesItem, SenderInfo, SenderReport,
};
use media::session::Encoding;
use media::MediaSession;
use proptest::prelude::*;
use std::time::Instant;

fn block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<(u32, u8, u32, u32, u32, u32)>(),
        -0x80_0000i32..=0x7F_FFFF,
    )
        .prop_map(
            |((ssrc, fraction_lost, ehs, jitter, lsr, dlsr), lost)| ReportBlock {
                ssrc,
                fraction_lost,
                cumulative_lost: lost,
                extended_highest_seq: ehs,
                jitter,
                last_sr: lsr,
                delay_since_last_sr: dlsr,
            },
        )
}

fn packet() -> impl Strategy<Value = RtcpPacket> {
    let blocks = || prop::collection::vec(block(), 0..=31);
    let text = prop::collection::vec(any::<u8>(), 0..=255);
    prop_oneof![
        (any::<(u32, u64, u32, u32, u32)>(), blocks()).prop_map(
            |((ssrc, ntp, ts, pc, oc), reports)| RtcpPacket::SenderReport(SenderReport {
                ssrc,
                info: SenderInfo {
                    ntp_timestamp: ntp,
                    rtp_timestamp: ts,
                    packet_count: pc,
                    octet_count: oc,
                },
                reports,
            })
        ),
        (any::<u32>(), blocks()).prop_map(|(ssrc, reports)| RtcpPacket::ReceiverReport(
            ReceiverReport { ssrc, reports }
        )),
        prop::collection::vec(
            (
                any::<u32>(),
                prop::collection::vec((1u8..=255, text.clone()), 0..4)
            ),
            0..=5
        )
        .prop_map(|chunks| RtcpPacket::SourceDescription(
            chunks
                .into_iter()
                .map(|(ssrc, items)| SdesChunk {
                    ssrc,
                    items: items
                        .into_iter()
                        .map(|(kind, text)| SdesItem { kind, text })
                        .collect(),
                })
                .collect()
        )),
        (
            prop::collection::vec(any::<u32>(), 0..=31),
            prop::option::of(text)
        )
            .prop_map(|(sources, reason)| RtcpPacket::Bye(Bye { sources, reason })),
        (
            204u8..=207,
            0u8..32,
            prop::collection::vec(any::<[u8; 4]>(), 0..20)
        )
            .prop_map(|(packet_type, count, words)| RtcpPacket::Other {
                packet_type,
                count,
                body: words.concat(),
            }),
    ]
}

proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_compound(&data);
    }

    #[test]
    fn rtcp_shaped_garbage_never_panics(
        count in 0u8..32,
        pt in 192u8..=223,
        len in any::<u16>(),
        body in prop::collection::vec(any::<u8>(), 0..300),
        padded in any::<bool>(),
    ) {
        let mut data = vec![0x80 | count | if padded { 0x20 } else { 0 }, pt];
        data.extend_from_slice(&len.to_be_bytes());
        data.extend_from_slice(&body);
        let _ = parse_compound(&data);
        // And through a session with rtcp-mux, where it must not be taken for audio.
        let mut s = MediaSession::new(Encoding::Ulaw, 0, 1, 0, 0);
        s.receive_at(Instant::now(), "192.0.2.1:5000".parse().unwrap(), &data);
        prop_assert_eq!(s.stats().packets_received, 0);
    }

    #[test]
    fn written_compounds_parse_back(packets in prop::collection::vec(packet(), 1..5)) {
        let mut out = Vec::new();
        write_compound(&packets, &mut out);
        prop_assert_eq!(out.len() % 4, 0);
        prop_assert_eq!(parse_compound(&out).unwrap(), packets);
    }
}
