-- djstripe_pg mirror tables, connect group.
-- Connect: application fees, transfers, connected accounts' payout destinations.
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
-- application_fees
CREATE TABLE stripe.application_fees (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    account text GENERATED ALWAYS AS (stripe.id_at(data, 'account')) STORED,
    charge text GENERATED ALWAYS AS (stripe.id_at(data, 'charge')) STORED,
    balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'balance_transaction')) STORED,
    originating_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'originating_transaction')) STORED,
    application text GENERATED ALWAYS AS (stripe.id_at(data, 'application')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    amount_refunded bigint GENERATED ALWAYS AS ((data ->> 'amount_refunded')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    refunded boolean GENERATED ALWAYS AS ((data ->> 'refunded')::boolean) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX application_fees_account_idx ON stripe.application_fees (account);
CREATE INDEX application_fees_charge_idx ON stripe.application_fees (charge);
CREATE INDEX application_fees_balance_transaction_idx
    ON stripe.application_fees (balance_transaction);
CREATE INDEX application_fees_originating_transaction_idx
    ON stripe.application_fees (originating_transaction);
CREATE INDEX application_fees_application_idx ON stripe.application_fees (application);
COMMENT ON TABLE stripe.application_fees IS
    'Stripe application fees (object "application_fee"), one row per id.';
COMMENT ON COLUMN stripe.application_fees.data IS 'The whole Stripe application fee object.';
COMMENT ON COLUMN stripe.application_fees.account IS
    'data.account, an account id (joins stripe.accounts); the connected account charged the fee';
COMMENT ON COLUMN stripe.application_fees.charge IS
    'data.charge, a charge id (joins stripe.charges); the charge on the connected account';
COMMENT ON COLUMN stripe.application_fees.balance_transaction IS
    'data.balance_transaction, a balance transaction id (joins stripe.balance_transactions)';
COMMENT ON COLUMN stripe.application_fees.originating_transaction IS
    'data.originating_transaction, a charge id (joins stripe.charges)';
COMMENT ON COLUMN stripe.application_fees.application IS
    'data.application: the Connect application id (ca_...)';
COMMENT ON COLUMN stripe.application_fees.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.application_fees.amount_refunded IS
    'data.amount_refunded, minor units of currency';
COMMENT ON COLUMN stripe.application_fees.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.application_fees.refunded IS
    'data.refunded: true only when fully refunded';
COMMENT ON COLUMN stripe.application_fees.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.application_fees.created IS 'data.created';
COMMENT ON COLUMN stripe.application_fees.deleted IS
    'data.deleted, normally false: Stripe keeps application fees';
COMMENT ON COLUMN stripe.application_fees.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- application_fee_refunds
CREATE TABLE stripe.application_fee_refunds (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    fee text,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'balance_transaction')) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX application_fee_refunds_fee_idx ON stripe.application_fee_refunds (fee);
CREATE INDEX application_fee_refunds_balance_transaction_idx
    ON stripe.application_fee_refunds (balance_transaction);
COMMENT ON TABLE stripe.application_fee_refunds IS
    'Stripe application fee refunds (object "fee_refund"), one row per id; fee links each to '
    'its application fee in stripe.application_fees.';
COMMENT ON COLUMN stripe.application_fee_refunds.data IS
    'The whole Stripe application fee refund object.';
COMMENT ON COLUMN stripe.application_fee_refunds.fee IS
    'The parent application fee id (joins stripe.application_fees), set by the extension';
COMMENT ON COLUMN stripe.application_fee_refunds.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.application_fee_refunds.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.application_fee_refunds.balance_transaction IS
    'data.balance_transaction, a balance transaction id (joins stripe.balance_transactions)';
COMMENT ON COLUMN stripe.application_fee_refunds.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.application_fee_refunds.created IS 'data.created';
COMMENT ON COLUMN stripe.application_fee_refunds.deleted IS
    'data.deleted, normally false: Stripe keeps application fee refunds';
COMMENT ON COLUMN stripe.application_fee_refunds.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- transfers
CREATE TABLE stripe.transfers (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    destination text GENERATED ALWAYS AS (stripe.id_at(data, 'destination')) STORED,
    destination_payment text GENERATED ALWAYS AS (
        stripe.id_at(data, 'destination_payment')) STORED,
    balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'balance_transaction')) STORED,
    source_transaction text GENERATED ALWAYS AS (stripe.id_at(data, 'source_transaction')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    amount_reversed bigint GENERATED ALWAYS AS ((data ->> 'amount_reversed')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    reversed boolean GENERATED ALWAYS AS ((data ->> 'reversed')::boolean) STORED,
    source_type text GENERATED ALWAYS AS (data ->> 'source_type') STORED,
    transfer_group text GENERATED ALWAYS AS (data ->> 'transfer_group') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX transfers_destination_idx ON stripe.transfers (destination);
CREATE INDEX transfers_destination_payment_idx ON stripe.transfers (destination_payment);
CREATE INDEX transfers_balance_transaction_idx ON stripe.transfers (balance_transaction);
CREATE INDEX transfers_source_transaction_idx ON stripe.transfers (source_transaction);
CREATE INDEX transfers_transfer_group_idx ON stripe.transfers (transfer_group);
COMMENT ON TABLE stripe.transfers IS 'Stripe transfers (object "transfer"), one row per id.';
COMMENT ON COLUMN stripe.transfers.data IS 'The whole Stripe transfer object.';
COMMENT ON COLUMN stripe.transfers.destination IS
    'data.destination, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.transfers.destination_payment IS
    'data.destination_payment: the payment (py_...) created on the destination account';
COMMENT ON COLUMN stripe.transfers.balance_transaction IS
    'data.balance_transaction, a balance transaction id (joins stripe.balance_transactions)';
COMMENT ON COLUMN stripe.transfers.source_transaction IS
    'data.source_transaction, a charge id (joins stripe.charges)';
COMMENT ON COLUMN stripe.transfers.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.transfers.amount_reversed IS
    'data.amount_reversed, minor units of currency';
COMMENT ON COLUMN stripe.transfers.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.transfers.reversed IS 'data.reversed: true only when fully reversed';
COMMENT ON COLUMN stripe.transfers.source_type IS 'data.source_type';
COMMENT ON COLUMN stripe.transfers.transfer_group IS 'data.transfer_group';
COMMENT ON COLUMN stripe.transfers.description IS 'data.description';
COMMENT ON COLUMN stripe.transfers.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.transfers.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.transfers.created IS 'data.created';
COMMENT ON COLUMN stripe.transfers.deleted IS
    'data.deleted, normally false: Stripe keeps transfers';
COMMENT ON COLUMN stripe.transfers.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- transfer_reversals
CREATE TABLE stripe.transfer_reversals (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    transfer text,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'balance_transaction')) STORED,
    destination_payment_refund text GENERATED ALWAYS AS (
        stripe.id_at(data, 'destination_payment_refund')) STORED,
    source_refund text GENERATED ALWAYS AS (stripe.id_at(data, 'source_refund')) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX transfer_reversals_transfer_idx ON stripe.transfer_reversals (transfer);
CREATE INDEX transfer_reversals_balance_transaction_idx
    ON stripe.transfer_reversals (balance_transaction);
CREATE INDEX transfer_reversals_destination_payment_refund_idx
    ON stripe.transfer_reversals (destination_payment_refund);
CREATE INDEX transfer_reversals_source_refund_idx ON stripe.transfer_reversals (source_refund);
COMMENT ON TABLE stripe.transfer_reversals IS
    'Stripe transfer reversals (object "transfer_reversal"), one row per id; transfer links '
    'each to its transfer in stripe.transfers.';
COMMENT ON COLUMN stripe.transfer_reversals.data IS 'The whole Stripe transfer reversal object.';
COMMENT ON COLUMN stripe.transfer_reversals.transfer IS
    'The parent transfer id (joins stripe.transfers), set by the extension';
COMMENT ON COLUMN stripe.transfer_reversals.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.transfer_reversals.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.transfer_reversals.balance_transaction IS
    'data.balance_transaction, a balance transaction id (joins stripe.balance_transactions)';
COMMENT ON COLUMN stripe.transfer_reversals.destination_payment_refund IS
    'data.destination_payment_refund: the refund on the destination account';
COMMENT ON COLUMN stripe.transfer_reversals.source_refund IS
    'data.source_refund, a refund id (joins stripe.refunds)';
COMMENT ON COLUMN stripe.transfer_reversals.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.transfer_reversals.created IS 'data.created';
COMMENT ON COLUMN stripe.transfer_reversals.deleted IS
    'data.deleted, normally false: Stripe keeps transfer reversals';
COMMENT ON COLUMN stripe.transfer_reversals.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- external_accounts
CREATE TABLE stripe.external_accounts (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    account text,
    object text GENERATED ALWAYS AS (data ->> 'object') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    last4 text GENERATED ALWAYS AS (data ->> 'last4') STORED,
    country text GENERATED ALWAYS AS (data ->> 'country') STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    default_for_currency boolean GENERATED ALWAYS AS (
        (data ->> 'default_for_currency')::boolean) STORED,
    fingerprint text GENERATED ALWAYS AS (data ->> 'fingerprint') STORED,
    bank_name text GENERATED ALWAYS AS (data ->> 'bank_name') STORED,
    routing_number text GENERATED ALWAYS AS (data ->> 'routing_number') STORED,
    account_holder_name text GENERATED ALWAYS AS (data ->> 'account_holder_name') STORED,
    account_holder_type text GENERATED ALWAYS AS (data ->> 'account_holder_type') STORED,
    brand text GENERATED ALWAYS AS (data ->> 'brand') STORED,
    exp_month integer GENERATED ALWAYS AS ((data ->> 'exp_month')::integer) STORED,
    exp_year integer GENERATED ALWAYS AS ((data ->> 'exp_year')::integer) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX external_accounts_account_idx ON stripe.external_accounts (account);
COMMENT ON TABLE stripe.external_accounts IS
    'Bank accounts and debit cards that connected accounts are paid out to (objects "card", '
    '"bank_account"), one row per id; account links each to its account in stripe.accounts.';
COMMENT ON COLUMN stripe.external_accounts.data IS 'The whole Stripe external account object.';
COMMENT ON COLUMN stripe.external_accounts.account IS
    'The parent account id (joins stripe.accounts), set by the extension';
COMMENT ON COLUMN stripe.external_accounts.object IS 'data.object: card or bank_account';
COMMENT ON COLUMN stripe.external_accounts.status IS 'data.status';
COMMENT ON COLUMN stripe.external_accounts.last4 IS 'data.last4';
COMMENT ON COLUMN stripe.external_accounts.country IS 'data.country';
COMMENT ON COLUMN stripe.external_accounts.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.external_accounts.default_for_currency IS 'data.default_for_currency';
COMMENT ON COLUMN stripe.external_accounts.fingerprint IS 'data.fingerprint';
COMMENT ON COLUMN stripe.external_accounts.bank_name IS 'data.bank_name: bank accounts only';
COMMENT ON COLUMN stripe.external_accounts.routing_number IS
    'data.routing_number: bank accounts only';
COMMENT ON COLUMN stripe.external_accounts.account_holder_name IS
    'data.account_holder_name: bank accounts only';
COMMENT ON COLUMN stripe.external_accounts.account_holder_type IS
    'data.account_holder_type: bank accounts only';
COMMENT ON COLUMN stripe.external_accounts.brand IS 'data.brand: cards only';
COMMENT ON COLUMN stripe.external_accounts.exp_month IS 'data.exp_month: cards only';
COMMENT ON COLUMN stripe.external_accounts.exp_year IS 'data.exp_year: cards only';
COMMENT ON COLUMN stripe.external_accounts.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.external_accounts.deleted IS
    'true once Stripe deleted the external account';
COMMENT ON COLUMN stripe.external_accounts.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- Keep mirror data in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.application_fees', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.application_fee_refunds', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.transfers', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.transfer_reversals', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.external_accounts', '');
