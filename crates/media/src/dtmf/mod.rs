//! DTMF: key presses carried out of band as RFC 4733 telephone-events, or in band as tone pairs
//! in the audio. Both receive paths report a press the same way, once at its start and once at
//! its end, so the call logic does not care which one the far end used.

pub mod dial;
pub mod goertzel;
pub mod rfc4733;
pub mod tone;

pub use dial::{DialError, DialStep, DialTiming};
pub use goertzel::DtmfDetector;
pub use rfc4733::{TelephoneEvent, TelephoneEventReceiver, TelephoneEventSender};
pub use tone::ToneSender;

/// One key press as seen by a receiver. `DigitStarted` comes as early as the receiver can be
/// sure (barge-in stops the prompt on it); `DigitEnded` follows exactly once per start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfEvent {
    DigitStarted(char),
    DigitEnded { digit: char, duration_ms: u32 },
}

/// Peak amplitude, in 16-bit linear samples, of a 0 dBm0 sine. G.711's loudest sine is
/// +3.17 dBm0 and decodes to ±32124, which puts 0 dBm0 at 32124 / 10^(3.17/20).
pub const ZERO_DBM0_PEAK: f64 = 22_300.0;

/// The sixteen keys in RFC 4733 event-code order (§3.2), which is also the order used to index
/// the tone table below.
const DIGITS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

/// Row (low group) frequencies of the keypad, in Hz (ITU-T Q.23).
pub const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// Column (high group) frequencies of the keypad, in Hz.
pub const COLUMN_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The keypad as laid out: `KEYPAD[row][column]`.
const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The digit for an RFC 4733 event code; codes above 15 are other tones and signals.
pub fn digit_for_event(code: u8) -> Option<char> {
    DIGITS.get(code as usize).copied()
}

/// The RFC 4733 event code for a key; lowercase `a`–`d` are accepted as the letter keys.
pub fn event_for_digit(digit: char) -> Option<u8> {
    let digit = digit.to_ascii_uppercase();
    DIGITS.iter().position(|d| *d == digit).map(|i| i as u8)
}

/// The key at a row and column of the keypad.
pub fn digit_at(row: usize, column: usize) -> Option<char> {
    KEYPAD.get(row)?.get(column).copied()
}

/// The (row, column) frequencies of a key, in Hz.
pub fn frequencies(digit: char) -> Option<(f32, f32)> {
    let digit = digit.to_ascii_uppercase();
    KEYPAD.iter().enumerate().find_map(|(r, row)| {
        row.iter()
            .position(|d| *d == digit)
            .map(|c| (ROW_HZ[r], COLUMN_HZ[c]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_and_keypad_agree() {
        for code in 0..16u8 {
            let d = digit_for_event(code).unwrap();
            assert_eq!(event_for_digit(d), Some(code));
            assert!(frequencies(d).is_some(), "{d}");
        }
        assert_eq!(digit_for_event(16), None);
        assert_eq!(event_for_digit('b'), Some(13));
        assert_eq!(event_for_digit(','), None);
        assert_eq!(frequencies('5'), Some((770.0, 1336.0)));
        assert_eq!(digit_at(3, 2), Some('#'));
    }
}
