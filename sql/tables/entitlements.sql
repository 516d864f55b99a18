-- djstripe_pg mirror tables, entitlements group.
-- Entitlements: features attached to products, and what customers are entitled to.
--
-- Every table here has the shape described at the top of sql/schema.sql:
--   id, data            Stripe's id (primary key) and the whole object as jsonb
--   <parent column>     child types only: the parent's id, set by the extension
--   typed columns       generated from data, named as Stripe names them (nested fields joined
--                       by _); ids of other objects are text (expanded or not), amounts bigint
--                       minor units, timestamps timestamptz. Where Stripe moved a field between
--                       API versions the column reads both places, so either version fills it.
--   metadata, livemode, created   where the object has them; deleted always
--   account_id          the Connect account the object belongs to (NULL: the platform's own)
--   synced_at, synced_from, stripe_as_of   bookkeeping, see sql/schema.sql

-- ---------------------------------------------------------------------------------------------
-- product_features
CREATE TABLE stripe.product_features (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    product text NOT NULL,
    entitlement_feature text GENERATED ALWAYS AS (
        stripe.id_at(data, 'entitlement_feature')) STORED,
    entitlement_feature_lookup_key text GENERATED ALWAYS AS (
        stripe.text_at(data, 'entitlement_feature.lookup_key')) STORED,
    entitlement_feature_name text GENERATED ALWAYS AS (
        stripe.text_at(data, 'entitlement_feature.name')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX product_features_product_idx ON stripe.product_features (product);
CREATE INDEX product_features_entitlement_feature_idx
    ON stripe.product_features (entitlement_feature);
COMMENT ON TABLE stripe.product_features IS
    'Features attached to products (object "product_feature"), one row per id; product links '
    'each to its product in stripe.products.';
COMMENT ON COLUMN stripe.product_features.data IS 'The whole Stripe product feature object.';
COMMENT ON COLUMN stripe.product_features.product IS
    'The parent product id (joins stripe.products), set by the extension';
COMMENT ON COLUMN stripe.product_features.entitlement_feature IS
    'data.entitlement_feature, an entitlement feature id (joins stripe.entitlements_features)';
COMMENT ON COLUMN stripe.product_features.entitlement_feature_lookup_key IS
    'data.entitlement_feature.lookup_key';
COMMENT ON COLUMN stripe.product_features.entitlement_feature_name IS
    'data.entitlement_feature.name';
COMMENT ON COLUMN stripe.product_features.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.product_features.deleted IS 'true once Stripe deleted the product feature';
COMMENT ON COLUMN stripe.product_features.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- active_entitlements
CREATE TABLE stripe.active_entitlements (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text NOT NULL,
    feature text GENERATED ALWAYS AS (stripe.id_at(data, 'feature')) STORED,
    lookup_key text GENERATED ALWAYS AS (data ->> 'lookup_key') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX active_entitlements_customer_idx ON stripe.active_entitlements (customer);
CREATE INDEX active_entitlements_feature_idx ON stripe.active_entitlements (feature);
CREATE INDEX active_entitlements_lookup_key_idx ON stripe.active_entitlements (lookup_key);
COMMENT ON TABLE stripe.active_entitlements IS
    'Features a customer is currently entitled to (object "entitlements.active_entitlement"), '
    'one row per id; customer links each to its customer in stripe.customers.';
COMMENT ON COLUMN stripe.active_entitlements.data IS 'The whole Stripe active entitlement object.';
COMMENT ON COLUMN stripe.active_entitlements.customer IS
    'The parent customer id (joins stripe.customers), set by the extension';
COMMENT ON COLUMN stripe.active_entitlements.feature IS
    'data.feature, an entitlement feature id (joins stripe.entitlements_features)';
COMMENT ON COLUMN stripe.active_entitlements.lookup_key IS 'data.lookup_key';
COMMENT ON COLUMN stripe.active_entitlements.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.active_entitlements.deleted IS
    'true once Stripe deleted the active entitlement';
COMMENT ON COLUMN stripe.active_entitlements.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- Keep mirror data in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.product_features', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.active_entitlements', '');
