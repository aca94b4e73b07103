//! MP4 boxes: the fixtures, and each check on a box built to break it.

use super::{fixture, passes, refused, whole};
use crate::decode::guard::mp4::MAX_SAMPLE;
use crate::decode::guard::{End, Guard};
use crate::decode::AudioFormat;

fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// A full box: version and flags first.
fn full(kind: &[u8; 4], version_flags: u32, payload: &[u8]) -> Vec<u8> {
    bx(kind, &[&version_flags.to_be_bytes()[..], payload].concat())
}

fn ftyp() -> Vec<u8> {
    bx(b"ftyp", b"M4A \0\0\0\0isom")
}

/// `ftyp`, then a `moov` holding one track whose sample table is `stbl`, then media data.
fn mp4_with_stbl(stbl: &[u8]) -> Vec<u8> {
    let minf = bx(b"minf", &bx(b"stbl", stbl));
    let trak = bx(b"trak", &bx(b"mdia", &minf));
    [ftyp(), bx(b"moov", &trak), bx(b"mdat", &[0; 16])].concat()
}

/// A table box: count, then `present` bytes of entries.
fn table(kind: &[u8; 4], count: u32, present: usize) -> Vec<u8> {
    full(
        kind,
        0,
        &[&count.to_be_bytes()[..], &vec![1; present]].concat(),
    )
}

#[test]
fn the_mp4_fixtures_pass_whole_and_in_every_prefix() {
    for name in ["tone.m4a", "tone_moov_last.mp4"] {
        let data = fixture(name);
        passes(&whole(AudioFormat::Mp4, &data), data.len());
        let mut growing = Guard::for_format(AudioFormat::Mp4);
        let mut last = 0;
        for cut in (0..=data.len()).step_by(97) {
            let v = Guard::for_format(AudioFormat::Mp4)
                .check(&data[..cut], false)
                .expect("guarded");
            assert_eq!(v.end, None, "{name} at {cut}");
            assert!(v.visible <= cut);
            let g = growing.check(&data[..cut], false).expect("guarded");
            assert_eq!(g, v, "{name}: fed in pieces, at {cut}");
            assert!(g.visible >= last);
            last = g.visible;
        }
    }
    // The `moov` of the fast-start file (bytes 28..822) is shown only once whole.
    let data = fixture("tone.m4a");
    let mut g = Guard::for_format(AudioFormat::Mp4);
    assert_eq!(g.check(&data[..821], false).map(|v| v.visible), Some(28));
    assert_eq!(g.check(&data[..900], false).map(|v| v.visible), Some(900));
}

#[test]
fn a_sample_to_chunk_count_past_its_box_is_refused() {
    // Symphonia would ask for 0x7fffffff × 16 bytes before reading one entry.
    let data = mp4_with_stbl(&table(b"stsc", 0x7fff_ffff, 0));
    assert!(data.len() < 200);
    let why = refused(&whole(AudioFormat::Mp4, &data)).to_string();
    assert!(why.contains("stsc declares 2147483647 entries"), "{why}");
    // The same while downloading: nothing of `moov` is shown.
    let v = Guard::for_format(AudioFormat::Mp4).check(&data, false);
    assert_eq!(v.map(|v| v.visible), Some(ftyp().len()));
}

#[test]
fn every_count_driven_table_must_fit_its_box() {
    let cases: [(&[u8; 4], usize); 4] = [(b"stts", 8), (b"stsc", 12), (b"stco", 4), (b"co64", 8)];
    for (kind, entry) in cases {
        let fits = mp4_with_stbl(&table(kind, 3, 3 * entry));
        passes(&whole(AudioFormat::Mp4, &fits), fits.len());
        let short = mp4_with_stbl(&table(kind, 3, 3 * entry - 1));
        refused(&whole(AudioFormat::Mp4, &short));
    }
    // Sample sizes: a table only when the constant size is 0, and each size bounded.
    let stsz = |size: u32, count: u32, entries: &[u32]| {
        let sizes: Vec<u8> = entries.iter().flat_map(|e| e.to_be_bytes()).collect();
        let body = [&size.to_be_bytes()[..], &count.to_be_bytes(), &sizes].concat();
        mp4_with_stbl(&full(b"stsz", 0, &body))
    };
    passes(
        &whole(AudioFormat::Mp4, &stsz(400, 1 << 30, &[])),
        stsz(400, 1 << 30, &[]).len(),
    );
    refused(&whole(AudioFormat::Mp4, &stsz(0, 3, &[1, 2])));
    let huge = MAX_SAMPLE as u32 + 1;
    refused(&whole(AudioFormat::Mp4, &stsz(huge, 1, &[])));
    refused(&whole(AudioFormat::Mp4, &stsz(0, 2, &[1, huge])));
    // Chunks count from 1.
    let zero_chunk = mp4_with_stbl(&full(
        b"stsc",
        0,
        &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1],
    ));
    assert!(refused(&whole(AudioFormat::Mp4, &zero_chunk)).contains("chunk 0"));
}

#[test]
fn lengths_symphonia_subtracts_from_must_fit() {
    let in_mdia = |b: Vec<u8>| {
        let trak = bx(b"trak", &bx(b"mdia", &b));
        [ftyp(), bx(b"moov", &trak)].concat()
    };
    refused(&whole(
        AudioFormat::Mp4,
        &in_mdia(full(b"hdlr", 0, &[0; 19])),
    ));
    let ok = in_mdia(full(b"hdlr", 0, &[0; 20]));
    passes(&whole(AudioFormat::Mp4, &ok), ok.len());
    let tags = |part: Vec<u8>| {
        let ilst = bx(b"ilst", &bx(b"\xa9nam", &part));
        [ftyp(), bx(b"moov", &bx(b"udta", &full(b"meta", 0, &ilst)))].concat()
    };
    refused(&whole(AudioFormat::Mp4, &tags(bx(b"data", &[0; 7]))));
    refused(&whole(AudioFormat::Mp4, &tags(bx(b"name", &[0; 3]))));
    let ok = tags(full(b"data", 1, b"\0\0\0\0title"));
    passes(&whole(AudioFormat::Mp4, &ok), ok.len());
    let meta = [ftyp(), bx(b"meta", &[0; 3])].concat();
    refused(&whole(AudioFormat::Mp4, &meta));
}

#[test]
fn boxes_must_nest() {
    let moov = |inner: Vec<u8>| [ftyp(), bx(b"moov", &inner)].concat();
    // A child larger than its parent, of size 0, shorter than its header, or stray bytes.
    let mut big = bx(b"trak", &[0; 8]);
    big[3] = 40;
    assert!(refused(&whole(AudioFormat::Mp4, &moov(big))).contains("declares 40 bytes"));
    let mut zero = bx(b"trak", &[]);
    zero[3] = 0;
    assert!(refused(&whole(AudioFormat::Mp4, &moov(zero))).contains("size 0"));
    let mut tiny = bx(b"trak", &[]);
    tiny[3] = 4;
    refused(&whole(AudioFormat::Mp4, &moov(tiny)));
    refused(&whole(AudioFormat::Mp4, &moov(vec![0; 5])));
    // A 64-bit size is read; unknown boxes only have to fit.
    let mut large = vec![0, 0, 0, 1];
    large.extend_from_slice(b"free");
    large.extend_from_slice(&24u64.to_be_bytes());
    large.extend_from_slice(&[0; 8]);
    let ok = moov([large, bx(b"junk", &[9; 9])].concat());
    passes(&whole(AudioFormat::Mp4, &ok), ok.len());
    // Size 0 at the top level: fine for media data, not for a box symphonia parses.
    let open_mdat = [ftyp(), vec![0, 0, 0, 0], b"mdat".to_vec(), vec![7; 50]].concat();
    passes(&whole(AudioFormat::Mp4, &open_mdat), open_mdat.len());
    let open_moov = [ftyp(), vec![0, 0, 0, 0], b"moov".to_vec()].concat();
    refused(&whole(AudioFormat::Mp4, &open_moov));
}

#[test]
fn a_cut_file_ends_where_it_is_cut() {
    let data = fixture("tone.m4a");
    // Inside `moov`: nothing can play.
    assert!(refused(&whole(AudioFormat::Mp4, &data[..500])).contains("cut short"));
    // Inside the media data: all of it is shown.
    passes(&whole(AudioFormat::Mp4, &data[..2000]), 2000);
    // Inside a later fragment or a few bytes of a header: what precedes plays.
    let moof = [&data[..], &bx(b"moof", &[0; 40])[..30]].concat();
    let v = whole(AudioFormat::Mp4, &moof);
    assert_eq!((v.visible, v.end), (data.len(), Some(End::Cut)));
    let header = [&data[..], &[0, 0, 1][..]].concat();
    assert_eq!(whole(AudioFormat::Mp4, &header).end, Some(End::Cut));
}

/// An `esds` (in an `mp4a` sample entry) with the given descriptors.
fn esds_file(descriptors: &[u8]) -> Vec<u8> {
    let mut entry = vec![0u8; 28];
    entry.extend(full(b"esds", 0, descriptors));
    let stsd = full(
        b"stsd",
        0,
        &[&1u32.to_be_bytes()[..], &bx(b"mp4a", &entry)].concat(),
    );
    mp4_with_stbl(&stsd)
}

#[test]
fn decoder_specific_info_must_fit_in_esds() {
    // ES (tag 3) { id, flags, DecoderConfig (tag 4) { 13 bytes, DSI (tag 5) }, SL (tag 6) }.
    let es = |dsi_len: u8, dsi: &[u8]| {
        let config = [
            &[0x04, 15 + dsi.len() as u8][..],
            &[0x40; 13],
            &[0x05, dsi_len],
            dsi,
        ]
        .concat();
        let body = [&[0, 1, 0][..], &config, &[0x06, 1, 2]].concat();
        [&[0x03, body.len() as u8][..], &body].concat()
    };
    let ok = esds_file(&es(2, &[0x12, 0x10]));
    passes(&whole(AudioFormat::Mp4, &ok), ok.len());
    assert!(refused(&whole(
        AudioFormat::Mp4,
        &esds_file(&es(120, &[0x12, 0x10]))
    ))
    .contains("decoder specific info"));
    // A length of 0x0fffffff (four length bytes) in a small box.
    let huge = [
        &[0x03, 0x80, 0x80, 0x80, 0x10][..],
        &[0, 1, 0],
        &[0x04, 0xff, 0xff, 0xff, 0x7f],
    ]
    .concat();
    refused(&whole(AudioFormat::Mp4, &esds_file(&huge)));
    assert!(refused(&whole(AudioFormat::Mp4, &esds_file(&[0x06, 1, 2]))).contains("without an ES"));
    refused(&whole(AudioFormat::Mp4, &esds_file(&[0x03, 2, 0, 1, 0])));
}

#[test]
fn fragment_runs_are_bounded() {
    let moof = |trun: Vec<u8>| {
        let traf = bx(b"traf", &[full(b"tfhd", 0, &[0; 4]), trun].concat());
        [ftyp(), bx(b"moof", &traf)].concat()
    };
    // Durations and sizes for 2 samples: 16 bytes.
    let trun = |count: u32, sizes: [u32; 2]| {
        let table: Vec<u8> = sizes
            .iter()
            .flat_map(|s| [10u32.to_be_bytes(), s.to_be_bytes()])
            .flatten()
            .collect();
        full(b"trun", 0x300, &[&count.to_be_bytes()[..], &table].concat())
    };
    passes(
        &whole(AudioFormat::Mp4, &moof(trun(2, [5, 6]))),
        moof(trun(2, [5, 6])).len(),
    );
    refused(&whole(AudioFormat::Mp4, &moof(trun(3, [5, 6]))));
    refused(&whole(
        AudioFormat::Mp4,
        &moof(trun(2, [5, MAX_SAMPLE as u32 + 1])),
    ));
    // No per-sample fields: any count.
    let bare = moof(full(b"trun", 0, &u32::MAX.to_be_bytes()));
    passes(&whole(AudioFormat::Mp4, &bare), bare.len());
}
