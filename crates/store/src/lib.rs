//! Persistent state of flexvox: partners and their tokens, endpoints, FlexML accounts, trunk
//! groups, trunks, DIDs and outbound calls, in SQLite (WAL) by default. Each query here is the one place its
//! SQL lives: the FlexML API's in this file, `lists.rs` and `calls.rs`, the Core API objects' in
//! `endpoints.rs`, `trunk_groups.rs`, `trunks.rs` and `dids.rs`.

mod call_drs;
mod callbacks;
mod calls;
mod dialect;
mod dids;
mod endpoints;
mod lists;
mod models;
mod open;
mod partners;
mod phone;
pub mod query;
mod rows;
mod storage;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod trunk_groups;
mod trunks;

pub use call_drs::{CallDr, DrAnchor, DrPage, NewCallDr, CALL_DR_FIELDS};
pub use callbacks::{Callback, NewCallback};
pub use calls::{Call, CallFields, CallState, CALL_FIELDS, MAX_DELAY};
pub use chrono::{DateTime, Utc};
pub use dialect::Dialect;
pub use dids::{CoreDid, CoreDidFields, CAPABILITIES_ALL, CAPABILITIES_DEFAULT, CORE_DID_FIELDS};
pub use endpoints::{Endpoint, EndpointFields, EndpointType, ENDPOINT_FIELDS, SYSTEM_PROPERTIES};
pub use lists::{ACCOUNT_FIELDS, DID_FIELDS};
pub use models::{Account, AccountUpdate, DemoCredentials, Did, DidUpdate, Partner};
pub use phone::{country_code, format_international, format_national};
pub use query::ListParams;
pub use storage::{
    Container, ContainerFields, StorageError, StoredFile, StoredFileFields, CONTAINER_FIELDS,
    FILE_FIELDS, PUBLISH_MODES,
};
pub use trunk_groups::{TrunkGroup, TrunkGroupFields, ROUTING_TYPES, TRUNK_GROUP_FIELDS};
pub use trunks::{Trunk, TrunkFields, TRUNK_FIELDS};

use rand::distributions::{Alphanumeric, DistString};
use sqlx::AnyPool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The request's filter asks for something the object's fields cannot answer.
    #[error("invalid filter: {0}")]
    InvalidFilter(query::CompileError),
    #[error("invalid order: {0}")]
    InvalidOrder(query::CompileError),
    /// A unique value (a DID's number) that another row holds already.
    #[error("conflict on {field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// A reference to an object the caller does not own (or that does not exist).
    #[error("{field}: no such object {sid}")]
    UnknownReference { field: &'static str, sid: String },
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// Where storage files' bytes live (`storage.rs`).
    files: storage::FilesRoot,
}

/// `2018-10-16T20:59:18.094Z`, the API's date format.
pub fn now_timestamp() -> String {
    format_timestamp(chrono::Utc::now())
}

/// An instant in the API's date format.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn new_sid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn random_secret(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), len)
}

pub(crate) const DID_COLUMNS: &str = "d.did_sid, d.phonenumber, d.country_code, d.url, d.method, \
    d.status_callback_url, d.status_callback_method, a.account_sid";
pub(crate) const DID_JOIN: &str =
    "dids d JOIN trunk_groups t ON t.trunk_group_sid = d.trunk_group_sid \
    JOIN accounts a ON a.endpoint_sid = t.endpoint_sid";
pub(crate) const ACCOUNT_COLUMNS: &str =
    "account_sid, endpoint_sid, name, login, password, url, method, error_handler, date_created";

impl Store {
    async fn provisioned(&self, role: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar(&self.sql("SELECT sid FROM provisioned WHERE role = ?"))
                .bind(role)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Creates, on first start, the partner with its token, a FlexML endpoint with its account,
    /// a trunk group and the demo DID routed to it; on later starts returns what exists. A
    /// preset token is added to the partner if it does not have it yet.
    pub async fn provision_demo(
        &self,
        preset_token: Option<&str>,
        phonenumber: &str,
        demo_url: &str,
    ) -> Result<DemoCredentials, StoreError> {
        let mut tx = self.begin_write().await?;
        let existing: Option<String> = sqlx::query_scalar(
            &self.sql("SELECT sid FROM provisioned WHERE role = 'demo_account'"),
        )
        .fetch_optional(&mut *tx)
        .await?;
        if existing.is_none() {
            let now = now_timestamp();
            let (partner, endpoint, account, trunk_group, did) =
                (new_sid(), new_sid(), new_sid(), new_sid(), new_sid());
            let login = format!("demo_{}", random_secret(8).to_lowercase());
            let password = random_secret(20);
            let token = preset_token.map(str::to_string).unwrap_or_else(new_sid);
            sqlx::query(&self.sql("INSERT INTO partners (partner_sid, name, date_created) VALUES (?, 'flexvox operator', ?)"))
                .bind(&partner).bind(&now).execute(&mut *tx).await?;
            sqlx::query(
                &self.sql("INSERT INTO tokens (token, partner_sid, date_created) VALUES (?, ?, ?)"),
            )
            .bind(&token)
            .bind(&partner)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            let properties = serde_json::json!({
                "account_sid": account, "api_url": "/flexml/v1", "login": login, "password": password,
            });
            sqlx::query(&self.sql("INSERT INTO endpoints (endpoint_sid, partner_sid, name, type, properties, date_created) VALUES (?, ?, 'demo_flexml', 'flexml', ?, ?)"))
                .bind(&endpoint).bind(&partner).bind(properties.to_string()).bind(&now).execute(&mut *tx).await?;
            sqlx::query(&self.sql(&format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?, ?, 'demo', ?, ?, NULL, 'POST', 'basic', ?)")))
                .bind(&account).bind(&endpoint).bind(&login).bind(&password).bind(&now).execute(&mut *tx).await?;
            sqlx::query(&self.sql("INSERT INTO trunk_groups (trunk_group_sid, partner_sid, name, endpoint_sid, date_created) VALUES (?, ?, 'demo_flexml', ?, ?)"))
                .bind(&trunk_group).bind(&partner).bind(&endpoint).bind(&now).execute(&mut *tx).await?;
            sqlx::query(&self.sql("INSERT INTO dids (did_sid, partner_sid, phonenumber, trunk_group_sid, country_code, url, date_created) VALUES (?, ?, ?, ?, ?, ?, ?)"))
                .bind(&did).bind(&partner).bind(phonenumber).bind(&trunk_group).bind(country_code(phonenumber)).bind(demo_url).bind(&now)
                .execute(&mut *tx).await?;
            for (role, sid) in [
                ("partner", &partner),
                ("demo_account", &account),
                ("demo_did", &did),
            ] {
                sqlx::query(&self.sql("INSERT INTO provisioned (role, sid) VALUES (?, ?)"))
                    .bind(role)
                    .bind(sid)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let partner: String =
            sqlx::query_scalar(&self.sql("SELECT sid FROM provisioned WHERE role = 'partner'"))
                .fetch_one(&mut *tx)
                .await?;
        if let Some(token) = preset_token {
            sqlx::query(&self.sql("INSERT INTO tokens (token, partner_sid, date_created) VALUES (?, ?, ?) ON CONFLICT (token) DO NOTHING"))
                .bind(token).bind(&partner).bind(now_timestamp()).execute(&mut *tx).await?;
        }
        tx.commit().await?;

        let account_sid = self.provisioned("demo_account").await?.unwrap_or_default();
        let did_sid = self.provisioned("demo_did").await?.unwrap_or_default();
        let account = self.account(&account_sid).await?;
        let token: String =
            match preset_token {
                Some(t) => t.to_string(),
                None => sqlx::query_scalar(&self.sql(
                    "SELECT token FROM tokens WHERE partner_sid = ? ORDER BY date_created LIMIT 1",
                ))
                .bind(&partner)
                .fetch_one(&self.pool)
                .await?,
            };
        let did = self.did(&account_sid, &did_sid).await?;
        Ok(DemoCredentials {
            partner_sid: partner,
            token,
            account_sid,
            login: account
                .as_ref()
                .map(|a| a.login.clone())
                .unwrap_or_default(),
            password: account.map(|a| a.password).unwrap_or_default(),
            did_sid,
            phonenumber: did
                .map(|d| d.phonenumber)
                .unwrap_or_else(|| phonenumber.to_string()),
        })
    }

    /// Points the demo DID at `url` if it still points at a built-in demo app, so a restart on
    /// another HTTP port keeps the demo working without touching a URL the user set.
    pub async fn refresh_demo_url(&self, url: &str) -> Result<(), StoreError> {
        if let Some(did) = self.provisioned("demo_did").await? {
            sqlx::query(
                &self.sql("UPDATE dids SET url = ? WHERE did_sid = ? AND url LIKE '%/demo/hello'"),
            )
            .bind(url)
            .bind(did)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    pub async fn partner_by_token(&self, token: &str) -> Result<Option<Partner>, StoreError> {
        Ok(sqlx::query_as::<_, Partner>(
            &self.sql("SELECT p.partner_sid, p.name, p.date_created FROM partners p JOIN tokens t ON t.partner_sid = p.partner_sid WHERE t.token = ?"),
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn account_by_login(&self, login: &str) -> Result<Option<Account>, StoreError> {
        Ok(sqlx::query_as::<_, Account>(&self.sql(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = ?"
        )))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn account(&self, account_sid: &str) -> Result<Option<Account>, StoreError> {
        Ok(sqlx::query_as::<_, Account>(&self.sql(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_sid = ?"
        )))
        .bind(account_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn update_account(
        &self,
        account_sid: &str,
        u: &AccountUpdate,
    ) -> Result<Option<Account>, StoreError> {
        sqlx::query(&self.sql("UPDATE accounts SET name = ?, url = ?, method = ?, error_handler = ? WHERE account_sid = ?"))
            .bind(&u.name).bind(&u.url).bind(&u.method).bind(&u.error_handler).bind(account_sid)
            .execute(&self.pool)
            .await?;
        self.account(account_sid).await
    }

    pub async fn did(&self, account_sid: &str, did_sid: &str) -> Result<Option<Did>, StoreError> {
        Ok(sqlx::query_as::<_, Did>(&self.sql(&format!(
            "SELECT {DID_COLUMNS} FROM {DID_JOIN} WHERE a.account_sid = ? AND d.did_sid = ?"
        )))
        .bind(account_sid)
        .bind(did_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Adds a DID routed to the account's endpoint, through the endpoint's first trunk group
    /// (made if the endpoint has none), with the given settings. `None` if the account does not
    /// exist; a number that exists already is a database (UNIQUE) error.
    pub async fn create_did(
        &self,
        account_sid: &str,
        phonenumber: &str,
        settings: &DidUpdate,
    ) -> Result<Option<Did>, StoreError> {
        let mut tx = self.begin_write().await?;
        let endpoint: Option<(String, String)> = sqlx::query_as(&self.sql(
            "SELECT e.endpoint_sid, e.partner_sid FROM accounts a \
             JOIN endpoints e ON e.endpoint_sid = a.endpoint_sid WHERE a.account_sid = ?",
        ))
        .bind(account_sid)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((endpoint_sid, partner_sid)) = endpoint else {
            return Ok(None);
        };
        let now = now_timestamp();
        let existing: Option<String> = sqlx::query_scalar(&self.sql(
            "SELECT trunk_group_sid FROM trunk_groups WHERE endpoint_sid = ? \
             ORDER BY date_created, trunk_group_sid LIMIT 1",
        ))
        .bind(&endpoint_sid)
        .fetch_optional(&mut *tx)
        .await?;
        let trunk_group = match existing {
            Some(sid) => sid,
            None => {
                let sid = new_sid();
                sqlx::query(&self.sql("INSERT INTO trunk_groups (trunk_group_sid, partner_sid, name, endpoint_sid, date_created) VALUES (?, ?, 'flexml', ?, ?)"))
                    .bind(&sid).bind(&partner_sid).bind(&endpoint_sid).bind(&now)
                    .execute(&mut *tx)
                    .await?;
                sid
            }
        };
        let did_sid = new_sid();
        sqlx::query(&self.sql("INSERT INTO dids (did_sid, partner_sid, phonenumber, trunk_group_sid, country_code, url, method, status_callback_url, status_callback_method, date_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
            .bind(&did_sid).bind(&partner_sid).bind(phonenumber).bind(&trunk_group)
            .bind(country_code(phonenumber)).bind(&settings.url).bind(&settings.method)
            .bind(&settings.status_callback_url).bind(&settings.status_callback_method).bind(&now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.did(account_sid, &did_sid).await
    }

    pub async fn update_did(
        &self,
        account_sid: &str,
        did_sid: &str,
        u: &DidUpdate,
    ) -> Result<Option<Did>, StoreError> {
        if self.did(account_sid, did_sid).await?.is_none() {
            return Ok(None);
        }
        sqlx::query(&self.sql("UPDATE dids SET url = ?, method = ?, status_callback_url = ?, status_callback_method = ? WHERE did_sid = ?"))
            .bind(&u.url).bind(&u.method).bind(&u.status_callback_url).bind(&u.status_callback_method).bind(did_sid)
            .execute(&self.pool)
            .await?;
        self.did(account_sid, did_sid).await
    }

    /// Inbound routing: the DID dialed and the FlexML account behind its trunk group.
    pub async fn route_number(
        &self,
        phonenumber: &str,
    ) -> Result<Option<(Did, Account)>, StoreError> {
        let did = sqlx::query_as::<_, Did>(&self.sql(&format!(
            "SELECT {DID_COLUMNS} FROM {DID_JOIN} WHERE d.phonenumber = ?"
        )))
        .bind(phonenumber)
        .fetch_optional(&self.pool)
        .await?;
        let Some(did) = did else { return Ok(None) };
        Ok(self.account(&did.account_sid).await?.map(|a| (did, a)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Backend};

    async fn provisioning_is_idempotent_and_routes_the_demo_number(backend: Backend) {
        let store = testing::open(backend, "provision").await.unwrap();
        let first = store
            .provision_demo(None, "15550000001", "http://127.0.0.1:8080/demo/hello")
            .await
            .unwrap();
        let second = store
            .provision_demo(None, "15550000001", "http://127.0.0.1:8080/demo/hello")
            .await
            .unwrap();
        assert_eq!(first, second);
        assert!(store
            .partner_by_token(&first.token)
            .await
            .unwrap()
            .is_some());
        let (did, account) = store.route_number("15550000001").await.unwrap().unwrap();
        assert_eq!(did.url.as_deref(), Some("http://127.0.0.1:8080/demo/hello"));
        assert_eq!(account.login, first.login);
        assert!(store.route_number("15550000002").await.unwrap().is_none());

        store
            .refresh_demo_url("http://127.0.0.1:9999/demo/hello")
            .await
            .unwrap();
        let update = DidUpdate {
            url: Some("http://app/hello".into()),
            ..DidUpdate::from(&did)
        };
        store
            .update_did(&first.account_sid, &first.did_sid, &update)
            .await
            .unwrap()
            .unwrap();
        store
            .refresh_demo_url("http://127.0.0.1:8080/demo/hello")
            .await
            .unwrap();
        let (did, _) = store.route_number("15550000001").await.unwrap().unwrap();
        assert_eq!(
            did.url.as_deref(),
            Some("http://app/hello"),
            "a URL the user set is kept"
        );

        // A preset token is added to the existing partner on a later start.
        store
            .provision_demo(Some("preset"), "15550000001", "x")
            .await
            .unwrap();
        assert_eq!(
            store
                .partner_by_token("preset")
                .await
                .unwrap()
                .unwrap()
                .partner_sid,
            first.partner_sid
        );
    }

    async fn another_accounts_did_is_invisible(backend: Backend) {
        let store = testing::open(backend, "scope").await.unwrap();
        let creds = store
            .provision_demo(None, "15550000001", "u")
            .await
            .unwrap();
        assert!(store
            .did("someone-else", &creds.did_sid)
            .await
            .unwrap()
            .is_none());
        let (items, total) = store
            .dids(&creds.account_sid, &ListParams::page(10, 0))
            .await
            .unwrap();
        assert_eq!((items.len(), total), (1, 1));
    }

    crate::backend_tests!(
        provisioning_is_idempotent_and_routes_the_demo_number,
        another_accounts_did_is_invisible
    );
}
