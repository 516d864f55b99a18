-- djstripe_pg: privileges. Secrets are the extension owner's alone; everything that touches
-- them or the network is granted explicitly, never to PUBLIC by default.

REVOKE ALL ON stripe._api_key, stripe._webhook_secrets FROM PUBLIC;

REVOKE EXECUTE ON FUNCTION stripe.set_api_key(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stripe.add_webhook_secret(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stripe.remove_webhook_secret(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stripe.config() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stripe.sync(text, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stripe.sync_all(timestamptz) FROM PUBLIC;
-- Safe for any role that is given it: it does nothing without a valid Stripe signature.
-- Still not PUBLIC: grant it to the role your webhook endpoint runs as.
REVOKE EXECUTE ON FUNCTION stripe.ingest_webhook(text, text) FROM PUBLIC;

-- The mirror itself is readable by whoever the owner grants; nothing is granted by default.
