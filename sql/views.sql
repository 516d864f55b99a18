-- djstripe_pg: the catalog as a view, and syncing every type at once.

CREATE FUNCTION stripe._row_count(table_name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM stripe.%I', table_name) INTO n;
    RETURN n;
END
$$;

CREATE VIEW stripe.object_types AS
SELECT c.object_type, c.table_name, c.endpoint, c.parent, c.event_prefixes, c.deletion,
       stripe._row_count(c.table_name) AS row_count,
       r.finished_at AS last_synced, r.objects AS last_sync_objects
FROM stripe._catalog() c
LEFT JOIN stripe.sync_runs r ON r.object_type = c.object_type
ORDER BY c.ord;
COMMENT ON VIEW stripe.object_types IS
    'Every Stripe object type the mirror keeps: its table, list endpoint, rows and last sync.';

-- A sync's since: NULL (a full sync) or a finite time (stripe.sync says the same in Rust).
CREATE FUNCTION stripe._require_finite_since(since timestamptz) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT isfinite(since) THEN
        RAISE EXCEPTION 'since must be a finite time, not %', since USING ERRCODE = '22023',
            HINT = 'Pass NULL for a full sync, or a timestamp such as now() - interval ''1 day''.';
    END IF;
END
$$;

-- Syncs every listable type in dependency order (parents first). Each type runs in its own
-- subtransaction, so one failing type does not stop or undo the others.
CREATE FUNCTION stripe.sync_all(since timestamptz DEFAULT NULL)
RETURNS TABLE (object_type text, objects bigint, pages integer, seconds numeric, status text, error text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    started timestamptz;
BEGIN
    PERFORM stripe._require_finite_since(since);
    FOR t IN SELECT c.object_type, c.created_filter FROM stripe._catalog() c
             WHERE c.endpoint IS NOT NULL ORDER BY c.ord LOOP
        object_type := t.object_type;
        started := clock_timestamp();
        objects := NULL; pages := NULL; error := NULL;
        BEGIN
            objects := stripe.sync(t.object_type, CASE WHEN t.created_filter THEN since END);
            SELECT r.pages INTO pages FROM stripe.sync_runs r WHERE r.object_type = t.object_type;
            status := 'ok';
        EXCEPTION WHEN feature_not_supported THEN
            status := 'skipped'; error := SQLERRM;
        WHEN query_canceled THEN
            RAISE;  -- a cancel stops the whole run
        WHEN OTHERS THEN
            status := 'failed'; error := SQLERRM;
        END;
        seconds := round(extract(epoch FROM clock_timestamp() - started)::numeric, 3);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION stripe.sync_all(timestamptz) IS
    'Syncs every listable type, parents first; one row per type with its outcome.';

-- Stripe objects are a few KiB of JSON: TOAST compresses them, and lz4 costs a fraction of
-- pglz's CPU for a similar ratio. Used where this server was built with it.
DO $$
DECLARE t record;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
                WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        FOR t IN SELECT c.relname FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_attribute a ON a.attrelid = c.oid
                  WHERE n.nspname = 'stripe' AND c.relkind = 'r' AND a.attname = 'data'
        LOOP
            EXECUTE format('ALTER TABLE stripe.%I ALTER COLUMN data SET COMPRESSION lz4', t.relname);
        END LOOP;
    END IF;
END
$$;
