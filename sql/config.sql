-- djstripe_pg: configuration functions. Secrets go in through these and never come back out:
-- no function returns a key or a webhook secret, and errors never echo them.

-- stripe.set_api_key(text), stripe.add_webhook_secret(text) and
-- stripe.remove_webhook_secret(text) are in src/secrets.rs: executable by everyone, they check
-- the caller themselves with statement logging off, so that no refused or mistyped call writes
-- its secret to the server log. Who may call them is who may execute this marker:
CREATE FUNCTION stripe._manage_secrets() RETURNS void
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT NULL::void $$;
COMMENT ON FUNCTION stripe._manage_secrets() IS
    'Does nothing: EXECUTE on it is the privilege to set the API key and webhook secrets '
    '(stripe.grant_admin_access gives it).';

-- The functions above, which PUBLIC may execute because they check the caller themselves.
CREATE FUNCTION stripe._self_checking() RETURNS regprocedure[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY[to_regprocedure('stripe.set_api_key(text)'),
                 to_regprocedure('stripe.add_webhook_secret(text)'),
                 to_regprocedure('stripe.remove_webhook_secret(text)')]
$$;

-- What is configured, without revealing it: safe for any role that may see it.
CREATE FUNCTION stripe.config() RETURNS TABLE (setting text, value text)
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
COMMENT ON FUNCTION stripe.config() IS
    'The effective configuration; the key shows only its mode (sk_test_/sk_live_), never its secret part.';
