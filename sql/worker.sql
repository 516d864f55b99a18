-- djstripe_pg: event processing and background syncs. The background workers (src/worker.rs)
-- call stripe._work_events() (a chunk of pending events, or one retry) and stripe._work_sync()
-- (objects to retrieve, or one sync job page) in a loop, one transaction each; without the
-- workers, stripe.process_pending() (e.g. from pg_cron) does the same in the foreground.

-- Applies one recorded event; on error records it and schedules a retry with exponential
-- backoff (10 s, 20 s, 40 s … capped at 1 h) until stripe.event_max_attempts. Losing a deadlock
-- or a serialization check to a concurrent delivery is not the event's fault: it is tried again
-- at once (three times in all); a lock it could not get in time (the workers wait at most
-- 500 ms, lock_timeout) or the third lost deadlock leave it for a second later, no attempt
-- counted.
CREATE FUNCTION stripe._process_event(event_id text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result text;
    max_attempts integer;
    err text;
    busy boolean := false;
BEGIN
    PERFORM stripe.version();  -- loads the library, so the stripe.* settings exist
    max_attempts := current_setting('stripe.event_max_attempts')::integer;
    FOR try IN 1..3 LOOP
        BEGIN
            result := stripe._apply_event(event_id);
            RETURN coalesce(result, 'duplicate');
        EXCEPTION WHEN query_canceled THEN
            RAISE;
        WHEN deadlock_detected OR serialization_failure THEN
            err := SQLERRM;
            busy := true;
            CONTINUE;
        WHEN lock_not_available THEN
            err := SQLERRM;
            busy := true;
            EXIT;
        WHEN OTHERS THEN
            err := SQLERRM;
            busy := false;
            EXIT;
        END;
    END LOOP;
    IF busy THEN
        UPDATE stripe.events e
           SET status = 'failed', next_attempt_at = clock_timestamp() + interval '1 second',
               last_error = 'another session held what it writes (' || err || '); tried again in 1 s'
         WHERE e.id = event_id;
        RETURN 'failed';
    END IF;
    UPDATE stripe.events e
       SET status = 'failed', attempts = e.attempts + 1, last_error = err,
           next_attempt_at = CASE WHEN e.attempts + 1 < max_attempts
               THEN clock_timestamp() + least(interval '1 hour', interval '10 seconds' * 2 ^ e.attempts) END
     WHERE e.id = event_id;
    RETURN 'failed';
END
$$;

-- Events the worker may take now: pending ones, and failed ones whose retry is due.
CREATE FUNCTION stripe._next_event() RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT id FROM stripe.events
     WHERE status = 'pending' OR (status = 'failed' AND next_attempt_at <= clock_timestamp())
     ORDER BY created, id
     LIMIT 1
       FOR UPDATE SKIP LOCKED
$$;

-- Applies up to max_events pending events, oldest first, set-based: one statement per object
-- type (stripe._apply_events), each event getting the status it would get applied alone. What
-- the batch leaves pending (types stripe.revalidate names, rows that are not events) goes one by
-- one after it, and so does the whole chunk when the batch fails, so each failure is recorded on
-- its own event. Events another session holds (a delivery, another drain) are skipped. Returns
-- how many events it took.
CREATE FUNCTION stripe._drain_events(max_events integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids text[];
    ev text;
BEGIN
    ids := ARRAY(SELECT id FROM stripe.events WHERE status = 'pending'
                  ORDER BY created, id LIMIT max_events FOR UPDATE SKIP LOCKED);
    IF cardinality(ids) = 0 THEN
        RETURN 0;
    END IF;
    BEGIN
        PERFORM stripe._apply_events(ids);
    EXCEPTION WHEN query_canceled THEN
        RAISE;
    WHEN OTHERS THEN
        RAISE LOG 'djstripe_pg: applying % events together failed (%), applying them one by one',
            cardinality(ids), SQLERRM;
    END;
    FOR ev IN SELECT id FROM stripe.events WHERE id = ANY (ids) AND status = 'pending'
               ORDER BY created, id LOOP
        PERFORM stripe._process_event(ev);
    END LOOP;
    RETURN cardinality(ids);
END
$$;

-- Runs one sync job page. A failing page (the client already retried its request) is tried
-- again later with backoff (1 s, 2 s, 4 s … capped at 5 min) until stripe.job_max_attempts
-- before the job fails; a type Stripe will not list for this account (0A000), or a request it
-- calls wrong (a 4xx but 429), fails at once.
CREATE FUNCTION stripe._run_job(job_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stripe.version();  -- loads the library, so the stripe.* settings exist
    BEGIN
        RETURN stripe._sync_job_step(job_id);
    EXCEPTION WHEN query_canceled THEN
        RAISE;
    WHEN deadlock_detected OR serialization_failure OR lock_not_available THEN
        -- Another session held rows the page writes (the worker gives way): a second later,
        -- no attempt counted.
        UPDATE stripe.sync_jobs j
           SET next_attempt_at = clock_timestamp() + interval '1 second', updated_at = clock_timestamp()
         WHERE j.id = job_id;
        RETURN true;
    WHEN OTHERS THEN
        UPDATE stripe.sync_jobs j
           SET attempts = j.attempts + 1, error = SQLERRM, updated_at = clock_timestamp(),
               next_attempt_at = clock_timestamp() + least(interval '5 minutes', interval '1 second' * 2 ^ j.attempts),
               -- A type Stripe will not list for this account, and a request Stripe calls wrong
               -- (400–404: "Stripe API error 404 on GET …"), fail at once: asking again cannot
               -- change the answer.
               state = CASE WHEN SQLSTATE = '0A000'
                              OR (SQLSTATE = '38000' AND SQLERRM ~ 'Stripe API error 40[0-4] ')
                              OR j.attempts + 1 >= current_setting('stripe.job_max_attempts')::integer
                            THEN 'failed' ELSE j.state END
         WHERE j.id = job_id;
        RETURN true;
    END;
END
$$;

-- The advisory lock that marks a sync job taken (any bigint id; the first key namespaces it).
CREATE FUNCTION stripe._job_lock(job_id bigint, wait boolean) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k1 integer := hashtext('djstripe_pg.sync_job') # (job_id >> 31)::integer;
    k2 integer := (job_id & 2147483647)::integer;
BEGIN
    IF wait THEN
        PERFORM pg_advisory_xact_lock(k1, k2);
        RETURN true;
    END IF;
    RETURN pg_try_advisory_xact_lock(k1, k2);
END
$$;

-- One step of the events worker: the oldest pending events (stripe.event_batch_size of them,
-- together), else one failed event whose retry is due. Returns how many pending events it
-- applied (0 when it retried one instead), or NULL when there was nothing to do.
CREATE FUNCTION stripe._work_events() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ev text;
    n bigint;
BEGIN
    n := stripe._drain_events(current_setting('stripe.event_batch_size')::integer);
    IF n > 0 THEN
        RETURN n;
    END IF;
    ev := stripe._next_event();
    IF ev IS NOT NULL THEN
        PERFORM stripe._process_event(ev);
        RETURN 0;
    END IF;
    RETURN NULL;
END
$$;

-- One step of the sync worker, which does the work that talks to Stripe: a few objects due for
-- a retrieve (stripe.refetch_queue), or the next page of the oldest open sync job; jobs_first
-- (the worker alternates it) decides which is tried first, so neither starves the other.
-- Returns 0 when it did something, NULL when there was nothing to do.
CREATE FUNCTION stripe._work_sync(jobs_first boolean) RETURNS bigint
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

CREATE FUNCTION stripe.process_pending(max_events integer DEFAULT NULL) RETURNS bigint
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
COMMENT ON FUNCTION stripe.process_pending(integer) IS
    'Processes due pending and failed events in the foreground, oldest first, then retrieves the '
    'objects stripe.refetch_queue holds (what the workers do).';

CREATE FUNCTION stripe.reprocess_events(ids text[]) RETURNS TABLE (event_id text, result text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE stripe.events e SET status = 'pending', next_attempt_at = NULL, attempts = 0
     WHERE e.id = ANY (ids);
    RETURN QUERY
    SELECT e.id, stripe._process_event(e.id) FROM stripe.events e
     WHERE e.id = ANY (ids) ORDER BY e.created, e.id;
END
$$;
COMMENT ON FUNCTION stripe.reprocess_events(text[]) IS
    'Applies the given events again, whatever their status (e.g. after fixing the mirror).';

CREATE FUNCTION stripe.reprocess_failed() RETURNS TABLE (event_id text, result text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM stripe.reprocess_events(ARRAY(SELECT id FROM stripe.events WHERE status = 'failed'))
$$;

-- Background syncs -----------------------------------------------------------------------------

-- A sync worker runs for this database, or is configured for it (and only restarting: after a
-- crash, or to pick up changed database settings).
CREATE FUNCTION stripe._require_worker(what text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stripe.version();  -- loads the library, so the stripe.* settings exist
    IF NOT EXISTS (SELECT 1 FROM pg_stat_activity
                    WHERE backend_type = 'djstripe_pg sync worker' AND datname = current_database())
       AND NOT (current_database() = ANY (string_to_array(
                    replace(current_setting('stripe.worker_databases'), ' ', ''), ','))
                AND current_setting('shared_preload_libraries') ~ '(^|[ ,])djstripe_pg($|[ ,])') THEN
        RAISE EXCEPTION '% needs the djstripe_pg background worker, and none runs for database %',
                what, current_database()
            USING ERRCODE = '55000',
                  HINT = 'Set shared_preload_libraries = ''djstripe_pg'' and stripe.worker_databases = '''
                         || current_database() || ''' and restart; or call stripe.sync() in the foreground.';
    END IF;
END
$$;

CREATE FUNCTION stripe.sync_async(object_type text, since timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
    filters boolean;
BEGIN
    PERFORM stripe._require_finite_since(since);
    PERFORM stripe._require_worker('stripe.sync_async');
    SELECT c.created_filter INTO filters FROM stripe._catalog() c
     WHERE c.object_type = sync_async.object_type OR c.table_name = sync_async.object_type;
    IF NOT FOUND THEN
        PERFORM stripe.sync(object_type);  -- raises the error that lists the known types
    END IF;
    IF since IS NOT NULL AND NOT filters THEN
        RAISE EXCEPTION 'stripe.sync_async(''%''): Stripe cannot list it by created, so since cannot narrow it',
            object_type USING ERRCODE = '0A000', HINT = 'Sync it whole: pass since => NULL.';
    END IF;
    INSERT INTO stripe.sync_jobs (object_type, since)
    SELECT c.object_type, since FROM stripe._catalog() c
     WHERE c.object_type = sync_async.object_type OR c.table_name = sync_async.object_type
    RETURNING id INTO job;
    PERFORM stripe._wake_worker('sync');
    RETURN job;
END
$$;
COMMENT ON FUNCTION stripe.sync_async(text, timestamptz) IS
    'Queues a background sync (one page per transaction, resumable); returns the job id.';

CREATE FUNCTION stripe.sync_all_async(since timestamptz DEFAULT NULL) RETURNS SETOF bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stripe._require_finite_since(since);
    RETURN QUERY SELECT stripe.sync_async(c.object_type, CASE WHEN c.created_filter THEN since END)
      FROM stripe._catalog() c WHERE c.endpoint IS NOT NULL ORDER BY c.ord;
END
$$;

-- Waits for the page in flight (the worker holds the job's advisory lock while it runs one),
-- so the job stops exactly after a committed page and resume_sync continues from its cursor;
-- but 5 s at most: a page stuck on a hanging API (up to stripe.http_timeout times its retries)
-- finishes on its own, and its step then finds the job cancelled and writes nothing of it, so
-- resume_sync fetches that page again.
CREATE FUNCTION stripe.cancel_sync(job_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '5s'
AS $$
BEGIN
    IF job_id IS NULL THEN
        RAISE EXCEPTION 'stripe.cancel_sync: job_id is NULL' USING ERRCODE = '22004';
    END IF;
    BEGIN
        PERFORM stripe._job_lock(job_id, true);
    EXCEPTION WHEN lock_not_available THEN
        NULL;
    END;
    UPDATE stripe.sync_jobs SET state = 'cancelled', updated_at = clock_timestamp(),
           finished_at = clock_timestamp()
     WHERE id = job_id AND state IN ('queued', 'running');
    RETURN FOUND;
END
$$;

CREATE FUNCTION stripe.resume_sync(job_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF job_id IS NULL THEN
        RAISE EXCEPTION 'stripe.resume_sync: job_id is NULL' USING ERRCODE = '22004';
    END IF;
    UPDATE stripe.sync_jobs SET state = 'queued', attempts = 0, error = NULL, next_attempt_at = NULL,
           updated_at = clock_timestamp(), finished_at = NULL
     WHERE id = job_id AND state IN ('failed', 'cancelled');
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM stripe._wake_worker('sync');
    RETURN true;
END
$$;

-- Runs a queued job to completion in the foreground (no worker needed) with the same step
-- function. It runs in the caller's transaction: a failing page rolls back the pages before it,
-- and others see the progress only when it commits; use sync_async for a resumable sync.
CREATE FUNCTION stripe.run_sync_job(job_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF job_id IS NULL THEN
        RAISE EXCEPTION 'stripe.run_sync_job: job_id is NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM stripe.sync_jobs j WHERE j.id = job_id AND j.state IN ('queued', 'running')) THEN
        RAISE EXCEPTION 'sync job % is not queued or running', job_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM stripe._job_lock(job_id, true);
    WHILE NOT stripe._sync_job_step(job_id) LOOP
    END LOOP;
    RETURN (SELECT objects FROM stripe.sync_jobs WHERE id = job_id);
END
$$;

CREATE VIEW stripe.sync_job_status AS
SELECT id, object_type, state, pages, objects,
       round(objects / nullif(extract(epoch FROM coalesce(finished_at, updated_at) - started_at), 0))
           AS objects_per_second,
       parent_cursor, cursor, attempts, error, queued_at, started_at, updated_at, finished_at
  FROM stripe.sync_jobs ORDER BY id DESC;
COMMENT ON VIEW stripe.sync_job_status IS 'Background syncs with their progress and rate.';
