-- djstripe_pg mirror tables, checkout group.
-- Checkout: sessions and their line items.
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
-- checkout_sessions
CREATE TABLE stripe.checkout_sessions (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    payment_intent text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_intent')) STORED,
    setup_intent text GENERATED ALWAYS AS (stripe.id_at(data, 'setup_intent')) STORED,
    subscription text GENERATED ALWAYS AS (stripe.id_at(data, 'subscription')) STORED,
    invoice text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice')) STORED,
    payment_link text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_link')) STORED,
    recovered_from text GENERATED ALWAYS AS (stripe.id_at(data, 'recovered_from')) STORED,
    mode text GENERATED ALWAYS AS (data ->> 'mode') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    payment_status text GENERATED ALWAYS AS (data ->> 'payment_status') STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    amount_subtotal bigint GENERATED ALWAYS AS ((data ->> 'amount_subtotal')::bigint) STORED,
    amount_total bigint GENERATED ALWAYS AS ((data ->> 'amount_total')::bigint) STORED,
    total_details_amount_discount bigint GENERATED ALWAYS AS (
        stripe.text_at(data, 'total_details.amount_discount')::bigint) STORED,
    total_details_amount_tax bigint GENERATED ALWAYS AS (
        stripe.text_at(data, 'total_details.amount_tax')::bigint) STORED,
    customer_email text GENERATED ALWAYS AS (data ->> 'customer_email') STORED,
    customer_details_email text GENERATED ALWAYS AS (
        stripe.text_at(data, 'customer_details.email')) STORED,
    customer_details_name text GENERATED ALWAYS AS (
        stripe.text_at(data, 'customer_details.name')) STORED,
    client_reference_id text GENERATED ALWAYS AS (data ->> 'client_reference_id') STORED,
    expires_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'expires_at')) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX checkout_sessions_customer_idx ON stripe.checkout_sessions (customer);
CREATE INDEX checkout_sessions_payment_intent_idx ON stripe.checkout_sessions (payment_intent);
CREATE INDEX checkout_sessions_setup_intent_idx ON stripe.checkout_sessions (setup_intent);
CREATE INDEX checkout_sessions_subscription_idx ON stripe.checkout_sessions (subscription);
CREATE INDEX checkout_sessions_invoice_idx ON stripe.checkout_sessions (invoice);
CREATE INDEX checkout_sessions_payment_link_idx ON stripe.checkout_sessions (payment_link);
CREATE INDEX checkout_sessions_recovered_from_idx ON stripe.checkout_sessions (recovered_from);
CREATE INDEX checkout_sessions_client_reference_id_idx
    ON stripe.checkout_sessions (client_reference_id);
CREATE INDEX checkout_sessions_created_idx ON stripe.checkout_sessions (created);
COMMENT ON TABLE stripe.checkout_sessions IS
    'Stripe Checkout Sessions (object "checkout.session"), one row per id.';
COMMENT ON COLUMN stripe.checkout_sessions.data IS 'The whole Stripe Checkout Session object.';
COMMENT ON COLUMN stripe.checkout_sessions.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.checkout_sessions.payment_intent IS
    'data.payment_intent, a PaymentIntent id (joins stripe.payment_intents)';
COMMENT ON COLUMN stripe.checkout_sessions.setup_intent IS
    'data.setup_intent, a SetupIntent id (joins stripe.setup_intents)';
COMMENT ON COLUMN stripe.checkout_sessions.subscription IS
    'data.subscription, a subscription id (joins stripe.subscriptions)';
COMMENT ON COLUMN stripe.checkout_sessions.invoice IS
    'data.invoice, an invoice id (joins stripe.invoices)';
COMMENT ON COLUMN stripe.checkout_sessions.payment_link IS
    'data.payment_link: a payment link id (plink_...)';
COMMENT ON COLUMN stripe.checkout_sessions.recovered_from IS
    'data.recovered_from, a Checkout Session id (joins stripe.checkout_sessions); the expired '
    'session this one recovers';
COMMENT ON COLUMN stripe.checkout_sessions.mode IS 'data.mode: payment, setup or subscription';
COMMENT ON COLUMN stripe.checkout_sessions.status IS 'data.status: open, complete or expired';
COMMENT ON COLUMN stripe.checkout_sessions.payment_status IS
    'data.payment_status: paid, unpaid or no_payment_required';
COMMENT ON COLUMN stripe.checkout_sessions.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.checkout_sessions.amount_subtotal IS
    'data.amount_subtotal, minor units of currency';
COMMENT ON COLUMN stripe.checkout_sessions.amount_total IS
    'data.amount_total, minor units of currency';
COMMENT ON COLUMN stripe.checkout_sessions.total_details_amount_discount IS
    'data.total_details.amount_discount, minor units of currency';
COMMENT ON COLUMN stripe.checkout_sessions.total_details_amount_tax IS
    'data.total_details.amount_tax, minor units of currency';
COMMENT ON COLUMN stripe.checkout_sessions.customer_email IS 'data.customer_email';
COMMENT ON COLUMN stripe.checkout_sessions.customer_details_email IS 'data.customer_details.email';
COMMENT ON COLUMN stripe.checkout_sessions.customer_details_name IS 'data.customer_details.name';
COMMENT ON COLUMN stripe.checkout_sessions.client_reference_id IS 'data.client_reference_id';
COMMENT ON COLUMN stripe.checkout_sessions.expires_at IS 'data.expires_at';
COMMENT ON COLUMN stripe.checkout_sessions.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.checkout_sessions.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.checkout_sessions.created IS 'data.created';
COMMENT ON COLUMN stripe.checkout_sessions.deleted IS
    'data.deleted, normally false: Stripe keeps Checkout Sessions';
COMMENT ON COLUMN stripe.checkout_sessions.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- checkout_session_line_items
CREATE TABLE stripe.checkout_session_line_items (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    checkout_session text NOT NULL,
    price text GENERATED ALWAYS AS (stripe.id_at(data, 'price')) STORED,
    product text GENERATED ALWAYS AS (stripe.id_at(data, 'price.product')) STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    quantity integer GENERATED ALWAYS AS ((data ->> 'quantity')::integer) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    amount_subtotal bigint GENERATED ALWAYS AS ((data ->> 'amount_subtotal')::bigint) STORED,
    amount_discount bigint GENERATED ALWAYS AS ((data ->> 'amount_discount')::bigint) STORED,
    amount_tax bigint GENERATED ALWAYS AS ((data ->> 'amount_tax')::bigint) STORED,
    amount_total bigint GENERATED ALWAYS AS ((data ->> 'amount_total')::bigint) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX checkout_session_line_items_checkout_session_idx
    ON stripe.checkout_session_line_items (checkout_session);
CREATE INDEX checkout_session_line_items_price_idx ON stripe.checkout_session_line_items (price);
CREATE INDEX checkout_session_line_items_product_idx
    ON stripe.checkout_session_line_items (product);
COMMENT ON TABLE stripe.checkout_session_line_items IS
    'Stripe Checkout Session line items (object "item"), one row per id; checkout_session links '
    'each to its Checkout Session in stripe.checkout_sessions.';
COMMENT ON COLUMN stripe.checkout_session_line_items.data IS
    'The whole Stripe Checkout Session line item object.';
COMMENT ON COLUMN stripe.checkout_session_line_items.checkout_session IS
    'The parent Checkout Session id (joins stripe.checkout_sessions), set by the extension';
COMMENT ON COLUMN stripe.checkout_session_line_items.price IS
    'data.price, a price id (joins stripe.prices)';
COMMENT ON COLUMN stripe.checkout_session_line_items.product IS
    'data.price.product, a product id (joins stripe.products)';
COMMENT ON COLUMN stripe.checkout_session_line_items.description IS 'data.description';
COMMENT ON COLUMN stripe.checkout_session_line_items.quantity IS 'data.quantity';
COMMENT ON COLUMN stripe.checkout_session_line_items.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.checkout_session_line_items.amount_subtotal IS
    'data.amount_subtotal, minor units of currency';
COMMENT ON COLUMN stripe.checkout_session_line_items.amount_discount IS
    'data.amount_discount, minor units of currency';
COMMENT ON COLUMN stripe.checkout_session_line_items.amount_tax IS
    'data.amount_tax, minor units of currency';
COMMENT ON COLUMN stripe.checkout_session_line_items.amount_total IS
    'data.amount_total, minor units of currency';
COMMENT ON COLUMN stripe.checkout_session_line_items.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.checkout_session_line_items.deleted IS
    'data.deleted, normally false: Stripe keeps Checkout Session line items';
COMMENT ON COLUMN stripe.checkout_session_line_items.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- Keep mirror data in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.checkout_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.checkout_session_line_items', '');
