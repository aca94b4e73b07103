-- Outbound calls of the FlexML API (issue 3): a call is created `scheduled` with the instant it
-- fires (`due_at`, the API's date format, which sorts by time as text); the scheduler claims it
-- (`dialing`, one UPDATE guarded by the state, so it fires once even with two schedulers) and
-- the dialer records the end (`done`). DELETE /calls/{sid} marks it `cancelled`.
-- `attributes` is a JSON object stored as TEXT, as in 0002.
CREATE TABLE calls (
    call_sid TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts(account_sid) ON DELETE CASCADE,
    calling_did TEXT NOT NULL,
    called_did TEXT NOT NULL,
    url TEXT,
    method TEXT NOT NULL DEFAULT 'POST',
    status_callback_url TEXT,
    status_callback_method TEXT NOT NULL DEFAULT 'POST',
    delay INTEGER NOT NULL DEFAULT 0,
    attributes TEXT NOT NULL DEFAULT '{}',
    date_created TEXT NOT NULL,
    due_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'scheduled'
        CHECK (state IN ('scheduled', 'dialing', 'done', 'cancelled'))
);
CREATE INDEX calls_account ON calls(account_sid, state);
CREATE INDEX calls_due ON calls(state, due_at);
