-- djstripe_pg: the mirror's tables. Read this file to learn the schema.
--
-- Every mirror table has the same shape:
--   id            Stripe's id, the primary key
--   data          the whole Stripe object as jsonb, exactly as the API or the event delivered it
--                 (a deleted object keeps its last state plus "deleted": true)
--   typed columns generated from data, named as Stripe names them (nested fields joined by _);
--                 amounts are integer minor units, timestamps timestamptz
--   synced_at     when djstripe_pg last wrote the row (wall clock)
--   synced_from   what wrote it: 'sync' (a list page), 'retrieve' (the object fetched on its own),
--                 the id of the event applied; for a row marked deleted on Stripe's word by a
--                 retrieve, 'retrieve:deleted' or 'retrieve:resource_missing'
--   stripe_as_of  the Stripe time the data reflects: the event's created second, or the exact
--                 moment the fetch started. Older data never overwrites the row (src/ordering.rs).

-- Secrets live in a schema of their own, so that no grant on schema stripe reaches them (a DBA's
-- GRANT SELECT ON ALL TABLES IN SCHEMA stripe, or Supabase exposing the schema): nobody but the
-- extension owner has USAGE on it, and only SECURITY DEFINER functions read it.
CREATE SCHEMA stripe_secrets;
REVOKE ALL ON SCHEMA stripe_secrets FROM PUBLIC;
COMMENT ON SCHEMA stripe_secrets IS
    'djstripe_pg''s secrets (the Stripe key, webhook signing secrets): the extension owner''s alone; '
    'set through stripe.set_api_key and stripe.add_webhook_secret, never readable back.';

CREATE TABLE stripe_secrets.api_key (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    api_key text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stripe_secrets.api_key IS
    'The Stripe secret key (stripe.set_api_key). Readable only by the extension owner.';
COMMENT ON COLUMN stripe_secrets.api_key.singleton IS 'Always true: there is one key.';
COMMENT ON COLUMN stripe_secrets.api_key.api_key IS 'The secret or restricted key (sk_…, rk_…).';
COMMENT ON COLUMN stripe_secrets.api_key.set_at IS 'When it was set.';

CREATE TABLE stripe_secrets.webhook_secrets (
    secret text PRIMARY KEY,
    added_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stripe_secrets.webhook_secrets IS
    'Webhook signing secrets (stripe.add_webhook_secret); a signature valid for any one passes.';
COMMENT ON COLUMN stripe_secrets.webhook_secrets.secret IS 'An endpoint''s signing secret (whsec_…).';
COMMENT ON COLUMN stripe_secrets.webhook_secrets.added_at IS 'When it was added.';

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
SELECT stripe._seal_secrets();

-- The mirror tables themselves are in sql/tables/*.sql, one file per group of Stripe products.

-- ---------------------------------------------------------------------------------------------
-- events: every event ingested, once
CREATE TABLE stripe.events (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    api_version text GENERATED ALWAYS AS (data ->> 'api_version') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    object_type text GENERATED ALWAYS AS (stripe.text_at(data, 'data.object.object')) STORED,
    object_id text GENERATED ALWAYS AS (stripe.text_at(data, 'data.object.id')) STORED,
    request_id text GENERATED ALWAYS AS (stripe.text_at(data, 'request.id')) STORED,
    status text NOT NULL DEFAULT 'recorded'
        CHECK (status IN ('recorded', 'pending', 'applied', 'stale', 'ignored', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    next_attempt_at timestamptz,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    processed_at timestamptz,
    deleted boolean NOT NULL DEFAULT false,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL DEFAULT 'webhook',
    stripe_as_of timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_object_idx ON stripe.events (object_id, created);
CREATE INDEX events_type_created_idx ON stripe.events (type, created);
-- The worker's queue: unprocessed events in the order Stripe created them.
CREATE INDEX events_queue_idx ON stripe.events (created, id) WHERE status IN ('pending', 'failed');
COMMENT ON TABLE stripe.events IS 'Every Stripe event ingested, once (primary key = event id).';
COMMENT ON COLUMN stripe.events.data IS 'The whole event as delivered.';
COMMENT ON COLUMN stripe.events.type IS 'data.type, e.g. customer.updated';
COMMENT ON COLUMN stripe.events.api_version IS 'data.api_version: the API version the payload is shaped by';
COMMENT ON COLUMN stripe.events.livemode IS 'data.livemode';
COMMENT ON COLUMN stripe.events.created IS 'data.created: when Stripe created the event';
COMMENT ON COLUMN stripe.events.object_type IS 'data.data.object.object: the type of the object the event carries';
COMMENT ON COLUMN stripe.events.object_id IS 'data.data.object.id: joins the table of that type';
COMMENT ON COLUMN stripe.events.request_id IS 'data.request.id: the API request that caused the event, if any';
COMMENT ON COLUMN stripe.events.status IS
    'pending: recorded, waiting for the worker (stripe.ingest_mode = queue, or stripe.sync_events); '
    'applied: data.object written to its table; stale: the row already reflected newer data; '
    'ignored: an object type the mirror does not keep; failed: processing raised an error '
    '(retried with backoff until stripe.event_max_attempts, see last_error); '
    'recorded: mirrored by stripe.sync(''event''), never applied';

-- ---------------------------------------------------------------------------------------------
-- sync bookkeeping: one row per object type, updated when a sync commits
CREATE TABLE stripe.sync_runs (
    object_type text PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    objects bigint NOT NULL DEFAULT 0,
    pages integer NOT NULL DEFAULT 0,
    marked_deleted bigint NOT NULL DEFAULT 0,
    since timestamptz,
    sweep text,
    skipped jsonb NOT NULL DEFAULT '[]'
);
COMMENT ON TABLE stripe.sync_runs IS 'The last completed stripe.sync of each object type.';
COMMENT ON COLUMN stripe.sync_runs.started_at IS 'When the walk''s first request started';
COMMENT ON COLUMN stripe.sync_runs.marked_deleted IS
    'Objects the walk did not see that Stripe, asked for each, said are deleted';
COMMENT ON COLUMN stripe.sync_runs.since IS 'The created[gte] window of the walk; NULL: the whole list';
COMMENT ON COLUMN stripe.sync_runs.sweep IS
    'What was done with the mirrored objects a complete walk did not see: how many were '
    'retrieved and what Stripe said, or why none was checked';
COMMENT ON COLUMN stripe.sync_runs.skipped IS
    'Objects Postgres could not store (id, page, SQLSTATE, error); the rest of the type was synced';

-- ---------------------------------------------------------------------------------------------
-- background sync jobs (stripe.sync_async): one page per transaction, resumable from the cursor
CREATE TABLE stripe.sync_jobs (
    id bigserial PRIMARY KEY,
    object_type text NOT NULL,
    since timestamptz,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    parent_cursor text,
    cursor text,
    pages integer NOT NULL DEFAULT 0,
    objects bigint NOT NULL DEFAULT 0,
    marked_deleted bigint NOT NULL DEFAULT 0,
    walk_started_at timestamptz,
    walk jsonb,
    checks jsonb,
    sweep text,
    seen_existing bigint NOT NULL DEFAULT 0,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at timestamptz,
    updated_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX sync_jobs_open_idx ON stripe.sync_jobs (id) WHERE state IN ('queued', 'running');
COMMENT ON TABLE stripe.sync_jobs IS
    'Background syncs: cursor (and parent_cursor for per-parent types) is where the next page starts.';
COMMENT ON COLUMN stripe.sync_jobs.walk_started_at IS
    'When the walk''s first request started: what it did not see is judged against this moment';
COMMENT ON COLUMN stripe.sync_jobs.walk IS
    'The current list''s pages so far, as checked for contradictions (cycles, time going back)';
COMMENT ON COLUMN stripe.sync_jobs.checks IS
    'After a complete walk: the unseen objects still to be retrieved before the job is done';
COMMENT ON COLUMN stripe.sync_jobs.sweep IS 'What the check of unseen objects found';
COMMENT ON COLUMN stripe.sync_jobs.seen_existing IS
    'Objects the walk listed that the mirror already had: none, and no unseen one is checked';

-- ---------------------------------------------------------------------------------------------
-- objects to retrieve from Stripe: two versions nothing orders (two updates in one second, an
-- update and a fetch of that second); the answer is newer than both (src/ordering.rs)
-- No unique key: an insert then never waits for another transaction that queued the same object
-- (a long sync and the worker would deadlock over the queue). Repeats are retrieved once.
CREATE TABLE stripe.refetch_queue (
    seq bigserial PRIMARY KEY,
    object_type text NOT NULL,
    object_id text NOT NULL,
    parent text,
    account_id text NOT NULL DEFAULT '',
    reason text NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error text
);
CREATE INDEX refetch_queue_object_idx ON stripe.refetch_queue (object_type, object_id, account_id);
COMMENT ON TABLE stripe.refetch_queue IS
    'Objects whose mirrored version may not be the newest: retrieved by the background worker, '
    'stripe.process_pending() and stripe.sync_events(), then removed (with any repeats).';
COMMENT ON COLUMN stripe.refetch_queue.seq IS 'Order of queueing';
COMMENT ON COLUMN stripe.refetch_queue.object_type IS 'The catalog type (stripe.object_types)';
COMMENT ON COLUMN stripe.refetch_queue.object_id IS 'The object''s id';
COMMENT ON COLUMN stripe.refetch_queue.parent IS 'Its parent''s id, for types retrieved under one';
COMMENT ON COLUMN stripe.refetch_queue.account_id IS 'The Connect account ('''' for the platform''s own)';
COMMENT ON COLUMN stripe.refetch_queue.reason IS 'tie: two versions of one second that nothing orders';
COMMENT ON COLUMN stripe.refetch_queue.queued_at IS 'When it was queued';
COMMENT ON COLUMN stripe.refetch_queue.attempts IS 'Failed retrieves so far (retried with backoff)';
COMMENT ON COLUMN stripe.refetch_queue.next_attempt_at IS 'Not before this time after a failure';
COMMENT ON COLUMN stripe.refetch_queue.last_error IS 'Why the last retrieve failed';

-- ---------------------------------------------------------------------------------------------
-- the Events-API catch-up (stripe.sync_events): how far each account's walk has reached
CREATE TABLE stripe.event_catchup (
    account_id text NOT NULL,
    livemode boolean NOT NULL,
    walked_to timestamptz NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    new_events bigint NOT NULL DEFAULT 0,
    skipped_items bigint NOT NULL DEFAULT 0,
    gap_from timestamptz,
    gap_to timestamptz,
    PRIMARY KEY (account_id, livemode)
);
COMMENT ON TABLE stripe.event_catchup IS
    'Per account and mode, the high-water mark of stripe.sync_events: every event created before '
    'walked_to has been recorded. Webhooks do not move it.';
COMMENT ON COLUMN stripe.event_catchup.account_id IS 'The Connect account ('''' for the platform''s own)';
COMMENT ON COLUMN stripe.event_catchup.livemode IS 'The mode of the key the walk used';
COMMENT ON COLUMN stripe.event_catchup.walked_to IS
    'Every event created before this has been recorded (the last walk''s start, by the earlier of '
    'Stripe''s clock and ours); the next walk lists from here less stripe.sync_events_overlap';
COMMENT ON COLUMN stripe.event_catchup.started_at IS 'When the last walk started';
COMMENT ON COLUMN stripe.event_catchup.finished_at IS 'When it finished';
COMMENT ON COLUMN stripe.event_catchup.new_events IS 'Events it recorded that were not recorded before';
COMMENT ON COLUMN stripe.event_catchup.skipped_items IS 'Items of its pages that were not events with an id';
COMMENT ON COLUMN stripe.event_catchup.gap_from IS
    'Start of a span whose events Stripe no longer had (over 30 days since the previous walk): '
    'only a full stripe.sync_all() closes it';
COMMENT ON COLUMN stripe.event_catchup.gap_to IS 'End of that span';

-- Background workers record themselves here so that ingest can wake them after a commit.
CREATE TABLE stripe.workers (
    database name NOT NULL,
    kind text NOT NULL CHECK (kind IN ('events', 'sync')),
    pid integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    heartbeat_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (database, kind)
);
COMMENT ON TABLE stripe.workers IS
    'The background workers of each database: events (applies queued events) and sync (sync jobs, '
    'retrieves); new work wakes the one it is for.';

-- Keep mirror data and configuration in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.events', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.sync_runs', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.sync_jobs', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.refetch_queue', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.event_catchup', '');
SELECT pg_catalog.pg_extension_config_dump('stripe_secrets.api_key', '');
SELECT pg_catalog.pg_extension_config_dump('stripe_secrets.webhook_secrets', '');
