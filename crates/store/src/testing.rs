//! Test support (feature `testing`): the same test runs on every database the store speaks.
//! `backend_tests!(a, b)` turns `async fn a(backend: Backend)` into the tests `a::sqlite` and
//! `a::postgres`; the PostgreSQL one runs when `FLEXVOX_TEST_POSTGRES_URL` names a database
//! the tests may create schemas in, and otherwise says it was skipped. Each test gets its own
//! SQLite file or PostgreSQL schema (via `search_path`), so tests run in parallel.

use crate::{Store, StoreError};
use std::io::Write;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The variable naming the PostgreSQL database of the tests.
pub const POSTGRES_URL_VAR: &str = "FLEXVOX_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL URL of the tests, if set.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Says, past the test harness's output capture so it shows in every run, that the
/// PostgreSQL variant of `test` did not run.
pub fn report_skipped(test: &str) {
    let line = format!("skipped: {POSTGRES_URL_VAR} not set ({test} on PostgreSQL)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// A database of the test's own, not opened yet (a test of migrations fills it first); its
/// file or schema goes away when it is dropped.
pub struct Scratch {
    backend: Backend,
    url: String,
    dir: PathBuf,
    schema: Option<(String, String)>,
}

impl Scratch {
    /// A URL for connecting to the database directly (it may not exist yet on SQLite).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A scratch folder of the test's own (it holds the SQLite file and storage files).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The store on this database, migrated.
    pub async fn open(&self) -> Result<Store, StoreError> {
        match self.backend {
            Backend::Sqlite => Store::open_sqlite(&self.dir.join("flexvox.db")).await,
            Backend::Postgres => Ok(Store::open_postgres(&self.url)
                .await?
                .with_files_dir(self.dir.join("storage"))),
        }
    }
}

/// A store of its own for one test.
pub struct TestStore {
    // Declared first so the pool closes before the scratch database goes.
    store: Store,
    scratch: Scratch,
}

impl Deref for TestStore {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

impl TestStore {
    /// A handle to the store (cheap: the pool is shared).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// A scratch folder of the test's own.
    pub fn dir(&self) -> &Path {
        self.scratch.dir()
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh, migrated store on `backend` for the test `name`.
pub async fn open(backend: Backend, name: &str) -> Result<TestStore, StoreError> {
    let scratch = scratch(backend, name).await?;
    let store = scratch.open().await?;
    Ok(TestStore { store, scratch })
}

/// A fresh, empty database on `backend` for the test `name`.
pub async fn scratch(backend: Backend, name: &str) -> Result<Scratch, StoreError> {
    sqlx::any::install_default_drivers();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tag: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => '_',
        })
        .take(32)
        .collect();
    let unique = format!("{tag}_{}_{n}", std::process::id());
    let dir = std::env::temp_dir().join(format!("flexvox-test-{unique}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| config_error(format!("{}: {e}", dir.display())))?;
    let (url, schema) = match backend {
        Backend::Sqlite => (
            format!("sqlite:{}?mode=rwc", dir.join("flexvox.db").display()),
            None,
        ),
        Backend::Postgres => {
            let base = postgres_url()
                .ok_or_else(|| config_error(format!("{POSTGRES_URL_VAR} is not set")))?;
            let schema = format!("t_{unique}");
            run_on(&base, &format!("CREATE SCHEMA {schema}")).await?;
            (with_search_path(&base, &schema), Some((base, schema)))
        }
    };
    Ok(Scratch {
        backend,
        url,
        dir,
        schema,
    })
}

/// `url` whose connections use `schema` first (and so create their tables there).
fn with_search_path(url: &str, schema: &str) -> String {
    let join = if url.contains('?') { '&' } else { '?' };
    // Named after the schema too, so the cleanup can find the test's connections.
    format!("{url}{join}options[search_path]={schema}&application_name={schema}")
}

fn config_error(message: String) -> StoreError {
    StoreError::Database(sqlx::Error::Configuration(message.into()))
}

async fn run_on(url: &str, sql: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    sqlx::raw_sql(sql).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let Some((url, schema)) = self.schema.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on a future; a thread with
        // a runtime of its own can.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                // The test's pool may still hold a connection whose transaction awaits its
                // rollback, and with it locks the DROP would wait for: end those first.
                let sql = format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = '{schema}' AND pid <> pg_backend_pid(); \
                     SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {schema} CASCADE"
                );
                let _ = runtime.block_on(run_on(&url, &sql));
            }
        });
        let _ = dropped.join();
    }
}

/// Declares, for each `async fn name(backend: Backend)` named, a module `name` with the tests
/// `sqlite` and `postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::testing::Backend::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    if $crate::testing::postgres_url().is_none() {
                        $crate::testing::report_skipped(module_path!());
                        return;
                    }
                    super::$name($crate::testing::Backend::Postgres).await
                }
            }
        )+
    };
}
