//! Files: bytes in a container with their metadata. `publish` decides whether the public
//! `/f/{file_sid}` address serves the file (the API builds `publish_uri` from it).

use super::{read_bytes, remove_bytes, write_atomically, StorageError};
use crate::lists::{field, Source};
use crate::query::{FieldKind, FieldSpec, ListParams};
use crate::rows::bool_column;
use crate::{new_sid, now_timestamp, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// The `publish` values: served at `/f/{file_sid}`, or not published at all.
pub const PUBLISH_MODES: [&str; 2] = ["file_sid", "none"];

/// The File object; keys serialise in alphabetical order, as CarrierX shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFile {
    pub container_sid: String,
    /// The format the bytes are in (`wav`, `mp3`…), from the name or the MIME type.
    pub content_format: String,
    pub date_created: String,
    pub date_modified: String,
    /// The last part of the public address: the SID with the format as extension.
    pub file_access_name: String,
    pub file_bytes: i64,
    pub file_sid: String,
    pub mime_type: String,
    pub name: String,
    pub partner_sid: String,
    pub publish: String,
    #[serde(rename = "type")]
    pub file_type: &'static str,
    /// Whether `/f/{file_sid}` serves it: `publish` is not `none` and its container allows it.
    #[serde(skip)]
    pub published: bool,
}

/// What a partner sets on a file. An empty `mime_type` or `name` at upload is derived from the
/// other and from the upload itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFileFields {
    pub name: String,
    pub mime_type: String,
    pub publish: String,
}

impl Default for StoredFileFields {
    fn default() -> Self {
        StoredFileFields {
            name: String::new(),
            mime_type: String::new(),
            publish: "file_sid".into(),
        }
    }
}

impl From<&StoredFile> for StoredFileFields {
    fn from(f: &StoredFile) -> Self {
        StoredFileFields {
            name: f.name.clone(),
            mime_type: f.mime_type.clone(),
            publish: f.publish.clone(),
        }
    }
}

const KNOWN_FORMATS: [(&str, &str); 8] = [
    ("wav", "audio/wav"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("ul", "audio/basic"),
    ("flac", "audio/flac"),
    ("txt", "text/plain"),
    ("json", "application/json"),
    ("pdf", "application/pdf"),
];

/// The format of a file named `name` of type `mime_type`: the name's extension if it has a
/// short one, else the extension the type usually has, else empty.
pub fn content_format(name: &str, mime_type: &str) -> String {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| {
            (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
    extension
        .or_else(|| {
            let mime = mime_type.to_ascii_lowercase();
            KNOWN_FORMATS
                .iter()
                .find(|(_, m)| mime == *m || (mime == "audio/x-wav" && *m == "audio/wav"))
                .map(|(ext, _)| ext.to_string())
        })
        .unwrap_or_default()
}

/// The usual MIME type of a format, `application/octet-stream` if unknown.
pub fn mime_for_format(format: &str) -> String {
    KNOWN_FORMATS
        .iter()
        .find(|(ext, _)| *ext == format)
        .map_or("application/octet-stream", |(_, m)| m)
        .to_string()
}

impl<'r> sqlx::FromRow<'r, AnyRow> for StoredFile {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        let file_sid: String = row.try_get("file_sid")?;
        let content_format: String = row.try_get("content_format")?;
        let publish: String = row.try_get("publish")?;
        Ok(StoredFile {
            container_sid: row.try_get("container_sid")?,
            file_access_name: if content_format.is_empty() {
                file_sid.clone()
            } else {
                format!("{file_sid}.{content_format}")
            },
            content_format,
            date_created: row.try_get("date_created")?,
            date_modified: row.try_get("date_modified")?,
            file_bytes: row.try_get("file_bytes")?,
            file_sid,
            mime_type: row.try_get("mime_type")?,
            name: row.try_get("name")?,
            partner_sid: row.try_get("partner_sid")?,
            published: publish != "none" && bool_column(row, "allow_publish")?,
            publish,
            file_type: "file",
        })
    }
}

const FILE_COLUMNS: &str = "f.file_sid, f.container_sid, f.partner_sid, f.name, f.mime_type, \
    f.content_format, f.file_bytes, f.publish, f.date_created, f.date_modified, c.allow_publish";
const FILE_JOIN: &str = "files f JOIN containers c ON c.container_sid = f.container_sid";

/// Every field the File object shows but `publish_uri`, which depends on the request's host.
pub const FILE_FIELDS: &[FieldSpec] = &[
    field("container_sid", "f.container_sid", FieldKind::Text),
    field("content_format", "f.content_format", FieldKind::Text),
    field("date_created", "f.date_created", FieldKind::Date),
    field("date_modified", "f.date_modified", FieldKind::Date),
    field(
        "file_access_name",
        "(CASE WHEN f.content_format = '' THEN f.file_sid ELSE f.file_sid || '.' || f.content_format END)",
        FieldKind::Text,
    ),
    field("file_bytes", "f.file_bytes", FieldKind::Integer),
    field("file_sid", "f.file_sid", FieldKind::Text),
    field("mime_type", "f.mime_type", FieldKind::Text),
    field("name", "f.name", FieldKind::Text),
    field("partner_sid", "f.partner_sid", FieldKind::Text),
    field("publish", "f.publish", FieldKind::Text),
];

const FILES: Source = Source {
    columns: FILE_COLUMNS,
    from: FILE_JOIN,
    owner: "f.partner_sid",
    fields: FILE_FIELDS,
    default_order: "f.date_created ASC",
    tie_break: "f.file_sid ASC",
};

/// Why a container cannot take `bytes` more bytes and `files` more files, if it cannot.
fn over_quota(totals: (i64, i64, i64, i64), bytes: i64, files: i64) -> Option<StorageError> {
    let (total_bytes, total_files, quota_bytes, quota_files) = totals;
    if files > 0 && total_files.saturating_add(files) > quota_files {
        Some(StorageError::QuotaExceeded {
            field: "quota_files",
            message: format!("the container is full: it holds its quota of {quota_files} files"),
        })
    } else if total_bytes.saturating_add(bytes) > quota_bytes {
        Some(StorageError::QuotaExceeded {
            field: "quota_bytes",
            message: format!(
                "{bytes} more bytes do not fit: the container holds {total_bytes} of its {quota_bytes} bytes"
            ),
        })
    } else {
        None
    }
}

impl Store {
    /// Stores `bytes` as a new file in the partner's container (an upload, or a recording).
    /// Empty `name`/`mime_type` are derived from each other; an unknown container is
    /// `StoreError::UnknownReference` on `container_sid`, a full one `QuotaExceeded`.
    pub async fn save_file(
        &self,
        partner_sid: &str,
        container_sid: &str,
        fields: &StoredFileFields,
        bytes: Vec<u8>,
    ) -> Result<StoredFile, StorageError> {
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let totals: Option<(i64, i64, i64, i64)> = sqlx::query_as(&self.sql(
            "SELECT total_bytes, total_files, quota_bytes, quota_files FROM containers \
             WHERE partner_sid = ? AND container_sid = ?",
        ))
        .bind(partner_sid)
        .bind(container_sid)
        .fetch_optional(&self.pool)
        .await?;
        let Some(totals) = totals else {
            return Err(StoreError::UnknownReference {
                field: "container_sid",
                sid: container_sid.to_string(),
            }
            .into());
        };
        // Checked before writing, so a rejected upload costs no disk; the UPDATE below is the
        // check that holds against concurrent uploads.
        if let Some(e) = over_quota(totals, size, 1) {
            return Err(e);
        }
        let file_sid = new_sid();
        let format = content_format(&fields.name, &fields.mime_type);
        let mime_type = match fields.mime_type.as_str() {
            "" => mime_for_format(&format),
            given => given.to_string(),
        };
        let name = match fields.name.as_str() {
            "" if format.is_empty() => file_sid.clone(),
            "" => format!("{file_sid}.{format}"),
            given => given.to_string(),
        };
        let path = self.files.path(container_sid, &file_sid);
        write_atomically(path.clone(), bytes).await?;
        let committed = self
            .insert_file(
                partner_sid,
                container_sid,
                &file_sid,
                size,
                (&name, &mime_type, &format, &fields.publish),
            )
            .await;
        if let Err(e) = committed {
            remove_bytes(&path).await;
            return Err(e);
        }
        self.file(partner_sid, &file_sid)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound).into())
    }

    async fn insert_file(
        &self,
        partner_sid: &str,
        container_sid: &str,
        file_sid: &str,
        size: i64,
        (name, mime_type, format, publish): (&str, &str, &str, &str),
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        let room = sqlx::query(
            &self.sql("UPDATE containers SET total_bytes = total_bytes + ?, total_files = total_files + 1 \
             WHERE container_sid = ? AND total_bytes + ? <= quota_bytes AND total_files < quota_files"),
        )
        .bind(size)
        .bind(container_sid)
        .bind(size)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if room == 0 {
            return Err(self.quota_refusal(&mut tx, container_sid, size, 1).await);
        }
        let now = now_timestamp();
        sqlx::query(&self.sql(
            "INSERT INTO files (file_sid, container_sid, partner_sid, name, mime_type, \
             content_format, file_bytes, publish, date_created, date_modified) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(file_sid)
        .bind(container_sid)
        .bind(partner_sid)
        .bind(name)
        .bind(mime_type)
        .bind(format)
        .bind(size)
        .bind(publish)
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The partner's file; `None` for another partner's.
    pub async fn file(
        &self,
        partner_sid: &str,
        file_sid: &str,
    ) -> Result<Option<StoredFile>, StoreError> {
        Ok(sqlx::query_as::<_, StoredFile>(&self.sql(&format!(
            "SELECT {FILE_COLUMNS} FROM {FILE_JOIN} WHERE f.partner_sid = ? AND f.file_sid = ?"
        )))
        .bind(partner_sid)
        .bind(file_sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn files(
        &self,
        partner_sid: &str,
        params: &ListParams,
    ) -> Result<(Vec<StoredFile>, i64), StoreError> {
        self.list(&FILES, partner_sid, params).await
    }

    /// Replaces the file's name, MIME type and publish mode (the bytes and their format stay).
    pub async fn update_file(
        &self,
        partner_sid: &str,
        file_sid: &str,
        fields: &StoredFileFields,
    ) -> Result<Option<StoredFile>, StoreError> {
        sqlx::query(&self.sql(
            "UPDATE files SET name = ?, mime_type = ?, publish = ?, date_modified = ? \
             WHERE partner_sid = ? AND file_sid = ?",
        ))
        .bind(&fields.name)
        .bind(&fields.mime_type)
        .bind(&fields.publish)
        .bind(now_timestamp())
        .bind(partner_sid)
        .bind(file_sid)
        .execute(&self.pool)
        .await?;
        self.file(partner_sid, file_sid).await
    }

    /// The container and size of the partner's file, read inside a write transaction.
    async fn file_place(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        partner_sid: &str,
        file_sid: &str,
    ) -> Result<Option<(String, i64)>, sqlx::Error> {
        sqlx::query_as(&self.sql(
            "SELECT container_sid, file_bytes FROM files WHERE partner_sid = ? AND file_sid = ?",
        ))
        .bind(partner_sid)
        .bind(file_sid)
        .fetch_optional(&mut **tx)
        .await
    }

    /// The error for a container whose guarded UPDATE found no room for `bytes` more bytes
    /// and `files` more files.
    async fn quota_refusal(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        container_sid: &str,
        bytes: i64,
        files: i64,
    ) -> StorageError {
        let totals: Result<(i64, i64, i64, i64), sqlx::Error> = sqlx::query_as(&self.sql(
            "SELECT total_bytes, total_files, quota_bytes, quota_files FROM containers \
             WHERE container_sid = ?",
        ))
        .bind(container_sid)
        .fetch_one(&mut **tx)
        .await;
        match totals {
            Ok(totals) => over_quota(totals, bytes, files).unwrap_or(StorageError::QuotaExceeded {
                field: "quota_bytes",
                message: "the container is full".into(),
            }),
            Err(e) => e.into(),
        }
    }

    /// Replaces the file's bytes (a Record verb's `fileSid`), keeping its name and format;
    /// the container's quota counts the difference. `None` if the partner has no such file.
    pub async fn replace_file_data(
        &self,
        partner_sid: &str,
        file_sid: &str,
        bytes: Vec<u8>,
    ) -> Result<Option<StoredFile>, StorageError> {
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        let Some((container_sid, old_size)) =
            self.file_place(&mut tx, partner_sid, file_sid).await?
        else {
            return Ok(None);
        };
        let growth = size - old_size;
        let room = sqlx::query(&self.sql(
            "UPDATE containers SET total_bytes = total_bytes + ? \
             WHERE container_sid = ? AND total_bytes + ? <= quota_bytes",
        ))
        .bind(growth)
        .bind(&container_sid)
        .bind(growth)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if room == 0 {
            return Err(self.quota_refusal(&mut tx, &container_sid, growth, 0).await);
        }
        sqlx::query(
            &self.sql("UPDATE files SET file_bytes = ?, date_modified = ? WHERE file_sid = ?"),
        )
        .bind(size)
        .bind(now_timestamp())
        .bind(file_sid)
        .execute(&mut *tx)
        .await?;
        // The bytes go in place before the sizes are committed: a failure in between leaves
        // the new audio with the old size, never the size of audio that is not there.
        write_atomically(self.files.path(&container_sid, file_sid), bytes).await?;
        tx.commit().await?;
        Ok(self.file(partner_sid, file_sid).await?)
    }

    /// Deletes the file and its bytes, giving its room back to the container. `false` if
    /// the partner has no such file.
    pub async fn delete_file(
        &self,
        partner_sid: &str,
        file_sid: &str,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        let Some((container_sid, size)) = self.file_place(&mut tx, partner_sid, file_sid).await?
        else {
            return Ok(false);
        };
        sqlx::query(&self.sql("DELETE FROM files WHERE file_sid = ?"))
            .bind(file_sid)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&self.sql(
            "UPDATE containers SET total_bytes = total_bytes - ?, total_files = total_files - 1 \
             WHERE container_sid = ?",
        ))
        .bind(size)
        .bind(&container_sid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        remove_bytes(&self.files.path(&container_sid, file_sid)).await;
        Ok(true)
    }

    /// The partner's file with its bytes (downloads, and `<Play><File>`).
    pub async fn file_data(
        &self,
        partner_sid: &str,
        file_sid: &str,
    ) -> Result<Option<(StoredFile, Vec<u8>)>, StorageError> {
        let Some(file) = self.file(partner_sid, file_sid).await? else {
            return Ok(None);
        };
        let bytes = read_bytes(&self.files.path(&file.container_sid, &file.file_sid)).await?;
        Ok(Some((file, bytes)))
    }

    /// A file of the partner that owns the FlexML account, with its bytes: what
    /// `<Play><File fileSid=…>` of that account's call may play.
    pub async fn account_file_data(
        &self,
        account_sid: &str,
        file_sid: &str,
    ) -> Result<Option<(StoredFile, Vec<u8>)>, StorageError> {
        let partner: Option<String> = sqlx::query_scalar(
            &self.sql("SELECT e.partner_sid FROM accounts a JOIN endpoints e ON e.endpoint_sid = a.endpoint_sid \
             WHERE a.account_sid = ?"),
        )
        .bind(account_sid)
        .fetch_optional(&self.pool)
        .await?;
        match partner {
            Some(partner) => self.file_data(&partner, file_sid).await,
            None => Ok(None),
        }
    }

    /// A published file with its bytes, whoever asks (the public `/f/{file_sid}` address).
    pub async fn published_file_data(
        &self,
        file_sid: &str,
    ) -> Result<Option<(StoredFile, Vec<u8>)>, StorageError> {
        let file = sqlx::query_as::<_, StoredFile>(&self.sql(&format!(
            "SELECT {FILE_COLUMNS} FROM {FILE_JOIN} WHERE f.file_sid = ?"
        )))
        .bind(file_sid)
        .fetch_optional(&self.pool)
        .await?;
        match file.filter(|f| f.published) {
            Some(file) => {
                let path = self.files.path(&file.container_sid, &file.file_sid);
                Ok(Some((file, read_bytes(&path).await?)))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names_and_types() {
        assert_eq!(content_format("tone.WAV", ""), "wav");
        assert_eq!(content_format("recording", "audio/mpeg"), "mp3");
        assert_eq!(content_format("x.some long ext", "audio/x-wav"), "wav");
        assert_eq!(content_format("blob", "application/x-unknown"), "");
        assert_eq!(mime_for_format("wav"), "audio/wav");
        assert_eq!(mime_for_format(""), "application/octet-stream");
    }

    #[test]
    fn quota_messages_name_the_quota() {
        assert!(over_quota((0, 0, 10, 1), 10, 1).is_none());
        // Replacing a file's bytes adds no file: a full count of files does not refuse it.
        assert!(over_quota((0, 1, 10, 1), 1, 0).is_none());
        assert!(matches!(
            over_quota((0, 0, 10, 1), 11, 1),
            Some(StorageError::QuotaExceeded {
                field: "quota_bytes",
                ..
            })
        ));
        assert!(matches!(
            over_quota((0, 1, 10, 1), 1, 1),
            Some(StorageError::QuotaExceeded {
                field: "quota_files",
                ..
            })
        ));
    }
}
