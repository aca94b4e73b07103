//! The outbox of notifications to apps (status and recording callbacks, the SMS webhook): each
//! is stored before its first attempt, so it survives a restart, and is retried by the
//! binary's worker (`flexvox::outbox`) until delivered or given up. With several servers on
//! one database, `claim_callback` lets exactly one of them send each attempt.

use crate::rows::json_column;
use crate::{format_timestamp, new_sid, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A stored notification: what to send and how its delivery stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Callback {
    pub attempts: i64,
    pub call_sid: Option<String>,
    pub callback_sid: String,
    pub date_created: String,
    /// When it was delivered or given up.
    pub date_done: Option<String>,
    /// `status`, `recording` (recordingStatusCallback, callbackUrl) or `sms`.
    pub kind: String,
    pub last_error: Option<String>,
    pub method: String,
    /// When the next attempt is due; `None` once delivered or failed.
    pub next_attempt: Option<String>,
    /// The request's parameters, in order (the JSON body or the query).
    #[serde(skip)]
    pub params: Vec<(String, String)>,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub url: String,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for Callback {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        let state: String = row.try_get("state")?;
        let params = serde_json::from_value(json_column(row, "params")?).map_err(|e| {
            sqlx::Error::ColumnDecode {
                index: "params".into(),
                source: Box::new(e),
            }
        })?;
        Ok(Callback {
            attempts: row.try_get("attempts")?,
            call_sid: row.try_get("call_sid")?,
            callback_sid: row.try_get("callback_sid")?,
            date_created: row.try_get("date_created")?,
            date_done: row.try_get("date_done")?,
            kind: row.try_get("kind")?,
            last_error: row.try_get("last_error")?,
            method: row.try_get("method")?,
            next_attempt: match state.as_str() {
                "pending" => Some(row.try_get("next_attempt")?),
                _ => None,
            },
            params,
            state,
            url: row.try_get("url")?,
        })
    }
}

/// A notification to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCallback {
    pub call_sid: Option<String>,
    pub kind: String,
    pub url: String,
    pub method: String,
    pub params: Vec<(String, String)>,
}

const CALLBACK_COLUMNS: &str = "callback_sid, call_sid, kind, url, method, params, state, \
    attempts, last_error, next_attempt, date_created, date_done";

impl Store {
    /// Stores a notification due at `now` (its first attempt is immediate).
    pub async fn enqueue_callback(
        &self,
        new: &NewCallback,
        now: DateTime<Utc>,
    ) -> Result<Callback, StoreError> {
        let sid = new_sid();
        let params = serde_json::to_string(&new.params).unwrap_or_else(|_| "[]".into());
        sqlx::query(&self.sql(&format!(
            "INSERT INTO callbacks ({CALLBACK_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, NULL, ?, ?, NULL)"
        )))
        .bind(&sid)
        .bind(&new.call_sid)
        .bind(&new.kind)
        .bind(&new.url)
        .bind(&new.method)
        .bind(params)
        .bind(format_timestamp(now))
        .bind(format_timestamp(now))
        .execute(&self.pool)
        .await?;
        self.callback(&sid)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    pub async fn callback(&self, callback_sid: &str) -> Result<Option<Callback>, StoreError> {
        Ok(sqlx::query_as::<_, Callback>(&self.sql(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE callback_sid = ?"
        )))
        .bind(callback_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The notifications of these calls, oldest first.
    pub async fn callbacks_of(&self, call_sids: &[String]) -> Result<Vec<Callback>, StoreError> {
        if call_sids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; call_sids.len()].join(", ");
        let text = format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE call_sid IN ({marks}) \
             ORDER BY date_created, callback_sid"
        );
        let sql = self.sql(&text);
        let mut query = sqlx::query_as::<_, Callback>(&sql);
        for sid in call_sids {
            query = query.bind(sid);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Pending notifications whose attempt is due at `now`, soonest first (at most `limit`).
    /// Reading claims nothing: a worker must win `claim_callback` before sending one.
    pub async fn due_callbacks(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Callback>, StoreError> {
        Ok(sqlx::query_as::<_, Callback>(&self.sql(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE state = 'pending' \
             AND next_attempt <= ? ORDER BY next_attempt, callback_sid LIMIT ?"
        )))
        .bind(format_timestamp(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// When the soonest pending notification is due, if any is pending.
    pub async fn next_callback_due(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            &self.sql("SELECT MIN(next_attempt) FROM callbacks WHERE state = 'pending'"),
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Takes a due notification for one attempt: `true` for exactly one caller among servers
    /// that read the same row (`seen_next_attempt` is what it read). The attempt is counted
    /// and the row is not due again until `lease_until`, so if the sender dies mid-attempt
    /// another server retries it then.
    pub async fn claim_callback(
        &self,
        callback_sid: &str,
        seen_next_attempt: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(&self.sql(
            "UPDATE callbacks SET next_attempt = ?, attempts = attempts + 1 \
             WHERE callback_sid = ? AND state = 'pending' AND next_attempt = ?",
        ))
        .bind(format_timestamp(lease_until))
        .bind(callback_sid)
        .bind(seen_next_attempt)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the outcome of a claimed attempt: delivered (`error` is `None`), retried at
    /// `retry_at`, or given up (`error` and no `retry_at`).
    pub async fn record_callback_attempt(
        &self,
        callback_sid: &str,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (state, next) = match (error, retry_at) {
            (None, _) => ("delivered", now),
            (Some(_), Some(at)) => ("pending", at),
            (Some(_), None) => ("failed", now),
        };
        let done_at = (state != "pending").then(|| format_timestamp(now));
        sqlx::query(&self.sql(
            "UPDATE callbacks SET state = ?, next_attempt = ?, date_done = ?, \
             last_error = COALESCE(?, last_error) WHERE callback_sid = ? AND state = 'pending'",
        ))
        .bind(state)
        .bind(format_timestamp(next))
        .bind(done_at)
        .bind(error)
        .bind(callback_sid)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// `Value` of a callback as the call record shows it.
pub(crate) fn callback_value(cb: &Callback) -> Value {
    serde_json::to_value(cb).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Backend};

    fn new(call_sid: &str) -> NewCallback {
        NewCallback {
            call_sid: Some(call_sid.into()),
            kind: "status".into(),
            url: "http://127.0.0.1:9/status".into(),
            method: "POST".into(),
            params: vec![("CallStatus".into(), "completed".into())],
        }
    }

    async fn a_callback_is_claimed_once_retried_and_delivered(backend: Backend) {
        let store = testing::open(backend, "callbacks").await.unwrap();
        let now = Utc::now();
        let cb = store.enqueue_callback(&new("c1"), now).await.unwrap();
        assert_eq!((cb.state.as_str(), cb.attempts), ("pending", 0));
        assert_eq!(cb.params, new("c1").params);
        let due = store.due_callbacks(now, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        let seen = due[0].next_attempt.clone().unwrap();
        let lease = now + chrono::Duration::seconds(60);
        // Two servers race for the same attempt: exactly one sends it.
        let (a, b) = tokio::join!(
            store.claim_callback(&cb.callback_sid, &seen, lease),
            store.claim_callback(&cb.callback_sid, &seen, lease)
        );
        assert!(a.unwrap() ^ b.unwrap());
        assert!(store.due_callbacks(now, 10).await.unwrap().is_empty());
        assert_eq!(
            store.next_callback_due().await.unwrap(),
            Some(format_timestamp(lease))
        );

        let retry = now + chrono::Duration::seconds(1);
        store
            .record_callback_attempt(&cb.callback_sid, Some("HTTP 503"), Some(retry), now)
            .await
            .unwrap();
        let again = store.due_callbacks(retry, 10).await.unwrap();
        assert_eq!(again[0].last_error.as_deref(), Some("HTTP 503"));
        assert!(store
            .claim_callback(&cb.callback_sid, &format_timestamp(retry), lease)
            .await
            .unwrap());
        store
            .record_callback_attempt(&cb.callback_sid, None, None, retry)
            .await
            .unwrap();
        let done = store.callbacks_of(&["c1".into()]).await.unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!((done[0].state.as_str(), done[0].attempts), ("delivered", 2));
        assert_eq!(done[0].next_attempt, None);
        assert!(done[0].date_done.is_some());
        assert_eq!(store.next_callback_due().await.unwrap(), None);

        let failed = store.enqueue_callback(&new("c2"), now).await.unwrap();
        store
            .record_callback_attempt(&failed.callback_sid, Some("gave up"), None, now)
            .await
            .unwrap();
        let failed = store.callback(&failed.callback_sid).await.unwrap().unwrap();
        assert_eq!(failed.state, "failed");
    }

    crate::backend_tests!(a_callback_is_claimed_once_retried_and_delivered);
}
