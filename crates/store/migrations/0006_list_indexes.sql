-- The FlexML API's DID list scopes to an account (through its trunk groups) and filters or
-- orders by number: one index serves both, so a prefix filter reads only its range.
CREATE INDEX dids_trunk_group_number ON dids(trunk_group_sid, phonenumber);
