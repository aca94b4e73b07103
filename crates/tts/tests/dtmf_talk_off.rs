//! Talk-off: the in-band DTMF detector must not hear keys in speech. Over ten minutes of
//! synthesised English (both voices, prompts, digits and numbers read out, loud and quiet,
//! through µ-law as in a call), it must report nothing at all.

use media::dtmf::DtmfDetector;
use media::{g711, CALL_RATE, FRAME_SAMPLES};
use tts::{Flite, Tts, Voice};

const TEXTS: &[&str] = &[
    "Thank you for calling. Your call is important to us. Please stay on the line and the next available agent will be with you shortly.",
    "For billing questions, press one. For technical support, press two. To speak with an operator, press zero, or stay on the line.",
    "Please enter your account number followed by the pound key. If you do not know your account number, press the star key.",
    "Your balance is four hundred and twelve dollars and thirty seven cents, due on the fifteenth of next month.",
    "One two three four five six seven eight nine zero. Zero nine eight seven six five four three two one.",
    "Oh five five, one two one two. Seven seven seven, eight eight eight, nine nine nine nine.",
    "The number you have dialed, nine one seven, five five five, zero one four two, is not in service.",
    "Your confirmation code is alpha bravo charlie, six six three, delta echo, two one.",
    "We are open Monday through Friday from eight in the morning until six in the evening, and Saturday from nine to noon.",
    "Sorry, I didn't catch that. Could you please repeat your answer a little more slowly?",
    "The weather today will be sunny with a high of seventy eight degrees and a light breeze from the south west.",
    "Flight two four nine to Chicago is now boarding at gate thirty one. Passengers in group three may now board.",
    "To hear these options again, press nine. To return to the main menu, press the star key at any time.",
    "Her voice rose higher and higher, singing a long, clear note that seemed to hang in the air forever.",
    "Whistling softly, the old man walked along the beach, looking for shells among the wet, grey stones.",
    "A bright, steady tone rang out from the bell tower as the children ran across the square.",
    "Eeeee, ooooo, aaaah. Mmmmm, hmmmm. Weeee, wooo, yaaay! Hello? Hello? Is anybody there?",
    "Seventeen, seventy, seven hundred, seven thousand, seven million, seven billion and seventy seven.",
    "Twenty one, thirty two, forty three, fifty four, sixty five, seventy six, eighty seven, ninety eight.",
    "The quick brown fox jumps over the lazy dog, while the five boxing wizards jump quickly.",
    "Please hold while we transfer your call. This call may be recorded for quality and training purposes.",
    "If you are calling about an existing order, please have your order number ready. It begins with the letters A B.",
    "Meet me at twelve fifteen at the corner of Fifth Avenue and Forty Second Street, near the library steps.",
    "Press one for English. Para español, oprima el dos. Pour le français, appuyez sur le trois.",
    "It was a cold, clear night, and the stars shone brightly over the silent, snow covered hills.",
    "We will call you back at six one seven, four nine two, three three eight eight, within twenty four hours.",
    "The meeting has been moved from Tuesday at three thirty to Thursday at nine forty five in room two oh four.",
    "Beep. Boop. Ding dong. Tick tock. Ring ring. Buzz buzz. La la la la la.",
    "Good morning, good afternoon, good evening, and good night. Welcome, and thank you for choosing us.",
    "Your package with tracking number one Z nine nine eight seven, four four three, was delivered at the front door.",
    "Say yes to confirm, or no to cancel. You can also press one for yes or two for no.",
    "Several bright blue birds sang sweetly in the tall green trees beside the quiet stream.",
    "The total comes to one hundred and nineteen dollars and ninety nine cents, including tax and shipping.",
    "Oh, really? That's wonderful news! I'm so happy for you, and I can't wait to hear all about it.",
    "Please leave your message after the tone. When you are finished, you may hang up or press pound for more options.",
    "Eleven, twelve, thirteen, fourteen, fifteen, sixteen, seventeen, eighteen, nineteen, twenty.",
    "He read the list aloud: apples, oranges, bananas, grapes, cherries, lemons, limes and peaches.",
    "The emergency line is nine one one. For non emergencies, please dial three one one.",
    "A large, heavy ship sailed slowly out of the harbour as the evening fog rolled in from the sea.",
    "Your PIN must be four to eight digits long and cannot begin with zero or repeat the same digit.",
    "Queue position three. Estimated wait time, two minutes and forty seconds. Thank you for your patience.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "Room service is available from six in the morning until midnight. Dial extension four four two.",
    "Zero zero zero, one one one, two two two, three three three, four four four, five five five.",
    "Six six six, seven seven seven, eight eight eight, nine nine nine, star star, pound pound.",
    "The train now arriving on platform nine is the eleven forty express service to the airport.",
    "Happy birthday to you, happy birthday dear friend, happy birthday to you, and many more.",
    "Is this the right number for customer service? I have been waiting on hold for a very long time.",
    "Please say or enter the last four digits of your social security number, then press pound.",
    "The concert will begin at eight o'clock sharp, so please take your seats and silence your phones.",
];

fn normalise(speech: &[i16], peak: f64) -> Vec<i16> {
    let max = speech
        .iter()
        .map(|s| (*s as i32).abs())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let gain = peak / max;
    speech
        .iter()
        .map(|s| (*s as f64 * gain).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[test]
fn ten_minutes_of_speech_hold_no_keys() {
    let tts = Flite::new();
    let mut speech = Vec::new();
    for voice in [Voice::Woman, Voice::Man] {
        for text in TEXTS {
            let audio = tts.synthesize(voice, text).expect("flite speaks");
            // Each utterance loud (peaks near full scale, +6 dB on top of that with clipping),
            // at a normal level, and quiet (30 dB down).
            for peak in [65_000.0, 30_000.0, 8_000.0, 1_000.0] {
                speech.push(normalise(&audio, peak));
            }
        }
    }
    let total: usize = speech.iter().map(Vec::len).sum();
    let minutes = total as f64 / CALL_RATE as f64 / 60.0;
    assert!(minutes >= 10.0, "only {minutes:.1} minutes of speech");

    let mut detector = DtmfDetector::new();
    let mut heard = Vec::new();
    let gap = [0i16; FRAME_SAMPLES];
    for utterance in &speech {
        // One stream, as in a call: the detector is never reset between utterances.
        for frame in utterance.chunks(FRAME_SAMPLES) {
            let mut buf = [0i16; FRAME_SAMPLES];
            for (dst, src) in buf.iter_mut().zip(frame) {
                *dst = g711::ulaw_to_linear(g711::linear_to_ulaw(*src));
            }
            detector.process(&buf, |e| heard.push(e));
        }
        for _ in 0..10 {
            detector.process(&gap, |e| heard.push(e));
        }
    }
    assert_eq!(
        heard,
        vec![],
        "keys heard in {minutes:.1} minutes of speech"
    );
}
