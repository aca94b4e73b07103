//! SDP offer parser and codec negotiation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(offer) = sip::sdp::parse_offer(data) {
        let _ = sip::sdp::negotiate(&offer);
    }
});
