//! Presentation of E.164 numbers (digits without `+`) for the DID object.

/// ISO 3166-1 alpha-3 code of a number's country, for the prefixes we know.
pub fn country_code(number: &str) -> &'static str {
    match number {
        n if n.starts_with('1') && n.len() == 11 => "USA",
        n if n.starts_with("44") => "GBR",
        n if n.starts_with("49") => "DEU",
        n if n.starts_with("33") => "FRA",
        n if n.starts_with("61") => "AUS",
        _ => "ZZZ",
    }
}

/// `(516) 206-5319` for North American numbers; the digits otherwise.
pub fn format_national(number: &str) -> String {
    match north_american(number) {
        Some((area, exchange, line)) => format!("({area}) {exchange}-{line}"),
        None => number.to_string(),
    }
}

/// `+1 516-206-5319` for North American numbers; `+` and the digits otherwise.
pub fn format_international(number: &str) -> String {
    match north_american(number) {
        Some((area, exchange, line)) => format!("+1 {area}-{exchange}-{line}"),
        None => format!("+{number}"),
    }
}

fn north_american(number: &str) -> Option<(&str, &str, &str)> {
    let rest = number
        .strip_prefix('1')
        .filter(|r| r.len() == 10 && r.bytes().all(|b| b.is_ascii_digit()))?;
    Some((&rest[0..3], &rest[3..6], &rest[6..10]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_reference() {
        assert_eq!(format_national("15162065319"), "(516) 206-5319");
        assert_eq!(format_international("15162065319"), "+1 516-206-5319");
        assert_eq!(country_code("15162065319"), "USA");
        assert_eq!(format_international("442071234567"), "+442071234567");
    }
}
