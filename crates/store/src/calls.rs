//! Outbound calls of the FlexML API (`/flexml/v1/calls`). A call is stored `scheduled` with the
//! instant it fires (`due_at`); the scheduler of the binary asks for `due_calls`, claims each
//! with `mark_dialing` (one guarded UPDATE, so a call fires once even with two schedulers on
//! the same database) and the dialer records `done`. Because the schedule lives here, calls
//! scheduled before a restart still fire after it.

use crate::lists::{field, Source};
use crate::query::{Bind, FieldKind, FieldSpec, ListParams, SqlFragment};
use crate::rows::json_column;
use crate::{format_timestamp, new_sid, Dialect, Did, Store, StoreError, DID_COLUMNS, DID_JOIN};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

/// The longest `delay` accepted: ten years, far inside what dates can hold.
pub const MAX_DELAY: i64 = 10 * 366 * 24 * 3600;

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Waiting for `due_at`; the only state the API may change or cancel.
    Scheduled,
    /// Claimed by a scheduler and handed to the dialer.
    Dialing,
    /// The dialer is finished with it.
    Done,
    /// Deleted through the API before it fired.
    Cancelled,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Scheduled => "scheduled",
            CallState::Dialing => "dialing",
            CallState::Done => "done",
            CallState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<CallState> {
        Some(match s {
            "scheduled" => CallState::Scheduled,
            "dialing" => CallState::Dialing,
            "done" => CallState::Done,
            "cancelled" => CallState::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub call_sid: String,
    pub account_sid: String,
    pub calling_did: String,
    pub called_did: String,
    /// `None`: the calling DID's url, read when the call is dialed.
    pub url: Option<String>,
    pub method: String,
    pub status_callback_url: Option<String>,
    pub status_callback_method: String,
    /// Seconds; as stored, the delay the call was (re)scheduled with. Serialised as it is: the
    /// API sets it to the seconds remaining (`remaining_delay`) before showing a call.
    pub delay: i64,
    pub attributes: Map<String, Value>,
    pub date_created: String,
    /// When the call fires, in the API's date format.
    pub due_at: String,
    pub state: CallState,
}

impl Call {
    /// Whole seconds from `now` until the call fires, rounded up (a call created with
    /// `delay: 100` shows 100 right away), 0 once due or no longer scheduled.
    pub fn remaining_delay(&self, now: DateTime<Utc>) -> i64 {
        if self.state != CallState::Scheduled {
            return 0;
        }
        let Ok(due) = DateTime::parse_from_rfc3339(&self.due_at) else {
            return 0;
        };
        let ms = (due.with_timezone(&Utc) - now).num_milliseconds();
        if ms <= 0 {
            0
        } else {
            (ms + 999) / 1000
        }
    }
}

/// The Call object of the reference: these eleven fields, nothing internal.
impl Serialize for Call {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "account_sid": self.account_sid,
            "attributes": self.attributes,
            "call_sid": self.call_sid,
            "called_did": self.called_did,
            "calling_did": self.calling_did,
            "date_created": self.date_created,
            "delay": self.delay,
            "method": self.method,
            "status_callback_method": self.status_callback_method,
            "status_callback_url": self.status_callback_url,
            "url": self.url,
        })
        .serialize(s)
    }
}

impl<'r> sqlx::FromRow<'r, AnyRow> for Call {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        let state: String = row.try_get("state")?;
        Ok(Call {
            call_sid: row.try_get("call_sid")?,
            account_sid: row.try_get("account_sid")?,
            calling_did: row.try_get("calling_did")?,
            called_did: row.try_get("called_did")?,
            url: row.try_get("url")?,
            method: row.try_get("method")?,
            status_callback_url: row.try_get("status_callback_url")?,
            status_callback_method: row.try_get("status_callback_method")?,
            delay: row.try_get("delay")?,
            attributes: match json_column(row, "attributes")? {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            date_created: row.try_get("date_created")?,
            due_at: row.try_get("due_at")?,
            state: CallState::parse(&state).ok_or_else(|| sqlx::Error::ColumnDecode {
                index: "state".into(),
                source: format!("unknown call state {state:?}").into(),
            })?,
        })
    }
}

/// What a client sets on a call (checked by the caller: the API validates every field).
#[derive(Debug, Clone, PartialEq)]
pub struct CallFields {
    pub calling_did: String,
    pub called_did: String,
    pub url: Option<String>,
    pub method: String,
    pub status_callback_url: Option<String>,
    pub status_callback_method: String,
    /// Seconds from creation (or from the update that reschedules) until the call fires.
    pub delay: i64,
    pub attributes: Map<String, Value>,
}

impl From<&Call> for CallFields {
    fn from(c: &Call) -> Self {
        CallFields {
            calling_did: c.calling_did.clone(),
            called_did: c.called_did.clone(),
            url: c.url.clone(),
            method: c.method.clone(),
            status_callback_url: c.status_callback_url.clone(),
            status_callback_method: c.status_callback_method.clone(),
            delay: c.delay,
            attributes: c.attributes.clone(),
        }
    }
}

const CALL_COLUMNS: &str = "c.call_sid, c.account_sid, c.calling_did, c.called_did, c.url, \
    c.method, c.status_callback_url, c.status_callback_method, c.delay, c.attributes, \
    c.date_created, c.due_at, c.state";

/// Seconds until the call fires, rounded up, as SQL (for filters and order on `delay`).
const REMAINING_SQL: &str =
    "MAX(0, CAST((julianday(c.due_at) - julianday('now')) * 86400.0 + 0.999 AS INTEGER))";
/// `REMAINING_SQL` for PostgreSQL, which has no `julianday`.
const REMAINING_SQL_PG: &str = "GREATEST(0, CAST(trunc(EXTRACT(EPOCH FROM \
    (CAST(c.due_at AS timestamptz) - now())) + 0.999) AS bigint))";

/// The Call object's fields for filter and order; `delay` is the seconds remaining.
pub const CALL_FIELDS: &[FieldSpec] = &call_fields_with(REMAINING_SQL);
const CALL_FIELDS_PG: &[FieldSpec] = &call_fields_with(REMAINING_SQL_PG);

const fn call_fields_with(remaining: &'static str) -> [FieldSpec; 11] {
    [
        field("account_sid", "c.account_sid", FieldKind::Text),
        field("attributes", "c.attributes", FieldKind::Object),
        field("call_sid", "c.call_sid", FieldKind::Text),
        field("called_did", "c.called_did", FieldKind::Text),
        field("calling_did", "c.calling_did", FieldKind::Text),
        field("date_created", "c.date_created", FieldKind::Date),
        field("delay", remaining, FieldKind::Integer),
        field("method", "c.method", FieldKind::Text),
        field(
            "status_callback_method",
            "c.status_callback_method",
            FieldKind::Text,
        ),
        field(
            "status_callback_url",
            "c.status_callback_url",
            FieldKind::Text,
        ),
        field("url", "c.url", FieldKind::Text),
    ]
}

const CALLS: Source = Source {
    columns: CALL_COLUMNS,
    from: "calls c",
    owner: "c.account_sid",
    fields: CALL_FIELDS,
    default_order: "c.due_at ASC",
    tie_break: "c.call_sid ASC",
};
const CALLS_PG: Source = Source {
    fields: CALL_FIELDS_PG,
    ..CALLS
};

fn due_at(now: DateTime<Utc>, delay: i64) -> String {
    format_timestamp(now + chrono::Duration::seconds(delay.clamp(0, MAX_DELAY)))
}

impl Store {
    /// The account's DID with this number, if it has one (the check on `calling_did`).
    pub async fn did_by_number(
        &self,
        account_sid: &str,
        phonenumber: &str,
    ) -> Result<Option<Did>, StoreError> {
        Ok(sqlx::query_as::<_, Did>(&self.sql(&format!(
            "SELECT {DID_COLUMNS} FROM {DID_JOIN} WHERE a.account_sid = ? AND d.phonenumber = ?"
        )))
        .bind(account_sid)
        .bind(phonenumber)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Schedules a call `fields.delay` seconds after `now`.
    pub async fn create_call(
        &self,
        account_sid: &str,
        fields: &CallFields,
        now: DateTime<Utc>,
    ) -> Result<Call, StoreError> {
        let sid = new_sid();
        sqlx::query(&self.sql(
            "INSERT INTO calls (call_sid, account_sid, calling_did, called_did, url, method, \
             status_callback_url, status_callback_method, delay, attributes, date_created, \
             due_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled')",
        ))
        .bind(&sid)
        .bind(account_sid)
        .bind(&fields.calling_did)
        .bind(&fields.called_did)
        .bind(&fields.url)
        .bind(&fields.method)
        .bind(&fields.status_callback_url)
        .bind(&fields.status_callback_method)
        .bind(fields.delay)
        .bind(Value::Object(fields.attributes.clone()).to_string())
        .bind(format_timestamp(now))
        .bind(due_at(now, fields.delay))
        .execute(&self.pool)
        .await?;
        self.call(account_sid, &sid)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// The account's call, in any state but cancelled; `None` for another account's.
    pub async fn call(
        &self,
        account_sid: &str,
        call_sid: &str,
    ) -> Result<Option<Call>, StoreError> {
        Ok(sqlx::query_as::<_, Call>(&self.sql(&format!(
            "SELECT {CALL_COLUMNS} FROM calls c WHERE c.account_sid = ? AND c.call_sid = ? \
             AND c.state != 'cancelled'"
        )))
        .bind(account_sid)
        .bind(call_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Any account's call by SID, in any state (for the scheduler and its tests).
    pub async fn call_by_sid(&self, call_sid: &str) -> Result<Option<Call>, StoreError> {
        Ok(sqlx::query_as::<_, Call>(&self.sql(&format!(
            "SELECT {CALL_COLUMNS} FROM calls c WHERE c.call_sid = ?"
        )))
        .bind(call_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The account's calls still scheduled to fire after `now`, filtered, ordered (soonest
    /// first by default) and paged, and their total.
    pub async fn scheduled_calls(
        &self,
        account_sid: &str,
        params: &ListParams,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Call>, i64), StoreError> {
        let mut scope = SqlFragment::default();
        scope.push_sql("c.state = 'scheduled' AND c.due_at > ");
        scope.push_bind(Bind::Text(format_timestamp(now)));
        let source = match self.dialect {
            Dialect::Sqlite => &CALLS,
            Dialect::Postgres => &CALLS_PG,
        };
        self.list_where(source, account_sid, Some(scope), params)
            .await
    }

    /// Replaces the settable fields of a still-scheduled call. With `reschedule_from`, the call
    /// now fires `fields.delay` seconds after it; without, it keeps its time. `None` if the
    /// account has no such call; `Err(Conflict)` if it has been dialed already.
    pub async fn update_call(
        &self,
        account_sid: &str,
        call_sid: &str,
        fields: &CallFields,
        reschedule_from: Option<DateTime<Utc>>,
    ) -> Result<Option<Call>, StoreError> {
        let mut sql = String::from(
            "UPDATE calls SET calling_did = ?, called_did = ?, url = ?, method = ?, \
             status_callback_url = ?, status_callback_method = ?, attributes = ?",
        );
        if reschedule_from.is_some() {
            sql.push_str(", delay = ?, due_at = ?");
        }
        sql.push_str(" WHERE account_sid = ? AND call_sid = ? AND state = 'scheduled'");
        let sql = self.sql(&sql);
        let mut query = sqlx::query(&sql)
            .bind(&fields.calling_did)
            .bind(&fields.called_did)
            .bind(&fields.url)
            .bind(&fields.method)
            .bind(&fields.status_callback_url)
            .bind(&fields.status_callback_method)
            .bind(Value::Object(fields.attributes.clone()).to_string());
        if let Some(now) = reschedule_from {
            query = query.bind(fields.delay).bind(due_at(now, fields.delay));
        }
        let done = query
            .bind(account_sid)
            .bind(call_sid)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return self
                .not_scheduled(account_sid, call_sid)
                .await
                .map(|_| None);
        }
        self.call(account_sid, call_sid).await
    }

    /// Cancels a still-scheduled call (DELETE /calls/{sid}). `false` if the account has no
    /// such call; `Err(Conflict)` if it has been dialed already.
    pub async fn cancel_call(&self, account_sid: &str, call_sid: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(&self.sql(
            "UPDATE calls SET state = 'cancelled' \
             WHERE account_sid = ? AND call_sid = ? AND state = 'scheduled'",
        ))
        .bind(account_sid)
        .bind(call_sid)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return self
                .not_scheduled(account_sid, call_sid)
                .await
                .map(|_| false);
        }
        Ok(true)
    }

    /// After a guarded UPDATE changed nothing: `Err(Conflict)` if the call exists (so it has
    /// left `scheduled`), `Ok` if there is no such call.
    async fn not_scheduled(&self, account_sid: &str, call_sid: &str) -> Result<(), StoreError> {
        match self.call(account_sid, call_sid).await? {
            Some(call) => Err(StoreError::Conflict {
                field: "call_sid",
                message: format!(
                    "the call is {} already; only a scheduled call can be changed or cancelled",
                    call.state.as_str()
                ),
            }),
            None => Ok(()),
        }
    }

    /// Scheduled calls whose time has come at `now`, soonest first (at most 100 a time).
    /// Reading them claims nothing: a scheduler must win `mark_dialing` before dialing one.
    pub async fn due_calls(&self, now: DateTime<Utc>) -> Result<Vec<Call>, StoreError> {
        Ok(sqlx::query_as::<_, Call>(&self.sql(&format!(
            "SELECT {CALL_COLUMNS} FROM calls c WHERE c.state = 'scheduled' AND c.due_at <= ? \
             ORDER BY c.due_at, c.call_sid LIMIT 100"
        )))
        .bind(format_timestamp(now))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Claims a scheduled call for dialing: `true` for exactly one caller, however many
    /// schedulers race for it; `false` if it was claimed, cancelled or changed to a later
    /// time meanwhile — then it must not be dialed.
    pub async fn mark_dialing(
        &self,
        call_sid: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(&self.sql(
            "UPDATE calls SET state = 'dialing' \
             WHERE call_sid = ? AND state = 'scheduled' AND due_at <= ?",
        ))
        .bind(call_sid)
        .bind(format_timestamp(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the dialer is finished with a call it claimed.
    pub async fn mark_done(&self, call_sid: &str) -> Result<(), StoreError> {
        sqlx::query(
            &self.sql("UPDATE calls SET state = 'done' WHERE call_sid = ? AND state = 'dialing'"),
        )
        .bind(call_sid)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Backend};

    fn fields(delay: i64) -> CallFields {
        CallFields {
            calling_did: "15550000001".into(),
            called_did: "15162065575".into(),
            url: None,
            method: "POST".into(),
            status_callback_url: None,
            status_callback_method: "POST".into(),
            delay,
            attributes: Map::new(),
        }
    }

    async fn due_calls_and_mark_dialing_fire_once(backend: Backend) {
        let store = testing::open(backend, "due").await.unwrap();
        let creds = store
            .provision_demo(None, "15550000001", "u")
            .await
            .unwrap();
        let now = Utc::now();
        let soon = store
            .create_call(&creds.account_sid, &fields(0), now)
            .await
            .unwrap();
        let later = store
            .create_call(&creds.account_sid, &fields(60), now)
            .await
            .unwrap();
        assert_eq!(later.remaining_delay(now), 60);

        let due = store.due_calls(now).await.unwrap();
        assert_eq!(
            due.iter().map(|c| &c.call_sid).collect::<Vec<_>>(),
            [&soon.call_sid]
        );
        // Two schedulers race for the same call: exactly one wins.
        let (a, b) = tokio::join!(
            store.mark_dialing(&soon.call_sid, now),
            store.mark_dialing(&soon.call_sid, now)
        );
        assert!(a.unwrap() ^ b.unwrap());
        assert!(store.due_calls(now).await.unwrap().is_empty());
        assert!(
            !store.mark_dialing(&later.call_sid, now).await.unwrap(),
            "not due yet"
        );

        // A dialed call can no longer be changed or cancelled.
        assert!(matches!(
            store.cancel_call(&creds.account_sid, &soon.call_sid).await,
            Err(StoreError::Conflict { .. })
        ));
        store.mark_done(&soon.call_sid).await.unwrap();
        let done = store.call_by_sid(&soon.call_sid).await.unwrap().unwrap();
        assert_eq!(done.state, CallState::Done);

        // The later call fires at its time, unless cancelled first.
        let at = now + chrono::Duration::seconds(61);
        assert_eq!(store.due_calls(at).await.unwrap().len(), 1);
        assert!(store
            .cancel_call(&creds.account_sid, &later.call_sid)
            .await
            .unwrap());
        assert!(store.due_calls(at).await.unwrap().is_empty());
        assert!(!store.mark_dialing(&later.call_sid, at).await.unwrap());
        assert!(store
            .call(&creds.account_sid, &later.call_sid)
            .await
            .unwrap()
            .is_none());
    }

    async fn calls_are_scoped_to_their_account_and_listed_while_scheduled(backend: Backend) {
        let store = testing::open(backend, "scope").await.unwrap();
        let creds = store
            .provision_demo(None, "15550000001", "u")
            .await
            .unwrap();
        let now = Utc::now();
        let call = store
            .create_call(&creds.account_sid, &fields(100), now)
            .await
            .unwrap();
        store
            .create_call(&creds.account_sid, &fields(0), now)
            .await
            .unwrap();
        assert!(store
            .call("someone-else", &call.call_sid)
            .await
            .unwrap()
            .is_none());
        let (items, total) = store
            .scheduled_calls(&creds.account_sid, &ListParams::page(10, 0), now)
            .await
            .unwrap();
        assert_eq!(
            (items.len(), total),
            (1, 1),
            "the immediate call is not listed"
        );
        assert_eq!(items[0].call_sid, call.call_sid);
        let (_, total) = store
            .scheduled_calls("someone-else", &ListParams::page(10, 0), now)
            .await
            .unwrap();
        assert_eq!(total, 0);

        let mut update = CallFields::from(&call);
        update.delay = 5;
        let later = now + chrono::Duration::seconds(10);
        let updated = store
            .update_call(&creds.account_sid, &call.call_sid, &update, Some(later))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(updated.remaining_delay(later), 5);
        assert!(store
            .update_call("someone-else", &call.call_sid, &update, None)
            .await
            .unwrap()
            .is_none());
        assert!(store
            .did_by_number(&creds.account_sid, "15550000001")
            .await
            .unwrap()
            .is_some());
        assert!(store
            .did_by_number("someone-else", "15550000001")
            .await
            .unwrap()
            .is_none());
    }

    crate::backend_tests!(
        due_calls_and_mark_dialing_fire_once,
        calls_are_scoped_to_their_account_and_listed_while_scheduled
    );
}
