-- Storage (Core API `/storage/containers`, `/storage/files`): the metadata of containers and
-- files. The bytes live on disk under the data folder, not here. Plain TEXT/INTEGER columns
-- (BIGINT for sizes past 2 GB) so the same file runs on PostgreSQL; booleans are INTEGER 0/1.
-- A container keeps its running totals, so a quota check is one conditional UPDATE.

CREATE TABLE containers (
    container_sid TEXT PRIMARY KEY,
    partner_sid TEXT NOT NULL REFERENCES partners(partner_sid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    allow_publish INTEGER NOT NULL DEFAULT 1,
    quota_bytes BIGINT NOT NULL,
    quota_files BIGINT NOT NULL,
    total_bytes BIGINT NOT NULL DEFAULT 0,
    total_files BIGINT NOT NULL DEFAULT 0,
    date_created TEXT NOT NULL
);
CREATE INDEX containers_partner ON containers(partner_sid);

CREATE TABLE files (
    file_sid TEXT PRIMARY KEY,
    container_sid TEXT NOT NULL REFERENCES containers(container_sid),
    partner_sid TEXT NOT NULL,
    name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    content_format TEXT NOT NULL,
    file_bytes BIGINT NOT NULL,
    publish TEXT NOT NULL DEFAULT 'file_sid',
    date_created TEXT NOT NULL,
    date_modified TEXT NOT NULL
);
CREATE INDEX files_container ON files(container_sid);
CREATE INDEX files_partner ON files(partner_sid);
