//! The PostgreSQL spelling of what `compile.rs` writes for SQLite, with SQLite's semantics
//! kept so one test suite holds for both:
//! - A JSON subfield is `CAST(col AS jsonb) #> path`, the path a bound `text[]`. SQLite's
//!   `json_extract` yields typed values (booleans as 1/0) that compare only within their
//!   storage class, so each comparison reads the subfield as the bound value's type: text
//!   only from JSON strings, numbers from JSON numbers (and booleans, for `eq`/`in`).
//!   `CASE` guards every cast, because PostgreSQL does not evaluate `AND` left to right.
//! - Text compares and sorts bytewise (`COLLATE "C"`), NULL sorts first, `like` is `LIKE`
//!   with the pattern rewritten so a trailing backslash is literal, `ilike` folds ASCII only.

use super::compile::{Bind, FieldKind, SqlFragment, Target};
use super::order::Direction;

/// How a comparison reads a JSON subfield.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// The value as text, NULL for JSON null or a missing key (`is null`, `like`).
    Any,
    /// JSON strings only.
    Text,
    /// JSON numbers, and booleans as 1/0 (what `json_extract` makes of them).
    Number,
    /// JSON numbers only (ranges: SQLite's guard keeps booleans out).
    NumberOnly,
    /// JSON numbers within `bigint`, truncated (SQLite's `&` on a real).
    Bits,
}

const FOLD_ASCII: &str = ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')";

impl Target<'_> {
    /// The field's expression; for a JSON subfield, read as `want`.
    pub(super) fn push_pg(&self, want: Want, out: &mut SqlFragment) {
        let Some(path) = &self.json_path else {
            out.push_sql(self.spec.sql);
            return;
        };
        let pg_path = format!("{{{}}}", path.trim_start_matches("$.").replace('.', ","));
        let value = |out: &mut SqlFragment| {
            out.push_sql("(CAST(");
            out.push_sql(self.spec.sql);
            out.push_sql(" AS jsonb) #> CAST(");
            out.push_bind(Bind::Text(pg_path.clone()));
            out.push_sql(" AS text[]))");
        };
        let typed = |out: &mut SqlFragment, json_type: &str| {
            out.push_sql("jsonb_typeof(");
            value(out);
            out.push_sql(&format!(") = '{json_type}'"));
        };
        match want {
            Want::Any => {
                out.push_sql("(CAST(");
                out.push_sql(self.spec.sql);
                out.push_sql(" AS jsonb) #>> CAST(");
                out.push_bind(Bind::Text(pg_path.clone()));
                out.push_sql(" AS text[]))");
            }
            Want::Text => {
                out.push_sql("(CASE WHEN ");
                typed(out, "string");
                out.push_sql(" THEN ");
                value(out);
                out.push_sql(" #>> '{}' END)");
            }
            Want::Number | Want::NumberOnly => {
                out.push_sql("(CASE WHEN ");
                typed(out, "number");
                out.push_sql(" THEN CAST(");
                value(out);
                out.push_sql(" AS numeric)");
                if want == Want::Number {
                    out.push_sql(" WHEN ");
                    typed(out, "boolean");
                    out.push_sql(" THEN CAST(CAST(");
                    value(out);
                    out.push_sql(" AS boolean) AS integer)");
                }
                out.push_sql(" END)");
            }
            Want::Bits => {
                out.push_sql("(CASE WHEN ");
                typed(out, "number");
                out.push_sql(" THEN CASE WHEN CAST(");
                value(out);
                out.push_sql(
                    " AS numeric) BETWEEN -9223372036854775808 AND 9223372036854775807 \
                     THEN CAST(trunc(CAST(",
                );
                value(out);
                out.push_sql(" AS numeric)) AS bigint) END END)");
            }
        }
    }

    fn is_json(&self) -> bool {
        self.json_path.is_some()
    }

    /// Compares and sorts as text (so needs the bytewise collation).
    fn is_text(&self, want: Want) -> bool {
        if self.is_json() {
            return want == Want::Text;
        }
        matches!(self.spec.kind, FieldKind::Text | FieldKind::Date)
    }

    /// A bound value on the right of a comparison with this field.
    fn push_value(&self, bind: Bind, out: &mut SqlFragment) {
        let numeric = self.is_json() && matches!(bind, Bind::Integer(_) | Bind::Real(_));
        out.push_sql(if numeric { "CAST(" } else { "" });
        out.push_bind(bind);
        out.push_sql(if numeric { " AS numeric)" } else { "" });
    }
}

/// How a scalar comparison reads the field, by its operator and bound value.
fn want_for(bind: &Bind, range: bool) -> Want {
    match (bind, range) {
        (Bind::Text(_), _) => Want::Text,
        (_, false) => Want::Number,
        (_, true) => Want::NumberOnly,
    }
}

/// `field <op> value` for `eq`, `ne`, `gt`, `ge`, `lt`, `le`; `sql_op` is SQLite's operator.
pub(super) fn compare(target: &Target<'_>, sql_op: &str, bind: Bind, out: &mut SqlFragment) {
    let range = !matches!(sql_op, " = " | " IS NOT ");
    let want = want_for(&bind, range);
    target.push_pg(want, out);
    if range && target.is_text(want) {
        out.push_sql(" COLLATE \"C\"");
    }
    out.push_sql(if sql_op == " IS NOT " {
        " IS DISTINCT FROM "
    } else {
        sql_op
    });
    target.push_value(bind, out);
}

/// `field LIKE pattern`, the pattern in the API's syntax (already folded for `ilike`).
pub(super) fn like(target: &Target<'_>, fold: bool, pattern: &str, out: &mut SqlFragment) {
    out.push_sql(if fold { "translate(" } else { "" });
    target.push_pg(Want::Any, out);
    out.push_sql(if fold { FOLD_ASCII } else { "" });
    out.push_sql(" LIKE ");
    out.push_bind(Bind::Text(like_pattern(pattern)));
}

/// The API's pattern for `LIKE … ESCAPE '\'` (PostgreSQL's default): the same syntax, but
/// PostgreSQL rejects the trailing lone backslash the API reads as literal.
pub(crate) fn like_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 1);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\\' {
            out.push(chars.next().unwrap_or('\\'));
        }
    }
    out
}

/// `field IN (…)` / `NOT IN`; a JSON subfield matches the text values as a string and the
/// numbers as a number, and a null or missing one is in no list.
pub(super) fn in_list(target: &Target<'_>, negate: bool, binds: Vec<Bind>, out: &mut SqlFragment) {
    if !target.is_json() {
        if negate {
            out.push_sql("(");
            target.push_pg(Want::Any, out);
            out.push_sql(" IS NULL OR ");
        }
        target.push_pg(Want::Any, out);
        out.push_sql(if negate { " NOT IN (" } else { " IN (" });
        push_list(target, binds, out);
        if negate {
            out.push_sql(")");
        }
        return;
    }
    let (texts, numbers): (Vec<Bind>, Vec<Bind>) =
        binds.into_iter().partition(|b| matches!(b, Bind::Text(_)));
    out.push_sql(if negate { "NOT (" } else { "(" });
    let mut first = true;
    for (want, group) in [(Want::Text, texts), (Want::Number, numbers)] {
        if group.is_empty() {
            continue;
        }
        out.push_sql(if first { "COALESCE(" } else { " OR COALESCE(" });
        first = false;
        target.push_pg(want, out);
        out.push_sql(" IN (");
        push_list(target, group, out);
        out.push_sql(", FALSE)");
    }
    out.push_sql(")");
}

fn push_list(target: &Target<'_>, binds: Vec<Bind>, out: &mut SqlFragment) {
    for (i, bind) in binds.into_iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        target.push_value(bind, out);
    }
    out.push_sql(")");
}

/// One ORDER BY key: NULL first ascending as in SQLite; a JSON subfield sorts numbers (and
/// booleans) before strings, then by value.
pub(super) fn order_key(target: &Target<'_>, direction: Direction, out: &mut SqlFragment) {
    let dir = match direction {
        Direction::Asc => " ASC NULLS FIRST",
        Direction::Desc => " DESC NULLS LAST",
    };
    if !target.is_json() {
        target.push_pg(Want::Any, out);
        if target.is_text(Want::Any) {
            out.push_sql(" COLLATE \"C\"");
        }
        out.push_sql(dir);
        return;
    }
    out.push_sql("(CASE WHEN ");
    target.push_pg(Want::Any, out);
    out.push_sql(" IS NULL THEN NULL WHEN ");
    target.push_pg(Want::Number, out);
    out.push_sql(" IS NOT NULL THEN 1 ELSE 2 END)");
    out.push_sql(dir);
    out.push_sql(", ");
    target.push_pg(Want::Number, out);
    out.push_sql(dir);
    out.push_sql(", ");
    target.push_pg(Want::Any, out);
    out.push_sql(" COLLATE \"C\"");
    out.push_sql(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_keep_the_api_syntax() {
        assert_eq!(like_pattern("1516%"), "1516%");
        assert_eq!(like_pattern(r"100\%"), r"100\%");
        assert_eq!(like_pattern(r"end\"), r"end\\");
        assert_eq!(like_pattern(r"a\\b\_"), r"a\\b\_");
        assert_eq!(like_pattern(r"\a"), r"\a");
    }
}
