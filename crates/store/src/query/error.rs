//! Errors of the query language. Parse errors are about the text (the API answers 400);
//! compile errors are about what the text asks of an object's fields (the API answers 422).
//! Positions are 1-based character indexes into the parameter, so a client can point at them.

use super::compile::FieldKind;
use super::filter::Op;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the {clause} is empty")]
    Empty { clause: &'static str },
    #[error("malformed {clause} at position {position}: expected {expected}, found {found}")]
    Malformed {
        clause: &'static str,
        position: usize,
        expected: &'static str,
        found: String,
    },
    #[error(
        "unknown operator '{operator}' at position {position}: \
         expected one of eq, ne, gt, ge, lt, le, like, ilike, in, notin, bit"
    )]
    UnknownOperator { position: usize, operator: String },
    #[error(
        "unterminated quoted value starting at position {position}: the closing {quote} is missing"
    )]
    UnterminatedQuote { position: usize, quote: char },
    #[error("empty list at position {position}: '{operator}' needs at least one value")]
    EmptyList { position: usize, operator: Op },
    #[error("unknown sort direction '{direction}' at position {position}: expected asc or desc")]
    BadDirection { position: usize, direction: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("unknown field '{field}'; the fields are: {known}")]
    UnknownField { field: String, known: String },
    #[error("field '{field}' has no subfields: only object fields take a dotted name")]
    NotAnObject { field: String },
    #[error("field '{field}' is an object: name one of its subfields, as in {field}.name")]
    WholeObject { field: String },
    #[error("operator '{operator}' does not apply to the {kind} field '{field}'")]
    OperatorNotAllowed {
        field: String,
        operator: Op,
        kind: FieldKind,
    },
    #[error("bad value {value} for field '{field}': expected {expected}")]
    BadValue {
        field: String,
        value: String,
        expected: &'static str,
    },
    #[error("too many values: a filter or order binds at most {limit}")]
    TooManyValues { limit: usize },
}
