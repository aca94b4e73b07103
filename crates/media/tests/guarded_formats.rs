//! Ogg Vorbis and MP4 are on by default behind pre-validators (`src/decode/guard/`): files
//! built to make symphonia 0.5 allocate gigabytes or terabytes (which aborts the process) are
//! refused as corrupt, whole or streamed, and damage after good audio only ends the audio.

mod ogg_crc;

use media::decode::{decode, DecodeError, Poll, StreamDecoder};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture present")
}

fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// An M4A whose sample-to-chunk table claims 0x7fffffff entries: symphonia would reserve 32 GB
/// for it before reading one.
fn stsc_bomb() -> Vec<u8> {
    let stsc = bx(b"stsc", &[0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]);
    let stbl = bx(b"stbl", &stsc);
    let trak = bx(b"trak", &bx(b"mdia", &bx(b"minf", &stbl)));
    [
        bx(b"ftyp", b"M4A \0\0\0\0"),
        bx(b"moov", &trak),
        bx(b"mdat", &[0; 64]),
    ]
    .concat()
}

/// Decodes in pieces; the first error, if any.
fn stream(data: &[u8], piece: usize) -> Result<usize, DecodeError> {
    let mut d = StreamDecoder::new(None, None);
    let mut frames = 0;
    for chunk in data.chunks(piece) {
        d.push(chunk);
        while let Poll::Frame(_) = d.poll_frame()? {
            frames += 1;
        }
    }
    d.finish();
    while let Poll::Frame(_) = d.poll_frame()? {
        frames += 1;
    }
    Ok(frames)
}

fn corrupt(result: Result<impl std::fmt::Debug, DecodeError>, mentions: &str) {
    match result {
        Err(DecodeError::Corrupt(why)) => assert!(why.contains(mentions), "{why}"),
        other => panic!("expected Corrupt mentioning {mentions:?}, got {other:?}"),
    }
}

#[test]
fn an_mp4_table_count_beyond_its_box_is_refused() {
    let bomb = stsc_bomb();
    assert!(bomb.len() < 200);
    corrupt(
        decode(&bomb, None, Some("a.m4a")),
        "stsc declares 2147483647 entries",
    );
    for piece in [1, 7, 100] {
        corrupt(stream(&bomb, piece), "stsc");
    }
}

#[test]
fn an_mp4_behind_an_id3_tag_does_not_reach_the_mp4_reader() {
    // Sniffed as MP3 by its tag; symphonia's default probe would have found `ftyp` after it.
    let tagged = [&b"ID3\x04\0\0\0\0\0\x02ab"[..], &stsc_bomb()].concat();
    assert!(decode(&tagged, None, None).is_err());
    assert!(stream(&tagged, 5).is_err());
}

#[test]
fn damage_after_the_audio_only_ends_it() {
    let good = fixture("tone.m4a");
    let whole = decode(&good, None, None).expect("fixture decodes");
    // A fragment box of size 0 ("to the end") after the media data.
    let damaged = [&good[..], b"\0\0\0\0moof"].concat();
    assert_eq!(decode(&damaged, None, None), Ok(whole.clone()));
    assert_eq!(stream(&damaged, 333), Ok(whole.len().div_ceil(160)));
}

/// Bits least significant first, as Vorbis packs them.
#[derive(Default)]
struct Bits(Vec<u8>, usize);

impl Bits {
    fn put(&mut self, value: u64, n: u32) -> &mut Self {
        for i in 0..n {
            if self.1 & 7 == 0 {
                self.0.push(0);
            }
            let last = self.0.len() - 1;
            self.0[last] |= ((value.checked_shr(i).unwrap_or(0) & 1) as u8) << (self.1 % 8);
            self.1 += 1;
        }
        self
    }
}

/// A Vorbis setup header whose one codebook has 2^24 - 1 entries of 65535 dimensions with a
/// lookup table: 4 TB of floats in symphonia's decoder, in a 20-byte header.
fn codebook_bomb() -> Vec<u8> {
    let mut b = Bits::default();
    b.put(0, 8)
        .put(0x56_4342, 24)
        .put(65535, 16)
        .put((1 << 24) - 1, 24);
    b.put(1, 1)
        .put(0, 5)
        .put((1 << 24) - 1, 24)
        .put(1, 4)
        .put(0, 64)
        .put(0, 6);
    [&b"\x05vorbis"[..], &b.0].concat()
}

/// The Ogg fixture with its second page (comment and setup headers) rebuilt around `comment`
/// and `setup`.
fn ogg_with_headers(comment: &[u8], setup: &[u8]) -> Vec<u8> {
    let data = fixture("tone.ogg");
    let mut lacing = Vec::new();
    for p in [comment, setup] {
        lacing.resize(lacing.len() + p.len() / 255, 255u8);
        lacing.push((p.len() % 255) as u8);
    }
    let mut page = data[58..58 + 26].to_vec();
    page[22..26].fill(0);
    page.push(lacing.len() as u8);
    page.extend(lacing);
    page.extend_from_slice(comment);
    page.extend_from_slice(setup);
    let sum = ogg_crc::crc(&page);
    page[22..26].copy_from_slice(&sum.to_le_bytes());
    [&data[..58], &page, &data[3690..]].concat()
}

fn fixture_comment_and_setup() -> (Vec<u8>, Vec<u8>) {
    let data = fixture("tone.ogg");
    (data[100..148].to_vec(), data[148..3690].to_vec())
}

#[test]
fn a_vorbis_codebook_of_terabytes_is_refused() {
    let (comment, setup) = fixture_comment_and_setup();
    // The rebuilt page itself is faithful.
    let same = ogg_with_headers(&comment, &setup);
    assert_eq!(same, fixture("tone.ogg"));
    let bomb = ogg_with_headers(&comment, &codebook_bomb());
    corrupt(decode(&bomb, None, None), "codebook 0");
    for piece in [3, 500] {
        corrupt(stream(&bomb, piece), "codebook 0");
    }
}

#[test]
fn a_vorbis_comment_longer_than_its_packet_is_refused() {
    let (mut comment, setup) = fixture_comment_and_setup();
    // The vendor string's length, then the comment count: claim one comment of 4 GB.
    let vendor = u32::from_le_bytes([comment[7], comment[8], comment[9], comment[10]]) as usize;
    let count_at = 11 + vendor;
    comment.truncate(count_at);
    comment.extend_from_slice(&1u32.to_le_bytes());
    comment.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    comment.extend_from_slice(b"TITLE=x\x01");
    corrupt(
        decode(&ogg_with_headers(&comment, &setup), None, None),
        "comment",
    );
}

proptest! {
    /// Any count in any sample table of the M4A fixture: decoding never aborts, and a count
    /// whose entries are not in the box is refused.
    #[test]
    fn table_counts_never_abort(
        which in 0..5usize,
        count in prop_oneof![0u32..40, any::<u32>()],
        piece in 50usize..3000,
    ) {
        let mut data = fixture("tone.m4a");
        // stts, stsc, stsz's count, stco, elst: where the count is, its entry size and room.
        let (field, entry, room) = [(551, 8, 16), (583, 12, 12), (615, 4, 68), (699, 4, 4), (264, 12, 12)][which];
        data[field..field + 4].copy_from_slice(&count.to_be_bytes());
        let whole = decode(&data, None, None);
        if u64::from(count) * entry > room {
            prop_assert!(matches!(whole, Err(DecodeError::Corrupt(_))), "{:?}", whole);
        }
        let _ = stream(&data, piece);
    }
}
