//! Helpers shared by the Core API objects' queries: JSON columns (stored as TEXT so the schema
//! stays portable) and the mapping of constraint violations to `StoreError`.

use crate::StoreError;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A JSON object or array stored as TEXT.
pub(crate) fn json_column(row: &AnyRow, column: &str) -> Result<Value, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: Box::new(e),
    })
}

/// A boolean stored as INTEGER 0/1.
pub(crate) fn bool_column(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// A UNIQUE violation as `StoreError::Conflict` on `field`; any other error as it is.
pub(crate) fn conflict_on(
    field: &'static str,
    message: String,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { field, message }
        }
        _ => StoreError::Database(e),
    }
}
