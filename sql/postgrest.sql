-- djstripe_pg: Stripe's webhooks through PostgREST (or Supabase, which runs PostgREST), and
-- functions that grant the three kinds of access: webhook, reader, admin.
-- The guide is docs/postgrest-supabase.md.
--
-- What PostgREST does with Stripe's POST, read in its source (github.com/PostgREST/postgrest,
-- main at 48346789, after v16.1; older paths were src/PostgREST/…) and its documentation. All
-- of the following is a summary in our words, not PostgREST's text.
--
-- The call. A POST to /rpc/<fn> whose body is application/json reaches a function that has
-- exactly one parameter, without a name, of type json or jsonb, when no function of that name
-- has named parameters matching the body's keys (Plan.hs, findProc / hasSingleUnnamedParam;
-- since v9.0.0, CHANGELOG #1735; since v14.2 a *named* parameter no longer qualifies, #4553).
-- Docs: https://docs.postgrest.org/en/latest/references/api/functions.html#function-single-json
-- The JSON body is parsed only to check it and to learn its keys; the bytes passed on are the
-- request's own (ApiRequest/Payload.hs keeps the raw body; a body that is not JSON is answered
-- 400 PGRST102 before any SQL runs, and a bare scalar is replaced by []). The call is
--   "schema"."fn"($1::json)
-- with $1 an untyped text-format parameter, OID 705 (Query/QueryBuilder.hs callPlanToQuery,
-- OnePosParam; Query/SqlFragment.hs singleParameter; hasql's `unknown` encoder), so the body
-- goes through json's input function unchanged. json keeps its input text as it is; jsonb
-- would reorder keys, drop whitespace and rewrite numbers and escapes, and the signature, an
-- HMAC over the exact bytes, would no longer match. Hence stripe.webhook(json), and $1::text.
-- A function declared VOLATILE (the default) runs in a READ WRITE transaction (Plan.hs,
-- callReadPlan); STABLE or IMMUTABLE would make it read-only.
--
-- The headers. Before the call, in the same transaction, PostgREST runs set_config(…, true)
-- for search_path (the exposed schema), role (the JWT's role, else db-anon-role),
-- request.jwt.claims, request.method, request.path, request.headers and request.cookies
-- (Query/PreQuery.hs txVarQuery). request.headers is one JSON object of all headers but
-- Cookie, names lowercased (ApiRequest.hs), so the signature is
--   current_setting('request.headers', true)::json ->> 'stripe-signature'.
-- Docs: https://docs.postgrest.org/en/latest/references/transactions.html#request-headers-cookies-and-jwt-claims
-- Up to v8 every header was its own setting, request.header.<lowercased name> (v8.0.0
-- src/PostgREST/Middleware.hs); v9–v11 did that only with db-use-legacy-gucs on PostgreSQL < 14
-- (v9.0.0 Middleware.hs, v11.2.2 src/PostgREST/Query.hs), and v12.0.0 removed it. PostgreSQL 14+
-- refuses setting names with '-', so on PostgreSQL 15 only the JSON form can occur; we still
-- fall back to request.header.stripe-signature, which costs nothing. Calling with unnamed
-- parameters needs v9, so PostgREST 9 or later is required; Stripe cannot send the Prefer
-- header that older versions needed.
--
-- The status. A function that returns normally is answered with the status in the
-- response.status setting, if it set one (Response.hs overrideStatusHeaders), and PostgREST
-- commits its transaction unless the request or db-tx-end asked for a rollback (MainTx.hs
-- optionalRollback; Stripe sends no Prefer header). Docs:
-- https://docs.postgrest.org/en/latest/references/transactions.html#response-status-code
-- So stripe.webhook answers every delivery itself: 200 with ingest's result, or the error's
-- status with a body shaped like PostgREST's own errors ({code, message, details, hint}, code
-- PTxyz), and the transaction commits the request's line in stripe.webhook_requests, so that
-- a rejected delivery is recorded with its reason; the ingest itself rolled back to its block,
-- so nothing else of a failed delivery is written. Only a cancel (statement_timeout) still
-- raises: PostgREST then answers 500 from the SQLSTATE and nothing at all is written.
-- PostgREST takes the reason phrase of a status from the standard list, so the messages stay
-- short and the details go in the body.

-- Stripe retries any delivery not answered 2xx and shows the response in the dashboard.

-- ---------------------------------------------------------------------------------------------
-- The intake function

CREATE FUNCTION stripe.webhook(json) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- A json value's text is its input, byte for byte: what Stripe signed.
    payload text := $1::text;
    max_bytes bigint;
    sig text;
    result jsonb;
    err_state text;
    err_message text;
    err_hint text;
    http integer;
BEGIN
    -- Calling into the library defines the stripe.* settings in this session first, so that a
    -- placeholder set before it was loaded cannot stand in for the real (superuser) setting.
    PERFORM stripe.version();
    -- pg_settings has the value in its base unit, and never shows a placeholder.
    SELECT s.setting::bigint * CASE s.unit WHEN 'kB' THEN 1024 WHEN 'MB' THEN 1048576 ELSE 1 END
      INTO max_bytes FROM pg_settings s WHERE s.name = 'stripe.webhook_max_bytes';
    -- PostgREST 9+: one JSON object of lowercased header names. PostgREST <= 8 (and 9-11 with
    -- db-use-legacy-gucs on PostgreSQL < 14): one setting per header.
    sig := coalesce(nullif(current_setting('request.headers', true), '')::json ->> 'stripe-signature',
                    nullif(current_setting('request.header.stripe-signature', true), ''));
    IF payload IS NULL THEN
        RETURN stripe._webhook_reply(400, 'stripe.webhook: no request body', 'The request had no body.', NULL,
            'POST the event Stripe sent, with Content-Type: application/json.', '', sig);
    END IF;
    IF octet_length(payload) > max_bytes THEN
        RETURN stripe._webhook_reply(413, 'stripe.webhook: request body too large',
            format('The body has %s bytes; the limit is %s bytes.', octet_length(payload), max_bytes), NULL,
            'Stripe events are much smaller than this: check what is posting to this endpoint.',
            payload, sig);
    END IF;

    BEGIN
        result := stripe.ingest_webhook(payload, sig);
    EXCEPTION WHEN query_canceled THEN
        RAISE;  -- a cancelled statement stays one (500), and writes nothing
    WHEN OTHERS THEN
        -- The failed ingest rolled back to this block: nothing of the event was written.
        GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                err_hint = PG_EXCEPTION_HINT;
        http := CASE
            -- Stripe's request is at fault, or its payload cannot be stored: a retry of the same
            -- bytes fails the same way, so Stripe must not retry it for three days.
            WHEN stripe._webhook_outcome(err_state) = 'rejected' THEN 400
            -- The Stripe API (completing a truncated nested list) was unreachable or failed.
            WHEN err_state LIKE '08%' OR err_state LIKE '38%' THEN 502
            -- Ours: no webhook secret configured (55000), a conflict, a bug. A retry may succeed.
            ELSE 500
        END;
        RETURN stripe._webhook_reply(http,
            CASE
                WHEN err_state LIKE '28%' THEN 'stripe.webhook: signature verification failed'
                WHEN err_state IN ('22P02', '22023', '22004') THEN 'stripe.webhook: request body is not a Stripe event'
                WHEN http = 400 THEN 'stripe.webhook: the event cannot be stored'
                WHEN http = 502 THEN 'stripe.webhook: Stripe API request failed'
                WHEN err_state = '55000' THEN 'stripe.webhook: not configured'
                ELSE 'stripe.webhook: processing failed'
            END,
            format('%s (SQLSTATE %s)', err_message, err_state), err_state,
            coalesce(nullif(err_hint, ''), CASE
                WHEN http = 400 THEN 'Stripe signs the exact body: it must reach stripe.webhook unchanged, with its Stripe-Signature header.'
                ELSE 'Nothing was written; Stripe retries the delivery.'
            END),
            payload, sig);
    END;
    PERFORM stripe._log_webhook(result ->> 'result', NULL, NULL, result ->> 'event_id',
                                result ->> 'event_type', payload, NULL);
    RETURN result;
END
$fn$;
COMMENT ON FUNCTION stripe.webhook(json) IS
    'Webhook endpoint for PostgREST / Supabase: POST /rpc/webhook with Stripe''s request as it is. '
    'Verifies the Stripe-Signature header (request.headers) over the exact body and ingests the event '
    'like stripe.ingest_webhook; logs every call in stripe.webhook_requests. 200 with its result '
    '(applied, stale, ignored, duplicate, queued); otherwise, through response.status, 400 bad '
    'signature, stale timestamp, not an event or a payload that cannot be stored; 413 body over '
    'the size cap (1 MiB); 500 processing failed; 502 the Stripe API failed, with a body like '
    'PostgREST''s errors ({code: PTxyz, message, details, hint}). Nothing but the log line is '
    'written on any error.';

-- Answers a failed delivery: its status (response.status), its log line, and the body.
CREATE FUNCTION stripe._webhook_reply(http integer, message text, details text, sqlstate text,
                                      hint text, payload text, sig text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM set_config('response.status', http::text, true);
    PERFORM stripe._log_webhook(CASE WHEN http < 500 THEN 'rejected' ELSE 'failed' END,
                                coalesce(sqlstate, 'PT' || http), details, NULL, NULL, payload, sig);
    RETURN jsonb_build_object('code', 'PT' || http, 'message', message, 'details', details, 'hint', hint);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Access. Everything in stripe is private to the extension owner until granted; these grant
-- the three kinds of access. Objects whose names start with "_" are internal and are never
-- granted; the secrets are in schema stripe_secrets, which nothing here grants.

-- Every stripe object a role can use, directly, through its memberships or through PUBLIC.
CREATE FUNCTION stripe.access_report(grantee regrole)
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

CREATE FUNCTION stripe._check_grantee(grantee regrole) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF grantee IS NULL OR grantee = 0 THEN
        RAISE EXCEPTION 'djstripe_pg: name an existing role'
            USING ERRCODE = '22023', HINT = 'PUBLIC cannot be granted access: name the role, e.g. ''web_anon''.';
    END IF;
END
$$;

CREATE FUNCTION stripe.grant_webhook_access(grantee regrole) RETURNS void
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
COMMENT ON FUNCTION stripe.grant_webhook_access(regrole) IS
    'Lets a role (e.g. PostgREST''s anonymous role) call stripe.webhook(json) and nothing else in '
    'schema stripe; warns if it can reach anything more.';

CREATE FUNCTION stripe.grant_reader_access(grantee regrole) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o record;
BEGIN
    PERFORM stripe._check_grantee(grantee);
    EXECUTE format('GRANT USAGE ON SCHEMA stripe TO %s', grantee);
    FOR o IN SELECT c.oid::regclass AS rel FROM pg_class c
              WHERE c.relnamespace = 'stripe'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                AND c.relname !~ '^_'
              ORDER BY 1 LOOP
        EXECUTE format('GRANT SELECT ON %s TO %s', o.rel, grantee);
    END LOOP;
    -- Functions the views call run with the reader's privileges (e.g. object_types' row counts).
    FOR o IN SELECT DISTINCT d.refobjid::regprocedure AS fn
               FROM pg_depend d
               JOIN pg_rewrite w ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
               JOIN pg_class v ON v.oid = w.ev_class
               JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
              WHERE v.relnamespace = 'stripe'::regnamespace AND v.relname !~ '^_'
                AND p.pronamespace = 'stripe'::regnamespace
              ORDER BY 1 LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', o.fn, grantee);
    END LOOP;
    -- The functions typed columns are made with, for reading paths the columns leave out.
    EXECUTE format('GRANT EXECUTE ON FUNCTION stripe.text_at(jsonb, text), '
                   'stripe.id_at(jsonb, text), stripe.time_at(jsonb, text) TO %s', grantee);
END
$$;
COMMENT ON FUNCTION stripe.grant_reader_access(regrole) IS
    'Lets a role read the mirror: every table and view of schema stripe but the internal ones '
    '(named _…); never the secrets (schema stripe_secrets). Run it again after ALTER EXTENSION … '
    'UPDATE adds tables.';

CREATE FUNCTION stripe.grant_admin_access(grantee regrole) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o record;
BEGIN
    PERFORM stripe._check_grantee(grantee);
    PERFORM stripe.grant_reader_access(grantee);
    -- Every function meant to be called (configuration, secrets going in, syncs, processing,
    -- these grants); none of them returns a secret or lets the caller choose where the key goes.
    FOR o IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
              WHERE p.pronamespace = 'stripe'::regnamespace AND p.proname !~ '^_'
              ORDER BY 1 LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', o.fn, grantee);
    END LOOP;
    EXECUTE format('GRANT EXECUTE ON FUNCTION stripe._manage_secrets() TO %s', grantee);
END
$$;
COMMENT ON FUNCTION stripe.grant_admin_access(regrole) IS
    'Lets a role configure djstripe_pg (key, webhook secrets), sync, process events, read the mirror '
    'and grant access. The key and secrets still never come back out, and stripe.* settings stay '
    'superuser-only.';

CREATE FUNCTION stripe.revoke_access(grantee regrole) RETURNS void
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

-- The functions that take secrets in are PUBLIC's, and refuse whoever may not manage secrets
-- (src/secrets.rs): Postgres' own refusal would log the statement, secret and all.
CREATE FUNCTION stripe._grant_self_checking() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fn regprocedure;
BEGIN
    FOREACH fn IN ARRAY stripe._self_checking() LOOP
        IF fn IS NOT NULL THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', fn);
        END IF;
    END LOOP;
END
$$;

-- Nothing else in stripe is PUBLIC's: a role needs one of the grants above. (sql/grants.sql
-- revokes functions created after this file.)
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA stripe FROM PUBLIC;
