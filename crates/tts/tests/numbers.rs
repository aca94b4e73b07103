//! How the built-in engine reads numbers, checked on the words flite's text analysis produces
//! (the utterance's "Word" relation, the same analysis that drives the audio), since there is
//! no speech recogniser to listen to it. The FlexML reference (Say): "“123” will be read as
//! “one hundred twenty-three” and “1 2 3” will be read as “one two three”."

use tts::{Flite, Voice};

fn words(tts: &Flite, voice: Voice, text: &str) -> Vec<String> {
    tts.words(voice, text).unwrap()
}

#[test]
fn integers_are_read_as_the_reference_says_in_both_voices() {
    let tts = Flite::new();
    for voice in [Voice::Man, Voice::Woman] {
        assert_eq!(
            words(&tts, voice, "123"),
            ["one", "hundred", "twenty", "three"],
            "{voice:?}"
        );
        assert_eq!(
            words(&tts, voice, "1 2 3"),
            ["one", "two", "three"],
            "{voice:?}"
        );
    }
}

#[test]
fn integers_inside_a_sentence_are_read_the_same_way() {
    let tts = Flite::new();
    assert_eq!(
        words(&tts, Voice::Woman, "Your code is 1 2 3."),
        ["your", "code", "is", "one", "two", "three"]
    );
    assert_eq!(
        words(&tts, Voice::Man, "Call 123 now"),
        ["call", "one", "hundred", "twenty", "three", "now"]
    );
}

/// The table in docs/flexml-behaviour.md (Say): flite's own reading, which flexvox does not
/// change. If this fails after a flite upgrade, update that table.
#[test]
fn other_number_forms_read_as_documented() {
    let tts = Flite::new();
    let table: &[(&str, &str)] = &[
        ("1,234", "one thousand two hundred thirty four"),
        ("2026", "twenty twenty six"),
        ("3.5", "three point five"),
        ("-7", "minus seven"),
        ("$5", "five dollars"),
        ("555-1234", "five five five one two three four"),
        (
            "15550000001",
            "fifteen billion five hundred fifty million one",
        ),
        ("1st", "first"),
        // The word "+" is said "plus".
        ("+15550000001", "+ one fifty five fifty zero thousand one"),
    ];
    for (text, said) in table {
        assert_eq!(words(&tts, Voice::Woman, text).join(" "), *said, "{text}");
    }
}

#[test]
fn words_rejects_a_nul_byte() {
    assert!(Flite::new().words(Voice::Woman, "1\0 2").is_err());
}
