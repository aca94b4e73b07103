//! RTP packet parser: an accepted packet's payload lies inside the datagram, after the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media::rtp::RtpPacket;

fuzz_target!(|data: &[u8]| {
    if let Ok(pkt) = RtpPacket::parse(data) {
        assert!(pkt.payload.len() + 12 <= data.len());
        let mut out = Vec::new();
        pkt.write(&mut out);
        assert_eq!(
            RtpPacket::parse(&out).as_ref().map(|p| p.payload),
            Ok(pkt.payload)
        );
    }
});
