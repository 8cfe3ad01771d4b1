-- Dose orders for one session (titration: DOSE-IV-010, DOSE-IN-002, DOSE-PO-002): the
-- prescriber's dose for this session when it differs from the plan's. The latest order
-- of a session is in force. An order is for a dose not yet given: none once an
-- administration is recorded or the session is discharged. Append-only.
CREATE TABLE session_dose_orders (
    id          UUID        NOT NULL CONSTRAINT session_dose_orders_pkey PRIMARY KEY,
    session_id  UUID        NOT NULL CONSTRAINT session_dose_orders_session_id_fkey REFERENCES dosing_sessions (id),
    content     TEXT        NOT NULL,
    ordered_by  UUID        NOT NULL CONSTRAINT session_dose_orders_ordered_by_fkey REFERENCES users (id),
    ordered_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_dose_orders_session_id_idx ON session_dose_orders (session_id);

CREATE FUNCTION session_dose_orders_before_dosing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dose_administrations a WHERE a.session_id = NEW.session_id)
       OR EXISTS (SELECT 1 FROM dosing_sessions s WHERE s.id = NEW.session_id AND s.discharged_at IS NOT NULL) THEN
        RAISE EXCEPTION 'session_dose_orders_before_dosing: no dose order once dosing has started or the session is discharged';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER session_dose_orders_before_dosing BEFORE INSERT ON session_dose_orders
    FOR EACH ROW EXECUTE FUNCTION session_dose_orders_before_dosing();
CREATE TRIGGER session_dose_orders_append_only BEFORE UPDATE OR DELETE ON session_dose_orders
    FOR EACH ROW EXECUTE FUNCTION dosing_append_only();
