-- The controlled-substance ledger (issue 13; kat_core::ledger): the clinic's DEA
-- registration, storage locations, products, containers with their current balance,
-- the append-only, hash-chained entries with the balance each records for the
-- containers it names, the chain's head, discrepancy cases and losses. Constraint names
-- match the SQLite schema.
--
-- The entries are the record: UPDATE, DELETE and TRUNCATE of an entry or of a recorded
-- balance are refused by triggers, and no balance, stored or recorded, can be negative
-- (issue 13 item 8). Container, case and loss rows are the current state computed from
-- the entries, kept for reads; `kat ledger verify` recomputes them from the entries.

CREATE TABLE ledger_registrant (
    id         INTEGER     NOT NULL CONSTRAINT ledger_registrant_pkey PRIMARY KEY
                                    CONSTRAINT ledger_registrant_one_row CHECK (id = 1),
    dea        TEXT        NOT NULL,
    content    TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE ledger_locations (
    id         UUID        NOT NULL CONSTRAINT ledger_locations_pkey PRIMARY KEY,
    name       TEXT        NOT NULL CONSTRAINT ledger_locations_name_key UNIQUE,
    content    TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE ledger_products (
    ndc     TEXT NOT NULL CONSTRAINT ledger_products_pkey PRIMARY KEY,
    name    TEXT NOT NULL,
    content TEXT NOT NULL
);

-- `seq` is the entry's place in the chain, the head's plus one: two appends can never
-- share a place, nor two entries follow the same one (`prev_hash` unique).
CREATE TABLE ledger_entries (
    seq       BIGINT      NOT NULL CONSTRAINT ledger_entries_pkey PRIMARY KEY
                                   CONSTRAINT ledger_entries_seq_check CHECK (seq > 0),
    id        UUID        NOT NULL CONSTRAINT ledger_entries_id_key UNIQUE,
    at        TIMESTAMPTZ NOT NULL,
    kind      TEXT        NOT NULL,
    by_user   UUID        NOT NULL CONSTRAINT ledger_entries_by_user_fkey REFERENCES users (id),
    content   TEXT        NOT NULL,
    prev_hash TEXT        NOT NULL CONSTRAINT ledger_entries_prev_hash_key UNIQUE,
    hash      TEXT        NOT NULL
);
CREATE INDEX ledger_entries_at_idx ON ledger_entries (at, seq);
CREATE INDEX ledger_entries_kind_at_idx ON ledger_entries (kind, at, seq);
CREATE INDEX ledger_entries_by_user_idx ON ledger_entries (by_user);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- A container's on-hand quantity is in millionths of its unit (mL or devices).
CREATE TABLE ledger_containers (
    id          UUID    NOT NULL CONSTRAINT ledger_containers_pkey PRIMARY KEY,
    receipt_id  UUID    NOT NULL CONSTRAINT ledger_containers_receipt_id_fkey REFERENCES ledger_entries (id),
    ndc         TEXT    NOT NULL,
    lot         TEXT    NOT NULL,
    expiry      DATE    NOT NULL,
    location_id UUID    NOT NULL CONSTRAINT ledger_containers_location_id_fkey REFERENCES ledger_locations (id),
    status      TEXT    NOT NULL CONSTRAINT ledger_containers_status_check
                CHECK (status IN ('in_stock', 'open', 'quarantined', 'in_transit', 'empty', 'disposed',
                                  'transferred_away')),
    ended       BOOLEAN NOT NULL,
    on_hand     BIGINT  NOT NULL CONSTRAINT ledger_containers_on_hand_check CHECK (on_hand >= 0),
    content     TEXT    NOT NULL,
    last_seq    BIGINT  NOT NULL CONSTRAINT ledger_containers_last_seq_fkey REFERENCES ledger_entries (seq)
);
CREATE INDEX ledger_containers_receipt_id_idx ON ledger_containers (receipt_id);
CREATE INDEX ledger_containers_location_id_idx ON ledger_containers (location_id, id);
CREATE INDEX ledger_containers_ndc_idx ON ledger_containers (ndc, id);
CREATE INDEX ledger_containers_last_seq_idx ON ledger_containers (last_seq);

CREATE TABLE ledger_balances (
    container_id UUID   NOT NULL CONSTRAINT ledger_balances_container_id_fkey REFERENCES ledger_containers (id),
    seq          BIGINT NOT NULL CONSTRAINT ledger_balances_seq_fkey REFERENCES ledger_entries (seq),
    on_hand      BIGINT NOT NULL CONSTRAINT ledger_balances_on_hand_check CHECK (on_hand >= 0),
    CONSTRAINT ledger_balances_pkey PRIMARY KEY (container_id, seq)
);
CREATE INDEX ledger_balances_seq_idx ON ledger_balances (seq);

CREATE TRIGGER ledger_balances_no_update BEFORE UPDATE ON ledger_balances
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_balances_no_delete BEFORE DELETE ON ledger_balances
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_balances_no_truncate BEFORE TRUNCATE ON ledger_balances
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- The newest entry, read FOR UPDATE by every append, so concurrent appends chain one
-- after another and an append costs the same whatever the ledger's length.
CREATE TABLE ledger_chain_head (
    id   INTEGER NOT NULL CONSTRAINT ledger_chain_head_pkey PRIMARY KEY
                          CONSTRAINT ledger_chain_head_one_row CHECK (id = 1),
    seq  BIGINT,
    hash TEXT,
    CONSTRAINT ledger_chain_head_both CHECK ((seq IS NULL) = (hash IS NULL))
);
INSERT INTO ledger_chain_head (id, seq, hash) VALUES (1, NULL, NULL);

CREATE TABLE ledger_cases (
    count_id     UUID        NOT NULL CONSTRAINT ledger_cases_count_id_fkey REFERENCES ledger_entries (id),
    container_id UUID        NOT NULL CONSTRAINT ledger_cases_container_id_fkey REFERENCES ledger_containers (id),
    opened_at    TIMESTAMPTZ NOT NULL,
    resolved_at  TIMESTAMPTZ,
    content      TEXT        NOT NULL,
    CONSTRAINT ledger_cases_pkey PRIMARY KEY (count_id, container_id)
);
CREATE INDEX ledger_cases_container_id_idx ON ledger_cases (container_id);
CREATE INDEX ledger_cases_open_idx ON ledger_cases (opened_at) WHERE resolved_at IS NULL;

CREATE TABLE ledger_losses (
    entry_id      UUID        NOT NULL CONSTRAINT ledger_losses_pkey PRIMARY KEY
                                       CONSTRAINT ledger_losses_entry_id_fkey REFERENCES ledger_entries (id),
    discovered_at TIMESTAMPTZ NOT NULL,
    reportable    BOOLEAN     NOT NULL,
    dea_notified  TIMESTAMPTZ,
    form106_filed TIMESTAMPTZ
);
CREATE INDEX ledger_losses_open_idx ON ledger_losses (discovered_at) WHERE form106_filed IS NULL;
