"""The event log on PostgreSQL, server-side: triggers that keep it append-only whoever connects
(ENABLE ALWAYS, so even a replica role or `session_replication_role` cannot bypass them), and the
functions a claim calls so that it holds the writer lock for server work only (db.pg.claim).
Part of the baseline schema (db/pg/baseline.py), applied after the tables."""

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

    -- A claim's event, appended by the server (db.pg.claim): the chain's head read, the hash and the
    -- insert in one call, so a claim holds the writer lock for server work only, never for a round
    -- trip to its client. The hash is db.event_chain.chain_hash: the caller gives the fixed parts of
    -- its input (encode_fixed: `at` as Python's repr), this adds id, item, ref and the previous hash.
    CREATE FUNCTION orderq_append_event(p_at DOUBLE PRECISION, p_actor TEXT, p_entity TEXT, p_entity_id BIGINT,
            p_ref TEXT, p_action TEXT, p_data TEXT, p_fixed_head TEXT, p_fixed_tail TEXT, p_notify BIGINT,
            OUT event_id BIGINT, OUT event_hash TEXT) LANGUAGE plpgsql AS $$
    DECLARE
        last_id BIGINT;
        prev TEXT;
    BEGIN
        SELECT id, hash INTO last_id, prev FROM events ORDER BY id DESC LIMIT 1;
        event_id := COALESCE(last_id, 0) + 1;
        prev := COALESCE(prev, repeat('0', 64));
        event_hash := encode(sha256(convert_to(event_id::text || p_fixed_head || COALESCE(p_entity_id::text, '~') || '|'
            || CASE WHEN p_ref IS NULL THEN '~' ELSE length(p_ref)::text || ':' || p_ref END
            || p_fixed_tail || prev, 'UTF8')), 'hex');
        INSERT INTO events (id, at, actor, entity, entity_id, ref, action, data, prev_hash, hash)
            VALUES (event_id, p_at, p_actor, p_entity, p_entity_id, p_ref, p_action, p_data, prev, event_hash);
        IF p_notify <> 0 THEN  -- the whole claim sent at once: its one NOTIFY (db.pg.link says why one)
            PERFORM pg_notify('orderq_events', event_id::text);
        END IF;
    END $$;
    -- the actor's check of db.service.context.Context.write, server-side: SQLSTATE OQ403 if not active
    CREATE FUNCTION orderq_require_active(p_user TEXT) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM users WHERE name = p_user AND active <> 0) THEN
            RAISE EXCEPTION 'user % is not active', p_user USING ERRCODE = 'OQ403';
        END IF;
    END $$;
"""
