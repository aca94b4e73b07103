//! The outbound call scheduler: every 200 ms it asks the store for calls whose `due_at` has
//! come, claims each with `mark_dialing` (so a call fires once, even with two flexvox
//! processes on one database) and hands it to a `Dialer`. The schedule is the database's, so
//! calls scheduled before a restart fire after it.
//!
//! The binary's dialer is `call::SipDialer`, which places the call over SIP.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use store::{Call, Store, Utc};

/// How often the store is asked for due calls.
pub const TICK: Duration = Duration::from_millis(200);

/// Places one claimed call. Each call runs in its own task, so a slow dial delays no other.
pub trait Dialer: Send + Sync + 'static {
    fn dial(&self, call: Call) -> impl Future<Output = ()> + Send;
}

/// Starts the scheduler task; it runs until the runtime stops (or the handle is aborted).
pub fn spawn<D: Dialer>(store: Store, dialer: Arc<D>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = fire_due(&store, &dialer).await {
                tracing::warn!(error = %e, "call scheduler: cannot read due calls");
            }
        }
    })
}

/// One pass: claims every due call and starts its dial. Returns how many it claimed.
pub async fn fire_due<D: Dialer>(
    store: &Store,
    dialer: &Arc<D>,
) -> Result<usize, store::StoreError> {
    let now = Utc::now();
    let mut claimed = 0;
    for call in store.due_calls(now).await? {
        if !store.mark_dialing(&call.call_sid, now).await? {
            continue; // another scheduler has it, or it was cancelled or moved meanwhile
        }
        claimed += 1;
        let dialer = Arc::clone(dialer);
        tokio::spawn(async move { dialer.dial(call).await });
    }
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use store::{CallFields, CallState};

    /// Records the SIDs it is asked to dial, and marks them done like the real one will.
    struct FakeDialer {
        store: Store,
        dialed: Mutex<Vec<String>>,
    }

    impl Dialer for FakeDialer {
        async fn dial(&self, call: Call) {
            self.dialed.lock().unwrap().push(call.call_sid.clone());
            self.store.mark_done(&call.call_sid).await.unwrap();
        }
    }

    impl FakeDialer {
        fn new(store: &Store) -> Arc<FakeDialer> {
            Arc::new(FakeDialer {
                store: store.clone(),
                dialed: Mutex::new(Vec::new()),
            })
        }

        fn dialed(&self) -> Vec<String> {
            self.dialed.lock().unwrap().clone()
        }
    }

    fn temp_db(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("flexvox-sched-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("flexvox.db")
    }

    async fn schedule(store: &Store, delay: i64) -> String {
        let creds = store
            .provision_demo(None, "15550000001", "u")
            .await
            .unwrap();
        let fields = CallFields {
            calling_did: "15550000001".into(),
            called_did: "15162065575".into(),
            url: None,
            method: "POST".into(),
            status_callback_url: None,
            status_callback_method: "POST".into(),
            delay,
            attributes: Default::default(),
        };
        store
            .create_call(&creds.account_sid, &fields, Utc::now())
            .await
            .unwrap()
            .call_sid
    }

    /// Waits (at most 5 s) until the dialer has been called, then a little longer so a
    /// second dial would show.
    async fn wait_for_dial(dialer: &FakeDialer) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while dialer.dialed().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(TICK * 3).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scheduler_fires_a_delayed_call_once_even_with_two_schedulers() {
        let db = temp_db("once");
        let store = store::Store::open_sqlite(&db).await.unwrap();
        let sid = schedule(&store, 1).await;
        let dialer = FakeDialer::new(&store);
        let started = tokio::time::Instant::now();
        let a = spawn(store.clone(), Arc::clone(&dialer));
        // A second scheduler on its own connection pool, as a second process would have.
        let other = store::Store::open_sqlite(&db).await.unwrap();
        let b = spawn(other, Arc::clone(&dialer));

        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(dialer.dialed().is_empty(), "fired before its delay");
        wait_for_dial(&dialer).await;
        a.abort();
        b.abort();
        assert_eq!(dialer.dialed(), std::slice::from_ref(&sid));
        assert!(started.elapsed() >= Duration::from_millis(900));
        let call = store.call_by_sid(&sid).await.unwrap().unwrap();
        assert_eq!(call.state, CallState::Done);
        let _ = std::fs::remove_dir_all(db.parent().unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scheduler_fires_a_call_scheduled_before_a_restart() {
        let db = temp_db("restart");
        let sid = {
            let before = store::Store::open_sqlite(&db).await.unwrap();
            schedule(&before, 1).await
            // the store (the "old process") is dropped here, without its scheduler ever running
        };
        let store = store::Store::open_sqlite(&db).await.unwrap();
        let dialer = FakeDialer::new(&store);
        let task = spawn(store.clone(), Arc::clone(&dialer));
        wait_for_dial(&dialer).await;
        task.abort();
        assert_eq!(dialer.dialed(), std::slice::from_ref(&sid));
        assert_eq!(
            store.call_by_sid(&sid).await.unwrap().unwrap().state,
            CallState::Done
        );
        let _ = std::fs::remove_dir_all(db.parent().unwrap());
    }

    #[tokio::test]
    async fn scheduler_skips_cancelled_calls() {
        let db = temp_db("cancel");
        let store = store::Store::open_sqlite(&db).await.unwrap();
        let sid = schedule(&store, 0).await;
        let account = store.call_by_sid(&sid).await.unwrap().unwrap().account_sid;
        assert!(store.cancel_call(&account, &sid).await.unwrap());
        let dialer = FakeDialer::new(&store);
        assert_eq!(fire_due(&store, &dialer).await.unwrap(), 0);
        assert!(dialer.dialed().is_empty());
        let _ = std::fs::remove_dir_all(db.parent().unwrap());
    }
}
