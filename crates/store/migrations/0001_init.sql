-- Identities and routing of the CarrierX model: partner → endpoint (→ FlexML account);
-- DID → trunk group → endpoint.
CREATE TABLE partners (
    partner_sid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    date_created TEXT NOT NULL
);

CREATE TABLE tokens (
    token TEXT PRIMARY KEY,
    partner_sid TEXT NOT NULL REFERENCES partners(partner_sid) ON DELETE CASCADE,
    date_created TEXT NOT NULL
);

CREATE TABLE endpoints (
    endpoint_sid TEXT PRIMARY KEY,
    partner_sid TEXT NOT NULL REFERENCES partners(partner_sid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    date_created TEXT NOT NULL
);

CREATE TABLE accounts (
    account_sid TEXT PRIMARY KEY,
    endpoint_sid TEXT NOT NULL UNIQUE REFERENCES endpoints(endpoint_sid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    login TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL,
    url TEXT,
    method TEXT NOT NULL DEFAULT 'POST',
    error_handler TEXT NOT NULL DEFAULT 'basic',
    date_created TEXT NOT NULL
);

CREATE TABLE trunk_groups (
    trunk_group_sid TEXT PRIMARY KEY,
    partner_sid TEXT NOT NULL REFERENCES partners(partner_sid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    endpoint_sid TEXT REFERENCES endpoints(endpoint_sid) ON DELETE SET NULL,
    date_created TEXT NOT NULL
);

CREATE TABLE dids (
    did_sid TEXT PRIMARY KEY,
    partner_sid TEXT NOT NULL REFERENCES partners(partner_sid) ON DELETE CASCADE,
    phonenumber TEXT NOT NULL UNIQUE,
    trunk_group_sid TEXT REFERENCES trunk_groups(trunk_group_sid) ON DELETE SET NULL,
    country_code TEXT NOT NULL,
    url TEXT,
    method TEXT NOT NULL DEFAULT 'POST',
    status_callback_url TEXT,
    status_callback_method TEXT NOT NULL DEFAULT 'POST',
    date_created TEXT NOT NULL
);
CREATE INDEX dids_trunk_group ON dids(trunk_group_sid);

-- Objects the server made for itself on first start (the demo), by role.
CREATE TABLE provisioned (
    role TEXT PRIMARY KEY,
    sid TEXT NOT NULL
);
