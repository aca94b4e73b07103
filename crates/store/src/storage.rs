//! Storage, as CarrierX's Storage API: a partner's containers (with byte and file quotas) and
//! the files in them. Metadata lives in the database (`containers`, `files`); the bytes live on
//! disk at `<root>/<container_sid>/<file_sid>`, where `<root>` is `storage/` beside the SQLite
//! file unless `Store::with_files_dir` says otherwise. Bytes are written to a temporary file
//! and renamed into place before the row is committed, so a crash leaves at worst an orphan
//! file on disk, never a row whose bytes are missing or half written.

mod containers;
mod files;

pub use containers::{Container, ContainerFields, CONTAINER_FIELDS};
pub use files::{StoredFile, StoredFileFields, FILE_FIELDS, PUBLISH_MODES};

use crate::{Store, StoreError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("storage file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The upload would take the container past one of its quotas.
    #[error("{field}: {message}")]
    QuotaExceeded {
        field: &'static str,
        message: String,
    },
    /// A setting the container's contents rule out (a quota below what it holds).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Containers are deleted only once empty, so files are never lost by accident.
    #[error("the container still holds {files} files")]
    NotEmpty { files: i64 },
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        StorageError::Store(StoreError::Database(e))
    }
}

/// The folder the bytes live in. Cheap to clone with the `Store`.
#[derive(Debug, Clone)]
pub(crate) struct FilesRoot(Arc<PathBuf>);

impl FilesRoot {
    /// `storage/` in the folder of the database file.
    pub(crate) fn beside(database: &Path) -> FilesRoot {
        let folder = database.parent().unwrap_or_else(|| Path::new("."));
        FilesRoot(Arc::new(folder.join("storage")))
    }

    fn path(&self, container_sid: &str, file_sid: &str) -> PathBuf {
        self.0.join(container_sid).join(file_sid)
    }
}

impl Store {
    /// The same store, keeping storage files' bytes under `dir` instead.
    pub fn with_files_dir(mut self, dir: impl Into<PathBuf>) -> Store {
        self.files = FilesRoot(Arc::new(dir.into()));
        self
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced before the
/// rename, so `path` only ever holds a complete file.
async fn write_atomically(path: PathBuf, bytes: Vec<u8>) -> Result<(), StorageError> {
    tokio::task::spawn_blocking(move || {
        let folder = path.parent().unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(folder).map_err(io_error(folder))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let temp = folder.join(format!(".{name}.tmp"));
        let mut file = std::fs::File::create(&temp).map_err(io_error(&temp))?;
        file.write_all(&bytes)
            .and_then(|_| file.sync_all())
            .map_err(io_error(&temp))?;
        std::fs::rename(&temp, &path).map_err(io_error(&path))
    })
    .await
    .map_err(|e| StorageError::Io {
        path: String::new(),
        source: std::io::Error::other(e.to_string()),
    })?
}

async fn read_bytes(path: &Path) -> Result<Vec<u8>, StorageError> {
    tokio::fs::read(path).await.map_err(io_error(path))
}

/// Removes the bytes of a deleted (or never committed) file; a file already gone is fine.
async fn remove_bytes(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // The store has no logger: an undeletable orphan is reported and left behind.
        Err(e) => eprintln!("storage: cannot remove {}: {e}", path.display()),
    }
}
