//! `order`: `field [asc|desc]`, as in the reference's `order=common_name+desc`. The reference
//! shows one field; a comma-separated list (`method asc, phonenumber desc`) is accepted too,
//! earlier keys first. The direction is optional and defaults to `asc`.

use super::error::ParseError;
use super::filter::FieldPath;
use super::lexer::{describe, position, tokenize, Token, TokenKind};
use std::fmt;
use std::str::FromStr;

const CLAUSE: &str = "order";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn keyword(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    pub field: FieldPath,
    pub direction: Direction,
}

/// Sort keys, most significant first. The parser never returns an empty list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Order {
    pub keys: Vec<OrderKey>,
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{} {}", k.field, k.direction.keyword()))
            .collect();
        f.write_str(&keys.join(", "))
    }
}

impl FromStr for Order {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Order, ParseError> {
        Order::parse(input)
    }
}

impl Order {
    pub fn parse(input: &str) -> Result<Order, ParseError> {
        let tokens = tokenize(input)?;
        if tokens.is_empty() {
            return Err(ParseError::Empty { clause: CLAUSE });
        }
        let malformed = |at: usize, expected: &'static str| ParseError::Malformed {
            clause: CLAUSE,
            position: position(input, tokens.get(at).map_or(input.len(), |t| t.start)),
            expected,
            found: describe(tokens.get(at), CLAUSE),
        };
        let mut keys = Vec::new();
        let mut next = 0;
        loop {
            let field = match tokens.get(next).map(|t| &t.kind) {
                Some(TokenKind::Word(w)) => FieldPath::new(w),
                _ => None,
            }
            .ok_or_else(|| malformed(next, "a field name"))?;
            next += 1;
            let mut direction = Direction::Asc;
            if let Some(Token {
                kind: TokenKind::Word(w),
                start,
            }) = tokens.get(next)
            {
                direction = match w.to_ascii_lowercase().as_str() {
                    "asc" => Direction::Asc,
                    "desc" => Direction::Desc,
                    _ => {
                        return Err(ParseError::BadDirection {
                            position: position(input, *start),
                            direction: w.clone(),
                        })
                    }
                };
                next += 1;
            }
            keys.push(OrderKey { field, direction });
            match tokens.get(next).map(|t| &t.kind) {
                None => return Ok(Order { keys }),
                Some(TokenKind::Comma) => next += 1,
                Some(_) => return Err(malformed(next, "',' or the end of the order")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_or_more_keys_with_optional_direction() {
        let o = Order::parse("common_name desc").unwrap();
        assert_eq!(o.keys.len(), 1);
        assert_eq!(o.keys[0].direction, Direction::Desc);
        let o = Order::parse("phonenumber").unwrap();
        assert_eq!(o.keys[0].direction, Direction::Asc);
        let o = Order::parse(" method ASC ,phonenumber  Desc,properties.login").unwrap();
        assert_eq!(
            o.to_string(),
            "method asc, phonenumber desc, properties.login asc"
        );
        assert_eq!(Order::parse(&o.to_string()).unwrap(), o);
    }

    #[test]
    fn malformed_orders_say_where_and_what() {
        let err = |s: &str| Order::parse(s).unwrap_err();
        assert_eq!(err(""), ParseError::Empty { clause: "order" });
        assert_eq!(
            err("phonenumber down"),
            ParseError::BadDirection {
                position: 13,
                direction: "down".into()
            }
        );
        assert_eq!(
            err("a asc desc"),
            ParseError::Malformed {
                clause: "order",
                position: 7,
                expected: "',' or the end of the order",
                found: "'desc'".into()
            }
        );
        assert!(matches!(
            err("a,,b"),
            ParseError::Malformed {
                position: 3,
                expected: "a field name",
                ..
            }
        ));
        assert!(matches!(
            err("a,"),
            ParseError::Malformed { position: 3, .. }
        ));
        assert!(matches!(
            err("'a'"),
            ParseError::Malformed { position: 1, .. }
        ));
        assert!(matches!(
            err("a (b)"),
            ParseError::Malformed { position: 3, .. }
        ));
        assert!(matches!(
            err("a 'x"),
            ParseError::UnterminatedQuote { position: 3, .. }
        ));
    }
}
