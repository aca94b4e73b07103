//! The list query language of the reference (Pagination, Result Filtering): `filter` and `order`
//! parsed into small ASTs, then compiled against a per-object whitelist of fields into
//! parameterised SQL. User text reaches SQL only as bound values; field names and SQL
//! expressions come only from the whitelist. The grammar and the choices the reference leaves
//! open are written down in `docs/api-filtering.md`.

mod compile;
mod error;
mod filter;
mod lexer;
mod like;
mod order;

pub use compile::{compile_filter, compile_order, Bind, FieldKind, FieldSpec, SqlFragment};
pub use error::{CompileError, ParseError};
pub use filter::{Condition, FieldPath, Filter, Op, Operand, Scalar};
pub use order::{Direction, Order, OrderKey};

/// What a list request asks for: an optional filter and order, and the page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    pub filter: Option<Filter>,
    pub order: Option<Order>,
    pub limit: i64,
    pub offset: i64,
}

impl ListParams {
    /// A page with neither filter nor order (the object's default order applies).
    pub fn page(limit: i64, offset: i64) -> Self {
        ListParams {
            filter: None,
            order: None,
            limit,
            offset,
        }
    }
}
