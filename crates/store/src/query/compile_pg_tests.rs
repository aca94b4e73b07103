//! The PostgreSQL spelling of the compiler's output (`compile_tests.rs` holds SQLite's).

use super::*;
use crate::query::ParseError;
use crate::Dialect;

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "name",
        sql: "t.name",
        kind: FieldKind::Text,
    },
    FieldSpec {
        name: "capabilities",
        sql: "t.capabilities",
        kind: FieldKind::Integer,
    },
    FieldSpec {
        name: "properties",
        sql: "t.properties",
        kind: FieldKind::Object,
    },
];

fn text(s: &str) -> Bind {
    Bind::Text(s.into())
}

fn ok(filter: &str) -> (String, Vec<Bind>) {
    let parsed = Filter::parse(filter).unwrap_or_else(|e: ParseError| panic!("{filter}: {e}"));
    compile_filter(&parsed, FIELDS, Dialect::Postgres)
        .map(|f| (f.sql, f.binds))
        .unwrap_or_else(|e| panic!("{filter}: {e}"))
}

const V: &str = "(CAST(t.properties AS jsonb) #> CAST(? AS text[]))";

#[test]
fn plain_fields() {
    assert_eq!(ok("name eq x"), ("(t.name = ?)".into(), vec![text("x")]));
    assert_eq!(ok("name ne x").0, "(t.name IS DISTINCT FROM ?)");
    assert_eq!(ok("name gt 15").0, "(t.name COLLATE \"C\" > ?)");
    assert_eq!(ok("capabilities le 4").0, "(t.capabilities <= ?)");
    assert_eq!(
        ok(r"name like 'Acc%\'"),
        ("(t.name LIKE ?)".into(), vec![text(r"Acc%\\")])
    );
    assert_eq!(
        ok("name ilike AB_"),
        (
            "(translate(t.name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE ?)"
                .into(),
            vec![text("ab_")]
        )
    );
    assert_eq!(ok("capabilities bit 7").0, "((t.capabilities & ?) = ?)");
    assert_eq!(
        ok("capabilities notin (1)").0,
        "((t.capabilities IS NULL OR t.capabilities NOT IN (?)))"
    );
    let empty = Filter { conditions: vec![] };
    assert_eq!(
        compile_filter(&empty, FIELDS, Dialect::Postgres).map(|f| f.sql),
        Ok("TRUE".into())
    );
}

#[test]
fn json_subfields_read_as_the_bound_type() {
    assert_eq!(
        ok("properties.a.b eq null"),
        (
            "((CAST(t.properties AS jsonb) #>> CAST(? AS text[])) IS NULL)".into(),
            vec![text("{a,b}")]
        )
    );
    assert_eq!(
        ok("properties.login eq alice"),
        (
            format!("((CASE WHEN jsonb_typeof({V}) = 'string' THEN {V} #>> '{{}}' END) = ?)"),
            vec![text("{login}"), text("{login}"), text("alice")]
        )
    );
    let number_only =
        format!("(CASE WHEN jsonb_typeof({V}) = 'number' THEN CAST({V} AS numeric) END)");
    assert_eq!(
        ok("properties.n gt 4").0,
        format!("({number_only} > CAST(? AS numeric))")
    );
    assert_eq!(
        ok("properties.n eq true").0,
        format!(
            "((CASE WHEN jsonb_typeof({V}) = 'number' THEN CAST({V} AS numeric) WHEN \
             jsonb_typeof({V}) = 'boolean' THEN CAST(CAST({V} AS boolean) AS integer) END) \
             = CAST(? AS numeric))"
        )
    );
    let (sql, binds) = ok("properties.a in (x, 5)");
    assert!(
        sql.starts_with("((COALESCE((CASE WHEN jsonb_typeof"),
        "{sql}"
    );
    assert!(sql.contains(" IN (?), FALSE) OR COALESCE("), "{sql}");
    assert_eq!(binds.last(), Some(&Bind::Integer(5)));
    assert!(ok("properties.a notin (x)")
        .0
        .starts_with("(NOT (COALESCE("));
}

#[test]
fn order_keys_sort_null_first_and_bytewise() {
    let order = Order::parse("name desc, capabilities").unwrap();
    let sql = compile_order(&order, FIELDS, Dialect::Postgres).unwrap();
    assert_eq!(
        sql.sql,
        "t.name COLLATE \"C\" DESC NULLS LAST, t.capabilities ASC NULLS FIRST"
    );
    let json = Order::parse("properties.login").unwrap();
    let sql = compile_order(&json, FIELDS, Dialect::Postgres).unwrap();
    assert!(sql
        .sql
        .ends_with("#>> CAST(? AS text[])) COLLATE \"C\" ASC NULLS FIRST"));
    assert!(sql.binds.iter().all(|b| *b == text("{login}")));
}
