//! Parsing and printing of filters: operators, quoting, lists, nested fields, errors.

use super::*;

fn word(s: &str) -> Scalar {
    Scalar::Word(s.into())
}

fn quoted(s: &str) -> Scalar {
    Scalar::Quoted(s.into())
}

fn one(input: &str) -> Condition {
    let mut filter = Filter::parse(input).unwrap();
    assert_eq!(filter.conditions.len(), 1, "{input}");
    filter.conditions.remove(0)
}

#[test]
fn every_operator_parses_case_insensitively() {
    for op in Op::ALL {
        let value = if op.takes_list() { "(1)" } else { "1" };
        for keyword in [op.keyword().to_string(), op.keyword().to_uppercase()] {
            let c = one(&format!("capabilities {keyword} {value}"));
            assert_eq!(c.op, op);
            assert_eq!(c.field.name(), "capabilities");
        }
    }
}

#[test]
fn the_reference_examples() {
    let f = Filter::parse(r#"state eq "NY" and phonenumber like "%555%""#).unwrap();
    assert_eq!(f.conditions.len(), 2);
    assert_eq!(f.conditions[0].value, Operand::Scalar(quoted("NY")));
    assert_eq!(f.conditions[1].op, Op::Like);
    assert_eq!(f.conditions[1].value, Operand::Scalar(quoted("%555%")));

    let c = one(r#"status in ("active", "suspended")"#);
    assert_eq!(
        c.value,
        Operand::List(vec![quoted("active"), quoted("suspended")])
    );
    let c = one("type eq conference");
    assert_eq!(c.value, Operand::Scalar(word("conference")));
    let c = one(r#"name eq "filter value name""#);
    assert_eq!(c.value, Operand::Scalar(quoted("filter value name")));
    assert_eq!(one("capabilities bit 7").op, Op::Bit);
}

#[test]
fn nested_fields_keep_their_path() {
    let c = one("properties.login eq username");
    assert_eq!(c.field.name(), "properties");
    assert_eq!(c.field.subfields(), ["login".to_string()]);
    let c = one("trunks.allow_transfer eq false");
    assert_eq!(c.field.to_string(), "trunks.allow_transfer");
}

#[test]
fn quoting_null_and_keywords() {
    assert_eq!(one("url eq null").value, Operand::Scalar(Scalar::Null));
    assert_eq!(one("url eq NULL").value, Operand::Scalar(Scalar::Null));
    assert_eq!(one("url eq 'null'").value, Operand::Scalar(quoted("null")));
    assert_eq!(
        one("name eq 'it''s'").value,
        Operand::Scalar(quoted("it's"))
    );
    assert_eq!(
        one(r#"name eq "a ""b"" c""#).value,
        Operand::Scalar(quoted("a \"b\" c"))
    );
    assert_eq!(
        one("name eq O'Brien").value,
        Operand::Scalar(word("O'Brien"))
    );
    assert_eq!(one("name eq and").value, Operand::Scalar(word("and")));
    let f = Filter::parse("  a   EQ 1\tAND\nb ne 2 ").unwrap();
    assert_eq!(f.to_string(), "a eq 1 and b ne 2");
    assert_eq!(
        one("x in (a,'b c' ,  null)").value,
        Operand::List(vec![word("a"), quoted("b c"), Scalar::Null])
    );
}

#[test]
fn printing_reads_back() {
    for text in [
        r#"a eq "x y" and b.c in ("1", two, null) and d notin (")") and e like "50%""#,
        r#"name eq "it's ""quoted""" and x eq """" and y eq """#,
    ] {
        let filter = Filter::parse(text).unwrap();
        assert_eq!(Filter::parse(&filter.to_string()).unwrap(), filter);
    }
    let odd = Filter {
        conditions: vec![Condition {
            field: FieldPath::new("a").unwrap(),
            op: Op::Eq,
            value: Operand::Scalar(word("two words")),
        }],
    };
    assert_eq!(odd.to_string(), r#"a eq "two words""#);
}

#[test]
fn malformed_filters_say_where_and_what() {
    let err = |s: &str| Filter::parse(s).unwrap_err();
    assert_eq!(err("   "), ParseError::Empty { clause: "filter" });
    assert_eq!(
        err("phonenumber zz 1"),
        ParseError::UnknownOperator {
            position: 13,
            operator: "zz".into()
        }
    );
    assert_eq!(
        err("phonenumber eq 'unterminated"),
        ParseError::UnterminatedQuote {
            position: 16,
            quote: '\''
        }
    );
    assert_eq!(
        err("phonenumber eq"),
        ParseError::Malformed {
            clause: "filter",
            position: 15,
            expected: "a value",
            found: "the end of the filter".into()
        }
    );
    assert_eq!(
        err("a eq 1 or b eq 2"),
        ParseError::Malformed {
            clause: "filter",
            position: 8,
            expected: "'and' or the end of the filter",
            found: "'or'".into()
        }
    );
    assert_eq!(
        err("a eq 1 and"),
        ParseError::Malformed {
            clause: "filter",
            position: 11,
            expected: "a field name",
            found: "the end of the filter".into()
        }
    );
    assert!(matches!(
        err("1a eq 1"),
        ParseError::Malformed {
            position: 1,
            expected: "a field name",
            ..
        }
    ));
    assert!(matches!(
        err("a. eq 1"),
        ParseError::Malformed {
            expected: "a field name",
            ..
        }
    ));
    assert!(matches!(
        err("'a' eq 1"),
        ParseError::Malformed {
            expected: "a field name",
            ..
        }
    ));
    assert!(matches!(
        err("a (eq) 1"),
        ParseError::Malformed {
            position: 3,
            expected: "an operator",
            ..
        }
    ));
    assert!(matches!(
        err("a eq (1)"),
        ParseError::Malformed {
            position: 6,
            expected: "a value",
            ..
        }
    ));
    assert!(matches!(
        err("a in 1"),
        ParseError::Malformed {
            position: 6,
            expected: "'(' opening a list of values",
            ..
        }
    ));
    assert!(matches!(
        err("a in (1 2)"),
        ParseError::Malformed { position: 9, .. }
    ));
    assert!(matches!(
        err("a in (1,"),
        ParseError::Malformed {
            expected: "a value",
            ..
        }
    ));
    assert!(matches!(
        err("a in (1"),
        ParseError::Malformed { position: 8, .. }
    ));
    assert_eq!(
        err("a notin ( )"),
        ParseError::EmptyList {
            position: 9,
            operator: Op::NotIn
        }
    );
    assert!(err("phonenumber zz 1")
        .to_string()
        .contains("unknown operator 'zz'"));
}
