//! The list query language (`filter` and `order` query parameters of the APIs), on the input
//! read as lossy UTF-8: parsing and compiling never panic, and what parses prints back to text
//! that parses to the same AST.
#![no_main]

use libfuzzer_sys::fuzz_target;
use store::query::{compile_filter, compile_order, Filter, Order};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(filter) = Filter::parse(&text) {
        assert_eq!(Filter::parse(&filter.to_string()).as_ref(), Ok(&filter));
        let _ = compile_filter(&filter, store::DID_FIELDS);
        let _ = compile_filter(&filter, store::ACCOUNT_FIELDS);
    }
    if let Ok(order) = Order::parse(&text) {
        assert_eq!(Order::parse(&order.to_string()).as_ref(), Ok(&order));
        let _ = compile_order(&order, store::DID_FIELDS);
    }
});
