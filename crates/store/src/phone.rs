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

/// `north_american` in SQL, in functions SQLite and PostgreSQL share (no GLOB, no regex): 11
/// characters, a leading 1, and nothing left once ASCII digits are trimmed away.
macro_rules! north_american_sql {
    () => {
        "length(d.phonenumber) = 11 AND substr(d.phonenumber, 1, 1) = '1' \
         AND trim(d.phonenumber, '0123456789') = ''"
    };
}

/// `format_national` of `d.phonenumber` in SQL, so DIDs filter and sort by what they show.
pub(crate) const NATIONAL_SQL: &str = concat!(
    "(CASE WHEN ",
    north_american_sql!(),
    " THEN '(' || substr(d.phonenumber, 2, 3) || ') ' || substr(d.phonenumber, 5, 3) || '-' \
     || substr(d.phonenumber, 8, 4) ELSE d.phonenumber END)"
);

/// `format_international` of `d.phonenumber` in SQL.
pub(crate) const INTERNATIONAL_SQL: &str = concat!(
    "(CASE WHEN ",
    north_american_sql!(),
    " THEN '+1 ' || substr(d.phonenumber, 2, 3) || '-' || substr(d.phonenumber, 5, 3) || '-' \
     || substr(d.phonenumber, 8, 4) ELSE '+' || d.phonenumber END)"
);

fn north_american(number: &str) -> Option<(&str, &str, &str)> {
    let rest = number
        .strip_prefix('1')
        .filter(|r| r.len() == 10 && r.bytes().all(|b| b.is_ascii_digit()))?;
    Some((&rest[0..3], &rest[3..6], &rest[6..10]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Backend};

    #[test]
    fn formats_like_the_reference() {
        assert_eq!(format_national("15162065319"), "(516) 206-5319");
        assert_eq!(format_international("15162065319"), "+1 516-206-5319");
        assert_eq!(country_code("15162065319"), "USA");
        assert_eq!(format_international("442071234567"), "+442071234567");
    }

    async fn the_sql_formats_agree_with_the_rust_ones(backend: Backend) {
        let store = testing::open(backend, "phone_sql").await.unwrap();
        for number in [
            "15162065319",
            "1516206531",
            "151620653190",
            "1516206531x",
            "442071234567",
            "",
        ] {
            let sql = format!(
                "SELECT {NATIONAL_SQL}, {INTERNATIONAL_SQL} FROM (SELECT CAST(? AS TEXT) AS phonenumber) d"
            );
            let (national, international): (String, String) =
                sqlx::query_as(&store.dialect().sql(&sql))
                    .bind(number)
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            assert_eq!(national, format_national(number), "{number}");
            assert_eq!(international, format_international(number), "{number}");
        }
    }

    crate::backend_tests!(the_sql_formats_agree_with_the_rust_ones);
}
