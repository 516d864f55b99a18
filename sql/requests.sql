-- djstripe_pg: the webhook request log. stripe.receive_webhook() is ingest_webhook for callers
-- that must answer every request (an HTTP endpoint): it never raises for bad input, and records
-- every call, valid or not, so an operator can see what arrived and why it was rejected.

CREATE TABLE stripe.webhook_requests (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    result text NOT NULL,
    sqlstate text,
    error text,
    event_id text,
    event_type text,
    payload_bytes integer,
    -- Only rejected requests keep their payload (the event table has the rest), cut at 8 KiB.
    payload_excerpt text,
    signature_header text
);
CREATE INDEX webhook_requests_received_idx ON stripe.webhook_requests (received_at);
COMMENT ON TABLE stripe.webhook_requests IS
    'Every call of stripe.receive_webhook: result (applied, duplicate, stale, ignored, queued, rejected), '
    'the error and SQLSTATE of a rejection, and the first 8 KiB of a rejected payload. Holds no secret.';

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
        INSERT INTO stripe.webhook_requests
            (result, sqlstate, error, payload_bytes, payload_excerpt, signature_header)
        VALUES ('rejected', state, message, octet_length(payload), left(payload, 8192), left(sig, 1024));
        RETURN jsonb_build_object('result', 'rejected', 'sqlstate', state, 'error', message);
    END;
    INSERT INTO stripe.webhook_requests (result, event_id, event_type, payload_bytes)
    VALUES (r ->> 'result', r ->> 'event_id', r ->> 'event_type', octet_length(payload));
    RETURN r;
END
$$;
COMMENT ON FUNCTION stripe.receive_webhook(text, text) IS
    'ingest_webhook that never raises for bad input: returns {"result": "rejected", "sqlstate", "error"} '
    'instead, and logs every call in stripe.webhook_requests.';

SELECT pg_catalog.pg_extension_config_dump('stripe.webhook_requests', '');
