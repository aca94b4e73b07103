//! Property tests for the media parsers that see untrusted input: RTP packets from the network
//! and WAV files fetched from customer URLs; plus the G.711 laws.

use media::g711;
use media::rtp::RtpPacket;
use media::wav;
use proptest::prelude::*;

/// Builds an RTP packet by hand, with the optional parts `RtpPacket::write` never emits.
fn raw_packet(
    fixed: (u8, bool, u16, u32, u32),
    csrcs: &[u32],
    extension: &Option<(u16, Vec<u32>)>,
    payload: &[u8],
    padding: u8,
) -> Vec<u8> {
    let (pt, marker, seq, ts, ssrc) = fixed;
    let mut b0 = 0x80 | csrcs.len() as u8;
    if extension.is_some() {
        b0 |= 0x10;
    }
    if padding > 0 {
        b0 |= 0x20;
    }
    let mut out = vec![b0, pt | if marker { 0x80 } else { 0 }];
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    for c in csrcs {
        out.extend_from_slice(&c.to_be_bytes());
    }
    if let Some((profile, words)) = extension {
        out.extend_from_slice(&profile.to_be_bytes());
        out.extend_from_slice(&(words.len() as u16).to_be_bytes());
        for w in words {
            out.extend_from_slice(&w.to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    if padding > 0 {
        out.extend(std::iter::repeat_n(0u8, padding as usize - 1));
        out.push(padding);
    }
    out
}

fn fixed_header() -> impl Strategy<Value = (u8, bool, u16, u32, u32)> {
    (
        0u8..128,
        any::<bool>(),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
    )
}

fn sample_rate() -> impl Strategy<Value = u32> {
    prop_oneof![
        prop::sample::select(&[8000u32, 11025, 16000, 22050, 44100, 48000, 96000][..]),
        0u32..8,
        any::<u32>(),
    ]
}

/// A RIFF/WAVE file made of arbitrary chunks, some of them plausible `fmt ` chunks.
fn chunk() -> impl Strategy<Value = Vec<u8>> {
    let fmt_body = (
        prop::sample::select(&[1u16, 3, 6, 7, 0xFFFE, 2, 0][..]),
        any::<u16>(),
        sample_rate(),
        prop::sample::select(&[8u16, 16, 24, 32, 0, 12, 64][..]),
        prop::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(tag, channels, rate, bits, tail)| {
            let mut b = Vec::new();
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&(channels % 9).to_le_bytes());
            b.extend_from_slice(&rate.to_le_bytes());
            b.extend_from_slice(&[0; 6]);
            b.extend_from_slice(&bits.to_le_bytes());
            b.extend_from_slice(&tail);
            b
        });
    let body = prop_oneof![prop::collection::vec(any::<u8>(), 0..64), fmt_body];
    (
        prop::sample::select(vec![*b"fmt ", *b"data", *b"LIST", *b"fact", *b"\0\0\0\0"]),
        prop_oneof![Just(None), any::<u32>().prop_map(Some)],
        body,
    )
        .prop_map(|(id, size, body)| {
            let mut c = id.to_vec();
            c.extend_from_slice(&size.unwrap_or(body.len() as u32).to_le_bytes());
            c.extend_from_slice(&body);
            c
        })
}

proptest! {
    #[test]
    fn rtp_parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..1500)) {
        if let Ok(p) = RtpPacket::parse(&data) {
            prop_assert!(p.payload.len() + 12 <= data.len());
            prop_assert!(p.payload_type < 128);
        }
    }

    #[test]
    fn rtp_parse_never_panics_on_edited_headers(
        fixed in fixed_header(),
        b0 in any::<u8>(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = Vec::new();
        RtpPacket { payload_type: fixed.0, marker: fixed.1, sequence: fixed.2, timestamp: fixed.3, ssrc: fixed.4, payload: &payload }
            .write(&mut buf);
        // Any version/padding/extension/CSRC-count bits, and any length.
        buf[0] = 0x80 | (b0 & 0x3F);
        let len = cut.index(buf.len() + 1);
        let _ = RtpPacket::parse(&buf[..len]);
        let _ = RtpPacket::parse(&buf);
    }

    #[test]
    fn rtp_write_then_parse_round_trips(
        (payload_type, marker, sequence, timestamp, ssrc) in fixed_header(),
        payload in prop::collection::vec(any::<u8>(), 0..1400),
    ) {
        let pkt = RtpPacket { payload_type, marker, sequence, timestamp, ssrc, payload: &payload };
        let mut buf = vec![0xAA; 3]; // write clears whatever was there
        pkt.write(&mut buf);
        prop_assert_eq!(buf.len(), 12 + payload.len());
        prop_assert_eq!(RtpPacket::parse(&buf), Ok(pkt));
    }

    #[test]
    fn rtp_parse_skips_csrcs_extension_and_padding(
        fixed in fixed_header(),
        csrcs in prop::collection::vec(any::<u32>(), 0..16),
        extension in prop::option::of((any::<u16>(), prop::collection::vec(any::<u32>(), 0..8))),
        payload in prop::collection::vec(any::<u8>(), 0..256),
        padding in prop_oneof![Just(0u8), 1u8..=255],
    ) {
        let data = raw_packet(fixed, &csrcs, &extension, &payload, padding);
        let p = RtpPacket::parse(&data).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(p.payload, &payload[..]);
        prop_assert_eq!(
            (p.payload_type, p.marker, p.sequence, p.timestamp, p.ssrc),
            fixed
        );
    }

    #[test]
    fn wav_decode_never_panics_on_arbitrary_bytes(
        data in prop::collection::vec(any::<u8>(), 0..2048),
        riff in any::<bool>(),
    ) {
        let _ = wav::decode_to_call_rate(&data);
        // With the magic in place the chunk walker gets to run too.
        let mut magic = b"RIFF\0\0\0\0WAVE".to_vec();
        magic.extend_from_slice(&data);
        if riff {
            magic[4..8].copy_from_slice(&(data.len() as u32 + 4).to_le_bytes());
        }
        let _ = wav::decode_to_call_rate(&magic);
    }

    #[test]
    fn wav_decode_never_panics_on_chunk_soup(chunks in prop::collection::vec(chunk(), 0..6)) {
        let mut data = b"RIFF\0\0\0\0WAVE".to_vec();
        for c in chunks {
            data.extend_from_slice(&c);
        }
        if let Ok(out) = wav::decode_to_call_rate(&data) {
            prop_assert!(out.len() <= 2 * data.len(), "{} samples from {} bytes", out.len(), data.len());
        }
    }

    #[test]
    fn wav_decode_never_panics_on_a_valid_header_and_garbage(
        samples in prop::collection::vec(any::<i16>(), 0..64),
        garbage in prop::collection::vec(any::<u8>(), 0..1024),
        rate in sample_rate(),
        declared_len in prop::option::of(any::<u32>()),
    ) {
        let mut data = wav::encode_pcm16(&samples, rate);
        if let Some(len) = declared_len {
            // The data chunk's length, as a writer streaming on the fly may leave it.
            data[40..44].copy_from_slice(&len.to_le_bytes());
        }
        data.extend_from_slice(&garbage);
        let decoded = wav::decode_to_call_rate(&data);
        if rate < wav::MIN_RATE {
            prop_assert_eq!(decoded, Err(wav::WavError::SampleRate(rate)));
        } else if let Ok(out) = decoded {
            // Resampling never blows a file up by more than MIN_RATE allows.
            prop_assert!(out.len() <= 2 * data.len(), "{} samples from {} bytes", out.len(), data.len());
        }
    }

    #[test]
    fn wav_pcm16_at_the_call_rate_round_trips(
        samples in prop::collection::vec(any::<i16>(), 1..2048),
        garbage in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        // Trailing chunks after the data chunk are ignored. (Not after an empty one: a data
        // length of 0 means "written on the fly, take what is there".)
        let mut data = wav::encode_pcm16(&samples, media::CALL_RATE);
        data.extend_from_slice(&garbage);
        let decoded = wav::decode_to_call_rate(&data).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded, samples);
    }

    #[test]
    fn wav_g711_at_the_call_rate_decodes_each_byte(
        codes in prop::collection::vec(any::<u8>(), 1..1024),
        alaw in any::<bool>(),
    ) {
        // Patch the PCM header into 8-bit A-law (6) or µ-law (7).
        let mut data = wav::encode_pcm16(&[], media::CALL_RATE);
        data[20..22].copy_from_slice(&(if alaw { 6u16 } else { 7 }).to_le_bytes());
        data[32..34].copy_from_slice(&1u16.to_le_bytes());
        data[34..36].copy_from_slice(&8u16.to_le_bytes());
        data[40..44].copy_from_slice(&(codes.len() as u32).to_le_bytes());
        data.extend_from_slice(&codes);
        let decoded = wav::decode_to_call_rate(&data).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let want: Vec<i16> = codes
            .iter()
            .map(|c| if alaw { g711::alaw_to_linear(*c) } else { g711::ulaw_to_linear(*c) })
            .collect();
        prop_assert_eq!(decoded, want);
    }

    #[test]
    fn g711_encoding_is_monotonic(a in any::<i16>(), b in any::<i16>()) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(g711::ulaw_to_linear(g711::linear_to_ulaw(lo)) <= g711::ulaw_to_linear(g711::linear_to_ulaw(hi)));
        prop_assert!(g711::alaw_to_linear(g711::linear_to_alaw(lo)) <= g711::alaw_to_linear(g711::linear_to_alaw(hi)));
    }
}

#[test]
fn g711_decode_encode_decode_is_decode_for_every_byte() {
    for code in 0..=255u8 {
        let u = g711::ulaw_to_linear(code);
        assert_eq!(
            g711::ulaw_to_linear(g711::linear_to_ulaw(u)),
            u,
            "µ-law {code:#04x}"
        );
        let a = g711::alaw_to_linear(code);
        assert_eq!(
            g711::alaw_to_linear(g711::linear_to_alaw(a)),
            a,
            "A-law {code:#04x}"
        );
    }
}
