//! Containers: a partner's file repositories, each with a byte and a file quota and the
//! running totals of what it holds.

use super::StorageError;
use crate::lists::{field, Source};
use crate::query::{FieldKind, FieldSpec, ListParams};
use crate::rows::bool_column;
use crate::{new_sid, now_timestamp, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// CarrierX's defaults: 1 GB and 100 files per container.
pub const DEFAULT_QUOTA_BYTES: i64 = 1 << 30;
pub const DEFAULT_QUOTA_FILES: i64 = 100;

/// The Container object; keys serialise in alphabetical order, as CarrierX shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    pub allow_publish: bool,
    pub available_bytes_percent: i64,
    pub available_files_percent: i64,
    pub container_sid: String,
    pub date_created: String,
    pub name: String,
    pub partner_sid: String,
    pub quota_bytes: i64,
    pub quota_files: i64,
    pub total_bytes: i64,
    pub total_files: i64,
    /// Always `internal`: the bytes are on this server's disk.
    #[serde(rename = "type")]
    pub container_type: &'static str,
}

/// What a partner sets on a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerFields {
    pub name: String,
    pub allow_publish: bool,
    pub quota_bytes: i64,
    pub quota_files: i64,
}

impl Default for ContainerFields {
    fn default() -> Self {
        ContainerFields {
            name: "N/A".into(),
            allow_publish: true,
            quota_bytes: DEFAULT_QUOTA_BYTES,
            quota_files: DEFAULT_QUOTA_FILES,
        }
    }
}

impl From<&Container> for ContainerFields {
    fn from(c: &Container) -> Self {
        ContainerFields {
            name: c.name.clone(),
            allow_publish: c.allow_publish,
            quota_bytes: c.quota_bytes,
            quota_files: c.quota_files,
        }
    }
}

/// The share of a quota still free, in whole percent; the same formula as the SQL below.
fn available_percent(total: i64, quota: i64) -> i64 {
    if quota > 0 {
        (quota.saturating_sub(total)).saturating_mul(100) / quota
    } else {
        0
    }
}

impl<'r> sqlx::FromRow<'r, AnyRow> for Container {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        let (quota_bytes, quota_files): (i64, i64) =
            (row.try_get("quota_bytes")?, row.try_get("quota_files")?);
        let (total_bytes, total_files): (i64, i64) =
            (row.try_get("total_bytes")?, row.try_get("total_files")?);
        Ok(Container {
            allow_publish: bool_column(row, "allow_publish")?,
            available_bytes_percent: available_percent(total_bytes, quota_bytes),
            available_files_percent: available_percent(total_files, quota_files),
            container_sid: row.try_get("container_sid")?,
            date_created: row.try_get("date_created")?,
            name: row.try_get("name")?,
            partner_sid: row.try_get("partner_sid")?,
            quota_bytes,
            quota_files,
            total_bytes,
            total_files,
            container_type: "internal",
        })
    }
}

const CONTAINER_COLUMNS: &str = "c.container_sid, c.partner_sid, c.name, c.allow_publish, \
    c.quota_bytes, c.quota_files, c.total_bytes, c.total_files, c.date_created";

/// Every field the Container object shows.
pub const CONTAINER_FIELDS: &[FieldSpec] = &[
    field("allow_publish", "c.allow_publish", FieldKind::Boolean),
    field(
        "available_bytes_percent",
        "(CASE WHEN c.quota_bytes > 0 THEN ((c.quota_bytes - c.total_bytes) * 100) / c.quota_bytes ELSE 0 END)",
        FieldKind::Integer,
    ),
    field(
        "available_files_percent",
        "(CASE WHEN c.quota_files > 0 THEN ((c.quota_files - c.total_files) * 100) / c.quota_files ELSE 0 END)",
        FieldKind::Integer,
    ),
    field("container_sid", "c.container_sid", FieldKind::Text),
    field("date_created", "c.date_created", FieldKind::Date),
    field("name", "c.name", FieldKind::Text),
    field("partner_sid", "c.partner_sid", FieldKind::Text),
    field("quota_bytes", "c.quota_bytes", FieldKind::Integer),
    field("quota_files", "c.quota_files", FieldKind::Integer),
    field("total_bytes", "c.total_bytes", FieldKind::Integer),
    field("total_files", "c.total_files", FieldKind::Integer),
];

const CONTAINERS: Source = Source {
    columns: CONTAINER_COLUMNS,
    from: "containers c",
    owner: "c.partner_sid",
    fields: CONTAINER_FIELDS,
    default_order: "c.date_created ASC",
    tie_break: "c.container_sid ASC",
};

impl Store {
    pub async fn create_container(
        &self,
        partner_sid: &str,
        fields: &ContainerFields,
    ) -> Result<Container, StoreError> {
        let container_sid = new_sid();
        sqlx::query(&self.sql(
            "INSERT INTO containers (container_sid, partner_sid, name, allow_publish, \
             quota_bytes, quota_files, date_created) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&container_sid)
        .bind(partner_sid)
        .bind(&fields.name)
        .bind(i64::from(fields.allow_publish))
        .bind(fields.quota_bytes)
        .bind(fields.quota_files)
        .bind(now_timestamp())
        .execute(&self.pool)
        .await?;
        self.container(partner_sid, &container_sid)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// The partner's container; `None` for another partner's.
    pub async fn container(
        &self,
        partner_sid: &str,
        container_sid: &str,
    ) -> Result<Option<Container>, StoreError> {
        Ok(sqlx::query_as::<_, Container>(&self.sql(&format!(
            "SELECT {CONTAINER_COLUMNS} FROM containers c \
             WHERE c.partner_sid = ? AND c.container_sid = ?"
        )))
        .bind(partner_sid)
        .bind(container_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The partner's oldest container called `name`, created (with `fields`) when there is
    /// none: where recordings go when neither the app nor the endpoint names a container.
    pub async fn container_named(
        &self,
        partner_sid: &str,
        name: &str,
        fields: &ContainerFields,
    ) -> Result<Container, StoreError> {
        let existing = sqlx::query_as::<_, Container>(&self.sql(&format!(
            "SELECT {CONTAINER_COLUMNS} FROM containers c \
             WHERE c.partner_sid = ? AND c.name = ? ORDER BY c.date_created, c.container_sid LIMIT 1"
        )))
        .bind(partner_sid)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        match existing {
            Some(container) => Ok(container),
            None => {
                let fields = ContainerFields {
                    name: name.to_string(),
                    ..fields.clone()
                };
                self.create_container(partner_sid, &fields).await
            }
        }
    }

    pub async fn containers(
        &self,
        partner_sid: &str,
        params: &ListParams,
    ) -> Result<(Vec<Container>, i64), StoreError> {
        self.list(&CONTAINERS, partner_sid, params).await
    }

    /// Replaces the container's settable fields. A quota below what the container holds is
    /// refused rather than leaving it over quota. `None` if the partner has no such container.
    pub async fn update_container(
        &self,
        partner_sid: &str,
        container_sid: &str,
        fields: &ContainerFields,
    ) -> Result<Option<Container>, StorageError> {
        // One statement, so an upload cannot slip in between the check and the change.
        let changed = sqlx::query(&self.sql(
            "UPDATE containers SET name = ?, allow_publish = ?, quota_bytes = ?, quota_files = ? \
             WHERE partner_sid = ? AND container_sid = ? AND total_bytes <= ? AND total_files <= ?",
        ))
        .bind(&fields.name)
        .bind(i64::from(fields.allow_publish))
        .bind(fields.quota_bytes)
        .bind(fields.quota_files)
        .bind(partner_sid)
        .bind(container_sid)
        .bind(fields.quota_bytes)
        .bind(fields.quota_files)
        .execute(&self.pool)
        .await?
        .rows_affected();
        let current = self.container(partner_sid, container_sid).await?;
        match current {
            Some(c) if changed == 0 && c.total_bytes > fields.quota_bytes => {
                Err(StorageError::Invalid {
                    field: "quota_bytes",
                    message: format!(
                        "must be at least the {} bytes the container holds",
                        c.total_bytes
                    ),
                })
            }
            Some(c) if changed == 0 && c.total_files > fields.quota_files => {
                Err(StorageError::Invalid {
                    field: "quota_files",
                    message: format!(
                        "must be at least the {} files the container holds",
                        c.total_files
                    ),
                })
            }
            other => Ok(other),
        }
    }

    /// Deletes an empty container. `false` if the partner has no such container.
    pub async fn delete_container(
        &self,
        partner_sid: &str,
        container_sid: &str,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        let files: Option<i64> =
            sqlx::query_scalar(&self.sql(
                "SELECT total_files FROM containers WHERE partner_sid = ? AND container_sid = ?",
            ))
            .bind(partner_sid)
            .bind(container_sid)
            .fetch_optional(&mut *tx)
            .await?;
        match files {
            None => return Ok(false),
            Some(files) if files > 0 => return Err(StorageError::NotEmpty { files }),
            Some(_) => {}
        }
        sqlx::query(
            &self.sql("DELETE FROM containers WHERE container_sid = ? AND total_files = 0"),
        )
        .bind(container_sid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::available_percent;

    #[test]
    fn available_share_in_whole_percent() {
        assert_eq!(available_percent(0, 100), 100);
        assert_eq!(available_percent(1, 3), 66);
        assert_eq!(available_percent(100, 100), 0);
        assert_eq!(available_percent(0, 0), 0);
    }
}
