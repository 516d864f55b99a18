-- djstripe_pg 0.1.0 → 0.2.0. Run by ALTER EXTENSION djstripe_pg UPDATE; released scripts are
-- never edited (releases/SHA256SUMS), so a fix to this one after 0.2.0 ships goes into the next.

-- The secrets move to schema stripe_secrets, on which nobody but the owner has USAGE, so that no
-- grant on schema stripe reaches them. Moving a table keeps its rows, its privileges and its
-- place among the tables pg_dump dumps (pg_extension.extconfig holds its oid).
CREATE SCHEMA stripe_secrets;
REVOKE ALL ON SCHEMA stripe_secrets FROM PUBLIC;
COMMENT ON SCHEMA stripe_secrets IS
    'djstripe_pg''s secrets (the Stripe key, webhook signing secrets): the extension owner''s alone; '
    'set through stripe.set_api_key and stripe.add_webhook_secret, never readable back.';

-- (Renamed twice: the first name's array type would clash with the old row type's and end up
-- _api_key_1; through a name of its own it gets the _api_key a fresh install has.)
ALTER TABLE stripe._api_key SET SCHEMA stripe_secrets;
ALTER TABLE stripe_secrets._api_key RENAME TO api_key_moving;
ALTER TABLE stripe_secrets.api_key_moving RENAME TO api_key;
COMMENT ON TABLE stripe_secrets.api_key IS
    'The Stripe secret key (stripe.set_api_key). Readable only by the extension owner.';
COMMENT ON COLUMN stripe_secrets.api_key.singleton IS 'Always true: there is one key.';
COMMENT ON COLUMN stripe_secrets.api_key.api_key IS 'The secret or restricted key (sk_…, rk_…).';
COMMENT ON COLUMN stripe_secrets.api_key.set_at IS 'When it was set.';

ALTER TABLE stripe._webhook_secrets SET SCHEMA stripe_secrets;
ALTER TABLE stripe_secrets._webhook_secrets RENAME TO webhook_secrets_moving;
ALTER TABLE stripe_secrets.webhook_secrets_moving RENAME TO webhook_secrets;

-- Constraints keep the names the old table gave them (the primary key's index with its own; on
-- PostgreSQL 18 the NOT NULL constraints too): give them the names a fresh install gives.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT co.conrelid::regclass AS rel, co.conname,
                    regexp_replace(co.conname, '^_', '') AS newname
               FROM pg_constraint co
              WHERE co.conrelid IN ('stripe_secrets.api_key'::regclass, 'stripe_secrets.webhook_secrets'::regclass)
                AND co.conname ~ '^_(api_key|webhook_secrets)_' LOOP
        EXECUTE format('ALTER TABLE %s RENAME CONSTRAINT %I TO %I', c.rel, c.conname, c.newname);
    END LOOP;
END
$$;
-- The schema belongs to the extension's owner, as in a fresh install (not to whoever runs the
-- update), and what 0.1.0 let anyone hold on the two tables does not come along.
DO $$
BEGIN
    EXECUTE format('ALTER SCHEMA stripe_secrets OWNER TO %s',
                   (SELECT e.extowner::regrole FROM pg_extension e WHERE e.extname = 'djstripe_pg'));
END
$$;
-- Nobody but the owner may reach them: not PUBLIC, and no role that default privileges (ALTER
-- DEFAULT PRIVILEGES … GRANT … ON SCHEMAS / TABLES) or a grant made before 0.2.0 moved the
-- tables here (GRANT … ON ALL TABLES IN SCHEMA stripe) gave something.
CREATE FUNCTION stripe._seal_secrets() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g regrole;
BEGIN
    FOR g IN SELECT a.grantee::regrole FROM pg_class c, aclexplode(c.relacl) a
              WHERE c.relnamespace = 'stripe_secrets'::regnamespace AND a.grantee <> c.relowner
             UNION
             SELECT a.grantee::regrole FROM pg_namespace n, aclexplode(n.nspacl) a
              WHERE n.nspname = 'stripe_secrets' AND a.grantee <> n.nspowner LOOP
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA stripe_secrets FROM %s',
                       CASE WHEN g = 0 THEN 'PUBLIC' ELSE g::text END);
        EXECUTE format('REVOKE ALL ON SCHEMA stripe_secrets FROM %s', CASE WHEN g = 0 THEN 'PUBLIC' ELSE g::text END);
    END LOOP;
END
$$;
COMMENT ON FUNCTION stripe._seal_secrets() IS
    'Revokes whatever anyone but the owner holds on schema stripe_secrets and its tables.';
REVOKE EXECUTE ON FUNCTION stripe._seal_secrets() FROM PUBLIC;
SELECT stripe._seal_secrets();

COMMENT ON TABLE stripe_secrets.webhook_secrets IS
    'Webhook signing secrets (stripe.add_webhook_secret); a signature valid for any one passes.';
COMMENT ON COLUMN stripe_secrets.webhook_secrets.secret IS 'An endpoint''s signing secret (whsec_…).';
COMMENT ON COLUMN stripe_secrets.webhook_secrets.added_at IS 'When it was added.';

-- The functions that read them, as 0.2.0 defines them (privileges stay as they were).
CREATE OR REPLACE FUNCTION stripe.config() RETURNS TABLE (setting text, value text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The stripe.* settings exist once the library is loaded; calling into it loads it.
    PERFORM stripe.version();
    RETURN QUERY
    SELECT 'api_key'::text, CASE WHEN k.api_key IS NULL THEN 'not set'
                           ELSE left(k.api_key, strpos(k.api_key, '_') + 4) || '… (set ' || k.set_at::text || ')' END
      FROM (SELECT NULL) AS one LEFT JOIN stripe_secrets.api_key k ON true
    UNION ALL
    SELECT 'webhook_secrets', count(*)::text || ' configured' FROM stripe_secrets.webhook_secrets
    UNION ALL
    SELECT s.name::text, s.setting FROM pg_settings s WHERE s.name LIKE 'stripe.%';
END
$$;

CREATE OR REPLACE FUNCTION stripe._work_sync(jobs_first boolean) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    PERFORM stripe.version();  -- loads the library, so the stripe.* settings exist
    FOR pass IN 1..2 LOOP
        IF (pass = 1) = jobs_first THEN
            -- An advisory lock, not a row lock, marks the job taken: a row lock would be
            -- retaken at once by the next step, and stripe.cancel_sync (an UPDATE of that row)
            -- could starve.
            FOR job IN SELECT j.id FROM stripe.sync_jobs j
                        WHERE j.state IN ('queued', 'running')
                          AND coalesce(j.next_attempt_at, '-infinity') <= clock_timestamp()
                        ORDER BY j.id
            LOOP
                IF stripe._job_lock(job, false) THEN
                    PERFORM stripe._run_job(job);
                    RETURN 0;
                END IF;
            END LOOP;
        ELSIF EXISTS (SELECT 1 FROM stripe_secrets.api_key)
              AND EXISTS (SELECT 1 FROM stripe.refetch_queue
                           WHERE coalesce(next_attempt_at, '-infinity') <= clock_timestamp()) THEN
            BEGIN
                PERFORM stripe._refetch_queued(20);
            EXCEPTION WHEN deadlock_detected OR lock_not_available OR serialization_failure THEN
                -- Gave way to another session over the queue itself: the entries stay, due.
                NULL;
            END;
            RETURN 0;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION stripe.process_pending(max_events integer DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint := 0;
    took bigint;
    ev text;
    batch integer;
BEGIN
    IF max_events < 0 THEN
        RAISE EXCEPTION 'stripe.process_pending: max_events must be NULL (all) or at least 0, not %', max_events
            USING ERRCODE = '22023';
    END IF;
    PERFORM stripe.version();  -- loads the library, so the stripe.* settings exist
    batch := current_setting('stripe.event_batch_size')::integer;
    -- Pending events in chunks, as the worker takes them; an event the worker holds meanwhile
    -- is skipped here and applied there.
    LOOP
        took := stripe._drain_events(least(batch, coalesce(max_events - n, batch))::integer);
        EXIT WHEN took = 0;
        n := n + took;
    END LOOP;
    -- Then failed events whose retry is due, read once, in order: re-querying the queue after
    -- each event would walk past every row this transaction already processed.
    FOR ev IN SELECT id FROM stripe.events
               WHERE status = 'failed' AND next_attempt_at <= clock_timestamp()
               ORDER BY created, id
               LIMIT CASE WHEN max_events IS NOT NULL THEN greatest(max_events - n, 0) END
    LOOP
        PERFORM stripe._process_event(ev);
        n := n + 1;
    END LOOP;
    -- Then the objects whose newest version is in doubt: retrieved, if there is a key to ask with.
    IF EXISTS (SELECT 1 FROM stripe_secrets.api_key) THEN
        LOOP
            EXIT WHEN stripe._refetch_queued(100) = 0;
        END LOOP;
    END IF;
    RETURN n;
END
$$;

-- access_report shows what a role can reach of stripe_secrets too (anything is a leak) and more
-- kinds of access; grant_webhook_access warns about it; revoke_access takes it back.
CREATE OR REPLACE FUNCTION stripe.access_report(grantee regrole)
RETURNS TABLE (object text, kind text, privileges text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM (
        SELECT n.nspname::text AS object, 'schema' AS kind,
               (SELECT string_agg(p, ', ' ORDER BY p DESC) FROM unnest(ARRAY['USAGE', 'CREATE']) AS u(p)
                 WHERE has_schema_privilege(grantee, n.oid, p)) AS privileges
          FROM pg_namespace n
         WHERE n.nspname IN ('stripe', 'stripe_secrets')
        UNION ALL
        SELECT c.oid::regclass::text,
               CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                              WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
               (SELECT string_agg(p, ', ' ORDER BY ord)
                  FROM unnest(CASE WHEN c.relkind = 'S' THEN ARRAY['USAGE', 'SELECT', 'UPDATE']
                                   ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                              'REFERENCES', 'TRIGGER']
                                        || CASE WHEN current_setting('server_version_num')::int >= 170000
                                                THEN ARRAY['MAINTAIN'] ELSE '{}' END END)
                       WITH ORDINALITY AS u(p, ord)
                 WHERE CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(grantee, c.oid, p)
                            -- a grant on some columns is access too
                            WHEN p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                                 THEN has_any_column_privilege(grantee, c.oid, p)
                            ELSE has_table_privilege(grantee, c.oid, p) END) AS privileges
          FROM pg_class c
         WHERE c.relnamespace IN ('stripe'::regnamespace, 'stripe_secrets'::regnamespace)
           AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        UNION ALL
        SELECT p.oid::regprocedure::text, 'function', 'EXECUTE'
          FROM pg_proc p
         WHERE p.pronamespace IN ('stripe'::regnamespace, 'stripe_secrets'::regnamespace)
           AND has_function_privilege(grantee, p.oid, 'EXECUTE')
           -- PUBLIC may call these, but they refuse whoever may not manage secrets
           AND (p.oid <> ALL (stripe._self_checking())
                OR has_function_privilege(grantee, 'stripe._manage_secrets()', 'EXECUTE'))
    ) o
     WHERE o.privileges IS NOT NULL
    ORDER BY 2, 1
$$;
COMMENT ON FUNCTION stripe.access_report(regrole) IS
    'What a role can use in schemas stripe and stripe_secrets (directly, by membership or through '
    'PUBLIC; USAGE and CREATE on the schemas, table and column privileges, EXECUTE): a '
    'webhook-only role shows schema stripe and stripe.webhook(json), nothing else; anything of '
    'stripe_secrets for a role other than the owner is a leak.';

CREATE OR REPLACE FUNCTION stripe.grant_webhook_access(grantee regrole) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    more text[];
BEGIN
    PERFORM stripe._check_grantee(grantee);
    EXECUTE format('GRANT USAGE ON SCHEMA stripe TO %s', grantee);
    EXECUTE format('GRANT EXECUTE ON FUNCTION stripe.webhook(json) TO %s', grantee);
    -- PostgreSQL lets PUBLIC execute every new function; the extension takes that back at
    -- install, and again here for functions added since (an upgrade), because USAGE on the
    -- schema would otherwise make them callable by this role.
    REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA stripe FROM PUBLIC;
    PERFORM stripe._grant_self_checking();
    SELECT array_agg(r.object || ' (' || r.privileges || ')') INTO more
      FROM stripe.access_report(grantee) r
     WHERE r.object NOT IN ('stripe', 'stripe.webhook(json)');
    IF more IS NOT NULL THEN
        RAISE WARNING 'djstripe_pg: % can do more than receive webhooks: %', grantee,
            array_to_string(more[1:8], ', ')
            || CASE WHEN cardinality(more) > 8 THEN format(' and %s more', cardinality(more) - 8) ELSE '' END
            USING HINT = format('If it should only receive webhooks: SELECT stripe.revoke_access(%L); '
                                'SELECT stripe.grant_webhook_access(%L);', grantee, grantee);
    END IF;
END
$$;

COMMENT ON FUNCTION stripe.grant_reader_access(regrole) IS
    'Lets a role read the mirror: every table and view of schema stripe but the internal ones '
    '(named _…); never the secrets (schema stripe_secrets). Run it again after ALTER EXTENSION … '
    'UPDATE adds tables.';

CREATE OR REPLACE FUNCTION stripe.revoke_access(grantee regrole) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stripe._check_grantee(grantee);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA stripe FROM %s', grantee);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA stripe FROM %s', grantee);
    EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA stripe FROM %s', grantee);
    EXECUTE format('REVOKE ALL ON SCHEMA stripe FROM %s', grantee);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA stripe_secrets FROM %s', grantee);
    EXECUTE format('REVOKE ALL ON SCHEMA stripe_secrets FROM %s', grantee);
END
$$;
COMMENT ON FUNCTION stripe.revoke_access(regrole) IS
    'Takes back everything granted to a role in schemas stripe and stripe_secrets (not what it '
    'has through other roles).';

-- 0.2.0 documents every column (sql/comments.sql, the same statements):


COMMENT ON SCHEMA stripe IS
    'djstripe_pg''s mirror of Stripe: a table per object type (the object as jsonb in data, typed '
    'columns derived from it), the events, sync runs and jobs; functions to sync, ingest webhooks '
    'and catch up. Secrets are in schema stripe_secrets.';

DO $$
DECLARE
    c record;
    what text;
BEGIN
    FOR c IN SELECT a.attrelid::regclass AS rel, a.attname, a.attnum
               FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
              WHERE r.relnamespace = 'stripe'::regnamespace AND r.relkind IN ('r', 'p')
                AND a.attnum > 0 AND NOT a.attisdropped
                -- the tables of Stripe objects (and events): those that keep stripe_as_of
                AND EXISTS (SELECT 1 FROM pg_attribute s WHERE s.attrelid = r.oid AND s.attname = 'stripe_as_of')
                AND a.attname IN ('id', 'data', 'synced_at', 'synced_from', 'stripe_as_of', 'account_id')
                AND col_description(a.attrelid, a.attnum) IS NULL LOOP
        what := CASE c.attname
            WHEN 'id' THEN 'Stripe''s id of the object (the primary key).'
            WHEN 'data' THEN 'The whole Stripe object as the API or the event delivered it.'
            WHEN 'synced_at' THEN 'When djstripe_pg last wrote the row (wall clock).'
            WHEN 'synced_from' THEN 'What wrote it: sync (a list page), retrieve, the id of the event '
                                    'applied, or retrieve:deleted / retrieve:resource_missing.'
            WHEN 'stripe_as_of' THEN 'The Stripe time the data reflects: the event''s created second or '
                                     'the moment the fetch started; older data never overwrites it.'
            WHEN 'account_id' THEN 'The connected account the object belongs to (Connect webhooks); '
                                   'NULL for the platform''s own.'
        END;
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', c.rel, c.attname, what);
    END LOOP;
END
$$;

COMMENT ON COLUMN stripe.events.status IS
    'recorded, pending (queued for the worker), applied, stale (older than the row), ignored '
    '(a type the mirror does not keep) or failed (see last_error; retried with backoff).';
COMMENT ON COLUMN stripe.events.attempts IS 'How many times applying it failed.';
COMMENT ON COLUMN stripe.events.last_error IS 'Why the last attempt failed.';
COMMENT ON COLUMN stripe.events.next_attempt_at IS 'When a failed event is tried again (NULL: not due).';
COMMENT ON COLUMN stripe.events.received_at IS 'When it was ingested (webhook or catch-up).';
COMMENT ON COLUMN stripe.events.processed_at IS 'When it was applied (or found stale or ignored).';
COMMENT ON COLUMN stripe.events.deleted IS 'Always false: events are never deleted.';

COMMENT ON COLUMN stripe.sync_runs.object_type IS 'The catalog type the sync walked.';
COMMENT ON COLUMN stripe.sync_runs.started_at IS 'When the last sync of the type started.';
COMMENT ON COLUMN stripe.sync_runs.finished_at IS 'When it finished (NULL: it did not).';
COMMENT ON COLUMN stripe.sync_runs.objects IS 'Objects it wrote.';
COMMENT ON COLUMN stripe.sync_runs.pages IS 'List pages it fetched.';

COMMENT ON COLUMN stripe.sync_jobs.id IS 'The job id sync_async returned.';
COMMENT ON COLUMN stripe.sync_jobs.object_type IS 'The catalog type the job syncs.';
COMMENT ON COLUMN stripe.sync_jobs.since IS 'Only objects created since then (NULL: a full sync).';
COMMENT ON COLUMN stripe.sync_jobs.state IS 'queued, running, done, failed or cancelled.';
COMMENT ON COLUMN stripe.sync_jobs.parent_cursor IS 'For a per-parent walk: the parent being walked.';
COMMENT ON COLUMN stripe.sync_jobs.cursor IS 'The last id of the last page written (where the walk resumes).';
COMMENT ON COLUMN stripe.sync_jobs.pages IS 'Pages written so far.';
COMMENT ON COLUMN stripe.sync_jobs.objects IS 'Objects written so far.';
COMMENT ON COLUMN stripe.sync_jobs.marked_deleted IS 'Rows Stripe confirmed deleted after the walk.';
COMMENT ON COLUMN stripe.sync_jobs.error IS 'Why the last page failed (or the job did).';
COMMENT ON COLUMN stripe.sync_jobs.attempts IS 'Failed attempts at the current page.';
COMMENT ON COLUMN stripe.sync_jobs.next_attempt_at IS 'When the failed page is tried again.';
COMMENT ON COLUMN stripe.sync_jobs.queued_at IS 'When sync_async queued it.';
COMMENT ON COLUMN stripe.sync_jobs.started_at IS 'When its first page was fetched.';
COMMENT ON COLUMN stripe.sync_jobs.updated_at IS 'When it last changed.';
COMMENT ON COLUMN stripe.sync_jobs.finished_at IS 'When it ended (done, failed or cancelled).';

COMMENT ON COLUMN stripe.webhook_requests.id IS 'The line''s number, in the order requests arrived.';

COMMENT ON COLUMN stripe.workers.database IS 'The database the worker serves.';
COMMENT ON COLUMN stripe.workers.kind IS 'events (applies queued events) or sync (jobs, retrieves).';
COMMENT ON COLUMN stripe.workers.pid IS 'Its process id (pg_stat_activity.pid).';
COMMENT ON COLUMN stripe.workers.started_at IS 'When this process started.';
COMMENT ON COLUMN stripe.workers.heartbeat_at IS 'When it last reported (after each idle period).';

COMMENT ON COLUMN stripe.object_types.object_type IS 'Stripe''s object name (what stripe.sync takes).';
COMMENT ON COLUMN stripe.object_types.table_name IS 'Its table in schema stripe.';
COMMENT ON COLUMN stripe.object_types.endpoint IS 'The API path it is listed from.';
COMMENT ON COLUMN stripe.object_types.parent IS 'For a nested list: the parent type it is listed per.';
COMMENT ON COLUMN stripe.object_types.event_prefixes IS 'The event types that carry it (type.*).';
COMMENT ON COLUMN stripe.object_types.deletion IS 'How Stripe ends one: deleted (a deleted object, a *.deleted event), a status it ends in, or never.';
COMMENT ON COLUMN stripe.object_types.row_count IS 'Rows in its table now.';
COMMENT ON COLUMN stripe.object_types.last_synced IS 'When its last sync finished.';
COMMENT ON COLUMN stripe.object_types.last_sync_objects IS 'Objects the last sync wrote.';

COMMENT ON COLUMN stripe.sync_job_status.id IS 'The job id.';
COMMENT ON COLUMN stripe.sync_job_status.object_type IS 'The catalog type the job syncs.';
COMMENT ON COLUMN stripe.sync_job_status.state IS 'queued, running, done, failed or cancelled.';
COMMENT ON COLUMN stripe.sync_job_status.pages IS 'Pages written so far.';
COMMENT ON COLUMN stripe.sync_job_status.objects IS 'Objects written so far.';
COMMENT ON COLUMN stripe.sync_job_status.objects_per_second IS 'Objects per second since it started.';
COMMENT ON COLUMN stripe.sync_job_status.parent_cursor IS 'For a per-parent walk: the parent being walked.';
COMMENT ON COLUMN stripe.sync_job_status.cursor IS 'Where the walk resumes.';
COMMENT ON COLUMN stripe.sync_job_status.attempts IS 'Failed attempts at the current page.';
COMMENT ON COLUMN stripe.sync_job_status.error IS 'Why the last page failed.';
COMMENT ON COLUMN stripe.sync_job_status.queued_at IS 'When it was queued.';
COMMENT ON COLUMN stripe.sync_job_status.started_at IS 'When its first page was fetched.';
COMMENT ON COLUMN stripe.sync_job_status.updated_at IS 'When it last changed.';
COMMENT ON COLUMN stripe.sync_job_status.finished_at IS 'When it ended.';
