-- Call detail records (Core API `/calls/call_drs`) and the outbox of notifications to apps
-- (status and recording callbacks, the SMS webhook). Portable SQL as in 0003/0004: dates are
-- TEXT in the API's format (which sorts by time), JSON is TEXT.

-- One row per ended call leg: inbound calls, calls placed with POST /calls, and each Dial leg
-- (linked to the call that dialed it by `parent_call_sid`). No foreign keys: a record is
-- history and outlives the account or partner it names.
CREATE TABLE call_drs (
    dr_sid TEXT PRIMARY KEY,
    call_sid TEXT NOT NULL,
    parent_call_sid TEXT,
    partner_sid TEXT NOT NULL,
    account_sid TEXT NOT NULL,
    direction TEXT NOT NULL,
    number_src TEXT NOT NULL,
    number_dst TEXT NOT NULL,
    original_from TEXT,
    original_to TEXT,
    date_start TEXT NOT NULL,
    date_talk TEXT,
    date_stop TEXT NOT NULL,
    duration INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    sip_status INTEGER,
    hangup_by TEXT,
    date_insert TEXT NOT NULL,
    timeline TEXT NOT NULL DEFAULT '[]'
);
-- The list's order (date_stop, then dr_sid) within a partner, for after/before paging.
CREATE INDEX call_drs_partner_stop ON call_drs(partner_sid, date_stop, dr_sid);
CREATE INDEX call_drs_call ON call_drs(call_sid);

-- A notification is stored before its first attempt and retried until delivered or given up.
-- `next_attempt` is also the claim: a server that takes a row moves it to the end of a lease
-- with one UPDATE guarded by the value it read, so only one server sends each attempt, and a
-- row whose server died is retried when the lease ends.
CREATE TABLE callbacks (
    callback_sid TEXT PRIMARY KEY,
    call_sid TEXT,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt TEXT NOT NULL,
    date_created TEXT NOT NULL,
    date_done TEXT
);
CREATE INDEX callbacks_due ON callbacks(state, next_attempt);
CREATE INDEX callbacks_call ON callbacks(call_sid);
