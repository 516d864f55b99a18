-- djstripe_pg: privileges. Secrets are the extension owner's alone; everything that touches
-- them or the network is granted explicitly, never to PUBLIC by default.

REVOKE ALL ON stripe_secrets.api_key, stripe_secrets.webhook_secrets FROM PUBLIC;

REVOKE EXECUTE ON FUNCTION stripe.config() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stripe.sync(text, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stripe.sync_all(timestamptz) FROM PUBLIC;
-- Safe for any role that is given it: it does nothing without a valid Stripe signature.
-- Still not PUBLIC: grant it to the role your webhook endpoint runs as.
REVOKE EXECUTE ON FUNCTION stripe.ingest_webhook(text, text) FROM PUBLIC;

-- Event processing and background syncs: the owner's (or whom the owner grants).
REVOKE EXECUTE ON FUNCTION stripe._apply_event(text), stripe._process_event(text), stripe._next_event(),
    stripe._drain_events(integer), stripe._apply_events(text[]),
    stripe._work_events(), stripe._work_sync(boolean), stripe._job_lock(bigint, boolean),
    stripe._refetch_queued(integer), stripe._run_job(bigint), stripe._sync_job_step(bigint), stripe._wake_worker(text),
    stripe._require_worker(text), stripe.process_pending(integer), stripe.reprocess_events(text[]),
    stripe.reprocess_failed(), stripe.sync_async(text, timestamptz), stripe.sync_all_async(timestamptz),
    stripe.cancel_sync(bigint), stripe.resume_sync(bigint), stripe.run_sync_job(bigint),
    stripe.sync_events(), stripe._row_count(text)
    FROM PUBLIC;
REVOKE ALL ON stripe.workers, stripe.sync_jobs, stripe.webhook_requests, stripe.refetch_queue,
    stripe.event_catchup FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stripe.receive_webhook(text, text) FROM PUBLIC;

-- Anything created after postgrest.sql (e.g. Rust functions pgrx emits last) is not PUBLIC either,
-- but the three that take secrets in and check their caller themselves (src/secrets.rs).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA stripe FROM PUBLIC;
SELECT stripe._grant_self_checking();

-- The mirror itself is readable by whoever the owner grants; nothing is granted by default.
