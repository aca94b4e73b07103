//! The SQL dialects the store speaks. Queries are written once, in the subset SQLite and
//! PostgreSQL share, with `?` placeholders; this module holds the few places they differ that
//! are not expressions of the query compiler (`query::compile`): placeholder syntax, and the
//! sqlx `Any` driver passes SQL text through unchanged, so PostgreSQL needs `$1..$n`.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect of a database URL (`postgres://`, `postgresql://`, else SQLite).
    pub fn of_url(url: &str) -> Dialect {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        }
    }

    /// `sql` with its `?` placeholders as this dialect numbers them. SQLite takes the text as
    /// it is; PostgreSQL gets `$1..$n`. A `?` inside a string literal, a quoted identifier or
    /// a comment is text, not a placeholder. The store never uses PostgreSQL's `?` jsonb
    /// operators, so every other `?` is a placeholder.
    pub fn sql(self, sql: &str) -> Cow<'_, str> {
        match self {
            Dialect::Sqlite => Cow::Borrowed(sql),
            Dialect::Postgres => Cow::Owned(numbered_placeholders(sql)),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Scan {
    Code,
    /// Inside `'…'` (`''` is two adjacent literals as far as `?` is concerned).
    Literal,
    /// Inside `"…"`.
    Identifier,
    LineComment,
    BlockComment,
}

fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut state = Scan::Code;
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (state, c) {
            (Scan::Code, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            (Scan::Code, '\'') => state = Scan::Literal,
            (Scan::Code, '"') => state = Scan::Identifier,
            (Scan::Code, '-') if chars.peek() == Some(&'-') => state = Scan::LineComment,
            (Scan::Code, '/') if chars.peek() == Some(&'*') => {
                out.push(c);
                out.extend(chars.next());
                state = Scan::BlockComment;
                continue;
            }
            (Scan::Literal, '\'') | (Scan::Identifier, '"') | (Scan::LineComment, '\n') => {
                state = Scan::Code
            }
            (Scan::BlockComment, '*') if chars.peek() == Some(&'/') => {
                out.push(c);
                out.extend(chars.next());
                state = Scan::Code;
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_literals_identifiers_and_comments() {
        let pg = |s: &str| Dialect::Postgres.sql(s).into_owned();
        assert_eq!(pg("a = ? AND b IN (?, ?)"), "a = $1 AND b IN ($2, $3)");
        assert_eq!(pg("x LIKE '%?%' AND y = ?"), "x LIKE '%?%' AND y = $1");
        assert_eq!(pg("'it''s?' = ?"), "'it''s?' = $1");
        assert_eq!(
            pg(r#"SELECT "a?b" FROM t WHERE c = ?"#),
            r#"SELECT "a?b" FROM t WHERE c = $1"#
        );
        assert_eq!(pg("-- why?\nx = ?"), "-- why?\nx = $1");
        assert_eq!(pg("/* ? */ x = ? /**/ ?"), "/* ? */ x = $1 /**/ $2");
        assert_eq!(pg("a - ? - -?"), "a - $1 - -$2");
        assert_eq!(pg("'unterminated ?"), "'unterminated ?");
        let many = ["?"; 12].join(",");
        assert!(pg(&many).ends_with("$11,$12"));
        assert!(matches!(
            Dialect::Sqlite.sql("a = ?"),
            Cow::Borrowed("a = ?")
        ));
    }

    #[test]
    fn urls_pick_the_dialect() {
        assert_eq!(Dialect::of_url("postgres://u@h/db"), Dialect::Postgres);
        assert_eq!(Dialect::of_url("postgresql://h/db"), Dialect::Postgres);
        assert_eq!(Dialect::of_url("sqlite://data/flexvox.db"), Dialect::Sqlite);
        assert_eq!(Dialect::of_url("/var/lib/flexvox.db"), Dialect::Sqlite);
    }
}
