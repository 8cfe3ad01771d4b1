-- Credentials (issue 12 item 4): an admin's password reset gives the account a
-- temporary password that must be changed at the next sign-in; until it is, the
-- account reaches only the change-password page (and sign-out).
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CONSTRAINT users_must_change_password_check CHECK (must_change_password IN (0, 1));
