//! Answering machine detection on synthetic calls, on virtual time: a caller who says one short
//! word and waits, greetings that go on, silence, and the limits.

use media::detect::{Amd, AmdOutcome, AmdParams, AmdStatus};
use std::f64::consts::TAU;

/// A call's audio, as (voiced?, milliseconds) segments. Voice is a vowel-like harmonic sound
/// with a syllable-rate wobble (mean |x| over 1000); silence is line noise (mean |x| about 50).
fn call(segments: &[(bool, u32)]) -> Vec<Vec<i16>> {
    let mut rng = 0x1234_5678_9abc_def1u64;
    let mut n = 0u64;
    let mut frames = Vec::new();
    for &(voiced, ms) in segments {
        for _ in 0..ms / 20 {
            let frame = (0..160)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let noise = ((rng >> 33) % 161) as f64 - 80.0;
                    let t = n as f64 / 8000.0;
                    n += 1;
                    let voice = if voiced {
                        let env = 0.8 + 0.2 * (TAU * 4.0 * t).sin();
                        env * (1..=6)
                            .map(|h| (TAU * 140.0 * h as f64 * t).sin() * 1500.0 / h as f64)
                            .sum::<f64>()
                    } else {
                        0.0
                    };
                    (voice + noise) as i16
                })
                .collect();
            frames.push(frame);
        }
    }
    frames
}

fn run(params: AmdParams, segments: &[(bool, u32)]) -> Option<AmdOutcome> {
    let mut amd = Amd::new(params);
    // An arbitrary clock origin: only differences matter.
    let t0 = 1_000_000u64;
    call(segments)
        .iter()
        .enumerate()
        .find_map(|(i, f)| amd.frame(t0 + i as u64 * 20, f))
}

/// The reference's example: initialSilence 5000, greeting 2000, afterGreetingSilence 500,
/// totalAnalysisTime 10000.
fn example() -> AmdParams {
    AmdParams {
        initial_silence_ms: 5000,
        greeting_ms: 2000,
        after_greeting_silence_ms: 500,
        total_analysis_time_ms: 10_000,
        ..AmdParams::default()
    }
}

fn expect(o: Option<AmdOutcome>, status: AmdStatus, cause: &str, at_ms: u32) {
    let o = o.expect("a decision");
    assert_eq!(
        (o.status, o.cause.as_str(), o.at_ms),
        (status, cause, at_ms)
    );
}

#[test]
fn hello_then_silence_is_human() {
    let o = run(example(), &[(false, 600), (true, 500), (false, 3000)]);
    expect(o, AmdStatus::Human, "HUMAN-500-500", 1600);
    let o = run(
        AmdParams::default(),
        &[(false, 300), (true, 400), (false, 3000)],
    );
    expect(o, AmdStatus::Human, "HUMAN-800-800", 1500);
}

#[test]
fn many_words_is_a_machine() {
    // "Hi, you've reached Anna and Bob, leave a message": short words, short gaps.
    let mut greeting = vec![(false, 400)];
    for _ in 0..8 {
        greeting.extend([(true, 300), (false, 160)]);
    }
    // The fourth word is one too many once it is 100 ms long: 400 + 3 × 460 + 100.
    expect(
        run(example(), &greeting),
        AmdStatus::Machine,
        "MAXWORDS-4-3",
        1880,
    );
}

#[test]
fn a_long_greeting_is_a_machine() {
    // Two long words: the second brings the greeting's voice to 2000 ms.
    let o = run(
        example(),
        &[(false, 200), (true, 1200), (false, 200), (true, 2000)],
    );
    expect(o, AmdStatus::Machine, "LONGGREETING-2000-2000", 2400);
}

#[test]
fn nobody_speaking_is_a_machine() {
    let o = run(AmdParams::default(), &[(false, 6000)]);
    expect(o, AmdStatus::Machine, "INITIALSILENCE-2500-2500", 2500);
}

#[test]
fn one_endless_word_is_a_machine() {
    let params = AmdParams {
        greeting_ms: 60_000,
        total_analysis_time_ms: 60_000,
        ..AmdParams::default()
    };
    let o = run(params, &[(false, 100), (true, 8000)]);
    expect(o, AmdStatus::Machine, "MAXWORDLENGTH-5000", 5100);
}

#[test]
fn clicks_shorter_than_a_word_until_time_runs_out_are_not_sure() {
    // 60 ms bursts are below minimumWordLength and break up the initial silence.
    let mut clicks = Vec::new();
    for _ in 0..30 {
        clicks.extend([(true, 60), (false, 240)]);
    }
    let o = run(AmdParams::default(), &clicks);
    expect(o, AmdStatus::NotSure, "TOOLONG-5000", 5000);
}

#[test]
fn hangup_before_a_decision() {
    let mut amd = Amd::new(AmdParams::default());
    for (i, f) in call(&[(false, 600), (true, 400)]).iter().enumerate() {
        assert_eq!(amd.frame(i as u64 * 20, f), None);
    }
    let o = amd.hangup();
    assert_eq!(
        (o.status, o.cause.as_str()),
        (AmdStatus::Hangup, "HANGUP-1000")
    );
    assert_eq!(o.status.to_string(), "HANGUP");
}

#[test]
fn missing_packets_count_as_silence_and_the_outcome_sticks() {
    let frames = call(&[(true, 400)]);
    let mut amd = Amd::new(example());
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(amd.frame(i as u64 * 20, f), None);
    }
    // The next packet comes 600 ms late: 500 ms of that gap is the after-greeting silence.
    let quiet = vec![0i16; 160];
    let o = amd.frame(400 + 600, &quiet);
    expect(o.clone(), AmdStatus::Human, "HUMAN-500-500", 900);
    assert_eq!(amd.frame(2000, &frames[0]), o);
    assert_eq!(Some(amd.hangup()), o);
}

#[test]
fn the_threshold_decides_what_is_silence() {
    // With the threshold above the voice's level, everything is silence.
    let params = AmdParams {
        silence_threshold: 30_000,
        ..AmdParams::default()
    };
    let o = run(params, &[(true, 3000)]);
    expect(o, AmdStatus::Machine, "INITIALSILENCE-2500-2500", 2500);
}
