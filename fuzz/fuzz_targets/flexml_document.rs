//! FlexML parser (documents from customer web servers), on the input read as lossy UTF-8.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = callflow::flexml::parse(&text);
});
