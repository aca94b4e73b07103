//! Core API trunk groups. A trunk group routes the DIDs assigned to it to its endpoint
//! (`endpoint_sid`, the partner's own or none); the object shows its trunks nested, as the
//! reference's `trunks.allow_transfer` filter example implies.

use crate::endpoints::owns_endpoint;
use crate::lists::{field, Source};
use crate::query::{FieldKind, FieldSpec, ListParams};
use crate::trunks::{Trunk, TRUNK_COLUMNS};
use crate::{new_sid, now_timestamp, Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;

/// The values `routing_type` accepts; the first is the default.
pub const ROUTING_TYPES: [&str; 2] = ["failover", "round_robin"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TrunkGroup {
    pub date_created: String,
    pub endpoint_sid: Option<String>,
    pub name: String,
    pub partner_sid: String,
    pub routing_type: String,
    pub trunk_group_sid: String,
    #[sqlx(skip)]
    pub trunks: Vec<Trunk>,
}

/// What a partner sets on a trunk group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkGroupFields {
    pub name: String,
    pub endpoint_sid: Option<String>,
    pub routing_type: String,
}

impl Default for TrunkGroupFields {
    fn default() -> Self {
        TrunkGroupFields {
            name: "N/A".into(),
            endpoint_sid: None,
            routing_type: ROUTING_TYPES[0].into(),
        }
    }
}

impl From<&TrunkGroup> for TrunkGroupFields {
    fn from(g: &TrunkGroup) -> Self {
        TrunkGroupFields {
            name: g.name.clone(),
            endpoint_sid: g.endpoint_sid.clone(),
            routing_type: g.routing_type.clone(),
        }
    }
}

const TRUNK_GROUP_COLUMNS: &str =
    "g.trunk_group_sid, g.partner_sid, g.name, g.endpoint_sid, g.routing_type, g.date_created";

/// The trunk group fields a list can filter and order on (not the nested `trunks`).
pub const TRUNK_GROUP_FIELDS: &[FieldSpec] = &[
    field("date_created", "g.date_created", FieldKind::Date),
    field("endpoint_sid", "g.endpoint_sid", FieldKind::Text),
    field("name", "g.name", FieldKind::Text),
    field("partner_sid", "g.partner_sid", FieldKind::Text),
    field("routing_type", "g.routing_type", FieldKind::Text),
    field("trunk_group_sid", "g.trunk_group_sid", FieldKind::Text),
];

const TRUNK_GROUPS: Source = Source {
    columns: TRUNK_GROUP_COLUMNS,
    from: "trunk_groups g",
    owner: "g.partner_sid",
    fields: TRUNK_GROUP_FIELDS,
    default_order: "g.date_created ASC",
    tie_break: "g.trunk_group_sid ASC",
};

/// Binds per `IN (…)` when loading the trunks of a page of groups.
const IN_CHUNK: usize = 500;

impl Store {
    /// Creates a trunk group of the partner; the endpoint, if any, must be the partner's.
    pub async fn create_trunk_group(
        &self,
        partner_sid: &str,
        fields: &TrunkGroupFields,
    ) -> Result<TrunkGroup, StoreError> {
        let sid = new_sid();
        let mut tx = self.begin_write().await?;
        check_endpoint(
            self.dialect,
            &mut tx,
            partner_sid,
            fields.endpoint_sid.as_deref(),
        )
        .await?;
        sqlx::query(&self.sql(
            "INSERT INTO trunk_groups (trunk_group_sid, partner_sid, name, endpoint_sid, \
             routing_type, date_created) VALUES (?, ?, ?, ?, ?, ?)",
        ))
        .bind(&sid)
        .bind(partner_sid)
        .bind(&fields.name)
        .bind(&fields.endpoint_sid)
        .bind(&fields.routing_type)
        .bind(now_timestamp())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.trunk_group(partner_sid, &sid)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// The partner's trunk group with its trunks; `None` for another partner's.
    pub async fn trunk_group(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
    ) -> Result<Option<TrunkGroup>, StoreError> {
        let group = sqlx::query_as::<_, TrunkGroup>(&self.sql(&format!(
            "SELECT {TRUNK_GROUP_COLUMNS} FROM trunk_groups g \
             WHERE g.partner_sid = ? AND g.trunk_group_sid = ?"
        )))
        .bind(partner_sid)
        .bind(trunk_group_sid)
        .fetch_optional(&self.pool)
        .await?;
        let Some(group) = group else { return Ok(None) };
        Ok(self.with_trunks(vec![group]).await?.pop())
    }

    /// The partner's trunk groups matching the filter, with their trunks, and their total.
    pub async fn trunk_groups(
        &self,
        partner_sid: &str,
        params: &ListParams,
    ) -> Result<(Vec<TrunkGroup>, i64), StoreError> {
        let (groups, total) = self.list(&TRUNK_GROUPS, partner_sid, params).await?;
        Ok((self.with_trunks(groups).await?, total))
    }

    /// Replaces the trunk group's settable fields. `None` if the partner has no such group.
    pub async fn update_trunk_group(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
        fields: &TrunkGroupFields,
    ) -> Result<Option<TrunkGroup>, StoreError> {
        let mut tx = self.begin_write().await?;
        check_endpoint(
            self.dialect,
            &mut tx,
            partner_sid,
            fields.endpoint_sid.as_deref(),
        )
        .await?;
        let done = sqlx::query(&self.sql(
            "UPDATE trunk_groups SET name = ?, endpoint_sid = ?, routing_type = ? \
             WHERE partner_sid = ? AND trunk_group_sid = ?",
        ))
        .bind(&fields.name)
        .bind(&fields.endpoint_sid)
        .bind(&fields.routing_type)
        .bind(partner_sid)
        .bind(trunk_group_sid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.trunk_group(partner_sid, trunk_group_sid).await
    }

    /// Deletes the partner's trunk group and its trunks; its DIDs stay, unassigned.
    pub async fn delete_trunk_group(
        &self,
        partner_sid: &str,
        trunk_group_sid: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let owned: Option<String> = sqlx::query_scalar(
            &self.sql("SELECT trunk_group_sid FROM trunk_groups WHERE partner_sid = ? AND trunk_group_sid = ?"),
        )
        .bind(partner_sid)
        .bind(trunk_group_sid)
        .fetch_optional(&mut *tx)
        .await?;
        if owned.is_none() {
            return Ok(false);
        }
        sqlx::query(&self.sql("DELETE FROM trunks WHERE trunk_group_sid = ?"))
            .bind(trunk_group_sid)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&self.sql("UPDATE dids SET trunk_group_sid = NULL WHERE trunk_group_sid = ?"))
            .bind(trunk_group_sid)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&self.sql("DELETE FROM trunk_groups WHERE trunk_group_sid = ?"))
            .bind(trunk_group_sid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Fills in each group's trunks (oldest first) with one query per 500 groups.
    async fn with_trunks(
        &self,
        mut groups: Vec<TrunkGroup>,
    ) -> Result<Vec<TrunkGroup>, StoreError> {
        let mut by_group: HashMap<String, Vec<Trunk>> = HashMap::new();
        for chunk in groups.chunks(IN_CHUNK) {
            let placeholders = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT {TRUNK_COLUMNS} FROM trunks k WHERE k.trunk_group_sid IN ({placeholders}) \
                 ORDER BY k.date_created ASC, k.trunk_sid ASC"
            );
            let sql = self.sql(&sql);
            let mut query = sqlx::query_as::<_, Trunk>(&sql);
            for group in chunk {
                query = query.bind(&group.trunk_group_sid);
            }
            for trunk in query.fetch_all(&self.pool).await? {
                by_group
                    .entry(trunk.trunk_group_sid.clone())
                    .or_default()
                    .push(trunk);
            }
        }
        for group in &mut groups {
            group.trunks = by_group.remove(&group.trunk_group_sid).unwrap_or_default();
        }
        Ok(groups)
    }
}

/// `Err(UnknownReference)` unless `endpoint_sid` is none or one of the partner's endpoints.
pub(crate) async fn check_endpoint(
    dialect: crate::Dialect,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    partner_sid: &str,
    endpoint_sid: Option<&str>,
) -> Result<(), StoreError> {
    match endpoint_sid {
        Some(sid) if !owns_endpoint(dialect, &mut **tx, partner_sid, sid).await? => {
            Err(StoreError::UnknownReference {
                field: "endpoint_sid",
                sid: sid.to_string(),
            })
        }
        _ => Ok(()),
    }
}
