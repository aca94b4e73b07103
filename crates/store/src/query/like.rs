//! `like` / `ilike` patterns, run as SQLite `GLOB` because SQLite's `LIKE` ignores ASCII case
//! and the reference wants `like` case-sensitive. Pattern syntax is SQL's: `%` matches any run
//! of characters (also none), `_` exactly one; a backslash makes the next character literal
//! (`\%`, `\_`, `\\`), and a trailing lone backslash is itself literal.

/// The GLOB pattern matching what the LIKE-style `pattern` matches.
pub(crate) fn glob_from_like(pattern: &str) -> String {
    let mut glob = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => glob.push('*'),
            '_' => glob.push('?'),
            '\\' => push_literal(&mut glob, chars.next().unwrap_or('\\')),
            other => push_literal(&mut glob, other),
        }
    }
    glob
}

/// GLOB's own wildcards become one-character classes; `]` outside a class is already literal.
fn push_literal(glob: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            glob.push('[');
            glob.push(c);
            glob.push(']');
        }
        other => glob.push(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_escapes() {
        assert_eq!(glob_from_like("1516%"), "1516*");
        assert_eq!(glob_from_like("%5_5%"), "*5?5*");
        assert_eq!(glob_from_like(r"100\%"), "100%");
        assert_eq!(glob_from_like(r"a\_b\\"), r"a_b\");
        assert_eq!(glob_from_like(r"end\"), r"end\");
        assert_eq!(glob_from_like("*?[x]"), "[*][?][[]x]");
    }
}
