-- djstripe_pg: the webhook request log. stripe.receive_webhook() is ingest_webhook for callers
-- that must answer every request (an HTTP endpoint): it never raises for bad input, and records
-- every call, valid or not, so an operator can see what arrived and why it was rejected.
-- stripe.webhook(json) (postgrest.sql) logs the same way.
--
-- The log cannot fill the disk: every row is small (an accepted request ~120 bytes; a rejected
-- one keeps at most 2 KiB of its payload, 1,000 characters of error and 256 of signature
-- header: at most ~3.5 kB), rows older than stripe.webhook_log_retention (7 days) and beyond
-- the newest stripe.webhook_log_max_rows (100,000) are pruned, by every 1,000th request, by the
-- sync worker every minute, and by stripe.prune_webhook_requests() (for pg_cron).

CREATE TABLE stripe.webhook_requests (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    result text NOT NULL,
    sqlstate text,
    error text,
    event_id text,
    event_type text,
    payload_bytes integer,
    -- Only rejected requests keep their payload (the event table has the rest), cut at 2 KiB.
    payload_excerpt text,
    signature_header text
);
CREATE INDEX webhook_requests_received_idx ON stripe.webhook_requests (received_at);
COMMENT ON TABLE stripe.webhook_requests IS
    'Every call of stripe.receive_webhook and stripe.webhook: result (applied, duplicate, stale, '
    'ignored, queued; rejected: the request can never succeed; failed: it may on a retry), the '
    'error and SQLSTATE of a rejection, and the first 2 KiB of a rejected payload. Holds no secret. '
    'Pruned by age (stripe.webhook_log_retention) and count (stripe.webhook_log_max_rows).';
COMMENT ON COLUMN stripe.webhook_requests.received_at IS 'When the request arrived';
COMMENT ON COLUMN stripe.webhook_requests.result IS
    'applied, duplicate, stale, ignored, queued, rejected (4xx: never retried usefully), failed (5xx)';
COMMENT ON COLUMN stripe.webhook_requests.sqlstate IS 'The SQLSTATE of a rejection or failure';
COMMENT ON COLUMN stripe.webhook_requests.error IS 'Its message (at most 1,000 characters)';
COMMENT ON COLUMN stripe.webhook_requests.event_id IS 'The event''s id, once it was verified';
COMMENT ON COLUMN stripe.webhook_requests.event_type IS 'The event''s type, once it was verified';
COMMENT ON COLUMN stripe.webhook_requests.payload_bytes IS 'The size of the body';
COMMENT ON COLUMN stripe.webhook_requests.payload_excerpt IS 'A rejected body''s first 2 KiB';
COMMENT ON COLUMN stripe.webhook_requests.signature_header IS
    'A rejected request''s Stripe-Signature header (first 256 characters): an HMAC, not a secret';

-- Deletes what the log keeps no longer: rows older than stripe.webhook_log_retention, and all
-- but the newest stripe.webhook_log_max_rows. Returns how many rows went.
CREATE FUNCTION stripe.prune_webhook_requests() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keep_seconds integer;
    keep_rows bigint;
    newest bigint;
    by_age bigint;
    by_count bigint;
BEGIN
    PERFORM stripe.version();  -- loads the library, so the stripe.* settings exist
    -- pg_settings has the values in their base units (seconds), current_setting() as shown ('7d').
    SELECT s.setting::integer INTO keep_seconds FROM pg_settings s WHERE s.name = 'stripe.webhook_log_retention';
    SELECT s.setting::bigint INTO keep_rows FROM pg_settings s WHERE s.name = 'stripe.webhook_log_max_rows';
    DELETE FROM stripe.webhook_requests
     WHERE received_at < clock_timestamp() - make_interval(secs => keep_seconds);
    GET DIAGNOSTICS by_age = ROW_COUNT;
    SELECT max(id) INTO newest FROM stripe.webhook_requests;
    DELETE FROM stripe.webhook_requests WHERE id <= newest - keep_rows;
    GET DIAGNOSTICS by_count = ROW_COUNT;
    RETURN by_age + by_count;
END
$$;
COMMENT ON FUNCTION stripe.prune_webhook_requests() IS
    'Deletes webhook_requests rows older than stripe.webhook_log_retention and beyond the newest '
    'stripe.webhook_log_max_rows; the sync worker runs it every minute, or schedule it with pg_cron.';

-- Logs one request, within the caps above; every 1,000th request also prunes.
CREATE FUNCTION stripe._log_webhook(result text, sqlstate text, error text, event_id text,
                                    event_type text, payload text, sig text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rejected boolean := result IN ('rejected', 'failed');
    logged bigint;
BEGIN
    INSERT INTO stripe.webhook_requests
        (result, sqlstate, error, event_id, event_type, payload_bytes, payload_excerpt, signature_header)
    VALUES (result, sqlstate, left(error, 1000), event_id, event_type, octet_length(payload),
            CASE WHEN rejected THEN left(payload, 2048) END, CASE WHEN rejected THEN left(sig, 256) END)
    RETURNING id INTO logged;
    IF logged % 1000 = 0 THEN
        PERFORM stripe.prune_webhook_requests();
    END IF;
END
$$;

CREATE FUNCTION stripe.receive_webhook(payload text, sig text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    state text;
    message text;
BEGIN
    BEGIN
        r := stripe.ingest_webhook(payload, sig);
    EXCEPTION WHEN query_canceled THEN
        RAISE;
    WHEN OTHERS THEN
        -- The failed ingest rolled back to this block: nothing of the event was written.
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
        PERFORM stripe._log_webhook(stripe._webhook_outcome(state), state, message, NULL, NULL,
                                    payload, sig);
        RETURN jsonb_build_object('result', stripe._webhook_outcome(state), 'sqlstate', state, 'error', message);
    END;
    PERFORM stripe._log_webhook(r ->> 'result', NULL, NULL, r ->> 'event_id', r ->> 'event_type',
                                payload, NULL);
    RETURN r;
END
$$;
COMMENT ON FUNCTION stripe.receive_webhook(text, text) IS
    'ingest_webhook that never raises for bad input: returns {"result": "rejected" (never succeeds) '
    'or "failed" (may on a retry), "sqlstate", "error"} instead, and logs every call in '
    'stripe.webhook_requests.';

-- What a failed delivery's SQLSTATE means for its sender: rejected (the same bytes fail the same
-- way: a bad signature, a body that is not an event or cannot be stored) or failed (ours, or
-- the Stripe API's: a retry may succeed).
CREATE FUNCTION stripe._webhook_outcome(sqlstate text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN sqlstate LIKE '28%' OR sqlstate LIKE '22%' OR sqlstate LIKE '54%'
                THEN 'rejected' ELSE 'failed' END
$$;

SELECT pg_catalog.pg_extension_config_dump('stripe.webhook_requests', '');
