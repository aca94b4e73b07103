//! `filter`: `field operator value [and field operator value]…` (see `docs/api-filtering.md`).
//! The AST prints back to text that parses to the same AST, so a filter can be echoed in links.

use super::error::ParseError;
use super::lexer::{describe, is_delimiter, position, tokenize, Token, TokenKind};
use std::fmt;
use std::str::FromStr;

const CLAUSE: &str = "filter";

/// A field name, possibly dotted into an object field (`properties.login`). Every segment is
/// an identifier (`[A-Za-z_][A-Za-z0-9_]*`); the constructor enforces it, so a path is always
/// safe to print and is never mistaken for a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    segments: Vec<String>,
}

impl FieldPath {
    pub fn new(text: &str) -> Option<FieldPath> {
        let segments: Vec<String> = text.split('.').map(str::to_string).collect();
        segments
            .iter()
            .all(|s| is_identifier(s))
            .then_some(FieldPath { segments })
    }

    /// The top-level field.
    pub fn name(&self) -> &str {
        self.segments.first().map_or("", String::as_str)
    }

    /// The segments after the top-level field (empty for a plain field).
    pub fn subfields(&self) -> &[String] {
        self.segments.get(1..).unwrap_or(&[])
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    Ilike,
    In,
    NotIn,
    Bit,
}

impl Op {
    pub const ALL: [Op; 11] = [
        Op::Eq,
        Op::Ne,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::Like,
        Op::Ilike,
        Op::In,
        Op::NotIn,
        Op::Bit,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Like => "like",
            Op::Ilike => "ilike",
            Op::In => "in",
            Op::NotIn => "notin",
            Op::Bit => "bit",
        }
    }

    /// Keywords are case-insensitive, like `and`.
    pub fn from_keyword(word: &str) -> Option<Op> {
        Op::ALL
            .into_iter()
            .find(|op| op.keyword().eq_ignore_ascii_case(word))
    }

    /// `in` and `notin` take a parenthesised list; the others one value.
    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::NotIn)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// One value as written. Whether it was quoted matters only where the field's type does not
/// decide (subfields of object fields: `5` is a number there, `"5"` a string) and for `null`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// The bare word `null`, in any case.
    Null,
    /// A bare word: no whitespace, parenthesis or comma, not starting with a quote, and not
    /// `null`. The printer quotes a `Word` that breaks these rules, so such a value reads
    /// back as `Quoted`.
    Word(String),
    /// A single- or double-quoted value, unescaped.
    Quoted(String),
}

impl Scalar {
    /// The text of the value (`null` for `Null`).
    pub fn text(&self) -> &str {
        match self {
            Scalar::Null => "null",
            Scalar::Word(s) | Scalar::Quoted(s) => s,
        }
    }

    /// Whether `text` reads back as the same bare `Word`.
    pub fn is_bare_word(text: &str) -> bool {
        !text.is_empty()
            && !text.starts_with(['\'', '"'])
            && !text.chars().any(is_delimiter)
            && !text.eq_ignore_ascii_case("null")
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => f.write_str("null"),
            Scalar::Word(w) if Scalar::is_bare_word(w) => f.write_str(w),
            Scalar::Word(s) | Scalar::Quoted(s) => write!(f, "\"{}\"", s.replace('"', "\"\"")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    Scalar(Scalar),
    List(Vec<Scalar>),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Scalar(s) => s.fmt(f),
            Operand::List(items) => {
                let items: Vec<String> = items.iter().map(Scalar::to_string).collect();
                write!(f, "({})", items.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    pub field: FieldPath,
    pub op: Op,
    pub value: Operand,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.field, self.op, self.value)
    }
}

/// Conditions that must all hold. The parser never returns an empty list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter {
    pub conditions: Vec<Condition>,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.conditions.iter().map(Condition::to_string).collect();
        f.write_str(&parts.join(" and "))
    }
}

impl FromStr for Filter {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Filter, ParseError> {
        Filter::parse(input)
    }
}

impl Filter {
    pub fn parse(input: &str) -> Result<Filter, ParseError> {
        let tokens = tokenize(input)?;
        if tokens.is_empty() {
            return Err(ParseError::Empty { clause: CLAUSE });
        }
        let mut parser = Parser {
            input,
            tokens: &tokens,
            next: 0,
        };
        let mut conditions = vec![parser.condition()?];
        while let Some(token) = parser.peek() {
            match &token.kind {
                TokenKind::Word(w) if w.eq_ignore_ascii_case("and") => {
                    parser.next += 1;
                    conditions.push(parser.condition()?);
                }
                _ => return Err(parser.malformed("'and' or the end of the filter")),
            }
        }
        Ok(Filter { conditions })
    }
}

struct Parser<'a> {
    input: &'a str,
    tokens: &'a [Token],
    next: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn take(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.next);
        self.next += 1;
        token
    }

    /// The byte offset of the next token, or the end of the input.
    fn here(&self) -> usize {
        self.peek().map_or(self.input.len(), |t| t.start)
    }

    /// An error about the next token, which was not `expected`.
    fn malformed(&self, expected: &'static str) -> ParseError {
        ParseError::Malformed {
            clause: CLAUSE,
            position: position(self.input, self.here()),
            expected,
            found: describe(self.peek(), CLAUSE),
        }
    }

    fn condition(&mut self) -> Result<Condition, ParseError> {
        let field = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Word(w)) => FieldPath::new(w),
            _ => None,
        }
        .ok_or_else(|| self.malformed("a field name"))?;
        self.next += 1;
        let op = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Word(w)) => {
                Op::from_keyword(w).ok_or_else(|| ParseError::UnknownOperator {
                    position: position(self.input, self.here()),
                    operator: w.clone(),
                })?
            }
            _ => return Err(self.malformed("an operator")),
        };
        self.next += 1;
        let value = if op.takes_list() {
            Operand::List(self.list(op)?)
        } else {
            Operand::Scalar(self.scalar()?)
        };
        Ok(Condition { field, op, value })
    }

    fn scalar(&mut self) -> Result<Scalar, ParseError> {
        let scalar = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Word(w)) if w.eq_ignore_ascii_case("null") => Scalar::Null,
            Some(TokenKind::Word(w)) => Scalar::Word(w.clone()),
            Some(TokenKind::Quoted(q)) => Scalar::Quoted(q.clone()),
            _ => return Err(self.malformed("a value")),
        };
        self.next += 1;
        Ok(scalar)
    }

    /// `( value [, value]… )`, as in the reference's `status in ("active", "suspended")`.
    fn list(&mut self, op: Op) -> Result<Vec<Scalar>, ParseError> {
        if self.peek().map(|t| &t.kind) != Some(&TokenKind::LParen) {
            return Err(self.malformed("'(' opening a list of values"));
        }
        let open = self.here();
        self.next += 1;
        if self.peek().map(|t| &t.kind) == Some(&TokenKind::RParen) {
            return Err(ParseError::EmptyList {
                position: position(self.input, open),
                operator: op,
            });
        }
        let mut items = vec![self.scalar()?];
        loop {
            match self.peek().map(|t| &t.kind) {
                Some(TokenKind::Comma) => {
                    self.next += 1;
                    items.push(self.scalar()?);
                }
                Some(TokenKind::RParen) => {
                    self.take();
                    return Ok(items);
                }
                _ => return Err(self.malformed("',' or ')' in the list of values")),
            }
        }
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
