//! Core API endpoints. An application endpoint (every type but `third_party`) gets generated
//! `properties.login`, `password`, `api_url` and `account_sid`; a `flexml` endpoint also gets
//! its FlexML account (same SID, login and password), made and deleted with it.

use crate::lists::{field, Source};
use crate::query::{FieldKind, FieldSpec, ListParams};
use crate::rows::{conflict_on, json_column};
use crate::{new_sid, now_timestamp, random_secret, Store, StoreError, ACCOUNT_COLUMNS};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointType {
    Flexml,
    Conference,
    ConferencePlayback,
    Mediator,
    Voicemail,
    ThirdParty,
}

impl EndpointType {
    pub const ALL: [EndpointType; 6] = [
        EndpointType::Flexml,
        EndpointType::Conference,
        EndpointType::ConferencePlayback,
        EndpointType::Mediator,
        EndpointType::Voicemail,
        EndpointType::ThirdParty,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::Flexml => "flexml",
            EndpointType::Conference => "conference",
            EndpointType::ConferencePlayback => "conference_playback",
            EndpointType::Mediator => "mediator",
            EndpointType::Voicemail => "voicemail",
            EndpointType::ThirdParty => "third_party",
        }
    }

    pub fn parse(text: &str) -> Option<EndpointType> {
        EndpointType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Hosted by the platform, with an API reached with the generated login and password.
    pub fn is_application(self) -> bool {
        self != EndpointType::ThirdParty
    }

    /// The base path of the application's API, relative to the server (as the demo endpoint's).
    pub fn api_url(self) -> Option<String> {
        self.is_application()
            .then(|| format!("/{}/v1", self.as_str()))
    }
}

impl fmt::Display for EndpointType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EndpointType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The keys of `properties` the system generates for application endpoints; they cannot be
/// set or changed through the API, and updates keep them.
pub const SYSTEM_PROPERTIES: [&str; 4] = ["account_sid", "api_url", "login", "password"];

/// The Endpoint object; keys serialise in the seed's (alphabetical) order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub addresses: Vec<Value>,
    pub attributes: Map<String, Value>,
    pub capacity: i64,
    pub date_created: String,
    pub endpoint_sid: String,
    pub name: String,
    pub out_sip_password: Option<String>,
    pub out_sip_username: Option<String>,
    pub partner_sid: String,
    pub properties: Map<String, Value>,
    pub transformations: Vec<Value>,
    #[serde(rename = "type")]
    pub endpoint_type: EndpointType,
    pub voip_token: Option<String>,
}

/// What a partner sets on an endpoint (everything but the SIDs, type and date).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointFields {
    pub name: String,
    pub capacity: i64,
    pub addresses: Vec<Value>,
    pub attributes: Map<String, Value>,
    pub out_sip_username: Option<String>,
    pub out_sip_password: Option<String>,
    pub properties: Map<String, Value>,
    pub transformations: Vec<Value>,
    pub voip_token: Option<String>,
}

impl Default for EndpointFields {
    fn default() -> Self {
        EndpointFields {
            name: "N/A".into(),
            capacity: 0,
            addresses: Vec::new(),
            attributes: Map::new(),
            out_sip_username: None,
            out_sip_password: None,
            properties: Map::new(),
            transformations: Vec::new(),
            voip_token: None,
        }
    }
}

impl From<&Endpoint> for EndpointFields {
    fn from(e: &Endpoint) -> Self {
        EndpointFields {
            name: e.name.clone(),
            capacity: e.capacity,
            addresses: e.addresses.clone(),
            attributes: e.attributes.clone(),
            out_sip_username: e.out_sip_username.clone(),
            out_sip_password: e.out_sip_password.clone(),
            properties: e.properties.clone(),
            transformations: e.transformations.clone(),
            voip_token: e.voip_token.clone(),
        }
    }
}

fn json_object(row: &AnyRow, column: &str) -> Result<Map<String, Value>, sqlx::Error> {
    match json_column(row, column)? {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

fn json_array(row: &AnyRow, column: &str) -> Result<Vec<Value>, sqlx::Error> {
    match json_column(row, column)? {
        Value::Array(items) => Ok(items),
        _ => Ok(Vec::new()),
    }
}

impl<'r> sqlx::FromRow<'r, AnyRow> for Endpoint {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        let type_text: String = row.try_get("type")?;
        let endpoint_type =
            EndpointType::parse(&type_text).ok_or_else(|| sqlx::Error::ColumnDecode {
                index: "type".into(),
                source: format!("unknown endpoint type {type_text:?}").into(),
            })?;
        Ok(Endpoint {
            addresses: json_array(row, "addresses")?,
            attributes: json_object(row, "attributes")?,
            capacity: row.try_get("capacity")?,
            date_created: row.try_get("date_created")?,
            endpoint_sid: row.try_get("endpoint_sid")?,
            name: row.try_get("name")?,
            out_sip_password: row.try_get("out_sip_password")?,
            out_sip_username: row.try_get("out_sip_username")?,
            partner_sid: row.try_get("partner_sid")?,
            properties: json_object(row, "properties")?,
            transformations: json_array(row, "transformations")?,
            endpoint_type,
            voip_token: row.try_get("voip_token")?,
        })
    }
}

const ENDPOINT_COLUMNS: &str = "e.endpoint_sid, e.partner_sid, e.name, e.type, e.capacity, \
    e.addresses, e.attributes, e.out_sip_username, e.out_sip_password, e.properties, \
    e.transformations, e.voip_token, e.date_created";

/// The Endpoint fields a list can filter and order on: every field it shows but the two
/// arrays (`addresses`, `transformations`), which the query language cannot reach into.
pub const ENDPOINT_FIELDS: &[FieldSpec] = &[
    field("attributes", "e.attributes", FieldKind::Object),
    field("capacity", "e.capacity", FieldKind::Integer),
    field("date_created", "e.date_created", FieldKind::Date),
    field("endpoint_sid", "e.endpoint_sid", FieldKind::Text),
    field("name", "e.name", FieldKind::Text),
    field("out_sip_password", "e.out_sip_password", FieldKind::Text),
    field("out_sip_username", "e.out_sip_username", FieldKind::Text),
    field("partner_sid", "e.partner_sid", FieldKind::Text),
    field("properties", "e.properties", FieldKind::Object),
    field("type", "e.type", FieldKind::Text),
    field("voip_token", "e.voip_token", FieldKind::Text),
];

const ENDPOINTS: Source = Source {
    columns: ENDPOINT_COLUMNS,
    from: "endpoints e",
    owner: "e.partner_sid",
    fields: ENDPOINT_FIELDS,
    default_order: "e.date_created ASC",
    tie_break: "e.endpoint_sid ASC",
};

fn to_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

impl Store {
    /// Creates an endpoint of the partner. For application endpoints the generated
    /// properties replace any the caller gave under the same keys.
    pub async fn create_endpoint(
        &self,
        partner_sid: &str,
        endpoint_type: EndpointType,
        fields: &EndpointFields,
    ) -> Result<Endpoint, StoreError> {
        let endpoint_sid = new_sid();
        let now = now_timestamp();
        let mut properties = fields.properties.clone();
        let mut credentials = None;
        if let Some(api_url) = endpoint_type.api_url() {
            let account_sid = new_sid();
            let login = format!(
                "{}_{}",
                endpoint_type.as_str(),
                random_secret(10).to_lowercase()
            );
            let password = random_secret(20);
            properties.insert("account_sid".into(), Value::String(account_sid.clone()));
            properties.insert("api_url".into(), Value::String(api_url));
            properties.insert("login".into(), Value::String(login.clone()));
            properties.insert("password".into(), Value::String(password.clone()));
            credentials = Some((account_sid, login, password));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(&self.sql(
            "INSERT INTO endpoints (endpoint_sid, partner_sid, name, type, capacity, addresses, \
             attributes, out_sip_username, out_sip_password, properties, transformations, \
             voip_token, date_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&endpoint_sid)
        .bind(partner_sid)
        .bind(&fields.name)
        .bind(endpoint_type.as_str())
        .bind(fields.capacity)
        .bind(to_text(&fields.addresses))
        .bind(to_text(&fields.attributes))
        .bind(&fields.out_sip_username)
        .bind(&fields.out_sip_password)
        .bind(to_text(&properties))
        .bind(to_text(&fields.transformations))
        .bind(&fields.voip_token)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        if let (EndpointType::Flexml, Some((account_sid, login, password))) =
            (endpoint_type, &credentials)
        {
            sqlx::query(&self.sql(&format!(
                "INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, 'POST', 'basic', ?)"
            )))
            .bind(account_sid)
            .bind(&endpoint_sid)
            .bind(&fields.name)
            .bind(login)
            .bind(password)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(conflict_on(
                "properties",
                "the generated login is taken; try again".into(),
            ))?;
        }
        tx.commit().await?;
        self.endpoint(partner_sid, &endpoint_sid)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// The partner's endpoint; `None` for another partner's.
    pub async fn endpoint(
        &self,
        partner_sid: &str,
        endpoint_sid: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        Ok(sqlx::query_as::<_, Endpoint>(&self.sql(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM endpoints e WHERE e.partner_sid = ? AND e.endpoint_sid = ?"
        )))
        .bind(partner_sid)
        .bind(endpoint_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The endpoint a FlexML account belongs to: its capacity and properties carry the
    /// operator's limits for the account.
    pub async fn account_endpoint(
        &self,
        account_sid: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        Ok(sqlx::query_as::<_, Endpoint>(&self.sql(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM endpoints e \
             JOIN accounts a ON a.endpoint_sid = e.endpoint_sid WHERE a.account_sid = ?"
        )))
        .bind(account_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The partner's endpoints matching the filter, one page of them, and how many match.
    pub async fn endpoints(
        &self,
        partner_sid: &str,
        params: &ListParams,
    ) -> Result<(Vec<Endpoint>, i64), StoreError> {
        self.list(&ENDPOINTS, partner_sid, params).await
    }

    /// Replaces the endpoint's settable fields. The system's properties of an application
    /// endpoint are kept whatever `fields.properties` says. `None` if the partner has no such
    /// endpoint.
    pub async fn update_endpoint(
        &self,
        partner_sid: &str,
        endpoint_sid: &str,
        fields: &EndpointFields,
    ) -> Result<Option<Endpoint>, StoreError> {
        let mut tx = self.begin_write().await?;
        let current: Option<(String, String)> = sqlx::query_as(&self.sql(
            "SELECT type, properties FROM endpoints WHERE partner_sid = ? AND endpoint_sid = ?",
        ))
        .bind(partner_sid)
        .bind(endpoint_sid)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((type_text, current_properties)) = current else {
            return Ok(None);
        };
        let mut properties = fields.properties.clone();
        if EndpointType::parse(&type_text).is_some_and(EndpointType::is_application) {
            let current: Map<String, Value> =
                serde_json::from_str(&current_properties).unwrap_or_default();
            for key in SYSTEM_PROPERTIES {
                match current.get(key) {
                    Some(value) => properties.insert(key.to_string(), value.clone()),
                    None => properties.remove(key),
                };
            }
        }
        sqlx::query(&self.sql(
            "UPDATE endpoints SET name = ?, capacity = ?, addresses = ?, attributes = ?, \
             out_sip_username = ?, out_sip_password = ?, properties = ?, transformations = ?, \
             voip_token = ? WHERE endpoint_sid = ?",
        ))
        .bind(&fields.name)
        .bind(fields.capacity)
        .bind(to_text(&fields.addresses))
        .bind(to_text(&fields.attributes))
        .bind(&fields.out_sip_username)
        .bind(&fields.out_sip_password)
        .bind(to_text(&properties))
        .bind(to_text(&fields.transformations))
        .bind(&fields.voip_token)
        .bind(endpoint_sid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.endpoint(partner_sid, endpoint_sid).await
    }

    /// Deletes the partner's endpoint and its FlexML account. Trunk groups and trunks that
    /// pointed at it keep existing with no endpoint (so their DIDs stop routing). `false` if
    /// the partner has no such endpoint.
    pub async fn delete_endpoint(
        &self,
        partner_sid: &str,
        endpoint_sid: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let owned: Option<String> =
            sqlx::query_scalar(&self.sql(
                "SELECT endpoint_sid FROM endpoints WHERE partner_sid = ? AND endpoint_sid = ?",
            ))
            .bind(partner_sid)
            .bind(endpoint_sid)
            .fetch_optional(&mut *tx)
            .await?;
        if owned.is_none() {
            return Ok(false);
        }
        // Explicit rather than left to the foreign keys' ON DELETE actions, so the account
        // never outlives its endpoint even on a connection that does not enforce them.
        sqlx::query(&self.sql("DELETE FROM accounts WHERE endpoint_sid = ?"))
            .bind(endpoint_sid)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            &self.sql("UPDATE trunk_groups SET endpoint_sid = NULL WHERE endpoint_sid = ?"),
        )
        .bind(endpoint_sid)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&self.sql("UPDATE trunks SET endpoint_sid = NULL WHERE endpoint_sid = ?"))
            .bind(endpoint_sid)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&self.sql("DELETE FROM endpoints WHERE endpoint_sid = ?"))
            .bind(endpoint_sid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Whether the partner owns the endpoint (for references from trunk groups and trunks).
pub(crate) async fn owns_endpoint<'c, E>(
    dialect: crate::Dialect,
    executor: E,
    partner_sid: &str,
    endpoint_sid: &str,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let found: Option<String> = sqlx::query_scalar(
        &dialect
            .sql("SELECT endpoint_sid FROM endpoints WHERE partner_sid = ? AND endpoint_sid = ?"),
    )
    .bind(partner_sid)
    .bind(endpoint_sid)
    .fetch_optional(executor)
    .await?;
    Ok(found.is_some())
}
