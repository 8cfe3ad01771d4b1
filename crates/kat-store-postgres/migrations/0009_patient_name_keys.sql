-- Patient search on an index: each name is stored beside its search key (lower case,
-- folded in Rust by kat_core::patient::name_search_key on every insert and update, so
-- both databases hold the same bytes) and a name word is searched as a prefix, a range
-- on these indexes. COLLATE "C" compares bytes, as SQLite's BINARY does, so the range is
-- exactly the prefix and both databases list in the same order. Rows registered before
-- this migration get their keys from kat as it opens the database: SQL's lower() folds
-- differently in each database (SQLite's knows only ASCII), so it cannot fill them here.
ALTER TABLE patients ADD COLUMN given_name_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN family_name_key TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX patients_given_name_key_idx ON patients (given_name_key);
-- Also the registry's order (family, given, MRN) when no name word narrows it.
CREATE INDEX patients_name_key_idx ON patients (family_name_key, given_name_key, mrn);
-- No query compares the raw family name any more.
DROP INDEX patients_family_name_idx;
