//! Notifications to apps (status callbacks, recording callbacks, the SMS webhook) delivered at
//! least once: each is stored (`store::callbacks`) before its first attempt, attempted at
//! once, and retried with exponential backoff until the app answers 2xx or we give up. The
//! worker also resumes what was pending when the server stopped. With several servers on one
//! database each attempt is claimed by one of them (`Store::claim_callback`).

use crate::fetcher;
use crate::url_policy::AppHttp;
use callflow::{FetchRequest, HttpMethod};
use std::sync::Arc;
use std::time::Duration;
use store::{Callback, NewCallback, Store, Utc};
use tokio::sync::Notify;

/// The wait after the first failed attempt; it doubles after each further one.
pub const RETRY_BASE: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
pub const RETRY_CAP: Duration = Duration::from_secs(5 * 60);
/// A notification not delivered this long after it was queued is given up (`failed`).
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// ... and so is one that has been attempted this many times (about 24 h of capped waits).
pub const MAX_ATTEMPTS: i64 = 300;
/// Test knob: the first retry wait in milliseconds instead of `RETRY_BASE`, so a test of
/// retries runs in seconds. Not meant for production.
pub const RETRY_BASE_ENV: &str = "FLEXVOX_CALLBACK_RETRY_BASE_MS";
/// How long a claimed attempt keeps others off its row: longer than a request can take, so a
/// row comes due again only if its server died mid-attempt.
const LEASE: Duration = Duration::from_secs(60);
/// How often the worker looks for rows another server queued or a dead server left.
const POLL: Duration = Duration::from_secs(1);
const BATCH: i64 = 100;

#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    http: AppHttp,
    wake: Notify,
    base: Duration,
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones.
fn backoff(base: Duration, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base.saturating_mul(1u32 << doublings).min(RETRY_CAP)
}

fn chrono_of(d: Duration) -> store::DateTime<Utc> {
    Utc::now() + chrono_duration(d)
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Outbox {
    /// Starts the worker; it runs until the runtime stops.
    pub fn start(store: Store, http: AppHttp) -> Outbox {
        let base = std::env::var(RETRY_BASE_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(RETRY_BASE);
        let outbox = Outbox {
            inner: Arc::new(Inner {
                store,
                http,
                wake: Notify::new(),
                base,
            }),
        };
        tokio::spawn(outbox.clone().run());
        outbox
    }

    /// Queues a notification of `call_sid` and wakes the worker to attempt it at once. If it
    /// cannot be stored, it is still sent, without the guarantee.
    pub fn send(&self, call_sid: Option<&str>, kind: &str, req: FetchRequest) {
        let new = NewCallback {
            call_sid: call_sid.map(str::to_string),
            kind: kind.into(),
            url: req.url.clone(),
            method: req.method.as_str().into(),
            params: req.params.clone(),
        };
        let outbox = self.clone();
        tokio::spawn(async move {
            match outbox.inner.store.enqueue_callback(&new, Utc::now()).await {
                Ok(_) => outbox.inner.wake.notify_one(),
                Err(e) => {
                    tracing::warn!(url = %req.url, error = %e, "cannot queue the notification: sending it once");
                    fetcher::send_notification(outbox.inner.http.clone(), req).await;
                }
            }
        });
    }

    async fn run(self) {
        loop {
            let wait = match self.fire_due().await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::warn!(error = %e, "callback outbox: cannot read due notifications");
                    POLL
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.inner.wake.notified() => {}
            }
        }
    }

    /// Claims and starts every due attempt; returns how long to sleep before looking again.
    async fn fire_due(&self) -> Result<Duration, store::StoreError> {
        let store = &self.inner.store;
        let now = Utc::now();
        for cb in store.due_callbacks(now, BATCH).await? {
            let Some(seen) = cb.next_attempt.clone() else {
                continue;
            };
            if !store
                .claim_callback(&cb.callback_sid, &seen, chrono_of(LEASE))
                .await?
            {
                continue; // another server has this attempt
            }
            tokio::spawn(self.clone().attempt(cb));
        }
        let next = store.next_callback_due().await?;
        let until_next = next
            .and_then(|at| store::DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| {
                (at.with_timezone(&Utc) - Utc::now())
                    .to_std()
                    .unwrap_or_default()
            });
        Ok(until_next.map_or(POLL, |d| d.min(POLL)))
    }

    /// One claimed attempt (the claim counted it), and what follows from its outcome.
    async fn attempt(self, cb: Callback) {
        let req = FetchRequest {
            url: cb.url.clone(),
            method: HttpMethod::parse(&cb.method).unwrap_or(HttpMethod::Post),
            params: cb.params.clone(),
        };
        let attempts = cb.attempts + 1;
        let result = fetcher::deliver(&self.inner.http, &req).await;
        let now = Utc::now();
        let age = store::DateTime::parse_from_rfc3339(&cb.date_created)
            .map(|t| now - t.with_timezone(&Utc))
            .unwrap_or_default();
        let (error, retry_at) = match &result {
            Ok(()) => (None, None),
            Err(e) if e.permanent => (Some(e.message.as_str()), None),
            Err(e) if attempts >= MAX_ATTEMPTS || age >= chrono_duration(GIVE_UP_AFTER) => {
                (Some(e.message.as_str()), None)
            }
            Err(e) => (
                Some(e.message.as_str()),
                Some(now + chrono_duration(backoff(self.inner.base, attempts))),
            ),
        };
        match (&result, retry_at) {
            (Ok(()), _) => {
                tracing::info!(url = %cb.url, attempts, kind = %cb.kind, "notification delivered")
            }
            (Err(e), Some(at)) => {
                tracing::warn!(url = %cb.url, attempts, error = %e, retry_at = %store::format_timestamp(at), "notification not delivered: will retry")
            }
            (Err(e), None) => {
                tracing::warn!(url = %cb.url, attempts, error = %e, "notification given up")
            }
        }
        let recorded = self
            .inner
            .store
            .record_callback_attempt(&cb.callback_sid, error, retry_at, now)
            .await;
        if let Err(e) = recorded {
            // The lease runs out and the attempt is made again: at least once, not at most.
            tracing::warn!(callback_sid = %cb.callback_sid, error = %e, "cannot record a notification attempt");
        }
        if retry_at.is_some() {
            self.inner.wake.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let base = Duration::from_secs(1);
        let waits: Vec<u64> = (1..=10).map(|n| backoff(base, n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(backoff(base, 1000), RETRY_CAP);
        assert_eq!(backoff(Duration::from_millis(100), 2).as_millis(), 200);
    }
}
