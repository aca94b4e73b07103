//! The list queries: an owner scope, the request's filter and order compiled against the
//! object's whitelist, and the page. The FlexML API's lists (`GET /dids`, `GET /accounts`) are
//! here; the Core API objects declare their `Source` next to their other queries. The
//! whitelists name exactly the fields the objects show: the hidden password and internal
//! columns cannot be filtered on, so a filter cannot probe them.

use crate::query::{
    arguments, compile_filter, compile_order, Bind, FieldKind, FieldSpec, ListParams, SqlFragment,
};
use crate::{Account, Did, Store, StoreError, ACCOUNT_COLUMNS, DID_COLUMNS, DID_JOIN};
use sqlx::any::AnyRow;

pub(crate) const fn field(name: &'static str, sql: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, sql, kind }
}

/// The DID object's fields. The two formats are computed from the number, as the object shows.
pub const DID_FIELDS: &[FieldSpec] = &[
    field("account_sid", "a.account_sid", FieldKind::Text),
    field("country_code", "d.country_code", FieldKind::Text),
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
    field("method", "d.method", FieldKind::Text),
    field("phonenumber", "d.phonenumber", FieldKind::Text),
    field(
        "status_callback_method",
        "d.status_callback_method",
        FieldKind::Text,
    ),
    field(
        "status_callback_url",
        "d.status_callback_url",
        FieldKind::Text,
    ),
    field("url", "d.url", FieldKind::Text),
];

/// The Account object's fields, without `password`.
pub const ACCOUNT_FIELDS: &[FieldSpec] = &[
    field("account_sid", "a.account_sid", FieldKind::Text),
    field("date_created", "a.date_created", FieldKind::Date),
    field("error_handler", "a.error_handler", FieldKind::Text),
    field("login", "a.login", FieldKind::Text),
    field("method", "a.method", FieldKind::Text),
    field("name", "a.name", FieldKind::Text),
    field("url", "a.url", FieldKind::Text),
];

/// Where one object's list comes from.
pub(crate) struct Source {
    pub(crate) columns: &'static str,
    pub(crate) from: &'static str,
    /// The column that scopes the list to the caller (its account, partner or trunk group).
    pub(crate) owner: &'static str,
    pub(crate) fields: &'static [FieldSpec],
    pub(crate) default_order: &'static str,
    /// Appended to every order so equal sort keys still page deterministically.
    pub(crate) tie_break: &'static str,
}

const DIDS: Source = Source {
    columns: DID_COLUMNS,
    from: DID_JOIN,
    owner: "a.account_sid",
    fields: DID_FIELDS,
    default_order: "d.phonenumber ASC",
    tie_break: "d.did_sid ASC",
};

const ACCOUNTS: Source = Source {
    columns: ACCOUNT_COLUMNS,
    from: "accounts a",
    owner: "a.account_sid",
    fields: ACCOUNT_FIELDS,
    default_order: "a.date_created ASC",
    tie_break: "a.account_sid ASC",
};

impl Store {
    /// The account's DIDs matching the filter, in the requested order (phone number by
    /// default), one page of them, and how many match in all.
    pub async fn dids(
        &self,
        account_sid: &str,
        params: &ListParams,
    ) -> Result<(Vec<Did>, i64), StoreError> {
        self.list(&DIDS, account_sid, params).await
    }

    /// The FlexML accounts the caller sees (its own) matching the filter, and their total.
    pub async fn accounts(
        &self,
        account_sid: &str,
        params: &ListParams,
    ) -> Result<(Vec<Account>, i64), StoreError> {
        self.list(&ACCOUNTS, account_sid, params).await
    }

    pub(crate) async fn list<T>(
        &self,
        source: &Source,
        owner_sid: &str,
        params: &ListParams,
    ) -> Result<(Vec<T>, i64), StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    {
        self.list_where(source, owner_sid, None, params).await
    }

    /// `list` with a further fixed condition (built by the store, never by the request), such
    /// as "still scheduled" for calls.
    pub(crate) async fn list_where<T>(
        &self,
        source: &Source,
        owner_sid: &str,
        scope: Option<SqlFragment>,
        params: &ListParams,
    ) -> Result<(Vec<T>, i64), StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    {
        let mut condition = SqlFragment::default();
        condition.push_sql(source.owner);
        condition.push_sql(" = ");
        condition.push_bind(Bind::Text(owner_sid.to_string()));
        if let Some(scope) = scope {
            condition.push_sql(" AND (");
            condition.append(scope);
            condition.push_sql(")");
        }
        if let Some(filter) = &params.filter {
            let filter = compile_filter(filter, source.fields, self.dialect)
                .map_err(StoreError::InvalidFilter)?;
            condition.push_sql(" AND (");
            condition.append(filter);
            condition.push_sql(")");
        }
        let mut order = match &params.order {
            Some(order) => compile_order(order, source.fields, self.dialect)
                .map_err(StoreError::InvalidOrder)?,
            None => SqlFragment {
                sql: source.default_order.to_string(),
                binds: Vec::new(),
            },
        };
        order.push_sql(", ");
        order.push_sql(source.tie_break);

        let mut select = SqlFragment::default();
        select.push_sql(&format!(
            "SELECT {} FROM {} WHERE ",
            source.columns, source.from
        ));
        select.append(condition.clone());
        select.push_sql(" ORDER BY ");
        select.append(order);
        select.push_sql(" LIMIT ");
        select.push_bind(Bind::Integer(params.limit));
        select.push_sql(" OFFSET ");
        select.push_bind(Bind::Integer(params.offset));
        let mut count = SqlFragment::default();
        count.push_sql(&format!("SELECT COUNT(*) FROM {} WHERE ", source.from));
        count.append(condition);

        // One read transaction, so the page and the total describe the same rows. Deferred:
        // it never writes, and readers must not queue behind each other for a write lock.
        let mut tx = self.pool.begin().await?;
        let items = sqlx::query_as_with::<_, T, _>(
            &self.sql(&select.sql),
            arguments(&select.binds).map_err(StoreError::Database)?,
        )
        .fetch_all(&mut *tx)
        .await?;
        let total: i64 = sqlx::query_scalar_with(
            &self.sql(&count.sql),
            arguments(&count.binds).map_err(StoreError::Database)?,
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((items, total))
    }
}
