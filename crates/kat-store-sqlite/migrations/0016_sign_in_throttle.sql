-- Sign-in throttling and lockout (issue 12 item 3; kat_core::sign_in): failed sign-ins
-- counted per account (`account:<user id>`) and per client address (`address:<ip>`),
-- with the time of the last one and a lock's end. A success clears the account's row
-- and the address's; an admin's unlock clears the account's.
CREATE TABLE sign_in_failures (
    key          TEXT    NOT NULL CONSTRAINT sign_in_failures_pkey PRIMARY KEY,
    failures     INTEGER NOT NULL CONSTRAINT sign_in_failures_failures_check CHECK (failures > 0),
    last_at      INTEGER NOT NULL,
    locked_until INTEGER
);
