//! The in-band detector against ITU-T Q.24's operate and non-operate conditions, with tone
//! pairs generated here and passed through µ-law as they would arrive in a call.

mod common;

use common::*;
use media::dtmf::frequencies;

/// Every key for 100 ms with 100 ms gaps; each must come out once, in order, about 100 ms long.
fn assert_all_keys(level_dbm0: f64, twist_db: f64) {
    let mut audio = silence(ms(60));
    for digit in ALL_KEYS.chars() {
        audio.extend(key(digit, level_dbm0, twist_db, ms(100)));
        audio.extend(silence(ms(100)));
    }
    let got = presses(&detect(&ulaw(&audio)));
    let keys: String = got.iter().map(|(d, _)| *d).collect();
    assert_eq!(
        keys, ALL_KEYS,
        "{level_dbm0} dBm0, twist {twist_db} dB: {got:?}"
    );
    for (digit, duration) in got {
        assert!(
            (95..=105).contains(&duration),
            "{digit} at {level_dbm0} dBm0, twist {twist_db} dB lasted {duration} ms"
        );
    }
}

#[test]
fn all_keys_at_minus_3_10_and_20_dbm0() {
    for level in [-3.0, -10.0, -20.0] {
        assert_all_keys(level, 0.0);
    }
}

#[test]
fn all_keys_with_6_db_normal_twist() {
    for level in [-3.0, -10.0, -20.0] {
        assert_all_keys(level, 6.0);
    }
}

#[test]
fn all_keys_with_3_db_reverse_twist() {
    for level in [-3.0, -10.0, -20.0] {
        assert_all_keys(level, -3.0);
    }
}

#[test]
fn all_keys_in_white_noise_at_20_db_snr() {
    let mut audio = silence(ms(60));
    for digit in ALL_KEYS.chars() {
        audio.extend(key(digit, -10.0, 0.0, ms(100)));
        audio.extend(silence(ms(100)));
    }
    add_noise(&mut audio, -30.0, 7);
    let keys: String = presses(&detect(&ulaw(&audio)))
        .iter()
        .map(|(d, _)| *d)
        .collect();
    assert_eq!(keys, ALL_KEYS);
}

#[test]
fn noise_alone_is_not_a_key() {
    let mut audio = silence(ms(10_000));
    add_noise(&mut audio, -10.0, 11);
    assert_eq!(detect(&ulaw(&audio)), vec![]);
}

/// One key with its row and column frequencies scaled.
fn shifted(digit: char, row_factor: f64, column_factor: f64) -> Vec<i16> {
    let (r, c) = frequencies(digit).unwrap();
    let mut audio = silence(ms(50));
    audio.extend(tone_pair(
        r as f64 * row_factor,
        c as f64 * column_factor,
        -10.0,
        0.0,
        ms(100),
    ));
    ulaw(&audio)
}

#[test]
fn accepts_tones_1_5_percent_off() {
    for digit in ALL_KEYS.chars() {
        for (rf, cf) in [
            (1.015, 1.015),
            (0.985, 0.985),
            (1.015, 0.985),
            (0.985, 1.015),
        ] {
            let got = presses(&detect(&shifted(digit, rf, cf)));
            assert_eq!(got.len(), 1, "{digit} ×{rf}/×{cf}: {got:?}");
            assert_eq!(got[0].0, digit);
        }
    }
}

#[test]
fn rejects_tones_3_5_percent_off() {
    for digit in ALL_KEYS.chars() {
        for (rf, cf) in [
            (1.035, 1.0),
            (0.965, 1.0),
            (1.0, 1.035),
            (1.0, 0.965),
            (1.035, 1.035),
            (0.965, 0.965),
        ] {
            let got = detect(&shifted(digit, rf, cf));
            assert_eq!(got, vec![], "{digit} ×{rf}/×{cf}");
        }
    }
}

/// One key of the given length, starting `offset` samples into a frame.
fn burst(digit: char, millis: u32, offset: usize) -> Vec<i16> {
    let mut audio = silence(ms(40) + offset);
    audio.extend(key(digit, -10.0, 0.0, ms(millis)));
    ulaw(&audio)
}

#[test]
fn accepts_40_ms_at_every_alignment() {
    for digit in ALL_KEYS.chars() {
        for offset in (0..160).step_by(10) {
            let got = presses(&detect(&burst(digit, 40, offset)));
            assert_eq!(got.len(), 1, "{digit} at +{offset}: {got:?}");
            assert_eq!(got[0].0, digit);
        }
    }
}

#[test]
fn rejects_35_ms_at_every_alignment() {
    for digit in ALL_KEYS.chars() {
        for offset in (0..160).step_by(10) {
            assert_eq!(
                detect(&burst(digit, 35, offset)),
                vec![],
                "{digit} at +{offset}"
            );
        }
    }
}

fn with_twist(digit: char, twist_db: f64) -> Vec<i16> {
    let mut audio = silence(ms(50));
    audio.extend(key(digit, -10.0, twist_db, ms(100)));
    ulaw(&audio)
}

#[test]
fn accepts_twist_just_inside_the_limits() {
    for digit in ALL_KEYS.chars() {
        for twist in [7.5, -3.5] {
            let got = presses(&detect(&with_twist(digit, twist)));
            assert_eq!(got.len(), 1, "{digit} twist {twist}: {got:?}");
        }
    }
}

#[test]
fn rejects_twist_beyond_the_limits() {
    for digit in ALL_KEYS.chars() {
        for twist in [9.0, -5.0] {
            assert_eq!(
                detect(&with_twist(digit, twist)),
                vec![],
                "{digit} twist {twist}"
            );
        }
    }
}

#[test]
fn two_presses_50_ms_apart_are_two() {
    for (first, second) in [('5', '5'), ('1', '#')] {
        let mut audio = silence(ms(30));
        audio.extend(key(first, -10.0, 0.0, ms(60)));
        audio.extend(silence(ms(50)));
        audio.extend(key(second, -10.0, 0.0, ms(60)));
        let got = presses(&detect(&ulaw(&audio)));
        let keys: Vec<char> = got.iter().map(|(d, _)| *d).collect();
        assert_eq!(keys, vec![first, second], "{got:?}");
    }
}

#[test]
fn a_10_ms_dropout_does_not_split_a_press() {
    let mut audio = silence(ms(30));
    audio.extend(key('8', -10.0, 0.0, ms(80)));
    audio.extend(silence(ms(10)));
    audio.extend(key('8', -10.0, 0.0, ms(80)));
    let got = presses(&detect(&ulaw(&audio)));
    assert_eq!(got.len(), 1, "{got:?}");
}

#[test]
fn a_long_press_is_reported_once_with_its_length() {
    let mut audio = silence(ms(30));
    audio.extend(key('0', -10.0, 0.0, ms(3000)));
    let got = presses(&detect(&ulaw(&audio)));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!((2990..=3010).contains(&got[0].1), "{got:?}");
}

#[test]
fn the_start_is_reported_within_the_frame_after_40_ms() {
    let mut detector = media::dtmf::DtmfDetector::new();
    let audio = ulaw(&key('9', -10.0, 0.0, ms(200)));
    let mut started_at = None;
    for (i, frame) in audio.chunks(160).enumerate() {
        detector.process(frame, |e| {
            if matches!(e, media::dtmf::DtmfEvent::DigitStarted('9')) && started_at.is_none() {
                started_at = Some(i);
            }
        });
    }
    // 37.5 ms of tone is certain once the window reaching 45 ms is in: in the third frame
    // (40-60 ms), not later.
    assert_eq!(started_at, Some(2));
}
