-- djstripe_pg: the mirror's tables. Read this file to learn the schema.
--
-- Every mirror table has the same shape:
--   id            Stripe's id, the primary key
--   data          the whole Stripe object as jsonb, exactly as the API or the event delivered it
--                 (a deleted object keeps its last state plus "deleted": true)
--   typed columns generated from data, named as Stripe names them (nested fields joined by _);
--                 amounts are integer minor units, timestamps timestamptz
--   synced_at     when djstripe_pg last wrote the row (wall clock)
--   synced_from   what wrote it: 'sync' or the id of the event applied
--   stripe_as_of  the Stripe time the data reflects: the event's created time, or the moment a
--                 sync fetched the page. An event older than this never overwrites the row.

-- Settings that must not be readable by anyone but the extension owner. Revoked from PUBLIC in
-- grants.sql; reached only through SECURITY DEFINER functions.
CREATE TABLE stripe._api_key (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    api_key text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stripe._api_key IS
    'The Stripe secret key (stripe.set_api_key). Readable only by the extension owner.';

CREATE TABLE stripe._webhook_secrets (
    secret text PRIMARY KEY,
    added_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stripe._webhook_secrets IS
    'Webhook signing secrets (stripe.add_webhook_secret); a signature valid for any one passes.';

-- ---------------------------------------------------------------------------------------------
-- customers
CREATE TABLE stripe.customers (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    email text GENERATED ALWAYS AS (data ->> 'email') STORED,
    name text GENERATED ALWAYS AS (data ->> 'name') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    phone text GENERATED ALWAYS AS (data ->> 'phone') STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    balance bigint GENERATED ALWAYS AS ((data ->> 'balance')::bigint) STORED,
    delinquent boolean GENERATED ALWAYS AS ((data ->> 'delinquent')::boolean) STORED,
    default_source text GENERATED ALWAYS AS (
        coalesce(data -> 'default_source' ->> 'id', data ->> 'default_source')) STORED,
    invoice_settings_default_payment_method text GENERATED ALWAYS AS (
        coalesce(data -> 'invoice_settings' -> 'default_payment_method' ->> 'id',
                 data -> 'invoice_settings' ->> 'default_payment_method')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (to_timestamp((data ->> 'created')::double precision)) STORED,
    deleted boolean GENERATED ALWAYS AS (coalesce((data ->> 'deleted')::boolean, false)) STORED,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX customers_email_idx ON stripe.customers (lower(email));
CREATE INDEX customers_created_idx ON stripe.customers (created);
COMMENT ON TABLE stripe.customers IS 'Stripe customers (object "customer"), one row per id.';
COMMENT ON COLUMN stripe.customers.data IS 'The whole Stripe customer object.';
COMMENT ON COLUMN stripe.customers.email IS 'data.email';
COMMENT ON COLUMN stripe.customers.balance IS 'data.balance, minor units of currency';
COMMENT ON COLUMN stripe.customers.deleted IS 'true once Stripe deleted the customer';
COMMENT ON COLUMN stripe.customers.stripe_as_of IS 'Stripe time the data reflects (event created, or sync fetch time)';

-- ---------------------------------------------------------------------------------------------
-- products
CREATE TABLE stripe.products (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    name text GENERATED ALWAYS AS (data ->> 'name') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    active boolean GENERATED ALWAYS AS ((data ->> 'active')::boolean) STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    default_price text GENERATED ALWAYS AS (
        coalesce(data -> 'default_price' ->> 'id', data ->> 'default_price')) STORED,
    unit_label text GENERATED ALWAYS AS (data ->> 'unit_label') STORED,
    tax_code text GENERATED ALWAYS AS (
        coalesce(data -> 'tax_code' ->> 'id', data ->> 'tax_code')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (to_timestamp((data ->> 'created')::double precision)) STORED,
    updated timestamptz GENERATED ALWAYS AS (to_timestamp((data ->> 'updated')::double precision)) STORED,
    deleted boolean GENERATED ALWAYS AS (coalesce((data ->> 'deleted')::boolean, false)) STORED,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX products_default_price_idx ON stripe.products (default_price);
COMMENT ON TABLE stripe.products IS 'Stripe products (object "product").';
COMMENT ON COLUMN stripe.products.data IS 'The whole Stripe product object.';
COMMENT ON COLUMN stripe.products.active IS 'data.active: whether the product is available for purchase';
COMMENT ON COLUMN stripe.products.default_price IS 'data.default_price, a price id (joins stripe.prices)';
COMMENT ON COLUMN stripe.products.deleted IS 'true once Stripe deleted the product';

-- ---------------------------------------------------------------------------------------------
-- prices
CREATE TABLE stripe.prices (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    product text GENERATED ALWAYS AS (
        coalesce(data -> 'product' ->> 'id', data ->> 'product')) STORED,
    active boolean GENERATED ALWAYS AS ((data ->> 'active')::boolean) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    unit_amount bigint GENERATED ALWAYS AS ((data ->> 'unit_amount')::bigint) STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    billing_scheme text GENERATED ALWAYS AS (data ->> 'billing_scheme') STORED,
    recurring_interval text GENERATED ALWAYS AS (data -> 'recurring' ->> 'interval') STORED,
    recurring_interval_count integer GENERATED ALWAYS AS (
        (data -> 'recurring' ->> 'interval_count')::integer) STORED,
    recurring_usage_type text GENERATED ALWAYS AS (data -> 'recurring' ->> 'usage_type') STORED,
    lookup_key text GENERATED ALWAYS AS (data ->> 'lookup_key') STORED,
    nickname text GENERATED ALWAYS AS (data ->> 'nickname') STORED,
    tax_behavior text GENERATED ALWAYS AS (data ->> 'tax_behavior') STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (to_timestamp((data ->> 'created')::double precision)) STORED,
    deleted boolean GENERATED ALWAYS AS (coalesce((data ->> 'deleted')::boolean, false)) STORED,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX prices_product_idx ON stripe.prices (product);
CREATE INDEX prices_lookup_key_idx ON stripe.prices (lookup_key) WHERE lookup_key IS NOT NULL;
COMMENT ON TABLE stripe.prices IS 'Stripe prices (object "price").';
COMMENT ON COLUMN stripe.prices.data IS 'The whole Stripe price object.';
COMMENT ON COLUMN stripe.prices.product IS 'data.product, a product id (joins stripe.products)';
COMMENT ON COLUMN stripe.prices.unit_amount IS 'data.unit_amount, minor units of currency';
COMMENT ON COLUMN stripe.prices.recurring_interval IS 'data.recurring.interval: day, week, month or year; null for one-time prices';

-- ---------------------------------------------------------------------------------------------
-- events: every event ingested, once
CREATE TABLE stripe.events (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    api_version text GENERATED ALWAYS AS (data ->> 'api_version') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (to_timestamp((data ->> 'created')::double precision)) STORED,
    object_type text GENERATED ALWAYS AS (data -> 'data' -> 'object' ->> 'object') STORED,
    object_id text GENERATED ALWAYS AS (data -> 'data' -> 'object' ->> 'id') STORED,
    status text NOT NULL CHECK (status IN ('applied', 'stale', 'ignored')),
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    processed_at timestamptz
);
CREATE INDEX events_object_idx ON stripe.events (object_id, created);
CREATE INDEX events_type_created_idx ON stripe.events (type, created);
COMMENT ON TABLE stripe.events IS 'Every Stripe event ingested, once (primary key = event id).';
COMMENT ON COLUMN stripe.events.data IS 'The whole event as delivered.';
COMMENT ON COLUMN stripe.events.status IS
    'applied: data.object written to its table; stale: the row already reflected newer data; '
    'ignored: an object type the mirror does not keep';

-- ---------------------------------------------------------------------------------------------
-- sync bookkeeping: one row per object type, updated when a sync commits
CREATE TABLE stripe.sync_runs (
    object_type text PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    objects bigint NOT NULL DEFAULT 0,
    pages integer NOT NULL DEFAULT 0,
    marked_deleted bigint NOT NULL DEFAULT 0,
    since timestamptz
);
COMMENT ON TABLE stripe.sync_runs IS 'The last completed stripe.sync of each object type.';

-- Keep mirror data and configuration in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.customers', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.products', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.prices', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.events', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.sync_runs', '');
SELECT pg_catalog.pg_extension_config_dump('stripe._api_key', '');
SELECT pg_catalog.pg_extension_config_dump('stripe._webhook_secrets', '');
