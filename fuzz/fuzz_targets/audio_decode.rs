//! Every Play format's decoder (files fetched from customer URLs), whole and while downloading.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media::decode::{decode, Poll, StreamDecoder};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the hint (headerless G.711 needs one) and the download's piece size.
    let Some((&first, data)) = data.split_first() else {
        return;
    };
    let hint = ["x.ul", "x.al", "x.mp3", "x.wav"][first as usize % 4];
    let whole = decode(data, None, Some(hint)).map(|s| s.len());
    let mut d = StreamDecoder::new(None, Some(hint));
    let mut samples = 0;
    for chunk in data.chunks(1 + first as usize * 8) {
        d.push(chunk);
        while let Ok(Poll::Frame(_)) = d.poll_frame() {
            samples += media::FRAME_SAMPLES;
        }
    }
    d.finish();
    let end = loop {
        match d.poll_frame() {
            Ok(Poll::Frame(_)) => samples += media::FRAME_SAMPLES,
            Ok(Poll::End) => break Ok(()),
            Ok(Poll::NeedData) => panic!("needs data after finish"),
            Err(e) => break Err(e),
        }
    };
    // Decoding in pieces gives what decoding the whole gives (in padded frames).
    if let (Ok(len), Ok(())) = (whole, end) {
        assert_eq!(samples, len.div_ceil(media::FRAME_SAMPLES) * media::FRAME_SAMPLES);
    }
});
