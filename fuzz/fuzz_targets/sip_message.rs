//! SIP message parser: anything it accepts must print to bytes that parse again, and the
//! second print must equal the first.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = sip::message::parse(data) {
        let printed = msg.to_bytes();
        let again = sip::message::parse(&printed)
            .unwrap_or_else(|e| panic!("accepted input printed to unparsable bytes: {e}"));
        assert_eq!(again.to_bytes(), printed, "printing is not a fixed point");
    }
});
