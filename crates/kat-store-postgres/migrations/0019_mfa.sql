-- Two-step sign-in (issue 12 item 2; kat_core::mfa): an account's TOTP secret (base32;
-- it must be readable to check codes, so it is kept out of logs and Debug output, not
-- hashed), when enrolment began and when it was confirmed with a first code (NULL while
-- pending), and the last step whose code was accepted (each code is accepted once).
CREATE TABLE mfa_totp (
    user_id        UUID        NOT NULL CONSTRAINT mfa_totp_pkey PRIMARY KEY
                               CONSTRAINT mfa_totp_user_id_fkey REFERENCES users (id),
    secret         TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    enrolled_at    TIMESTAMPTZ,
    last_used_step BIGINT
);
-- Single-use recovery codes: only the SHA-256 of each is kept, with when it was used.
CREATE TABLE mfa_recovery_codes (
    user_id   UUID        NOT NULL CONSTRAINT mfa_recovery_codes_user_id_fkey REFERENCES users (id),
    code_hash TEXT        NOT NULL,
    used_at   TIMESTAMPTZ,
    CONSTRAINT mfa_recovery_codes_pkey PRIMARY KEY (user_id, code_hash)
);
-- The half of a sign-in between the password and the code: only the SHA-256 of the
-- challenge's secret (a cookie of its own, never a session) is kept. It grants nothing
-- and lives a few minutes.
CREATE TABLE sign_in_challenges (
    id_hash    TEXT NOT NULL CONSTRAINT sign_in_challenges_pkey PRIMARY KEY,
    user_id    UUID NOT NULL CONSTRAINT sign_in_challenges_user_id_fkey REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_challenges_user_id_idx ON sign_in_challenges (user_id);
