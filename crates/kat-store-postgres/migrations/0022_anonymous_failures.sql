-- Anonymous failures counted per source and window (issue 12 item 3): a refused request
-- or sign-in that names no account and no patient is audited once per client address
-- and window (the first one); the others of that window only add to `failures` here, so
-- anonymous traffic cannot flood the audit log. Anything about a patient or an account
-- is still audited one entry per event.
CREATE TABLE anonymous_failures (
    source       TEXT        NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    failures     BIGINT      NOT NULL CONSTRAINT anonymous_failures_failures_check CHECK (failures >= 1),
    first_at     TIMESTAMPTZ NOT NULL,
    last_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT anonymous_failures_pkey PRIMARY KEY (source, window_start)
);
CREATE INDEX anonymous_failures_window_start_idx ON anonymous_failures (window_start);
