//! Ogg pages and Vorbis headers: the fixture, and headers built to break each check.

use super::{fixture, passes, refused, whole};
use crate::decode::guard::ogg::crc;
use crate::decode::guard::vorbis::{
    check_decoder_headers, check_ident, check_setup, MAX_ENTRIES, MAX_VQ_VALUES,
};
use crate::decode::guard::{comment, Guard};
use crate::decode::AudioFormat;

/// Bits written least significant first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    fn put(&mut self, value: u64, n: u32) -> &mut Self {
        for i in 0..n {
            if self.bits & 7 == 0 {
                self.bytes.push(0);
            }
            let last = self.bytes.len() - 1;
            let bit = value.checked_shr(i).unwrap_or(0) & 1;
            self.bytes[last] |= (bit as u8) << (self.bits % 8);
            self.bits += 1;
        }
        self
    }
}

fn ident(channels: u8) -> Vec<u8> {
    let mut p = b"\x01vorbis\0\0\0\0".to_vec();
    p.push(channels);
    p.extend_from_slice(&8000u32.to_le_bytes());
    p.extend_from_slice(&[0; 12]);
    p.extend_from_slice(&[0xb8, 1]);
    p
}

/// A two-entry scalar codebook with 1-bit codewords.
fn small_book(w: &mut BitWriter) {
    w.put(0x56_4342, 24)
        .put(1, 16)
        .put(2, 24)
        .put(0, 1)
        .put(0, 1)
        .put(0, 5)
        .put(0, 5)
        .put(0, 4);
}

/// A setup header with the codebooks `books` writes (`count` of them) and one each of the
/// simplest floor, residue, mapping and mode.
fn setup(count: u32, books: impl Fn(&mut BitWriter)) -> Vec<u8> {
    let mut w = BitWriter::default();
    w.put(u64::from(count - 1), 8);
    books(&mut w);
    w.put(0, 6).put(0, 16); // time-domain transforms
    w.put(0, 6).put(1, 16).put(0, 5).put(0, 2).put(0, 4); // floor 1, no partitions
    w.put(0, 6)
        .put(0, 16)
        .put(0, 72)
        .put(0, 6)
        .put(0, 8)
        .put(0, 3)
        .put(0, 1); // residue 0
    w.put(0, 6)
        .put(0, 16)
        .put(0, 1)
        .put(0, 1)
        .put(0, 2)
        .put(0, 24); // mapping
    w.put(0, 6).put(0, 1).put(0, 32).put(0, 8); // mode
    w.put(1, 1); // framing
    [&b"\x05vorbis"[..], &w.bytes].concat()
}

/// An ordered codebook of `entries` 1-bit codewords with a lookup table of type `lookup`
/// holding `values` 1-bit values.
fn big_book(w: &mut BitWriter, dimensions: u64, entries: u64, lookup: u64, values: u32) {
    w.put(0x56_4342, 24)
        .put(dimensions, 16)
        .put(entries, 24)
        .put(1, 1)
        .put(0, 5);
    w.put(entries, 64 - entries.leading_zeros()).put(lookup, 4);
    if lookup != 0 {
        w.put(0, 64).put(0, 4).put(0, 1).put(0, values);
    }
}

#[test]
fn vorbis_headers_are_checked_in_full() {
    let id = check_ident(&ident(2)).expect("valid identification header");
    assert!(check_ident(&ident(0)).is_err());
    let mut bad_blocks = ident(1);
    bad_blocks[28] = 0x8b;
    assert!(check_ident(&bad_blocks).is_err());
    let ok = setup(1, small_book);
    check_setup(&ok, id).expect("a minimal valid setup");
    check_decoder_headers(&[ident(2), ok.clone()].concat()).expect("decoder headers");
    // The residue's classbook steps partitions by its dimensions.
    let flat = setup(1, |w| {
        w.put(0x56_4342, 24)
            .put(0, 16)
            .put(2, 24)
            .put(0, 2)
            .put(0, 10)
            .put(0, 4);
    });
    assert!(check_setup(&flat, id)
        .expect_err("refused")
        .contains("classbook of 0"));
    // Every bit is needed.
    let cut = &ok[..ok.len() - 1];
    assert!(check_setup(cut, id).is_err());
    assert!(check_decoder_headers(&ident(2)[..29]).is_err());
}

#[test]
fn codebooks_larger_than_vorbis_allows_are_refused() {
    let id = check_ident(&ident(1)).expect("valid");
    // 2^24 - 1 entries × 65535 dimensions: terabytes in symphonia, 20 bytes here.
    let huge = setup(1, |w| big_book(w, 65535, (1 << 24) - 1, 1, 1));
    let why = check_setup(&huge, id).expect_err("refused");
    assert!(
        why.contains("codebook 0") && why.contains("libvorbis"),
        "{why}"
    );
    assert!(check_decoder_headers(&[ident(1), huge].concat()).is_err());
    // Each within libvorbis's limit, too many lookup values together.
    let books = MAX_VQ_VALUES / 65535 / 255 + 1;
    let many = setup(books as u32, |w| {
        for _ in 0..books {
            big_book(w, 255, 65535, 1, 1);
        }
    });
    assert!(check_setup(&many, id)
        .expect_err("refused")
        .contains("lookup tables"));
    // Too many entries together.
    let books = MAX_ENTRIES / ((1 << 20) - 1) + 1;
    let entries = setup(books as u32, |w| {
        for _ in 0..books {
            big_book(w, 1, (1 << 20) - 1, 0, 0);
        }
    });
    assert!(check_setup(&entries, id)
        .expect_err("refused")
        .contains("entries in all"));
    // A type-2 table whose values are not in the packet.
    let missing = setup(1, |w| big_book(w, 2, 1000, 2, 8));
    assert!(check_setup(&missing, id)
        .expect_err("refused")
        .contains("bits"));
}

fn lacing(packets: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        out.resize(out.len() + p.len() / 255, 255);
        out.push((p.len() % 255) as u8);
    }
    out
}

fn page(flags: u8, sequence: u32, packets: &[&[u8]]) -> Vec<u8> {
    let lacing = lacing(packets);
    let mut p = b"OggS\0".to_vec();
    p.push(flags);
    p.extend_from_slice(&0u64.to_le_bytes());
    p.extend_from_slice(&7u32.to_le_bytes());
    p.extend_from_slice(&sequence.to_le_bytes());
    p.extend_from_slice(&[0; 4]);
    p.push(lacing.len() as u8);
    p.extend_from_slice(&lacing);
    p.extend(packets.concat());
    let sum = crc(&p);
    p[22..26].copy_from_slice(&sum.to_le_bytes());
    p
}

fn ogg(comment: &[u8], setup: &[u8]) -> Vec<u8> {
    [
        page(2, 0, &[&ident(1)]),
        page(0, 1, &[comment, setup]),
        page(4, 2, &[&[0u8; 20][..]]),
    ]
    .concat()
}

fn comment_packet(comments: &[&[u8]]) -> Vec<u8> {
    let mut p = b"\x03vorbis".to_vec();
    p.extend_from_slice(&3u32.to_le_bytes());
    p.extend_from_slice(b"abc");
    p.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in comments {
        p.extend_from_slice(&(c.len() as u32).to_le_bytes());
        p.extend_from_slice(c);
    }
    p
}

#[test]
fn the_ogg_fixture_passes_whole_and_in_every_prefix() {
    let data = fixture("tone.ogg");
    passes(&whole(AudioFormat::Ogg, &data), data.len());
    let mut growing = Guard::for_format(AudioFormat::Ogg);
    for cut in (0..=data.len()).step_by(61) {
        let v = Guard::for_format(AudioFormat::Ogg)
            .check(&data[..cut], false)
            .expect("guarded");
        assert_eq!(v.end, None);
        assert!(
            [0, 58, 3690, 5161, data.len()].contains(&v.visible),
            "{cut}: {v:?}"
        );
        assert_eq!(growing.check(&data[..cut], false), Some(v));
    }
}

#[test]
fn the_ogg_fixtures_setup_header_is_read() {
    // Break the first codebook's sync pattern (setup packet at 148, codebooks from 156).
    let mut data = fixture("tone.ogg");
    assert_eq!(&data[156..159], b"BCV");
    data[157] ^= 0xff;
    let sum = crc(&data[58..3690]);
    data[58 + 22..58 + 26].copy_from_slice(&sum.to_le_bytes());
    assert!(refused(&whole(AudioFormat::Ogg, &data)).contains("codebook 0: no sync"));
}

#[test]
fn hostile_ogg_headers_are_refused_where_they_start() {
    let good = ogg(&comment_packet(&[b"TITLE=x"]), &setup(1, small_book));
    passes(&whole(AudioFormat::Ogg, &good), good.len());
    let huge = ogg(
        &comment_packet(&[]),
        &setup(1, |w| big_book(w, 65535, (1 << 24) - 1, 1, 1)),
    );
    let v = whole(AudioFormat::Ogg, &huge);
    assert!(refused(&v).contains("codebook"));
    assert_eq!(v.visible, page(2, 0, &[&ident(1)]).len());
    // A comment longer than its packet.
    let mut lying = comment_packet(&[b"A=b"]);
    let at = lying.len() - 7;
    lying[at..at + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    refused(&whole(
        AudioFormat::Ogg,
        &ogg(&lying, &setup(1, small_book)),
    ));
    // A bad page is skipped, as symphonia skips it.
    let mut damaged = good.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    passes(&whole(AudioFormat::Ogg, &damaged), damaged.len());
}

#[test]
fn pictures_in_comments_are_bounded() {
    let picture = |data_len: u32| {
        let mut block = 3u32.to_be_bytes().to_vec();
        block.extend_from_slice(&9u32.to_be_bytes());
        block.extend_from_slice(b"image/png");
        block.extend_from_slice(&0u32.to_be_bytes());
        block.extend_from_slice(&[0; 16]);
        block.extend_from_slice(&data_len.to_be_bytes());
        block.extend_from_slice(&[1, 2, 3]);
        block
    };
    let b64 = |bytes: &[u8]| -> Vec<u8> {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for c in bytes.chunks(3) {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..=c.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize]);
            }
        }
        out
    };
    let comment = |block: &[u8]| [&b"METADATA_BLOCK_PICTURE="[..], &b64(block)].concat();
    let body = |c: &[u8]| comment_packet(&[c])[7..].to_vec();
    comment::check_comments(&body(&comment(&picture(3)))).expect("fits");
    let why = comment::check_comments(&body(&comment(&picture(1 << 31)))).expect_err("refused");
    assert!(why.contains("picture data"), "{why}");
    // Not base64: symphonia skips it.
    comment::check_comments(&body(b"metadata_block_picture=!!!!")).expect("skipped");
    assert!(comment::check_picture(&picture(4)).is_err());
}
