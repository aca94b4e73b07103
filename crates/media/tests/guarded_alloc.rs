//! What the guards are for, measured: a counting global allocator records the largest single
//! allocation while damaged Ogg Vorbis and MP4 files are decoded, whole and streamed, and it
//! must stay within the bounds of `src/decode/guard/` (64 MiB for a sample; Vorbis decoder
//! tables of at most 4 Mi floats; tables of at most the file's size). Damage is aimed at the
//! headers: bytes flipped and 32-bit fields overwritten with extreme counts, with Ogg page CRCs
//! recomputed so that it reaches the Vorbis header readers.

mod ogg_crc;

use media::decode::{decode, Poll, StreamDecoder};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The largest allocation allowed: a sample of `MAX_SAMPLE` (64 MiB), which the damaged size
/// tables of the M4A fixtures reach, and a little.
const LIMIT: usize = (64 << 20) + (1 << 20);

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Each fixture, and the end of the headers the damage is aimed at.
const TARGETS: [(&str, usize); 3] = [
    ("tone.ogg", 3690),
    ("tone.m4a", 830),
    ("tone_moov_last.mp4", 5447),
];

#[derive(Debug, Clone)]
enum Damage {
    Flip(prop::sample::Index, u8),
    /// A 32-bit field, big- or little-endian alike: 0, 1, all ones, the top bit, or any.
    Count(prop::sample::Index, u32),
}

fn damage() -> impl Strategy<Value = Damage> {
    let count = prop_oneof![
        Just(0u32),
        Just(1),
        Just(u32::MAX),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        any::<u32>()
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), 1..=255u8).prop_map(|(i, x)| Damage::Flip(i, x)),
        (any::<prop::sample::Index>(), count).prop_map(|(i, c)| Damage::Count(i, c)),
    ]
}

fn damaged() -> impl Strategy<Value = Vec<u8>> {
    (
        0..TARGETS.len(),
        prop::collection::vec(damage(), 1..6),
        any::<prop::sample::Index>(),
        0..4u8,
    )
        .prop_map(|(which, damage, cut, how)| {
            let (name, headers) = TARGETS[which];
            let mut data = std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_default();
            let headers = headers.min(data.len());
            if headers < 4 {
                return data;
            }
            for d in damage {
                match d {
                    Damage::Flip(at, x) => data[at.index(headers)] ^= x,
                    Damage::Count(at, c) => {
                        let i = at.index(headers - 3);
                        data[i..i + 4].copy_from_slice(&c.to_be_bytes());
                    }
                }
            }
            ogg_crc::fix_crcs(&mut data);
            // Mostly whole; sometimes cut.
            if how == 0 {
                data.truncate(cut.index(data.len()) + 1);
            }
            data
        })
}

proptest! {
    #[test]
    fn damaged_headers_never_make_the_decoders_allocate_much(
        data in damaged(),
        piece in 1usize..2000,
    ) {
        LARGEST.store(0, Ordering::Relaxed);
        let _ = decode(&data, None, None);
        let mut d = StreamDecoder::new(None, None);
        for chunk in data.chunks(piece) {
            d.push(chunk);
            while let Ok(Poll::Frame(_)) = d.poll_frame() {}
        }
        d.finish();
        while let Ok(Poll::Frame(_)) = d.poll_frame() {}
        let largest = LARGEST.load(Ordering::Relaxed);
        prop_assert!(largest <= LIMIT, "an allocation of {} bytes", largest);
    }
}
