-- The Core API objects (issue 3): the endpoint's full object, trunk group routing type and
-- trunks, and the Core view of DIDs. Plain ALTER TABLE ADD COLUMN with constant defaults and
-- TEXT/INTEGER columns, so the same file runs on PostgreSQL. JSON objects and arrays are
-- stored as TEXT; booleans as INTEGER 0/1 (what the list query compiler expects).

ALTER TABLE endpoints ADD COLUMN capacity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN addresses TEXT NOT NULL DEFAULT '[]';
ALTER TABLE endpoints ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE endpoints ADD COLUMN out_sip_username TEXT;
ALTER TABLE endpoints ADD COLUMN out_sip_password TEXT;
ALTER TABLE endpoints ADD COLUMN transformations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE endpoints ADD COLUMN voip_token TEXT;
CREATE INDEX endpoints_partner ON endpoints(partner_sid);

ALTER TABLE trunk_groups ADD COLUMN routing_type TEXT NOT NULL DEFAULT 'failover';
CREATE INDEX trunk_groups_partner ON trunk_groups(partner_sid);
CREATE INDEX trunk_groups_endpoint ON trunk_groups(endpoint_sid);

CREATE TABLE trunks (
    trunk_sid TEXT PRIMARY KEY,
    trunk_group_sid TEXT NOT NULL REFERENCES trunk_groups(trunk_group_sid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    endpoint_sid TEXT REFERENCES endpoints(endpoint_sid) ON DELETE SET NULL,
    allow_transfer INTEGER NOT NULL DEFAULT 0,
    date_created TEXT NOT NULL
);
CREATE INDEX trunks_trunk_group ON trunks(trunk_group_sid);
CREATE INDEX trunks_endpoint ON trunks(endpoint_sid);

ALTER TABLE dids ADD COLUMN name TEXT NOT NULL DEFAULT 'N/A';
ALTER TABLE dids ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE dids ADD COLUMN capabilities INTEGER NOT NULL DEFAULT 4;
CREATE INDEX dids_partner ON dids(partner_sid);
