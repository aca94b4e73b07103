//! What compiled filters select when SQLite and PostgreSQL run them: one table with a column
//! of each field type, and the names of the rows each filter keeps.

use store::query::{arguments, compile_filter, compile_order, FieldKind, FieldSpec, Filter, Order};
use store::testing::{self, Backend, TestStore};

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "name",
        sql: "t.name",
        kind: FieldKind::Text,
    },
    FieldSpec {
        name: "note",
        sql: "t.note",
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

async fn table(backend: Backend, name: &str) -> TestStore {
    let store = testing::open(backend, name).await.unwrap();
    sqlx::query(
        "CREATE TABLE t (id INTEGER, name TEXT, note TEXT, capabilities INTEGER, active INTEGER, \
         date_created TEXT, properties TEXT)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    for row in [
        "(1, 'Account one', NULL, 7, 1, '2018-09-20T21:56:49.000Z', '{\"login\":\"alice\",\"n\":5,\"flag\":true,\"deep\":{\"x\":\"y\"}}')",
        "(2, 'account two', 'it''s 100% done', 4, 0, '2019-01-01T00:00:00.000Z', '{\"login\":\"bob\",\"n\":\"5\",\"flag\":false}')",
        "(3, 'ACCOUNT_3', 'a*b?[c]', 3, 1, '2020-06-15T12:00:00.000Z', '{}')",
        "(4, 'other', 'x', 16, NULL, '2021-01-01T00:00:00.000Z', '{\"login\":null}')",
    ] {
        sqlx::query(&format!("INSERT INTO t VALUES {row}"))
            .execute(store.pool())
            .await
            .unwrap();
    }
    store
}

async fn names(store: &TestStore, filter: &str) -> Vec<String> {
    let dialect = store.dialect();
    let compiled = compile_filter(&Filter::parse(filter).unwrap(), FIELDS, dialect).unwrap();
    let sql = format!("SELECT name FROM t WHERE {} ORDER BY id", compiled.sql);
    sqlx::query_scalar_with(&dialect.sql(&sql), arguments(&compiled.binds).unwrap())
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{filter}: {sql}: {e}"))
}

async fn each_operator_selects_what_the_reference_says(backend: Backend) {
    let t = table(backend, "each_operator_selects_what_the_reference_says").await;
    let cases: &[(&str, &[&str])] = &[
        ("name eq 'Account one'", &["Account one"]),
        (
            "name ne other",
            &["Account one", "account two", "ACCOUNT_3"],
        ),
        ("capabilities gt 4", &["Account one", "other"]),
        (
            "capabilities ge 4",
            &["Account one", "account two", "other"],
        ),
        ("capabilities lt 4", &["ACCOUNT_3"]),
        ("capabilities le 4", &["account two", "ACCOUNT_3"]),
        ("name like 'Account%'", &["Account one"]),
        (
            "name ilike 'AccOUnt%'",
            &["Account one", "account two", "ACCOUNT_3"],
        ),
        ("name ilike 'account_3'", &["ACCOUNT_3"]),
        ("name like '%\\_%'", &["ACCOUNT_3"]),
        ("note like '%100\\%%'", &["account two"]),
        ("note like 'a*b?[c]'", &["ACCOUNT_3"]),
        ("note like '%''%'", &["account two"]),
        (
            "name in ('other', \"Account one\", nobody)",
            &["Account one", "other"],
        ),
        ("capabilities notin (7, 16)", &["account two", "ACCOUNT_3"]),
        // The reference: bit 3 = both SMS bits, bit 4 = voice whatever else is set.
        ("capabilities bit 3", &["Account one", "ACCOUNT_3"]),
        ("capabilities bit 4", &["Account one", "account two"]),
        (
            "capabilities bit 0",
            &["Account one", "account two", "ACCOUNT_3", "other"],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(&t, filter).await, *expected, "{filter}");
    }
}

async fn nulls_booleans_dates_and_conjunctions(backend: Backend) {
    let t = table(backend, "nulls_booleans_dates_and_conjunctions").await;
    let cases: &[(&str, &[&str])] = &[
        ("note eq null", &["Account one"]),
        ("note ne null", &["account two", "ACCOUNT_3", "other"]),
        ("note ne x", &["Account one", "account two", "ACCOUNT_3"]),
        (
            "note notin (x)",
            &["Account one", "account two", "ACCOUNT_3"],
        ),
        ("note in (x)", &["other"]),
        ("note like '%'", &["account two", "ACCOUNT_3", "other"]),
        ("active eq true", &["Account one", "ACCOUNT_3"]),
        ("active ne true", &["account two", "other"]),
        ("active eq null", &["other"]),
        ("date_created lt 2019-01-01", &["Account one"]),
        (
            "date_created ge 2019-01-01",
            &["account two", "ACCOUNT_3", "other"],
        ),
        (
            "date_created eq 2019-01-01T01:00:00+01:00",
            &["account two"],
        ),
        ("date_created like '2020-%'", &["ACCOUNT_3"]),
        (
            "active eq true and capabilities gt 3 and name ilike acc%",
            &["Account one"],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(&t, filter).await, *expected, "{filter}");
    }
}

async fn object_subfields_through_json_extract(backend: Backend) {
    let t = table(backend, "object_subfields_through_json_extract").await;
    let cases: &[(&str, &[&str])] = &[
        ("properties.login eq alice", &["Account one"]),
        ("properties.login ilike B%", &["account two"]),
        ("properties.login eq null", &["ACCOUNT_3", "other"]),
        ("properties.n eq 5", &["Account one"]),
        ("properties.n eq '5'", &["account two"]),
        ("properties.n gt 4", &["Account one"]),
        ("properties.flag eq false", &["account two"]),
        ("properties.deep.x eq y", &["Account one"]),
        ("properties.n bit 4", &["Account one"]),
        (
            "properties.login in (alice, bob)",
            &["Account one", "account two"],
        ),
        (
            "properties.login notin (alice)",
            &["account two", "ACCOUNT_3", "other"],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(&t, filter).await, *expected, "{filter}");
    }
}

async fn order_by_fields_and_subfields(backend: Backend) {
    let t = table(backend, "order_by_fields_and_subfields").await;
    for (order, expected) in [
        (
            "capabilities desc",
            ["other", "Account one", "account two", "ACCOUNT_3"],
        ),
        (
            "active desc, name asc",
            ["ACCOUNT_3", "Account one", "account two", "other"],
        ),
        (
            "properties.login desc, name",
            ["account two", "Account one", "ACCOUNT_3", "other"],
        ),
    ] {
        let dialect = t.dialect();
        let compiled = compile_order(&Order::parse(order).unwrap(), FIELDS, dialect).unwrap();
        let sql = format!("SELECT name FROM t ORDER BY {}", compiled.sql);
        let got: Vec<String> =
            sqlx::query_scalar_with(&dialect.sql(&sql), arguments(&compiled.binds).unwrap())
                .fetch_all(t.pool())
                .await
                .unwrap();
        assert_eq!(got, expected, "{order}");
    }
}

store::backend_tests!(
    each_operator_selects_what_the_reference_says,
    nulls_booleans_dates_and_conjunctions,
    object_subfields_through_json_extract,
    order_by_fields_and_subfields,
);
