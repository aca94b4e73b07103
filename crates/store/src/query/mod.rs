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
mod postgres;

pub use compile::{compile_filter, compile_order, Bind, FieldKind, FieldSpec, SqlFragment};
pub use error::{CompileError, ParseError};
pub use filter::{Condition, FieldPath, Filter, Op, Operand, Scalar};
pub use order::{Direction, Order, OrderKey};

/// The values of a compiled fragment as query arguments, in order.
pub fn arguments(binds: &[Bind]) -> Result<sqlx::any::AnyArguments<'static>, sqlx::Error> {
    use sqlx::Arguments;
    let mut args = sqlx::any::AnyArguments::default();
    for bind in binds {
        match bind {
            Bind::Text(s) => args.add(s.clone()),
            Bind::Integer(i) => args.add(*i),
            Bind::Real(f) => args.add(*f),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(args)
}

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
