-- djstripe_pg: what every column holds that its table's file does not say. The mirror tables'
-- bookkeeping columns are the same in each (schema.sql's header), so they are described here
-- once, for every table that has them; the queue and job tables' columns one by one.

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
