-- The audit log's hash chain (issue 12 item 5; kat_core::audit_chain): each new entry
-- stores the hash of the entry before it and its own hash over its content and the
-- patients a list view showed. Entries written before this migration keep NULLs; the
-- first append folds them into the chain, so a later change to one of them is found
-- too. The chain's head (the newest chained entry) is one row, read FOR UPDATE by every
-- append, so concurrent appends chain one after another.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

CREATE TABLE audit_chain_head (
    id   INTEGER NOT NULL CONSTRAINT audit_chain_head_pkey PRIMARY KEY
                          CONSTRAINT audit_chain_head_one_row CHECK (id = 1),
    seq  BIGINT,
    hash TEXT
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, NULL, NULL);
