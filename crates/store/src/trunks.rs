//! Core API trunks, which live inside a trunk group (`/trunk_groups/{sid}/trunks`). Every query
//! is scoped by the partner through the trunk group, so another partner's trunk is invisible.

use crate::lists::{field, Source};
use crate::query::{FieldKind, FieldSpec, ListParams};
use crate::rows::bool_column;
use crate::trunk_groups::check_endpoint;
use crate::{new_sid, now_timestamp, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trunk {
    pub allow_transfer: bool,
    pub date_created: String,
    pub endpoint_sid: Option<String>,
    pub name: String,
    pub trunk_group_sid: String,
    pub trunk_sid: String,
}

/// What a partner sets on a trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkFields {
    pub name: String,
    pub endpoint_sid: Option<String>,
    pub allow_transfer: bool,
}

impl Default for TrunkFields {
    fn default() -> Self {
        TrunkFields {
            name: "N/A".into(),
            endpoint_sid: None,
            allow_transfer: false,
        }
    }
}

impl From<&Trunk> for TrunkFields {
    fn from(t: &Trunk) -> Self {
        TrunkFields {
            name: t.name.clone(),
            endpoint_sid: t.endpoint_sid.clone(),
            allow_transfer: t.allow_transfer,
        }
    }
}

impl<'r> sqlx::FromRow<'r, AnyRow> for Trunk {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Trunk {
            allow_transfer: bool_column(row, "allow_transfer")?,
            date_created: row.try_get("date_created")?,
            endpoint_sid: row.try_get("endpoint_sid")?,
            name: row.try_get("name")?,
            trunk_group_sid: row.try_get("trunk_group_sid")?,
            trunk_sid: row.try_get("trunk_sid")?,
        })
    }
}

pub(crate) const TRUNK_COLUMNS: &str =
    "k.trunk_sid, k.trunk_group_sid, k.name, k.endpoint_sid, k.allow_transfer, k.date_created";

pub const TRUNK_FIELDS: &[FieldSpec] = &[
    field("allow_transfer", "k.allow_transfer", FieldKind::Boolean),
    field("date_created", "k.date_created", FieldKind::Date),
    field("endpoint_sid", "k.endpoint_sid", FieldKind::Text),
    field("name", "k.name", FieldKind::Text),
    field("trunk_group_sid", "k.trunk_group_sid", FieldKind::Text),
    field("trunk_sid", "k.trunk_sid", FieldKind::Text),
];

/// Scoped by trunk group; the partner's ownership of the group is checked before listing.
const TRUNKS: Source = Source {
    columns: TRUNK_COLUMNS,
    from: "trunks k",
    owner: "k.trunk_group_sid",
    fields: TRUNK_FIELDS,
    default_order: "k.date_created ASC",
    tie_break: "k.trunk_sid ASC",
};

const TRUNK_OF_PARTNER: &str = "FROM trunks k JOIN trunk_groups g \
    ON g.trunk_group_sid = k.trunk_group_sid \
    WHERE g.partner_sid = ? AND k.trunk_group_sid = ? AND k.trunk_sid = ?";

impl Store {
    async fn owns_trunk_group(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
    ) -> Result<bool, StoreError> {
        let found: Option<String> = sqlx::query_scalar(
            &self.sql("SELECT trunk_group_sid FROM trunk_groups WHERE partner_sid = ? AND trunk_group_sid = ?"),
        )
        .bind(partner_sid)
        .bind(trunk_group_sid)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Adds a trunk to the partner's trunk group; the endpoint, if any, must be the
    /// partner's. `None` if the partner has no such trunk group.
    pub async fn create_trunk(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
        fields: &TrunkFields,
    ) -> Result<Option<Trunk>, StoreError> {
        let sid = new_sid();
        let mut tx = self.begin_write().await?;
        let group: Option<String> = sqlx::query_scalar(
            &self.sql("SELECT trunk_group_sid FROM trunk_groups WHERE partner_sid = ? AND trunk_group_sid = ?"),
        )
        .bind(partner_sid)
        .bind(trunk_group_sid)
        .fetch_optional(&mut *tx)
        .await?;
        if group.is_none() {
            return Ok(None);
        }
        check_endpoint(
            self.dialect,
            &mut tx,
            partner_sid,
            fields.endpoint_sid.as_deref(),
        )
        .await?;
        sqlx::query(&self.sql(
            "INSERT INTO trunks (trunk_sid, trunk_group_sid, name, endpoint_sid, allow_transfer, \
             date_created) VALUES (?, ?, ?, ?, ?, ?)",
        ))
        .bind(&sid)
        .bind(trunk_group_sid)
        .bind(&fields.name)
        .bind(&fields.endpoint_sid)
        .bind(i64::from(fields.allow_transfer))
        .bind(now_timestamp())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.trunk(partner_sid, trunk_group_sid, &sid).await
    }

    /// The trunk, if it is in the partner's trunk group.
    pub async fn trunk(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
        trunk_sid: &str,
    ) -> Result<Option<Trunk>, StoreError> {
        Ok(sqlx::query_as::<_, Trunk>(
            &self.sql(&format!("SELECT {TRUNK_COLUMNS} {TRUNK_OF_PARTNER}")),
        )
        .bind(partner_sid)
        .bind(trunk_group_sid)
        .bind(trunk_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The trunks of the partner's trunk group matching the filter, and their total; `None`
    /// if the partner has no such trunk group.
    pub async fn trunks(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
        params: &ListParams,
    ) -> Result<Option<(Vec<Trunk>, i64)>, StoreError> {
        if !self.owns_trunk_group(partner_sid, trunk_group_sid).await? {
            return Ok(None);
        }
        Ok(Some(self.list(&TRUNKS, trunk_group_sid, params).await?))
    }

    /// Replaces the trunk's settable fields. `None` if the partner has no such trunk.
    pub async fn update_trunk(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
        trunk_sid: &str,
        fields: &TrunkFields,
    ) -> Result<Option<Trunk>, StoreError> {
        let mut tx = self.begin_write().await?;
        let found: Option<String> =
            sqlx::query_scalar(&self.sql(&format!("SELECT k.trunk_sid {TRUNK_OF_PARTNER}")))
                .bind(partner_sid)
                .bind(trunk_group_sid)
                .bind(trunk_sid)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(None);
        }
        check_endpoint(
            self.dialect,
            &mut tx,
            partner_sid,
            fields.endpoint_sid.as_deref(),
        )
        .await?;
        sqlx::query(&self.sql(
            "UPDATE trunks SET name = ?, endpoint_sid = ?, allow_transfer = ? WHERE trunk_sid = ?",
        ))
        .bind(&fields.name)
        .bind(&fields.endpoint_sid)
        .bind(i64::from(fields.allow_transfer))
        .bind(trunk_sid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.trunk(partner_sid, trunk_group_sid, trunk_sid).await
    }

    /// Deletes the trunk; `false` if the partner has no such trunk.
    pub async fn delete_trunk(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
        trunk_sid: &str,
    ) -> Result<bool, StoreError> {
        if self
            .trunk(partner_sid, trunk_group_sid, trunk_sid)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        let done = sqlx::query(
            &self.sql("DELETE FROM trunks WHERE trunk_sid = ? AND trunk_group_sid = ?"),
        )
        .bind(trunk_sid)
        .bind(trunk_group_sid)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
