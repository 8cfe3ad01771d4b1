-- Dose orders for one session (titration: DOSE-IV-010, DOSE-IN-002, DOSE-PO-002): the
-- prescriber's dose for this session when it differs from the plan's. The latest order
-- of a session is in force. An order is for a dose not yet given: none once an
-- administration is recorded or the session is discharged. Append-only.
CREATE TABLE session_dose_orders (
    id          BLOB    NOT NULL CONSTRAINT session_dose_orders_pkey PRIMARY KEY,
    session_id  BLOB    NOT NULL CONSTRAINT session_dose_orders_session_id_fkey REFERENCES dosing_sessions (id),
    content     TEXT    NOT NULL,
    ordered_by  BLOB    NOT NULL CONSTRAINT session_dose_orders_ordered_by_fkey REFERENCES users (id),
    ordered_at  INTEGER NOT NULL
);
CREATE INDEX session_dose_orders_session_id_idx ON session_dose_orders (session_id);

CREATE TRIGGER session_dose_orders_before_dosing BEFORE INSERT ON session_dose_orders
WHEN EXISTS (SELECT 1 FROM dose_administrations a WHERE a.session_id = NEW.session_id)
  OR EXISTS (SELECT 1 FROM dosing_sessions s WHERE s.id = NEW.session_id AND s.discharged_at IS NOT NULL)
BEGIN
    SELECT RAISE(ABORT, 'session_dose_orders_before_dosing: no dose order once dosing has started or the session is discharged');
END;
CREATE TRIGGER session_dose_orders_no_change BEFORE UPDATE ON session_dose_orders
BEGIN
    SELECT RAISE(ABORT, 'session_dose_orders is append-only');
END;
CREATE TRIGGER session_dose_orders_no_delete BEFORE DELETE ON session_dose_orders
BEGIN
    SELECT RAISE(ABORT, 'session_dose_orders is append-only');
END;
