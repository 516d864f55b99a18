-- djstripe_pg: configuration functions. Secrets go in through these and never come back out:
-- no function returns a key or a webhook secret, and errors never echo them.

CREATE FUNCTION stripe.set_api_key(key text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Stripe secret keys are sk_… (secret) or rk_… (restricted); publishable keys (pk_…) cannot
    -- read the API. The message names the prefix only, never the key.
    IF key IS NULL OR key !~ '^(sk|rk)_(test|live)_[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION 'stripe.set_api_key: not a Stripe secret key'
            USING ERRCODE = '22023',
                  HINT = 'Use a secret key (sk_test_…, sk_live_…) or a restricted key (rk_…) from the Stripe dashboard.';
    END IF;
    INSERT INTO stripe._api_key (singleton, api_key) VALUES (true, key)
    ON CONFLICT (singleton) DO UPDATE SET api_key = excluded.api_key, set_at = now();
END
$$;
COMMENT ON FUNCTION stripe.set_api_key(text) IS
    'Stores the Stripe secret key used by stripe.sync. Readable by no role but the extension owner.';

CREATE FUNCTION stripe.add_webhook_secret(secret text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF secret IS NULL OR secret !~ '^whsec_[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION 'stripe.add_webhook_secret: not a webhook signing secret'
            USING ERRCODE = '22023',
                  HINT = 'Signing secrets start with whsec_; copy it from the webhook endpoint or `stripe listen`.';
    END IF;
    INSERT INTO stripe._webhook_secrets (secret) VALUES (secret) ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION stripe.add_webhook_secret(text) IS
    'Adds a webhook signing secret; several may be active at once (rotation).';

CREATE FUNCTION stripe.remove_webhook_secret(secret text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (DELETE FROM stripe._webhook_secrets s WHERE s.secret = $1 RETURNING 1)
    SELECT count(*) > 0 FROM gone
$$;
COMMENT ON FUNCTION stripe.remove_webhook_secret(text) IS
    'Removes a webhook signing secret; returns whether it was configured.';

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
      FROM (SELECT NULL) AS one LEFT JOIN stripe._api_key k ON true
    UNION ALL
    SELECT 'webhook_secrets', count(*)::text || ' configured' FROM stripe._webhook_secrets
    UNION ALL
    SELECT s.name::text, s.setting FROM pg_settings s WHERE s.name LIKE 'stripe.%';
END
$$;
COMMENT ON FUNCTION stripe.config() IS
    'The effective configuration; the key shows only its mode (sk_test_/sk_live_), never its secret part.';
