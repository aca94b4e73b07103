//! Core API phone numbers (`/core/v2/phonenumber/dids`): the partner's view of a DID, with its
//! trunk group assignment. The FlexML API's view of the same row is `Did` (url, method, status
//! callbacks), reachable once the DID's trunk group points at a FlexML endpoint.

use crate::lists::{field, Source};
use crate::query::{FieldKind, FieldSpec, ListParams};
use crate::rows::{conflict_on, json_column};
use crate::{country_code, new_sid, now_timestamp, Store, StoreError};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

/// The `capabilities` bits of the reference's `bit` operator: SMS in, SMS out, voice, MMS in,
/// MMS out. A DID's value is a sum of them.
pub const CAPABILITIES_ALL: i64 = 1 | 2 | 4 | 8 | 16;
/// Voice only: what flexvox serves.
pub const CAPABILITIES_DEFAULT: i64 = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct CoreDid {
    pub attributes: Map<String, Value>,
    pub capabilities: i64,
    pub country_code: String,
    pub date_created: String,
    pub did_sid: String,
    pub name: String,
    pub partner_sid: String,
    pub phonenumber: String,
    pub trunk_group_sid: Option<String>,
}

impl Serialize for CoreDid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "attributes": self.attributes,
            "capabilities": self.capabilities,
            "country_code": self.country_code,
            "date_created": self.date_created,
            "did_sid": self.did_sid,
            "in_country_format": crate::format_national(&self.phonenumber),
            "international_format": crate::format_international(&self.phonenumber),
            "name": self.name,
            "partner_sid": self.partner_sid,
            "phonenumber": self.phonenumber,
            "trunk_group_sid": self.trunk_group_sid,
        })
        .serialize(s)
    }
}

impl<'r> sqlx::FromRow<'r, AnyRow> for CoreDid {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(CoreDid {
            attributes: match json_column(row, "attributes")? {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            capabilities: row.try_get("capabilities")?,
            country_code: row.try_get("country_code")?,
            date_created: row.try_get("date_created")?,
            did_sid: row.try_get("did_sid")?,
            name: row.try_get("name")?,
            partner_sid: row.try_get("partner_sid")?,
            phonenumber: row.try_get("phonenumber")?,
            trunk_group_sid: row.try_get("trunk_group_sid")?,
        })
    }
}

/// What a partner sets on a DID (the number itself is given once, at creation).
#[derive(Debug, Clone, PartialEq)]
pub struct CoreDidFields {
    pub name: String,
    pub attributes: Map<String, Value>,
    pub capabilities: i64,
    pub trunk_group_sid: Option<String>,
}

impl Default for CoreDidFields {
    fn default() -> Self {
        CoreDidFields {
            name: "N/A".into(),
            attributes: Map::new(),
            capabilities: CAPABILITIES_DEFAULT,
            trunk_group_sid: None,
        }
    }
}

impl From<&CoreDid> for CoreDidFields {
    fn from(d: &CoreDid) -> Self {
        CoreDidFields {
            name: d.name.clone(),
            attributes: d.attributes.clone(),
            capabilities: d.capabilities,
            trunk_group_sid: d.trunk_group_sid.clone(),
        }
    }
}

const CORE_DID_COLUMNS: &str = "d.did_sid, d.partner_sid, d.phonenumber, d.country_code, \
    d.name, d.attributes, d.capabilities, d.trunk_group_sid, d.date_created";

pub const CORE_DID_FIELDS: &[FieldSpec] = &[
    field("attributes", "d.attributes", FieldKind::Object),
    field("capabilities", "d.capabilities", FieldKind::Integer),
    field("country_code", "d.country_code", FieldKind::Text),
    field("date_created", "d.date_created", FieldKind::Date),
    field("did_sid", "d.did_sid", FieldKind::Text),
    field(
        "in_country_format",
        crate::phone::NATIONAL_SQL,
        FieldKind::Text,
    ),
    field(
        "international_format",
        crate::phone::INTERNATIONAL_SQL,
        FieldKind::Text,
    ),
    field("name", "d.name", FieldKind::Text),
    field("partner_sid", "d.partner_sid", FieldKind::Text),
    field("phonenumber", "d.phonenumber", FieldKind::Text),
    field("trunk_group_sid", "d.trunk_group_sid", FieldKind::Text),
];

const CORE_DIDS: Source = Source {
    columns: CORE_DID_COLUMNS,
    from: "dids d",
    owner: "d.partner_sid",
    fields: CORE_DID_FIELDS,
    default_order: "d.phonenumber ASC",
    tie_break: "d.did_sid ASC",
};

/// `Err(UnknownReference)` unless the trunk group is none or one of the partner's.
async fn check_trunk_group(
    dialect: crate::Dialect,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    partner_sid: &str,
    trunk_group_sid: Option<&str>,
) -> Result<(), StoreError> {
    let Some(sid) = trunk_group_sid else {
        return Ok(());
    };
    let found: Option<String> = sqlx::query_scalar(&dialect.sql(
        "SELECT trunk_group_sid FROM trunk_groups WHERE partner_sid = ? AND trunk_group_sid = ?",
    ))
    .bind(partner_sid)
    .bind(sid)
    .fetch_optional(&mut **tx)
    .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::UnknownReference {
            field: "trunk_group_sid",
            sid: sid.to_string(),
        }),
    }
}

impl Store {
    /// Adds the number (E.164 digits without `+`, checked by the caller) to the partner.
    /// `Err(Conflict)` if the number exists, for this partner or another.
    pub async fn create_core_did(
        &self,
        partner_sid: &str,
        phonenumber: &str,
        fields: &CoreDidFields,
    ) -> Result<CoreDid, StoreError> {
        let sid = new_sid();
        let mut tx = self.begin_write().await?;
        check_trunk_group(
            self.dialect,
            &mut tx,
            partner_sid,
            fields.trunk_group_sid.as_deref(),
        )
        .await?;
        sqlx::query(&self.sql(
            "INSERT INTO dids (did_sid, partner_sid, phonenumber, trunk_group_sid, country_code, \
             name, attributes, capabilities, date_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&sid)
        .bind(partner_sid)
        .bind(phonenumber)
        .bind(&fields.trunk_group_sid)
        .bind(country_code(phonenumber))
        .bind(&fields.name)
        .bind(Value::Object(fields.attributes.clone()).to_string())
        .bind(fields.capabilities)
        .bind(now_timestamp())
        .execute(&mut *tx)
        .await
        .map_err(conflict_on(
            "phonenumber",
            format!("the phone number {phonenumber} exists already"),
        ))?;
        tx.commit().await?;
        self.core_did(partner_sid, &sid)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// The partner's DID; `None` for another partner's.
    pub async fn core_did(
        &self,
        partner_sid: &str,
        did_sid: &str,
    ) -> Result<Option<CoreDid>, StoreError> {
        Ok(sqlx::query_as::<_, CoreDid>(&self.sql(&format!(
            "SELECT {CORE_DID_COLUMNS} FROM dids d WHERE d.partner_sid = ? AND d.did_sid = ?"
        )))
        .bind(partner_sid)
        .bind(did_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The partner's DIDs matching the filter (by number unless ordered), and their total.
    pub async fn core_dids(
        &self,
        partner_sid: &str,
        params: &ListParams,
    ) -> Result<(Vec<CoreDid>, i64), StoreError> {
        self.list(&CORE_DIDS, partner_sid, params).await
    }

    /// Replaces the DID's settable fields; a trunk group must be the partner's. `None` if the
    /// partner has no such DID.
    pub async fn update_core_did(
        &self,
        partner_sid: &str,
        did_sid: &str,
        fields: &CoreDidFields,
    ) -> Result<Option<CoreDid>, StoreError> {
        let mut tx = self.begin_write().await?;
        check_trunk_group(
            self.dialect,
            &mut tx,
            partner_sid,
            fields.trunk_group_sid.as_deref(),
        )
        .await?;
        let done = sqlx::query(&self.sql(
            "UPDATE dids SET name = ?, attributes = ?, capabilities = ?, trunk_group_sid = ? \
             WHERE partner_sid = ? AND did_sid = ?",
        ))
        .bind(&fields.name)
        .bind(Value::Object(fields.attributes.clone()).to_string())
        .bind(fields.capabilities)
        .bind(&fields.trunk_group_sid)
        .bind(partner_sid)
        .bind(did_sid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.core_did(partner_sid, did_sid).await
    }

    /// Deletes the partner's DID; `false` if it has no such DID.
    pub async fn delete_core_did(
        &self,
        partner_sid: &str,
        did_sid: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(&self.sql("DELETE FROM dids WHERE partner_sid = ? AND did_sid = ?"))
            .bind(partner_sid)
            .bind(did_sid)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
