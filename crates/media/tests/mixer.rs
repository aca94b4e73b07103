//! The conference mixer: the loudest speakers chosen with hysteresis, everyone else hearing
//! one shared mix, speakers hearing it without themselves, saturating sums.

use media::mixer::{Frame, Mixer, MixerConfig, ParticipantId};
use std::f64::consts::TAU;

fn tone(hz: f64, amp: f64, tick: usize) -> Frame {
    std::array::from_fn(|i| {
        let n = tick * 160 + i;
        (amp * (TAU * hz * n as f64 / 8000.0).sin()) as i16
    })
}

fn room(n: usize) -> (Mixer, Vec<ParticipantId>) {
    let mut m = Mixer::new(MixerConfig::default());
    let ids = (0..n).map(|_| m.join()).collect();
    (m, ids)
}

/// Amplitudes per participant for one tick.
fn frames(amps: &[f64], tick: usize) -> Vec<Frame> {
    amps.iter()
        .enumerate()
        .map(|(i, a)| tone(200.0 + 37.0 * i as f64, *a, tick))
        .collect()
}

fn mix(m: &mut Mixer, ids: &[ParticipantId], frames: &[Frame]) {
    m.mix(ids.iter().copied().zip(frames.iter()));
}

fn sat(v: i32) -> i16 {
    v.clamp(-32768, 32767) as i16
}

#[test]
fn the_three_loudest_of_ten_are_mixed_and_each_hears_the_others() {
    let (mut m, ids) = room(10);
    let mut amps = [60.0; 10];
    amps[2] = 6000.0;
    amps[5] = 9000.0;
    amps[7] = 4000.0;
    amps[9] = 1000.0; // audible, but fourth
    let f = frames(&amps, 0);
    mix(&mut m, &ids, &f);
    let mut active = m.active_speakers().to_vec();
    active.sort();
    assert_eq!(active, vec![ids[2], ids[5], ids[7]]);
    #[allow(clippy::needless_range_loop)] // Sample by sample across five frames.
    for i in 0..160 {
        let (a, b, c) = (f[2][i] as i32, f[5][i] as i32, f[7][i] as i32);
        assert_eq!(m.shared()[i], sat(a + b + c), "sample {i}");
        assert_eq!(
            m.output(ids[2])[i],
            sat(b + c),
            "2 hears 5 and 7, sample {i}"
        );
        assert_eq!(m.output(ids[5])[i], sat(a + c), "sample {i}");
        assert_eq!(m.output(ids[7])[i], sat(a + b), "sample {i}");
    }
    for listener in [0, 1, 3, 4, 6, 8, 9] {
        assert_eq!(m.output(ids[listener]), m.shared(), "listener {listener}");
    }
}

#[test]
fn sums_saturate_instead_of_wrapping() {
    let (mut m, ids) = room(4);
    let loud = [[20000i16; 160], [20000; 160], [-30000; 160], [0; 160]];
    mix(&mut m, &ids, &loud);
    assert_eq!(m.shared()[0], 10000);
    assert_eq!(m.output(ids[0])[0], -10000);
    let loud = [[20000i16; 160], [20000; 160], [15000; 160], [0; 160]];
    mix(&mut m, &ids, &loud);
    assert_eq!(m.shared()[0], 32767);
    assert_eq!(m.output(ids[2])[0], 32767, "40000 clamps");
    assert_eq!(m.output(ids[0])[0], 32767, "35000 clamps");
    let low = [[-20000i16; 160], [-20000; 160], [-15000; 160], [0; 160]];
    mix(&mut m, &ids, &low);
    assert_eq!(m.shared()[0], -32768);
}

#[test]
fn the_set_does_not_flap_between_similar_voices() {
    let (mut m, ids) = room(5);
    let mut changes = 0;
    let mut last = Vec::new();
    for tick in 0..200 {
        // Four similar voices whose levels cross each other every frame.
        let wobble = if tick % 2 == 0 { 1.2 } else { 0.8 };
        let amps = [5000.0, 5000.0 * wobble, 5000.0 / wobble, 5200.0, 0.0];
        mix(&mut m, &ids, &frames(&amps, tick));
        let mut now = m.active_speakers().to_vec();
        now.sort();
        if now != last {
            changes += 1;
            last = now;
        }
    }
    assert_eq!(changes, 1, "chosen once, then stable");
    assert_eq!(m.active_speakers().len(), 3);
}

#[test]
fn a_clearly_louder_voice_takes_over_and_a_silent_speaker_leaves_after_the_hangover() {
    let (mut m, ids) = room(5);
    for tick in 0..20 {
        mix(
            &mut m,
            &ids,
            &frames(&[3000.0, 3000.0, 3000.0, 0.0, 0.0], tick),
        );
    }
    // A much louder fourth voice replaces one of the three.
    mix(
        &mut m,
        &ids,
        &frames(&[3000.0, 3000.0, 3000.0, 12000.0, 0.0], 20),
    );
    assert!(m.is_speaking(ids[3]));
    assert_eq!(m.active_speakers().len(), 3);
    // Participant 0 and 1 fall silent (send nothing): they stay through the hangover only.
    let mut left_at = None;
    for tick in 21..80 {
        let f = frames(&[0.0, 0.0, 3000.0, 12000.0, 0.0], tick);
        m.mix([(ids[2], &f[2]), (ids[3], &f[3])]);
        if left_at.is_none() && !m.is_speaking(ids[0]) && !m.is_speaking(ids[1]) {
            left_at = Some(tick);
        }
    }
    let left_at = left_at.expect("silent speakers leave");
    assert!((30..=45).contains(&left_at), "left at {left_at}");
    // Absent speakers contribute nothing: the listener hears exactly 2 and 3.
    let f = frames(&[0.0, 0.0, 3000.0, 12000.0, 0.0], 80);
    m.mix([(ids[2], &f[2]), (ids[3], &f[3])]);
    let heard = m.output(ids[4]);
    for ((out, a), b) in heard.iter().zip(&f[2]).zip(&f[3]) {
        assert_eq!(*out, sat(*a as i32 + *b as i32));
    }
}

#[test]
fn quiet_rooms_have_no_speakers_and_leaving_frees_the_slot() {
    let (mut m, ids) = room(3);
    mix(&mut m, &ids, &frames(&[50.0, 80.0, 0.0], 0));
    assert!(m.active_speakers().is_empty());
    assert!(m.shared().iter().all(|s| *s == 0));
    mix(&mut m, &ids, &frames(&[5000.0, 80.0, 0.0], 1));
    assert_eq!(m.active_speakers(), &[ids[0]]);
    m.leave(ids[0]);
    assert!(m.active_speakers().is_empty());
    assert_eq!(m.len(), 2);
    assert_eq!(m.join(), ids[0], "slot reused");
    assert!(!m.is_speaking(ids[0]));
}
