//! The guards on the fixtures (which must pass whole and in every prefix), on hand-built hostile
//! boxes, pages and headers (which must be refused, naming the structure), and on random input
//! (no panic; feeding the bytes in pieces gives the same verdict as feeding them at once).

mod mp4;
mod ogg;

use super::{End, Guard, Verdict};
use crate::decode::AudioFormat;
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture present")
}

fn whole(format: AudioFormat, data: &[u8]) -> Verdict {
    Guard::for_format(format)
        .check(data, true)
        .expect("a guarded format")
}

fn passes(v: &Verdict, len: usize) {
    assert_eq!(
        v,
        &Verdict {
            visible: len,
            end: None
        }
    );
}

/// The reason of a refusal, or a panic naming what came instead.
fn refused(v: &Verdict) -> &str {
    match &v.end {
        Some(End::Corrupt(why)) => why,
        other => panic!("not refused: {other:?} at {}", v.visible),
    }
}

const PREFIXES: [(&[u8], AudioFormat); 2] = [
    (b"\0\0\0\x18ftypM4A ", AudioFormat::Mp4),
    (b"OggS\0\x02", AudioFormat::Ogg),
];

fn input() -> impl Strategy<Value = (AudioFormat, Vec<u8>)> {
    let random = (0..2usize, prop::collection::vec(any::<u8>(), 0..600))
        .prop_map(|(p, rest)| (PREFIXES[p].1, [PREFIXES[p].0, &rest].concat()));
    let mutated = (
        prop::sample::select(vec!["tone.m4a", "tone_moov_last.mp4", "tone.ogg"]),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    )
        .prop_map(|(name, flips)| {
            let mut data = fixture(name);
            for (at, x) in flips {
                let i = at.index(data.len());
                data[i] ^= x;
            }
            let format = if name.ends_with(".ogg") {
                AudioFormat::Ogg
            } else {
                AudioFormat::Mp4
            };
            (format, data)
        });
    prop_oneof![random, mutated]
}

proptest! {
    #[test]
    fn guards_take_any_bytes_in_any_pieces((format, data) in input(), piece in 1usize..900) {
        let mut growing = Guard::for_format(format);
        let mut last = 0;
        let mut at = 0;
        while at < data.len() {
            at = (at + piece).min(data.len());
            let v = growing.check(&data[..at], false).expect("guarded");
            prop_assert!(v.visible <= at && v.visible >= last);
            last = v.visible;
        }
        let fed = growing.check(&data, true);
        prop_assert_eq!(fed, Guard::for_format(format).check(&data, true));
    }

    /// Any count in any sample table of the fixture: refused exactly when the entries it
    /// announces are not in its box.
    #[test]
    fn table_counts_are_refused_exactly_when_they_overrun(which in 0..4usize, count in any::<u32>()) {
        let mut data = fixture("tone.m4a");
        // stts, stsc, stsz (after its constant size), stco: offsets and entry sizes.
        let (at, kind, entry, size) = [(539, b"stts", 8, 32), (571, b"stsc", 12, 28), (599, b"stsz", 4, 88), (687, b"stco", 4, 20)][which];
        prop_assert_eq!(&data[at + 4..at + 8], &kind[..]);
        let field = if kind == b"stsz" { at + 16 } else { at + 12 };
        data[field..field + 4].copy_from_slice(&count.to_be_bytes());
        let room = (size - (field + 4 - at)) as u64;
        let v = whole(AudioFormat::Mp4, &data);
        prop_assert_eq!(v.end.is_some(), u64::from(count) * entry > room, "{:?}", v);
    }
}
