"""The event log on PostgreSQL, server-side: triggers that keep it append-only whoever connects
(ENABLE ALWAYS, so even a replica role or `session_replication_role` cannot bypass them).
Part of the baseline schema (db/pg/baseline.py), applied after the tables. A claim's event is
appended server-side too, by the claim statement itself (db.pg.dialect `claim_with_event`); the
plpgsql functions it called before (orderq_append_event, orderq_require_active) are no longer
created, and a database made before keeps them unused."""

AUDIT_LOG = """
    CREATE FUNCTION orderq_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the event log is append-only: % refused', TG_OP;
    END $$;
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        FOR EACH ROW EXECUTE FUNCTION orderq_events_append_only();
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION orderq_events_append_only();
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION orderq_events_append_only();
    ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update;
    ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_delete;
    ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_truncate;

"""
