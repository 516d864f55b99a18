-- djstripe_pg mirror tables, issuing group.
-- Issuing: cardholders, cards, authorizations, transactions, disputes.
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
-- issuing_cardholders
CREATE TABLE stripe.issuing_cardholders (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    name text GENERATED ALWAYS AS (data ->> 'name') STORED,
    email text GENERATED ALWAYS AS (data ->> 'email') STORED,
    phone_number text GENERATED ALWAYS AS (data ->> 'phone_number') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    billing_address_country text GENERATED ALWAYS AS (
        stripe.text_at(data, 'billing.address.country')) STORED,
    requirements_disabled_reason text GENERATED ALWAYS AS (
        stripe.text_at(data, 'requirements.disabled_reason')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
COMMENT ON TABLE stripe.issuing_cardholders IS
    'Stripe Issuing cardholders (object "issuing.cardholder"), one row per id.';
COMMENT ON COLUMN stripe.issuing_cardholders.data IS 'The whole Stripe cardholder object.';
COMMENT ON COLUMN stripe.issuing_cardholders.name IS 'data.name';
COMMENT ON COLUMN stripe.issuing_cardholders.email IS 'data.email';
COMMENT ON COLUMN stripe.issuing_cardholders.phone_number IS 'data.phone_number';
COMMENT ON COLUMN stripe.issuing_cardholders.status IS 'data.status: active, inactive or blocked';
COMMENT ON COLUMN stripe.issuing_cardholders.type IS 'data.type: individual or company';
COMMENT ON COLUMN stripe.issuing_cardholders.billing_address_country IS
    'data.billing.address.country';
COMMENT ON COLUMN stripe.issuing_cardholders.requirements_disabled_reason IS
    'data.requirements.disabled_reason';
COMMENT ON COLUMN stripe.issuing_cardholders.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.issuing_cardholders.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.issuing_cardholders.created IS 'data.created';
COMMENT ON COLUMN stripe.issuing_cardholders.deleted IS
    'data.deleted, normally false: Stripe keeps Issuing cardholders';
COMMENT ON COLUMN stripe.issuing_cardholders.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- issuing_cards
CREATE TABLE stripe.issuing_cards (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    cardholder text GENERATED ALWAYS AS (stripe.id_at(data, 'cardholder')) STORED,
    brand text GENERATED ALWAYS AS (data ->> 'brand') STORED,
    last4 text GENERATED ALWAYS AS (data ->> 'last4') STORED,
    exp_month integer GENERATED ALWAYS AS ((data ->> 'exp_month')::integer) STORED,
    exp_year integer GENERATED ALWAYS AS ((data ->> 'exp_year')::integer) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    cancellation_reason text GENERATED ALWAYS AS (data ->> 'cancellation_reason') STORED,
    replaced_by text GENERATED ALWAYS AS (stripe.id_at(data, 'replaced_by')) STORED,
    replacement_for text GENERATED ALWAYS AS (stripe.id_at(data, 'replacement_for')) STORED,
    replacement_reason text GENERATED ALWAYS AS (data ->> 'replacement_reason') STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX issuing_cards_cardholder_idx ON stripe.issuing_cards (cardholder);
CREATE INDEX issuing_cards_replaced_by_idx ON stripe.issuing_cards (replaced_by);
CREATE INDEX issuing_cards_replacement_for_idx ON stripe.issuing_cards (replacement_for);
COMMENT ON TABLE stripe.issuing_cards IS
    'Stripe Issuing cards (object "issuing.card"), one row per id.';
COMMENT ON COLUMN stripe.issuing_cards.data IS 'The whole Stripe issuing card object.';
COMMENT ON COLUMN stripe.issuing_cards.cardholder IS
    'data.cardholder, a cardholder id (joins stripe.issuing_cardholders)';
COMMENT ON COLUMN stripe.issuing_cards.brand IS 'data.brand';
COMMENT ON COLUMN stripe.issuing_cards.last4 IS 'data.last4';
COMMENT ON COLUMN stripe.issuing_cards.exp_month IS 'data.exp_month';
COMMENT ON COLUMN stripe.issuing_cards.exp_year IS 'data.exp_year';
COMMENT ON COLUMN stripe.issuing_cards.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.issuing_cards.status IS 'data.status: active, inactive or canceled';
COMMENT ON COLUMN stripe.issuing_cards.type IS 'data.type: physical or virtual';
COMMENT ON COLUMN stripe.issuing_cards.cancellation_reason IS 'data.cancellation_reason';
COMMENT ON COLUMN stripe.issuing_cards.replaced_by IS
    'data.replaced_by, an issuing card id (joins stripe.issuing_cards)';
COMMENT ON COLUMN stripe.issuing_cards.replacement_for IS
    'data.replacement_for, an issuing card id (joins stripe.issuing_cards)';
COMMENT ON COLUMN stripe.issuing_cards.replacement_reason IS 'data.replacement_reason';
COMMENT ON COLUMN stripe.issuing_cards.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.issuing_cards.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.issuing_cards.created IS 'data.created';
COMMENT ON COLUMN stripe.issuing_cards.deleted IS
    'data.deleted, normally false: Stripe keeps Issuing cards';
COMMENT ON COLUMN stripe.issuing_cards.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- issuing_authorizations
CREATE TABLE stripe.issuing_authorizations (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    card text GENERATED ALWAYS AS (stripe.id_at(data, 'card')) STORED,
    cardholder text GENERATED ALWAYS AS (stripe.id_at(data, 'cardholder')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    merchant_amount bigint GENERATED ALWAYS AS ((data ->> 'merchant_amount')::bigint) STORED,
    merchant_currency text GENERATED ALWAYS AS (data ->> 'merchant_currency') STORED,
    approved boolean GENERATED ALWAYS AS ((data ->> 'approved')::boolean) STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    authorization_method text GENERATED ALWAYS AS (data ->> 'authorization_method') STORED,
    merchant_data_name text GENERATED ALWAYS AS (
        stripe.text_at(data, 'merchant_data.name')) STORED,
    merchant_data_category text GENERATED ALWAYS AS (
        stripe.text_at(data, 'merchant_data.category')) STORED,
    merchant_data_country text GENERATED ALWAYS AS (
        stripe.text_at(data, 'merchant_data.country')) STORED,
    wallet text GENERATED ALWAYS AS (data ->> 'wallet') STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX issuing_authorizations_card_idx ON stripe.issuing_authorizations (card);
CREATE INDEX issuing_authorizations_cardholder_idx ON stripe.issuing_authorizations (cardholder);
CREATE INDEX issuing_authorizations_created_idx
    ON stripe.issuing_authorizations (created);
COMMENT ON TABLE stripe.issuing_authorizations IS
    'Stripe Issuing authorizations (object "issuing.authorization"), one row per id.';
COMMENT ON COLUMN stripe.issuing_authorizations.data IS
    'The whole Stripe issuing authorization object.';
COMMENT ON COLUMN stripe.issuing_authorizations.card IS
    'data.card, an issuing card id (joins stripe.issuing_cards)';
COMMENT ON COLUMN stripe.issuing_authorizations.cardholder IS
    'data.cardholder, a cardholder id (joins stripe.issuing_cardholders)';
COMMENT ON COLUMN stripe.issuing_authorizations.amount IS
    'data.amount, minor units of currency; in currency (the card currency)';
COMMENT ON COLUMN stripe.issuing_authorizations.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.issuing_authorizations.merchant_amount IS
    'data.merchant_amount, minor units of currency; in merchant_currency';
COMMENT ON COLUMN stripe.issuing_authorizations.merchant_currency IS
    'data.merchant_currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.issuing_authorizations.approved IS 'data.approved';
COMMENT ON COLUMN stripe.issuing_authorizations.status IS
    'data.status: pending, closed, expired or reversed';
COMMENT ON COLUMN stripe.issuing_authorizations.authorization_method IS 'data.authorization_method';
COMMENT ON COLUMN stripe.issuing_authorizations.merchant_data_name IS 'data.merchant_data.name';
COMMENT ON COLUMN stripe.issuing_authorizations.merchant_data_category IS
    'data.merchant_data.category';
COMMENT ON COLUMN stripe.issuing_authorizations.merchant_data_country IS
    'data.merchant_data.country';
COMMENT ON COLUMN stripe.issuing_authorizations.wallet IS 'data.wallet';
COMMENT ON COLUMN stripe.issuing_authorizations.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.issuing_authorizations.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.issuing_authorizations.created IS 'data.created';
COMMENT ON COLUMN stripe.issuing_authorizations.deleted IS
    'data.deleted, normally false: Stripe keeps Issuing authorizations';
COMMENT ON COLUMN stripe.issuing_authorizations.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- issuing_transactions
CREATE TABLE stripe.issuing_transactions (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    "authorization" text GENERATED ALWAYS AS (stripe.id_at(data, 'authorization')) STORED,
    card text GENERATED ALWAYS AS (stripe.id_at(data, 'card')) STORED,
    cardholder text GENERATED ALWAYS AS (stripe.id_at(data, 'cardholder')) STORED,
    balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'balance_transaction')) STORED,
    dispute text GENERATED ALWAYS AS (stripe.id_at(data, 'dispute')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    merchant_amount bigint GENERATED ALWAYS AS ((data ->> 'merchant_amount')::bigint) STORED,
    merchant_currency text GENERATED ALWAYS AS (data ->> 'merchant_currency') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    wallet text GENERATED ALWAYS AS (data ->> 'wallet') STORED,
    merchant_data_name text GENERATED ALWAYS AS (
        stripe.text_at(data, 'merchant_data.name')) STORED,
    merchant_data_category text GENERATED ALWAYS AS (
        stripe.text_at(data, 'merchant_data.category')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX issuing_transactions_authorization_idx
    ON stripe.issuing_transactions ("authorization");
CREATE INDEX issuing_transactions_card_idx ON stripe.issuing_transactions (card);
CREATE INDEX issuing_transactions_cardholder_idx ON stripe.issuing_transactions (cardholder);
CREATE INDEX issuing_transactions_balance_transaction_idx
    ON stripe.issuing_transactions (balance_transaction);
CREATE INDEX issuing_transactions_dispute_idx ON stripe.issuing_transactions (dispute);
CREATE INDEX issuing_transactions_created_idx
    ON stripe.issuing_transactions (created);
COMMENT ON TABLE stripe.issuing_transactions IS
    'Stripe Issuing transactions (object "issuing.transaction"), one row per id.';
COMMENT ON COLUMN stripe.issuing_transactions.data IS
    'The whole Stripe issuing transaction object.';
COMMENT ON COLUMN stripe.issuing_transactions."authorization" IS
    'data.authorization, an issuing authorization id (joins stripe.issuing_authorizations)';
COMMENT ON COLUMN stripe.issuing_transactions.card IS
    'data.card, an issuing card id (joins stripe.issuing_cards)';
COMMENT ON COLUMN stripe.issuing_transactions.cardholder IS
    'data.cardholder, a cardholder id (joins stripe.issuing_cardholders)';
COMMENT ON COLUMN stripe.issuing_transactions.balance_transaction IS
    'data.balance_transaction, a balance transaction id (joins stripe.balance_transactions)';
COMMENT ON COLUMN stripe.issuing_transactions.dispute IS
    'data.dispute, an issuing dispute id (joins stripe.issuing_disputes)';
COMMENT ON COLUMN stripe.issuing_transactions.amount IS
    'data.amount, minor units of currency; in currency (the card currency); negative for captures';
COMMENT ON COLUMN stripe.issuing_transactions.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.issuing_transactions.merchant_amount IS
    'data.merchant_amount, minor units of currency; in merchant_currency';
COMMENT ON COLUMN stripe.issuing_transactions.merchant_currency IS
    'data.merchant_currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.issuing_transactions.type IS 'data.type: capture or refund';
COMMENT ON COLUMN stripe.issuing_transactions.wallet IS 'data.wallet';
COMMENT ON COLUMN stripe.issuing_transactions.merchant_data_name IS 'data.merchant_data.name';
COMMENT ON COLUMN stripe.issuing_transactions.merchant_data_category IS
    'data.merchant_data.category';
COMMENT ON COLUMN stripe.issuing_transactions.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.issuing_transactions.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.issuing_transactions.created IS 'data.created';
COMMENT ON COLUMN stripe.issuing_transactions.deleted IS
    'data.deleted, normally false: Stripe keeps Issuing transactions';
COMMENT ON COLUMN stripe.issuing_transactions.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- issuing_disputes
CREATE TABLE stripe.issuing_disputes (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    transaction text GENERATED ALWAYS AS (stripe.id_at(data, 'transaction')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    evidence_reason text GENERATED ALWAYS AS (stripe.text_at(data, 'evidence.reason')) STORED,
    loss_reason text GENERATED ALWAYS AS (data ->> 'loss_reason') STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX issuing_disputes_transaction_idx ON stripe.issuing_disputes (transaction);
COMMENT ON TABLE stripe.issuing_disputes IS
    'Stripe Issuing disputes (object "issuing.dispute"), one row per id.';
COMMENT ON COLUMN stripe.issuing_disputes.data IS 'The whole Stripe issuing dispute object.';
COMMENT ON COLUMN stripe.issuing_disputes.transaction IS
    'data.transaction, an issuing transaction id (joins stripe.issuing_transactions)';
COMMENT ON COLUMN stripe.issuing_disputes.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.issuing_disputes.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.issuing_disputes.status IS
    'data.status: unsubmitted, submitted, won, lost or expired';
COMMENT ON COLUMN stripe.issuing_disputes.evidence_reason IS 'data.evidence.reason';
COMMENT ON COLUMN stripe.issuing_disputes.loss_reason IS 'data.loss_reason';
COMMENT ON COLUMN stripe.issuing_disputes.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.issuing_disputes.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.issuing_disputes.created IS 'data.created';
COMMENT ON COLUMN stripe.issuing_disputes.deleted IS
    'data.deleted, normally false: Stripe keeps Issuing disputes';
COMMENT ON COLUMN stripe.issuing_disputes.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- Keep mirror data in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.issuing_cardholders', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.issuing_cards', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.issuing_authorizations', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.issuing_transactions', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.issuing_disputes', '');
