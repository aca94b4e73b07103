//! Properties of the query language: no input makes the parser or compiler panic, printing an
//! AST reads back as the same AST, and user values never reach the SQL text.

use proptest::prelude::*;
use store::query::{
    compile_filter, compile_order, Condition, Direction, FieldPath, Filter, Op, Operand, Order,
    OrderKey, Scalar,
};
use store::{Dialect, ACCOUNT_FIELDS, DID_FIELDS};

fn field_path() -> impl Strategy<Value = FieldPath> {
    prop::collection::vec("[A-Za-z_][A-Za-z0-9_]{0,8}", 1..4)
        .prop_filter_map("identifiers", |segments| {
            FieldPath::new(&segments.join("."))
        })
}

fn scalar() -> BoxedStrategy<Scalar> {
    prop_oneof![
        Just(Scalar::Null),
        "[^\\s'\"(),][^\\s(),]{0,10}"
            .prop_filter("a bare word", |w| Scalar::is_bare_word(w))
            .prop_map(Scalar::Word),
        any::<String>().prop_map(Scalar::Quoted),
        "[ '\"a-z%_\\\\]{0,8}".prop_map(Scalar::Quoted),
    ]
    .boxed()
}

fn condition(
    field: impl Strategy<Value = FieldPath>,
    value: BoxedStrategy<Scalar>,
) -> impl Strategy<Value = Condition> {
    (field, prop::sample::select(Op::ALL.to_vec())).prop_flat_map(move |(field, op)| {
        let value = if op.takes_list() {
            prop::collection::vec(value.clone(), 1..4)
                .prop_map(Operand::List)
                .boxed()
        } else {
            value.clone().prop_map(Operand::Scalar).boxed()
        };
        value.prop_map(move |value| Condition {
            field: field.clone(),
            op,
            value,
        })
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    prop::collection::vec(condition(field_path(), scalar()), 1..5)
        .prop_map(|conditions| Filter { conditions })
}

fn order() -> impl Strategy<Value = Order> {
    let direction = prop_oneof![Just(Direction::Asc), Just(Direction::Desc)];
    prop::collection::vec((field_path(), direction), 1..4).prop_map(|keys| Order {
        keys: keys
            .into_iter()
            .map(|(field, direction)| OrderKey { field, direction })
            .collect(),
    })
}

/// Text made of the language's own pieces, to get past the first token more often than
/// arbitrary strings do.
fn filterish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("phonenumber".to_string()),
        Just("url".to_string()),
        Just("properties.login".to_string()),
        prop::sample::select(vec![
            "eq", "NE", "like", "ilike", "in", "notin", "bit", "gt"
        ])
        .prop_map(str::to_string),
        prop::sample::select(vec![
            "and", "AND", "null", "(", ")", ",", "'", "\"", "''", "asc", "desc"
        ])
        .prop_map(str::to_string),
        "[a-z0-9%_\\\\]{1,6}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|pieces| pieces.join(" "))
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in prop_oneof![any::<String>(), filterish()]) {
        if let Ok(f) = Filter::parse(&text) {
            let _ = compile_filter(&f, DID_FIELDS, Dialect::Sqlite);
            let _ = compile_filter(&f, ACCOUNT_FIELDS, Dialect::Postgres);
            prop_assert_eq!(Filter::parse(&f.to_string()), Ok(f));
        }
        if let Ok(o) = Order::parse(&text) {
            let _ = compile_order(&o, DID_FIELDS, Dialect::Postgres);
            prop_assert_eq!(Order::parse(&o.to_string()), Ok(o));
        }
    }

    #[test]
    fn printed_filters_parse_back_to_the_same_ast(f in filter()) {
        prop_assert_eq!(Filter::parse(&f.to_string()), Ok(f));
    }

    #[test]
    fn printed_orders_parse_back_to_the_same_ast(o in order()) {
        prop_assert_eq!(Order::parse(&o.to_string()), Ok(o));
    }

    /// Values carry a marker character that no whitelist expression or keyword contains.
    #[test]
    fn values_reach_sql_only_as_parameters(
        conditions in prop::collection::vec(
            condition(
                prop::sample::select(DID_FIELDS.to_vec())
                    .prop_filter_map("a field", |f| FieldPath::new(f.name)),
                "§[^\\s(),]{0,6}".prop_map(Scalar::Word).boxed(),
            ),
            1..4,
        )
    ) {
        let f = Filter { conditions };
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            match compile_filter(&f, DID_FIELDS, dialect) {
                Ok(sql) => {
                    prop_assert!(!sql.sql.contains('§'), "{}", sql.sql);
                    prop_assert_eq!(sql.sql.matches('?').count(), sql.binds.len());
                }
                // Only `bit`, which text fields refuse.
                Err(e) => prop_assert!(e.to_string().contains("'bit'"), "{}", e),
            }
        }
    }
}
