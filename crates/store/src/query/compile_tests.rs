//! The SQL and binds each operator, type and error of the compiler produces.

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
        name: "active",
        sql: "t.active",
        kind: FieldKind::Boolean,
    },
    FieldSpec {
        name: "date_created",
        sql: "t.date_created",
        kind: FieldKind::Date,
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

fn compiled(filter: &str) -> Result<(String, Vec<Bind>), CompileError> {
    let parsed = Filter::parse(filter).unwrap_or_else(|e: ParseError| panic!("{filter}: {e}"));
    compile_filter(&parsed, FIELDS, Dialect::Sqlite).map(|f| (f.sql, f.binds))
}

fn ok(filter: &str) -> (String, Vec<Bind>) {
    compiled(filter).unwrap_or_else(|e| panic!("{filter}: {e}"))
}

fn err(filter: &str) -> CompileError {
    compiled(filter).expect_err(filter)
}

#[test]
fn comparison_operators() {
    assert_eq!(ok("name eq x"), ("(t.name = ?)".into(), vec![text("x")]));
    assert_eq!(
        ok("name ne 'a b'"),
        ("(t.name IS NOT ?)".into(), vec![text("a b")])
    );
    for (op, sql) in [("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")] {
        assert_eq!(
            ok(&format!("capabilities {op} 5")),
            (format!("(t.capabilities {sql} ?)"), vec![Bind::Integer(5)])
        );
    }
    // Text compares as text, also when it looks like a number.
    assert_eq!(ok("name gt 15"), ("(t.name > ?)".into(), vec![text("15")]));
}

#[test]
fn like_ilike_in_notin_bit() {
    assert_eq!(
        ok(r#"name like "Account%""#),
        ("(t.name GLOB ?)".into(), vec![text("Account*")])
    );
    assert_eq!(
        ok(r#"name ilike "AccOUnt_%""#),
        ("(lower(t.name) GLOB ?)".into(), vec![text("account?*")])
    );
    assert_eq!(
        ok(r#"name in ("active", suspended)"#),
        (
            "(t.name IN (?, ?))".into(),
            vec![text("active"), text("suspended")]
        )
    );
    assert_eq!(
        ok("capabilities notin (1, 2)"),
        (
            "((t.capabilities IS NULL OR t.capabilities NOT IN (?, ?)))".into(),
            vec![Bind::Integer(1), Bind::Integer(2)]
        )
    );
    assert_eq!(
        ok("capabilities bit 7"),
        (
            "((t.capabilities & ?) = ?)".into(),
            vec![Bind::Integer(7), Bind::Integer(7)]
        )
    );
}

#[test]
fn null_booleans_dates_and_conjunction() {
    assert_eq!(ok("name eq null"), ("(t.name IS NULL)".into(), vec![]));
    assert_eq!(ok("name ne NULL"), ("(t.name IS NOT NULL)".into(), vec![]));
    assert_eq!(ok("name eq 'null'").1, vec![text("null")]);
    assert_eq!(ok("active eq TRUE").1, vec![Bind::Integer(1)]);
    assert_eq!(ok("active in (false)").1, vec![Bind::Integer(0)]);
    assert_eq!(
        ok("date_created ge 2018-09-20").1,
        vec![text("2018-09-20T00:00:00.000Z")]
    );
    assert_eq!(
        ok("date_created lt 2018-09-20T23:56:49+02:00").1,
        vec![text("2018-09-20T21:56:49.000Z")]
    );
    // like on a date matches the stored text as it is.
    assert_eq!(ok("date_created like 2018-09%").1, vec![text("2018-09*")]);
    assert_eq!(
        ok("name eq a and capabilities gt 1 and active eq true").0,
        "(t.name = ?) AND (t.capabilities > ?) AND (t.active = ?)"
    );
}

#[test]
fn nested_fields_use_json_extract_with_a_bound_path() {
    assert_eq!(
        ok("properties.login eq username"),
        (
            "(json_extract(t.properties, ?) = ?)".into(),
            vec![text("$.login"), text("username")]
        )
    );
    // Ranges and bit compare only values of the bound value's JSON type.
    assert_eq!(
        ok("properties.a.b gt 5"),
        (
            "(json_type(t.properties, ?) IN ('integer', 'real') AND json_extract(t.properties, ?) > ?)"
                .into(),
            vec![text("$.a.b"), text("$.a.b"), Bind::Integer(5)]
        )
    );
    assert_eq!(
        ok("properties.a le '5'").0,
        "(json_type(t.properties, ?) = 'text' AND json_extract(t.properties, ?) <= ?)"
    );
    let last = |filter: &str| ok(filter).1.pop();
    assert_eq!(last("properties.a gt '5'"), Some(text("5")));
    assert_eq!(last("properties.a eq false"), Some(Bind::Integer(0)));
    assert_eq!(last("properties.a eq 1.5"), Some(Bind::Real(1.5)));
    assert_eq!(last("properties.a eq -2e3"), Some(Bind::Real(-2000.0)));
    assert_eq!(last("properties.a eq inf"), Some(text("inf")));
    assert_eq!(
        ok("properties.a notin (x)").0,
        "((json_extract(t.properties, ?) IS NULL OR json_extract(t.properties, ?) NOT IN (?)))"
    );
    assert_eq!(
        ok("properties.caps bit 4").1,
        vec![
            text("$.caps"),
            text("$.caps"),
            Bind::Integer(4),
            Bind::Integer(4)
        ]
    );
}

#[test]
fn every_error_names_the_problem() {
    let e = err("colour eq red");
    assert!(matches!(&e, CompileError::UnknownField { field, .. } if field == "colour"));
    assert!(e
        .to_string()
        .contains("name, capabilities, active, date_created, properties"));
    assert_eq!(
        err("name.first eq x"),
        CompileError::NotAnObject {
            field: "name".into()
        }
    );
    assert_eq!(
        err("properties eq x"),
        CompileError::WholeObject {
            field: "properties".into()
        }
    );
    for (filter, op, kind) in [
        ("name bit 1", Op::Bit, FieldKind::Text),
        ("capabilities like 1%", Op::Like, FieldKind::Integer),
        ("active gt true", Op::Gt, FieldKind::Boolean),
        ("date_created bit 1", Op::Bit, FieldKind::Date),
    ] {
        assert_eq!(
            err(filter),
            CompileError::OperatorNotAllowed {
                field: filter.split(' ').next().unwrap_or_default().into(),
                operator: op,
                kind
            },
            "{filter}"
        );
    }
    for (filter, value, expected) in [
        ("capabilities eq abc", "abc", "an integer"),
        ("capabilities in (1, '2x')", "\"2x\"", "an integer"),
        ("active eq yes", "yes", "true or false"),
        (
            "name gt null",
            "null",
            "a value other than null (null works with eq and ne only)",
        ),
        (
            "name like null",
            "null",
            "a value other than null (null works with eq and ne only)",
        ),
        (
            "capabilities bit -1",
            "-1",
            "a non-negative integer bit mask",
        ),
        (
            "properties.x bit many",
            "many",
            "a non-negative integer bit mask",
        ),
        (
            "name in (a, null)",
            "null",
            "values other than null in a list (use eq null or ne null)",
        ),
    ] {
        match err(filter) {
            CompileError::BadValue {
                value: v,
                expected: x,
                ..
            } => assert_eq!((v.as_str(), x), (value, expected), "{filter}"),
            other => panic!("{filter}: {other:?}"),
        }
    }
    assert!(matches!(
        err("date_created gt yesterday"),
        CompileError::BadValue { field, .. } if field == "date_created"
    ));
    let many: Vec<String> = (0..=MAX_BINDS).map(|i| i.to_string()).collect();
    assert_eq!(
        err(&format!("capabilities in ({})", many.join(","))),
        CompileError::TooManyValues { limit: MAX_BINDS }
    );
}

#[test]
fn hand_built_asts_that_the_parser_cannot_make() {
    let field = FieldPath::new("name").unwrap_or_else(|| unreachable!());
    let with = |op, value| Filter {
        conditions: vec![Condition {
            field: field.clone(),
            op,
            value,
        }],
    };
    let empty = Filter { conditions: vec![] };
    assert_eq!(
        compile_filter(&empty, FIELDS, Dialect::Sqlite).map(|f| f.sql),
        Ok("1".into())
    );
    assert!(compile_filter(
        &with(Op::In, Operand::List(vec![])),
        FIELDS,
        Dialect::Sqlite
    )
    .is_err());
    assert!(compile_filter(
        &with(Op::In, Operand::Scalar(Scalar::Null)),
        FIELDS,
        Dialect::Sqlite
    )
    .is_err());
    assert!(compile_filter(
        &with(Op::Eq, Operand::List(vec![])),
        FIELDS,
        Dialect::Sqlite
    )
    .is_err());
}

#[test]
fn order_keys() {
    let order = Order::parse("name desc, properties.login, capabilities asc").unwrap();
    let sql = compile_order(&order, FIELDS, Dialect::Sqlite).unwrap();
    assert_eq!(
        sql.sql,
        "t.name DESC, json_extract(t.properties, ?) ASC, t.capabilities ASC"
    );
    assert_eq!(sql.binds, vec![text("$.login")]);
    let unknown = Order::parse("colour").unwrap();
    assert!(matches!(
        compile_order(&unknown, FIELDS, Dialect::Sqlite),
        Err(CompileError::UnknownField { .. })
    ));
    let whole = Order::parse("properties desc").unwrap();
    assert!(matches!(
        compile_order(&whole, FIELDS, Dialect::Sqlite),
        Err(CompileError::WholeObject { .. })
    ));
}
