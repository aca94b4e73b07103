//! From filter and order ASTs to SQL, against one object's whitelist of fields. The SQL text
//! is built only from the whitelist's expressions and fixed keywords; every value the user
//! wrote — and the JSON path of a dotted name — is a bound parameter.

use super::error::CompileError;
use super::filter::{Condition, FieldPath, Filter, Op, Operand, Scalar};
use super::like::glob_from_like;
use super::order::{Direction, Order};
use super::postgres::{self, Want};
use crate::Dialect;
use std::fmt;

/// Bound parameters one filter or order may use: far above any real filter, far below
/// SQLite's limit on variables, and a cap on the work one request can ask for.
pub const MAX_BINDS: usize = 500;

/// How a field's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Text,
    Integer,
    /// Stored as 0/1.
    Boolean,
    /// Stored as text in the API's format (`2018-09-20T21:56:49.000Z`), which sorts by time.
    Date,
    /// A JSON object column; filtered only through dotted subfields (`properties.login`).
    Object,
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldKind::Text => "text",
            FieldKind::Integer => "integer",
            FieldKind::Boolean => "boolean",
            FieldKind::Date => "date",
            FieldKind::Object => "object",
        })
    }
}

/// One filterable field of an object: its API name, the SQL expression behind it and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub sql: &'static str,
    pub kind: FieldKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Integer(i64),
    Real(f64),
}

/// SQL text with `?` placeholders and the values bound to them, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SqlFragment {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl SqlFragment {
    pub fn push_sql(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    pub fn push_bind(&mut self, bind: Bind) {
        self.sql.push('?');
        self.binds.push(bind);
    }

    pub fn append(&mut self, other: SqlFragment) {
        self.sql.push_str(&other.sql);
        self.binds.extend(other.binds);
    }

    fn checked(self) -> Result<SqlFragment, CompileError> {
        if self.binds.len() > MAX_BINDS {
            return Err(CompileError::TooManyValues { limit: MAX_BINDS });
        }
        Ok(self)
    }
}

/// The WHERE condition (without `WHERE`) selecting the rows that match every condition.
pub fn compile_filter(
    filter: &Filter,
    fields: &[FieldSpec],
    dialect: Dialect,
) -> Result<SqlFragment, CompileError> {
    let mut out = SqlFragment::default();
    if filter.conditions.is_empty() {
        // Only a hand-built AST can be empty; all of nothing holds.
        out.push_sql(match dialect {
            Dialect::Sqlite => "1",
            Dialect::Postgres => "TRUE",
        });
    }
    for (i, condition) in filter.conditions.iter().enumerate() {
        if i > 0 {
            out.push_sql(" AND ");
        }
        out.push_sql("(");
        compile_condition(condition, fields, dialect, &mut out)?;
        out.push_sql(")");
    }
    out.checked()
}

/// The ORDER BY list (without `ORDER BY`). SQLite sorts NULL before any value.
pub fn compile_order(
    order: &Order,
    fields: &[FieldSpec],
    dialect: Dialect,
) -> Result<SqlFragment, CompileError> {
    let mut out = SqlFragment::default();
    for (i, key) in order.keys.iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        let target = resolve(&key.field, fields)?;
        if dialect == Dialect::Postgres {
            postgres::order_key(&target, key.direction, &mut out);
            continue;
        }
        target.push(&mut out);
        out.push_sql(match key.direction {
            Direction::Asc => " ASC",
            Direction::Desc => " DESC",
        });
    }
    out.checked()
}

/// A field found in the whitelist; `json_path` is set for a subfield of an object field.
pub(super) struct Target<'a> {
    field: &'a FieldPath,
    pub(super) spec: &'a FieldSpec,
    pub(super) json_path: Option<String>,
}

fn resolve<'a>(field: &'a FieldPath, fields: &'a [FieldSpec]) -> Result<Target<'a>, CompileError> {
    let spec = fields
        .iter()
        .find(|f| f.name == field.name())
        .ok_or_else(|| CompileError::UnknownField {
            field: field.name().to_string(),
            known: fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", "),
        })?;
    let json_path = match (spec.kind, field.subfields()) {
        (FieldKind::Object, []) => {
            return Err(CompileError::WholeObject {
                field: spec.name.to_string(),
            })
        }
        // Segments are identifiers (FieldPath guarantees it), so `$.a.b` needs no quoting.
        (FieldKind::Object, subfields) => Some(format!("$.{}", subfields.join("."))),
        (_, []) => None,
        (_, _) => {
            return Err(CompileError::NotAnObject {
                field: spec.name.to_string(),
            })
        }
    };
    Ok(Target {
        field,
        spec,
        json_path,
    })
}

impl Target<'_> {
    fn push(&self, out: &mut SqlFragment) {
        match &self.json_path {
            Some(path) => {
                out.push_sql("json_extract(");
                out.push_sql(self.spec.sql);
                out.push_sql(", ");
                out.push_bind(Bind::Text(path.clone()));
                out.push_sql(")");
            }
            None => out.push_sql(self.spec.sql),
        }
    }

    /// For a JSON subfield, keeps only values of the bound value's JSON type: SQLite orders
    /// every number before every string, so without it `n gt 4` would match the string "5",
    /// and `&` would read "5" as the number 5.
    fn push_json_type_guard(&self, bind: &Bind, out: &mut SqlFragment) {
        let Some(path) = &self.json_path else {
            return;
        };
        out.push_sql("json_type(");
        out.push_sql(self.spec.sql);
        out.push_sql(", ");
        out.push_bind(Bind::Text(path.clone()));
        out.push_sql(match bind {
            Bind::Text(_) => ") = 'text' AND ",
            Bind::Integer(_) | Bind::Real(_) => ") IN ('integer', 'real') AND ",
        });
    }

    /// Subfields of JSON objects hold any type, so every operator applies to them.
    fn allows(&self, op: Op) -> bool {
        if self.json_path.is_some() {
            return true;
        }
        match self.spec.kind {
            FieldKind::Text | FieldKind::Date => op != Op::Bit,
            FieldKind::Integer => !matches!(op, Op::Like | Op::Ilike),
            FieldKind::Boolean => matches!(op, Op::Eq | Op::Ne | Op::In | Op::NotIn),
            FieldKind::Object => false,
        }
    }

    fn bad_value(&self, value: &Scalar, expected: &'static str) -> CompileError {
        CompileError::BadValue {
            field: self.field.to_string(),
            value: value.to_string(),
            expected,
        }
    }

    /// The value as the field's type binds it.
    fn typed(&self, value: &Scalar) -> Result<Bind, CompileError> {
        let text = value.text();
        if self.json_path.is_some() {
            return Ok(json_value(value));
        }
        match self.spec.kind {
            FieldKind::Text | FieldKind::Object => Ok(Bind::Text(text.to_string())),
            FieldKind::Integer => text
                .parse()
                .map(Bind::Integer)
                .map_err(|_| self.bad_value(value, "an integer")),
            FieldKind::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" => Ok(Bind::Integer(1)),
                "false" => Ok(Bind::Integer(0)),
                _ => Err(self.bad_value(value, "true or false")),
            },
            FieldKind::Date => normalize_date(text).map(Bind::Text).ok_or_else(|| {
                self.bad_value(
                    value,
                    "a date (2018-09-20) or an RFC 3339 date-time (2018-09-20T21:56:49.000Z)",
                )
            }),
        }
    }
}

/// In a JSON subfield a bare word is typed by its look (`5`, `1.5`, `true`) and a quoted
/// value is always a string: the same text can be either in a JSON document.
fn json_value(value: &Scalar) -> Bind {
    match value {
        Scalar::Word(w) => {
            if let Ok(i) = w.parse::<i64>() {
                return Bind::Integer(i);
            }
            match w.to_ascii_lowercase().as_str() {
                // json_extract returns JSON booleans as 1 and 0.
                "true" => return Bind::Integer(1),
                "false" => return Bind::Integer(0),
                _ => {}
            }
            let numeric = w
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
            match w.parse::<f64>() {
                Ok(f) if numeric && f.is_finite() => Bind::Real(f),
                _ => Bind::Text(w.clone()),
            }
        }
        other => Bind::Text(other.text().to_string()),
    }
}

/// `2018-09-20` or an RFC 3339 date-time, as the stored format so text order is time order.
fn normalize_date(text: &str) -> Option<String> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(format!("{}T00:00:00.000Z", date.format("%Y-%m-%d")));
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| {
        t.with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    })
}

fn compile_condition(
    condition: &Condition,
    fields: &[FieldSpec],
    dialect: Dialect,
    out: &mut SqlFragment,
) -> Result<(), CompileError> {
    let target = resolve(&condition.field, fields)?;
    let op = condition.op;
    if !target.allows(op) {
        return Err(CompileError::OperatorNotAllowed {
            field: condition.field.to_string(),
            operator: op,
            kind: target.spec.kind,
        });
    }
    match (&condition.value, op.takes_list()) {
        (Operand::Scalar(value), false) => compile_scalar(&target, op, value, dialect, out),
        (Operand::List(values), true) => compile_list(&target, op, values, dialect, out),
        // The parser never builds these; a hand-built AST gets a clear error, not bad SQL.
        (Operand::Scalar(value), true) => {
            Err(target.bad_value(value, "a parenthesised list of values"))
        }
        (Operand::List(values), false) => Err(CompileError::BadValue {
            field: condition.field.to_string(),
            value: Operand::List(values.clone()).to_string(),
            expected: "a single value, not a list",
        }),
    }
}

fn compile_scalar(
    target: &Target<'_>,
    op: Op,
    value: &Scalar,
    dialect: Dialect,
    out: &mut SqlFragment,
) -> Result<(), CompileError> {
    let pg = dialect == Dialect::Postgres;
    match (op, value) {
        (Op::Eq | Op::Ne, Scalar::Null) => {
            match pg {
                true => target.push_pg(Want::Any, out),
                false => target.push(out),
            }
            out.push_sql(if op == Op::Eq {
                " IS NULL"
            } else {
                " IS NOT NULL"
            });
        }
        (_, Scalar::Null) => {
            return Err(target.bad_value(
                value,
                "a value other than null (null works with eq and ne only)",
            ))
        }
        (Op::Like | Op::Ilike, _) if pg => {
            let fold = op == Op::Ilike;
            let pattern = match fold {
                true => value.text().to_ascii_lowercase(),
                false => value.text().to_string(),
            };
            postgres::like(target, fold, &pattern, out);
        }
        (Op::Like | Op::Ilike, _) => {
            let pattern = if op == Op::Ilike {
                // SQLite's lower() folds ASCII only; fold the pattern the same way.
                out.push_sql("lower(");
                target.push(out);
                out.push_sql(")");
                value.text().to_ascii_lowercase()
            } else {
                target.push(out);
                value.text().to_string()
            };
            out.push_sql(" GLOB ");
            out.push_bind(Bind::Text(glob_from_like(&pattern)));
        }
        (Op::Bit, _) => {
            // The reference: `capabilities bit 7` finds numbers with all of 1, 2 and 4 set.
            let mask = value
                .text()
                .parse::<i64>()
                .ok()
                .filter(|m| *m >= 0)
                .ok_or_else(|| target.bad_value(value, "a non-negative integer bit mask"))?;
            if pg {
                out.push_sql("(");
                target.push_pg(Want::Bits, out);
            } else {
                target.push_json_type_guard(&Bind::Integer(mask), out);
                out.push_sql("(");
                target.push(out);
            }
            out.push_sql(" & ");
            out.push_bind(Bind::Integer(mask));
            out.push_sql(") = ");
            out.push_bind(Bind::Integer(mask));
        }
        _ => {
            let bind = target.typed(value)?;
            let sql_op = match op {
                Op::Eq => " = ",
                // Null-safe: a row whose field is null is "not equal" to any value.
                Op::Ne => " IS NOT ",
                Op::Gt => " > ",
                Op::Ge => " >= ",
                Op::Lt => " < ",
                _ => " <= ",
            };
            if pg {
                postgres::compare(target, sql_op, bind, out);
                return Ok(());
            }
            if !matches!(op, Op::Eq | Op::Ne) {
                target.push_json_type_guard(&bind, out);
            }
            target.push(out);
            out.push_sql(sql_op);
            out.push_bind(bind);
        }
    }
    Ok(())
}

fn compile_list(
    target: &Target<'_>,
    op: Op,
    values: &[Scalar],
    dialect: Dialect,
    out: &mut SqlFragment,
) -> Result<(), CompileError> {
    if values.len() > MAX_BINDS {
        return Err(CompileError::TooManyValues { limit: MAX_BINDS });
    }
    let mut binds = Vec::with_capacity(values.len());
    for value in values {
        if *value == Scalar::Null {
            return Err(target.bad_value(
                value,
                "values other than null in a list (use eq null or ne null)",
            ));
        }
        binds.push(target.typed(value)?);
    }
    if binds.is_empty() {
        return Err(CompileError::BadValue {
            field: target.field.to_string(),
            value: "()".into(),
            expected: "at least one value in the list",
        });
    }
    if dialect == Dialect::Postgres {
        postgres::in_list(target, op == Op::NotIn, binds, out);
        return Ok(());
    }
    if op == Op::NotIn {
        // As with ne, a null field is "not in" any list.
        out.push_sql("(");
        target.push(out);
        out.push_sql(" IS NULL OR ");
    }
    target.push(out);
    out.push_sql(if op == Op::NotIn {
        " NOT IN ("
    } else {
        " IN ("
    });
    for (i, bind) in binds.into_iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push_bind(bind);
    }
    out.push_sql(")");
    if op == Op::NotIn {
        out.push_sql(")");
    }
    Ok(())
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "compile_pg_tests.rs"]
mod pg_tests;
