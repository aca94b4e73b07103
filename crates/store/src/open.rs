//! Opening the database a URL names: SQLite (the embedded default, one file in WAL mode) or
//! PostgreSQL (several nodes sharing one database). Both run the same migrations through the
//! sqlx `Any` driver; `Dialect` covers what differs in the SQL.

use crate::storage::FilesRoot;
use crate::{Dialect, Store, StoreError};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::path::{Path, PathBuf};

/// Connections per process: SQLite serialises writers anyway, and PostgreSQL is shared with
/// the other nodes.
const MAX_CONNECTIONS: u32 = 8;

impl Store {
    /// Opens the database `url` names and applies migrations: `postgres://…` or
    /// `postgresql://…` for PostgreSQL; `sqlite://path`, `sqlite:path` or a plain file path for
    /// SQLite (created if missing). Storage files' bytes go beside a SQLite file; for
    /// PostgreSQL set their folder with `with_files_dir`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        match Dialect::of_url(url) {
            Dialect::Postgres => Store::open_postgres(url).await,
            Dialect::Sqlite => Store::open_sqlite(&sqlite_path(url)).await,
        }
    }

    /// Opens (creating if needed) the SQLite database file and applies migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        // `mode=rwc` creates the file; the path is escaped so `?`, `#` and `%` stay part of it.
        let url = format!("sqlite:{}?mode=rwc", escape_path(path));
        let pool = pool_options().connect(&url).await?;
        // Persistent in the file, so setting it once on the first connection is enough; the
        // sqlx defaults already turn on foreign keys and a 5 s busy timeout per connection.
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await?;
        Store::migrated(pool, Dialect::Sqlite, FilesRoot::beside(path)).await
    }

    /// Connects to PostgreSQL and applies migrations (in the first schema of the
    /// connection's `search_path`, so a URL with `options[search_path]=…` gets its own).
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = pool_options().connect(url).await?;
        Store::migrated(
            pool,
            Dialect::Postgres,
            FilesRoot::beside(Path::new("./db")),
        )
        .await
    }

    async fn migrated(
        pool: AnyPool,
        dialect: Dialect,
        files: FilesRoot,
    ) -> Result<Store, StoreError> {
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store {
            pool,
            dialect,
            files,
        })
    }

    /// Keeps the query planner's statistics current as tables grow: SQLite's `PRAGMA
    /// optimize` re-analyses only the tables that changed a lot, bounded by `analysis_limit`,
    /// so calling it every minute is cheap. PostgreSQL's autovacuum does this itself.
    pub async fn maintain(&self) -> Result<(), StoreError> {
        if self.dialect == Dialect::Sqlite {
            let mut conn = self.pool.acquire().await?;
            sqlx::query("PRAGMA analysis_limit = 1000")
                .execute(&mut *conn)
                .await?;
            sqlx::query("PRAGMA optimize").execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Which SQL this store speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The connection pool, for tests that run SQL of their own.
    #[cfg(any(test, feature = "testing"))]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that writes. On SQLite it takes the write lock at BEGIN (IMMEDIATE):
    /// a deferred transaction that reads first cannot wait for a writer that commits in
    /// between (SQLITE_BUSY at once, the busy timeout does not apply), which concurrent API
    /// requests hit as "database is locked".
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    /// `sql` with its placeholders as the store's database numbers them.
    pub(crate) fn sql<'a>(&self, sql: &'a str) -> std::borrow::Cow<'a, str> {
        self.dialect.sql(sql)
    }
}

fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new().max_connections(MAX_CONNECTIONS)
}

/// The file a SQLite URL (or plain path) names.
fn sqlite_path(url: &str) -> PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(path)
}

fn escape_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.display().to_string().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            ' ' => out.push_str("%20"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_and_paths_name_a_file() {
        assert_eq!(sqlite_path("sqlite:///tmp/a.db"), Path::new("/tmp/a.db"));
        assert_eq!(sqlite_path("sqlite:data/a.db"), Path::new("data/a.db"));
        assert_eq!(sqlite_path("/tmp/a.db"), Path::new("/tmp/a.db"));
        assert_eq!(
            escape_path(Path::new("/tmp/a b?#%.db")),
            "/tmp/a%20b%3F%23%25.db"
        );
    }
}
