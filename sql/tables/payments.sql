-- djstripe_pg mirror tables, payments group.
-- Payments: intents, charges and what happens to them, payouts, balance, payment methods.
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
-- payment_intents
CREATE TABLE stripe.payment_intents (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    payment_method text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_method')) STORED,
    latest_charge text GENERATED ALWAYS AS (stripe.id_at(data, 'latest_charge')) STORED,
    invoice text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice')) STORED,
    review text GENERATED ALWAYS AS (stripe.id_at(data, 'review')) STORED,
    on_behalf_of text GENERATED ALWAYS AS (stripe.id_at(data, 'on_behalf_of')) STORED,
    transfer_data_destination text GENERATED ALWAYS AS (
        stripe.id_at(data, 'transfer_data.destination')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    amount_capturable bigint GENERATED ALWAYS AS ((data ->> 'amount_capturable')::bigint) STORED,
    amount_received bigint GENERATED ALWAYS AS ((data ->> 'amount_received')::bigint) STORED,
    application_fee_amount bigint GENERATED ALWAYS AS (
        (data ->> 'application_fee_amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    capture_method text GENERATED ALWAYS AS (data ->> 'capture_method') STORED,
    cancellation_reason text GENERATED ALWAYS AS (data ->> 'cancellation_reason') STORED,
    canceled_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'canceled_at')) STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    receipt_email text GENERATED ALWAYS AS (data ->> 'receipt_email') STORED,
    setup_future_usage text GENERATED ALWAYS AS (data ->> 'setup_future_usage') STORED,
    transfer_group text GENERATED ALWAYS AS (data ->> 'transfer_group') STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX payment_intents_customer_idx ON stripe.payment_intents (customer);
CREATE INDEX payment_intents_payment_method_idx ON stripe.payment_intents (payment_method);
CREATE INDEX payment_intents_latest_charge_idx ON stripe.payment_intents (latest_charge);
CREATE INDEX payment_intents_invoice_idx ON stripe.payment_intents (invoice);
CREATE INDEX payment_intents_review_idx ON stripe.payment_intents (review);
CREATE INDEX payment_intents_on_behalf_of_idx ON stripe.payment_intents (on_behalf_of);
CREATE INDEX payment_intents_transfer_data_destination_idx
    ON stripe.payment_intents (transfer_data_destination);
CREATE INDEX payment_intents_created_idx ON stripe.payment_intents (created);
COMMENT ON TABLE stripe.payment_intents IS
    'Stripe PaymentIntents (object "payment_intent"), one row per id.';
COMMENT ON COLUMN stripe.payment_intents.data IS 'The whole Stripe PaymentIntent object.';
COMMENT ON COLUMN stripe.payment_intents.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.payment_intents.payment_method IS
    'data.payment_method, a payment method id (joins stripe.payment_methods)';
COMMENT ON COLUMN stripe.payment_intents.latest_charge IS
    'data.latest_charge, a charge id (joins stripe.charges)';
COMMENT ON COLUMN stripe.payment_intents.invoice IS
    'data.invoice, an invoice id (joins stripe.invoices); older API versions only (newer ones '
    'link invoices to payments through stripe.invoices.payment_intent)';
COMMENT ON COLUMN stripe.payment_intents.review IS
    'data.review, a review id (joins stripe.reviews)';
COMMENT ON COLUMN stripe.payment_intents.on_behalf_of IS
    'data.on_behalf_of, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.payment_intents.transfer_data_destination IS
    'data.transfer_data.destination, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.payment_intents.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.payment_intents.amount_capturable IS
    'data.amount_capturable, minor units of currency';
COMMENT ON COLUMN stripe.payment_intents.amount_received IS
    'data.amount_received, minor units of currency';
COMMENT ON COLUMN stripe.payment_intents.application_fee_amount IS
    'data.application_fee_amount, minor units of currency';
COMMENT ON COLUMN stripe.payment_intents.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.payment_intents.status IS
    'data.status: requires_payment_method, requires_confirmation, requires_action, processing, '
    'requires_capture, canceled or succeeded';
COMMENT ON COLUMN stripe.payment_intents.capture_method IS 'data.capture_method';
COMMENT ON COLUMN stripe.payment_intents.cancellation_reason IS 'data.cancellation_reason';
COMMENT ON COLUMN stripe.payment_intents.canceled_at IS 'data.canceled_at';
COMMENT ON COLUMN stripe.payment_intents.description IS 'data.description';
COMMENT ON COLUMN stripe.payment_intents.receipt_email IS 'data.receipt_email';
COMMENT ON COLUMN stripe.payment_intents.setup_future_usage IS 'data.setup_future_usage';
COMMENT ON COLUMN stripe.payment_intents.transfer_group IS 'data.transfer_group';
COMMENT ON COLUMN stripe.payment_intents.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.payment_intents.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.payment_intents.created IS 'data.created';
COMMENT ON COLUMN stripe.payment_intents.deleted IS
    'data.deleted, normally false: PaymentIntents are never deleted, they end in status canceled';
COMMENT ON COLUMN stripe.payment_intents.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- setup_intents
CREATE TABLE stripe.setup_intents (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    payment_method text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_method')) STORED,
    mandate text GENERATED ALWAYS AS (stripe.id_at(data, 'mandate')) STORED,
    single_use_mandate text GENERATED ALWAYS AS (stripe.id_at(data, 'single_use_mandate')) STORED,
    on_behalf_of text GENERATED ALWAYS AS (stripe.id_at(data, 'on_behalf_of')) STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    usage text GENERATED ALWAYS AS (data ->> 'usage') STORED,
    cancellation_reason text GENERATED ALWAYS AS (data ->> 'cancellation_reason') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX setup_intents_customer_idx ON stripe.setup_intents (customer);
CREATE INDEX setup_intents_payment_method_idx ON stripe.setup_intents (payment_method);
CREATE INDEX setup_intents_mandate_idx ON stripe.setup_intents (mandate);
CREATE INDEX setup_intents_single_use_mandate_idx ON stripe.setup_intents (single_use_mandate);
CREATE INDEX setup_intents_on_behalf_of_idx ON stripe.setup_intents (on_behalf_of);
COMMENT ON TABLE stripe.setup_intents IS
    'Stripe SetupIntents (object "setup_intent"), one row per id.';
COMMENT ON COLUMN stripe.setup_intents.data IS 'The whole Stripe SetupIntent object.';
COMMENT ON COLUMN stripe.setup_intents.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.setup_intents.payment_method IS
    'data.payment_method, a payment method id (joins stripe.payment_methods)';
COMMENT ON COLUMN stripe.setup_intents.mandate IS
    'data.mandate, a mandate id (joins stripe.mandates)';
COMMENT ON COLUMN stripe.setup_intents.single_use_mandate IS
    'data.single_use_mandate, a mandate id (joins stripe.mandates)';
COMMENT ON COLUMN stripe.setup_intents.on_behalf_of IS
    'data.on_behalf_of, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.setup_intents.status IS 'data.status';
COMMENT ON COLUMN stripe.setup_intents.usage IS 'data.usage: off_session or on_session';
COMMENT ON COLUMN stripe.setup_intents.cancellation_reason IS 'data.cancellation_reason';
COMMENT ON COLUMN stripe.setup_intents.description IS 'data.description';
COMMENT ON COLUMN stripe.setup_intents.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.setup_intents.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.setup_intents.created IS 'data.created';
COMMENT ON COLUMN stripe.setup_intents.deleted IS
    'data.deleted, normally false: SetupIntents are never deleted, they end in status canceled';
COMMENT ON COLUMN stripe.setup_intents.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- charges
CREATE TABLE stripe.charges (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    payment_intent text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_intent')) STORED,
    payment_method text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_method')) STORED,
    balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'balance_transaction')) STORED,
    invoice text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice')) STORED,
    review text GENERATED ALWAYS AS (stripe.id_at(data, 'review')) STORED,
    application_fee text GENERATED ALWAYS AS (stripe.id_at(data, 'application_fee')) STORED,
    source_transfer text GENERATED ALWAYS AS (stripe.id_at(data, 'source_transfer')) STORED,
    transfer text GENERATED ALWAYS AS (stripe.id_at(data, 'transfer')) STORED,
    on_behalf_of text GENERATED ALWAYS AS (stripe.id_at(data, 'on_behalf_of')) STORED,
    transfer_data_destination text GENERATED ALWAYS AS (
        stripe.id_at(data, 'transfer_data.destination')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    amount_captured bigint GENERATED ALWAYS AS ((data ->> 'amount_captured')::bigint) STORED,
    amount_refunded bigint GENERATED ALWAYS AS ((data ->> 'amount_refunded')::bigint) STORED,
    application_fee_amount bigint GENERATED ALWAYS AS (
        (data ->> 'application_fee_amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    paid boolean GENERATED ALWAYS AS ((data ->> 'paid')::boolean) STORED,
    captured boolean GENERATED ALWAYS AS ((data ->> 'captured')::boolean) STORED,
    refunded boolean GENERATED ALWAYS AS ((data ->> 'refunded')::boolean) STORED,
    disputed boolean GENERATED ALWAYS AS ((data ->> 'disputed')::boolean) STORED,
    failure_code text GENERATED ALWAYS AS (data ->> 'failure_code') STORED,
    failure_message text GENERATED ALWAYS AS (data ->> 'failure_message') STORED,
    outcome_type text GENERATED ALWAYS AS (stripe.text_at(data, 'outcome.type')) STORED,
    outcome_risk_level text GENERATED ALWAYS AS (
        stripe.text_at(data, 'outcome.risk_level')) STORED,
    payment_method_details_type text GENERATED ALWAYS AS (
        stripe.text_at(data, 'payment_method_details.type')) STORED,
    payment_method_details_card_brand text GENERATED ALWAYS AS (
        stripe.text_at(data, 'payment_method_details.card.brand')) STORED,
    payment_method_details_card_last4 text GENERATED ALWAYS AS (
        stripe.text_at(data, 'payment_method_details.card.last4')) STORED,
    billing_details_email text GENERATED ALWAYS AS (
        stripe.text_at(data, 'billing_details.email')) STORED,
    billing_details_name text GENERATED ALWAYS AS (
        stripe.text_at(data, 'billing_details.name')) STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    receipt_email text GENERATED ALWAYS AS (data ->> 'receipt_email') STORED,
    calculated_statement_descriptor text GENERATED ALWAYS AS (
        data ->> 'calculated_statement_descriptor') STORED,
    transfer_group text GENERATED ALWAYS AS (data ->> 'transfer_group') STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX charges_customer_idx ON stripe.charges (customer);
CREATE INDEX charges_payment_intent_idx ON stripe.charges (payment_intent);
CREATE INDEX charges_payment_method_idx ON stripe.charges (payment_method);
CREATE INDEX charges_balance_transaction_idx ON stripe.charges (balance_transaction);
CREATE INDEX charges_invoice_idx ON stripe.charges (invoice);
CREATE INDEX charges_review_idx ON stripe.charges (review);
CREATE INDEX charges_application_fee_idx ON stripe.charges (application_fee);
CREATE INDEX charges_source_transfer_idx ON stripe.charges (source_transfer);
CREATE INDEX charges_transfer_idx ON stripe.charges (transfer);
CREATE INDEX charges_on_behalf_of_idx ON stripe.charges (on_behalf_of);
CREATE INDEX charges_transfer_data_destination_idx ON stripe.charges (transfer_data_destination);
CREATE INDEX charges_created_idx ON stripe.charges (created);
COMMENT ON TABLE stripe.charges IS 'Stripe charges (object "charge"), one row per id.';
COMMENT ON COLUMN stripe.charges.data IS 'The whole Stripe charge object.';
COMMENT ON COLUMN stripe.charges.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.charges.payment_intent IS
    'data.payment_intent, a PaymentIntent id (joins stripe.payment_intents)';
COMMENT ON COLUMN stripe.charges.payment_method IS
    'data.payment_method: a payment method id (joins stripe.payment_methods, or '
    'stripe.customer_sources for card_ ids)';
COMMENT ON COLUMN stripe.charges.balance_transaction IS
    'data.balance_transaction, a balance transaction id (joins stripe.balance_transactions)';
COMMENT ON COLUMN stripe.charges.invoice IS
    'data.invoice, an invoice id (joins stripe.invoices); older API versions only';
COMMENT ON COLUMN stripe.charges.review IS 'data.review, a review id (joins stripe.reviews)';
COMMENT ON COLUMN stripe.charges.application_fee IS
    'data.application_fee, an application fee id (joins stripe.application_fees)';
COMMENT ON COLUMN stripe.charges.source_transfer IS
    'data.source_transfer, a transfer id (joins stripe.transfers)';
COMMENT ON COLUMN stripe.charges.transfer IS
    'data.transfer, a transfer id (joins stripe.transfers); the transfer to '
    'transfer_data.destination';
COMMENT ON COLUMN stripe.charges.on_behalf_of IS
    'data.on_behalf_of, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.charges.transfer_data_destination IS
    'data.transfer_data.destination, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.charges.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.charges.amount_captured IS 'data.amount_captured, minor units of currency';
COMMENT ON COLUMN stripe.charges.amount_refunded IS 'data.amount_refunded, minor units of currency';
COMMENT ON COLUMN stripe.charges.application_fee_amount IS
    'data.application_fee_amount, minor units of currency';
COMMENT ON COLUMN stripe.charges.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.charges.status IS 'data.status: succeeded, pending or failed';
COMMENT ON COLUMN stripe.charges.paid IS 'data.paid';
COMMENT ON COLUMN stripe.charges.captured IS 'data.captured';
COMMENT ON COLUMN stripe.charges.refunded IS 'data.refunded: true only when fully refunded';
COMMENT ON COLUMN stripe.charges.disputed IS 'data.disputed';
COMMENT ON COLUMN stripe.charges.failure_code IS 'data.failure_code';
COMMENT ON COLUMN stripe.charges.failure_message IS 'data.failure_message';
COMMENT ON COLUMN stripe.charges.outcome_type IS
    'data.outcome.type: authorized, manual_review, issuer_declined, blocked or invalid';
COMMENT ON COLUMN stripe.charges.outcome_risk_level IS 'data.outcome.risk_level';
COMMENT ON COLUMN stripe.charges.payment_method_details_type IS 'data.payment_method_details.type';
COMMENT ON COLUMN stripe.charges.payment_method_details_card_brand IS
    'data.payment_method_details.card.brand';
COMMENT ON COLUMN stripe.charges.payment_method_details_card_last4 IS
    'data.payment_method_details.card.last4';
COMMENT ON COLUMN stripe.charges.billing_details_email IS 'data.billing_details.email';
COMMENT ON COLUMN stripe.charges.billing_details_name IS 'data.billing_details.name';
COMMENT ON COLUMN stripe.charges.description IS 'data.description';
COMMENT ON COLUMN stripe.charges.receipt_email IS 'data.receipt_email';
COMMENT ON COLUMN stripe.charges.calculated_statement_descriptor IS
    'data.calculated_statement_descriptor';
COMMENT ON COLUMN stripe.charges.transfer_group IS 'data.transfer_group';
COMMENT ON COLUMN stripe.charges.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.charges.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.charges.created IS 'data.created';
COMMENT ON COLUMN stripe.charges.deleted IS 'data.deleted, normally false: Stripe keeps charges';
COMMENT ON COLUMN stripe.charges.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- refunds
CREATE TABLE stripe.refunds (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    charge text GENERATED ALWAYS AS (stripe.id_at(data, 'charge')) STORED,
    payment_intent text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_intent')) STORED,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'balance_transaction')) STORED,
    failure_balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'failure_balance_transaction')) STORED,
    transfer_reversal text GENERATED ALWAYS AS (stripe.id_at(data, 'transfer_reversal')) STORED,
    source_transfer_reversal text GENERATED ALWAYS AS (
        stripe.id_at(data, 'source_transfer_reversal')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    reason text GENERATED ALWAYS AS (data ->> 'reason') STORED,
    failure_reason text GENERATED ALWAYS AS (data ->> 'failure_reason') STORED,
    receipt_number text GENERATED ALWAYS AS (data ->> 'receipt_number') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX refunds_charge_idx ON stripe.refunds (charge);
CREATE INDEX refunds_payment_intent_idx ON stripe.refunds (payment_intent);
CREATE INDEX refunds_customer_idx ON stripe.refunds (customer);
CREATE INDEX refunds_balance_transaction_idx ON stripe.refunds (balance_transaction);
CREATE INDEX refunds_failure_balance_transaction_idx
    ON stripe.refunds (failure_balance_transaction);
CREATE INDEX refunds_transfer_reversal_idx ON stripe.refunds (transfer_reversal);
CREATE INDEX refunds_source_transfer_reversal_idx ON stripe.refunds (source_transfer_reversal);
CREATE INDEX refunds_created_idx ON stripe.refunds (created);
COMMENT ON TABLE stripe.refunds IS 'Stripe refunds (object "refund"), one row per id.';
COMMENT ON COLUMN stripe.refunds.data IS 'The whole Stripe refund object.';
COMMENT ON COLUMN stripe.refunds.charge IS 'data.charge, a charge id (joins stripe.charges)';
COMMENT ON COLUMN stripe.refunds.payment_intent IS
    'data.payment_intent, a PaymentIntent id (joins stripe.payment_intents)';
COMMENT ON COLUMN stripe.refunds.customer IS
    'data.customer, a customer id (joins stripe.customers); newer API versions only';
COMMENT ON COLUMN stripe.refunds.balance_transaction IS
    'data.balance_transaction, a balance transaction id (joins stripe.balance_transactions)';
COMMENT ON COLUMN stripe.refunds.failure_balance_transaction IS
    'data.failure_balance_transaction, a balance transaction id (joins '
    'stripe.balance_transactions)';
COMMENT ON COLUMN stripe.refunds.transfer_reversal IS
    'data.transfer_reversal, a transfer reversal id (joins stripe.transfer_reversals)';
COMMENT ON COLUMN stripe.refunds.source_transfer_reversal IS
    'data.source_transfer_reversal, a transfer reversal id (joins stripe.transfer_reversals)';
COMMENT ON COLUMN stripe.refunds.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.refunds.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.refunds.status IS
    'data.status: pending, requires_action, succeeded, failed or canceled';
COMMENT ON COLUMN stripe.refunds.reason IS
    'data.reason: duplicate, fraudulent, requested_by_customer or expired_uncaptured_charge';
COMMENT ON COLUMN stripe.refunds.failure_reason IS 'data.failure_reason';
COMMENT ON COLUMN stripe.refunds.receipt_number IS 'data.receipt_number';
COMMENT ON COLUMN stripe.refunds.description IS 'data.description';
COMMENT ON COLUMN stripe.refunds.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.refunds.created IS 'data.created';
COMMENT ON COLUMN stripe.refunds.deleted IS 'data.deleted, normally false: Stripe keeps refunds';
COMMENT ON COLUMN stripe.refunds.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- disputes
CREATE TABLE stripe.disputes (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    charge text GENERATED ALWAYS AS (stripe.id_at(data, 'charge')) STORED,
    payment_intent text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_intent')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    reason text GENERATED ALWAYS AS (data ->> 'reason') STORED,
    is_charge_refundable boolean GENERATED ALWAYS AS (
        (data ->> 'is_charge_refundable')::boolean) STORED,
    evidence_details_due_by timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'evidence_details.due_by')) STORED,
    evidence_details_has_evidence boolean GENERATED ALWAYS AS (
        stripe.text_at(data, 'evidence_details.has_evidence')::boolean) STORED,
    evidence_details_past_due boolean GENERATED ALWAYS AS (
        stripe.text_at(data, 'evidence_details.past_due')::boolean) STORED,
    evidence_details_submission_count integer GENERATED ALWAYS AS (
        stripe.text_at(data, 'evidence_details.submission_count')::integer) STORED,
    payment_method_details_type text GENERATED ALWAYS AS (
        stripe.text_at(data, 'payment_method_details.type')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX disputes_charge_idx ON stripe.disputes (charge);
CREATE INDEX disputes_payment_intent_idx ON stripe.disputes (payment_intent);
COMMENT ON TABLE stripe.disputes IS 'Stripe disputes (object "dispute"), one row per id.';
COMMENT ON COLUMN stripe.disputes.data IS 'The whole Stripe dispute object.';
COMMENT ON COLUMN stripe.disputes.charge IS 'data.charge, a charge id (joins stripe.charges)';
COMMENT ON COLUMN stripe.disputes.payment_intent IS
    'data.payment_intent, a PaymentIntent id (joins stripe.payment_intents)';
COMMENT ON COLUMN stripe.disputes.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.disputes.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.disputes.status IS
    'data.status: warning_needs_response, warning_under_review, warning_closed, needs_response, '
    'under_review, won or lost';
COMMENT ON COLUMN stripe.disputes.reason IS 'data.reason';
COMMENT ON COLUMN stripe.disputes.is_charge_refundable IS 'data.is_charge_refundable';
COMMENT ON COLUMN stripe.disputes.evidence_details_due_by IS 'data.evidence_details.due_by';
COMMENT ON COLUMN stripe.disputes.evidence_details_has_evidence IS
    'data.evidence_details.has_evidence';
COMMENT ON COLUMN stripe.disputes.evidence_details_past_due IS 'data.evidence_details.past_due';
COMMENT ON COLUMN stripe.disputes.evidence_details_submission_count IS
    'data.evidence_details.submission_count';
COMMENT ON COLUMN stripe.disputes.payment_method_details_type IS 'data.payment_method_details.type';
COMMENT ON COLUMN stripe.disputes.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.disputes.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.disputes.created IS 'data.created';
COMMENT ON COLUMN stripe.disputes.deleted IS 'data.deleted, normally false: Stripe keeps disputes';
COMMENT ON COLUMN stripe.disputes.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- reviews
CREATE TABLE stripe.reviews (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    charge text GENERATED ALWAYS AS (stripe.id_at(data, 'charge')) STORED,
    payment_intent text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_intent')) STORED,
    open boolean GENERATED ALWAYS AS ((data ->> 'open')::boolean) STORED,
    reason text GENERATED ALWAYS AS (data ->> 'reason') STORED,
    opened_reason text GENERATED ALWAYS AS (data ->> 'opened_reason') STORED,
    closed_reason text GENERATED ALWAYS AS (data ->> 'closed_reason') STORED,
    billing_zip text GENERATED ALWAYS AS (data ->> 'billing_zip') STORED,
    ip_address text GENERATED ALWAYS AS (data ->> 'ip_address') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX reviews_charge_idx ON stripe.reviews (charge);
CREATE INDEX reviews_payment_intent_idx ON stripe.reviews (payment_intent);
COMMENT ON TABLE stripe.reviews IS 'Stripe Radar reviews (object "review"), one row per id.';
COMMENT ON COLUMN stripe.reviews.data IS 'The whole Stripe review object.';
COMMENT ON COLUMN stripe.reviews.charge IS 'data.charge, a charge id (joins stripe.charges)';
COMMENT ON COLUMN stripe.reviews.payment_intent IS
    'data.payment_intent, a PaymentIntent id (joins stripe.payment_intents)';
COMMENT ON COLUMN stripe.reviews.open IS 'data.open: true while the review needs action';
COMMENT ON COLUMN stripe.reviews.reason IS 'data.reason';
COMMENT ON COLUMN stripe.reviews.opened_reason IS 'data.opened_reason: rule or manual';
COMMENT ON COLUMN stripe.reviews.closed_reason IS 'data.closed_reason';
COMMENT ON COLUMN stripe.reviews.billing_zip IS 'data.billing_zip';
COMMENT ON COLUMN stripe.reviews.ip_address IS 'data.ip_address';
COMMENT ON COLUMN stripe.reviews.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.reviews.created IS 'data.created';
COMMENT ON COLUMN stripe.reviews.deleted IS
    'data.deleted, normally false: Stripe keeps Radar reviews';
COMMENT ON COLUMN stripe.reviews.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- early_fraud_warnings
CREATE TABLE stripe.early_fraud_warnings (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    charge text GENERATED ALWAYS AS (stripe.id_at(data, 'charge')) STORED,
    payment_intent text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_intent')) STORED,
    actionable boolean GENERATED ALWAYS AS ((data ->> 'actionable')::boolean) STORED,
    fraud_type text GENERATED ALWAYS AS (data ->> 'fraud_type') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX early_fraud_warnings_charge_idx ON stripe.early_fraud_warnings (charge);
CREATE INDEX early_fraud_warnings_payment_intent_idx
    ON stripe.early_fraud_warnings (payment_intent);
COMMENT ON TABLE stripe.early_fraud_warnings IS
    'Stripe early fraud warnings (object "radar.early_fraud_warning"), one row per id.';
COMMENT ON COLUMN stripe.early_fraud_warnings.data IS
    'The whole Stripe early fraud warning object.';
COMMENT ON COLUMN stripe.early_fraud_warnings.charge IS
    'data.charge, a charge id (joins stripe.charges)';
COMMENT ON COLUMN stripe.early_fraud_warnings.payment_intent IS
    'data.payment_intent, a PaymentIntent id (joins stripe.payment_intents)';
COMMENT ON COLUMN stripe.early_fraud_warnings.actionable IS
    'data.actionable: true while not yet disputed or fully refunded';
COMMENT ON COLUMN stripe.early_fraud_warnings.fraud_type IS 'data.fraud_type';
COMMENT ON COLUMN stripe.early_fraud_warnings.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.early_fraud_warnings.created IS 'data.created';
COMMENT ON COLUMN stripe.early_fraud_warnings.deleted IS
    'data.deleted, normally false: Stripe keeps early fraud warnings';
COMMENT ON COLUMN stripe.early_fraud_warnings.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- payouts
CREATE TABLE stripe.payouts (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    destination text GENERATED ALWAYS AS (stripe.id_at(data, 'destination')) STORED,
    balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'balance_transaction')) STORED,
    failure_balance_transaction text GENERATED ALWAYS AS (
        stripe.id_at(data, 'failure_balance_transaction')) STORED,
    original_payout text GENERATED ALWAYS AS (stripe.id_at(data, 'original_payout')) STORED,
    reversed_by text GENERATED ALWAYS AS (stripe.id_at(data, 'reversed_by')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    method text GENERATED ALWAYS AS (data ->> 'method') STORED,
    source_type text GENERATED ALWAYS AS (data ->> 'source_type') STORED,
    automatic boolean GENERATED ALWAYS AS ((data ->> 'automatic')::boolean) STORED,
    arrival_date timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'arrival_date')) STORED,
    failure_code text GENERATED ALWAYS AS (data ->> 'failure_code') STORED,
    failure_message text GENERATED ALWAYS AS (data ->> 'failure_message') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    statement_descriptor text GENERATED ALWAYS AS (data ->> 'statement_descriptor') STORED,
    reconciliation_status text GENERATED ALWAYS AS (data ->> 'reconciliation_status') STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX payouts_destination_idx ON stripe.payouts (destination);
CREATE INDEX payouts_balance_transaction_idx ON stripe.payouts (balance_transaction);
CREATE INDEX payouts_failure_balance_transaction_idx
    ON stripe.payouts (failure_balance_transaction);
CREATE INDEX payouts_original_payout_idx ON stripe.payouts (original_payout);
CREATE INDEX payouts_reversed_by_idx ON stripe.payouts (reversed_by);
CREATE INDEX payouts_arrival_date_idx ON stripe.payouts (arrival_date);
COMMENT ON TABLE stripe.payouts IS 'Stripe payouts (object "payout"), one row per id.';
COMMENT ON COLUMN stripe.payouts.data IS 'The whole Stripe payout object.';
COMMENT ON COLUMN stripe.payouts.destination IS
    'data.destination: the bank account or card paid out to (joins stripe.external_accounts)';
COMMENT ON COLUMN stripe.payouts.balance_transaction IS
    'data.balance_transaction, a balance transaction id (joins stripe.balance_transactions)';
COMMENT ON COLUMN stripe.payouts.failure_balance_transaction IS
    'data.failure_balance_transaction, a balance transaction id (joins '
    'stripe.balance_transactions)';
COMMENT ON COLUMN stripe.payouts.original_payout IS
    'data.original_payout, a payout id (joins stripe.payouts)';
COMMENT ON COLUMN stripe.payouts.reversed_by IS
    'data.reversed_by, a payout id (joins stripe.payouts)';
COMMENT ON COLUMN stripe.payouts.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.payouts.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.payouts.status IS
    'data.status: paid, pending, in_transit, canceled or failed';
COMMENT ON COLUMN stripe.payouts.type IS 'data.type: bank_account or card';
COMMENT ON COLUMN stripe.payouts.method IS 'data.method: standard or instant';
COMMENT ON COLUMN stripe.payouts.source_type IS 'data.source_type';
COMMENT ON COLUMN stripe.payouts.automatic IS 'data.automatic';
COMMENT ON COLUMN stripe.payouts.arrival_date IS 'data.arrival_date';
COMMENT ON COLUMN stripe.payouts.failure_code IS 'data.failure_code';
COMMENT ON COLUMN stripe.payouts.failure_message IS 'data.failure_message';
COMMENT ON COLUMN stripe.payouts.description IS 'data.description';
COMMENT ON COLUMN stripe.payouts.statement_descriptor IS 'data.statement_descriptor';
COMMENT ON COLUMN stripe.payouts.reconciliation_status IS 'data.reconciliation_status';
COMMENT ON COLUMN stripe.payouts.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.payouts.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.payouts.created IS 'data.created';
COMMENT ON COLUMN stripe.payouts.deleted IS 'data.deleted, normally false: Stripe keeps payouts';
COMMENT ON COLUMN stripe.payouts.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- balance_transactions
CREATE TABLE stripe.balance_transactions (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    source text GENERATED ALWAYS AS (stripe.id_at(data, 'source')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    fee bigint GENERATED ALWAYS AS ((data ->> 'fee')::bigint) STORED,
    net bigint GENERATED ALWAYS AS ((data ->> 'net')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    exchange_rate numeric GENERATED ALWAYS AS ((data ->> 'exchange_rate')::numeric) STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    reporting_category text GENERATED ALWAYS AS (data ->> 'reporting_category') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    available_on timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'available_on')) STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    balance_type text GENERATED ALWAYS AS (data ->> 'balance_type') STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX balance_transactions_source_idx ON stripe.balance_transactions (source);
CREATE INDEX balance_transactions_created_idx
    ON stripe.balance_transactions (created);
CREATE INDEX balance_transactions_available_on_idx
    ON stripe.balance_transactions (available_on);
COMMENT ON TABLE stripe.balance_transactions IS
    'Stripe balance transactions (object "balance_transaction"), one row per id.';
COMMENT ON COLUMN stripe.balance_transactions.data IS
    'The whole Stripe balance transaction object.';
COMMENT ON COLUMN stripe.balance_transactions.source IS
    'data.source: the object that caused it: a charge, refund, payout, transfer, application '
    'fee, dispute ... id (joins the matching table)';
COMMENT ON COLUMN stripe.balance_transactions.amount IS
    'data.amount, minor units of currency; gross, in currency';
COMMENT ON COLUMN stripe.balance_transactions.fee IS 'data.fee, minor units of currency';
COMMENT ON COLUMN stripe.balance_transactions.net IS
    'data.net, minor units of currency; amount minus fee';
COMMENT ON COLUMN stripe.balance_transactions.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.balance_transactions.exchange_rate IS 'data.exchange_rate';
COMMENT ON COLUMN stripe.balance_transactions.type IS 'data.type';
COMMENT ON COLUMN stripe.balance_transactions.reporting_category IS 'data.reporting_category';
COMMENT ON COLUMN stripe.balance_transactions.status IS 'data.status: available or pending';
COMMENT ON COLUMN stripe.balance_transactions.available_on IS 'data.available_on';
COMMENT ON COLUMN stripe.balance_transactions.description IS 'data.description';
COMMENT ON COLUMN stripe.balance_transactions.balance_type IS
    'data.balance_type: newer API versions';
COMMENT ON COLUMN stripe.balance_transactions.created IS 'data.created';
COMMENT ON COLUMN stripe.balance_transactions.deleted IS
    'data.deleted, normally false: Stripe keeps balance transactions';
COMMENT ON COLUMN stripe.balance_transactions.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- payment_methods
CREATE TABLE stripe.payment_methods (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    billing_details_email text GENERATED ALWAYS AS (
        stripe.text_at(data, 'billing_details.email')) STORED,
    billing_details_name text GENERATED ALWAYS AS (
        stripe.text_at(data, 'billing_details.name')) STORED,
    billing_details_address_country text GENERATED ALWAYS AS (
        stripe.text_at(data, 'billing_details.address.country')) STORED,
    card_brand text GENERATED ALWAYS AS (stripe.text_at(data, 'card.brand')) STORED,
    card_last4 text GENERATED ALWAYS AS (stripe.text_at(data, 'card.last4')) STORED,
    card_exp_month integer GENERATED ALWAYS AS (
        stripe.text_at(data, 'card.exp_month')::integer) STORED,
    card_exp_year integer GENERATED ALWAYS AS (
        stripe.text_at(data, 'card.exp_year')::integer) STORED,
    card_fingerprint text GENERATED ALWAYS AS (stripe.text_at(data, 'card.fingerprint')) STORED,
    card_funding text GENERATED ALWAYS AS (stripe.text_at(data, 'card.funding')) STORED,
    card_country text GENERATED ALWAYS AS (stripe.text_at(data, 'card.country')) STORED,
    allow_redisplay text GENERATED ALWAYS AS (data ->> 'allow_redisplay') STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX payment_methods_customer_idx ON stripe.payment_methods (customer);
COMMENT ON TABLE stripe.payment_methods IS
    'Stripe payment methods (object "payment_method"), one row per id; customer links each to '
    'its customer in stripe.customers.';
COMMENT ON COLUMN stripe.payment_methods.data IS 'The whole Stripe payment method object.';
COMMENT ON COLUMN stripe.payment_methods.customer IS
    'The parent customer id (joins stripe.customers), set by the extension';
COMMENT ON COLUMN stripe.payment_methods.type IS
    'data.type: card, us_bank_account, sepa_debit, ...';
COMMENT ON COLUMN stripe.payment_methods.billing_details_email IS 'data.billing_details.email';
COMMENT ON COLUMN stripe.payment_methods.billing_details_name IS 'data.billing_details.name';
COMMENT ON COLUMN stripe.payment_methods.billing_details_address_country IS
    'data.billing_details.address.country';
COMMENT ON COLUMN stripe.payment_methods.card_brand IS 'data.card.brand';
COMMENT ON COLUMN stripe.payment_methods.card_last4 IS 'data.card.last4';
COMMENT ON COLUMN stripe.payment_methods.card_exp_month IS 'data.card.exp_month';
COMMENT ON COLUMN stripe.payment_methods.card_exp_year IS 'data.card.exp_year';
COMMENT ON COLUMN stripe.payment_methods.card_fingerprint IS 'data.card.fingerprint';
COMMENT ON COLUMN stripe.payment_methods.card_funding IS 'data.card.funding';
COMMENT ON COLUMN stripe.payment_methods.card_country IS 'data.card.country';
COMMENT ON COLUMN stripe.payment_methods.allow_redisplay IS 'data.allow_redisplay';
COMMENT ON COLUMN stripe.payment_methods.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.payment_methods.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.payment_methods.created IS 'data.created';
COMMENT ON COLUMN stripe.payment_methods.deleted IS
    'data.deleted, normally false: Stripe keeps payment methods';
COMMENT ON COLUMN stripe.payment_methods.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- customer_sources
CREATE TABLE stripe.customer_sources (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text,
    object text GENERATED ALWAYS AS (data ->> 'object') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    brand text GENERATED ALWAYS AS (data ->> 'brand') STORED,
    last4 text GENERATED ALWAYS AS (data ->> 'last4') STORED,
    exp_month integer GENERATED ALWAYS AS ((data ->> 'exp_month')::integer) STORED,
    exp_year integer GENERATED ALWAYS AS ((data ->> 'exp_year')::integer) STORED,
    funding text GENERATED ALWAYS AS (data ->> 'funding') STORED,
    fingerprint text GENERATED ALWAYS AS (data ->> 'fingerprint') STORED,
    country text GENERATED ALWAYS AS (data ->> 'country') STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    bank_name text GENERATED ALWAYS AS (data ->> 'bank_name') STORED,
    usage text GENERATED ALWAYS AS (data ->> 'usage') STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX customer_sources_customer_idx ON stripe.customer_sources (customer);
COMMENT ON TABLE stripe.customer_sources IS
    'Legacy payment sources attached to customers (objects "card", "bank_account", "source"), '
    'one row per id; customer links each to its customer in stripe.customers. livemode and '
    'created are set for "source" objects only.';
COMMENT ON COLUMN stripe.customer_sources.data IS 'The whole Stripe customer source object.';
COMMENT ON COLUMN stripe.customer_sources.customer IS
    'The parent customer id (joins stripe.customers), set by the extension';
COMMENT ON COLUMN stripe.customer_sources.object IS 'data.object: card, bank_account or source';
COMMENT ON COLUMN stripe.customer_sources.type IS 'data.type: the source type; sources only';
COMMENT ON COLUMN stripe.customer_sources.status IS 'data.status';
COMMENT ON COLUMN stripe.customer_sources.brand IS 'data.brand: cards only';
COMMENT ON COLUMN stripe.customer_sources.last4 IS 'data.last4: cards and bank accounts';
COMMENT ON COLUMN stripe.customer_sources.exp_month IS 'data.exp_month';
COMMENT ON COLUMN stripe.customer_sources.exp_year IS 'data.exp_year';
COMMENT ON COLUMN stripe.customer_sources.funding IS 'data.funding';
COMMENT ON COLUMN stripe.customer_sources.fingerprint IS 'data.fingerprint';
COMMENT ON COLUMN stripe.customer_sources.country IS 'data.country';
COMMENT ON COLUMN stripe.customer_sources.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.customer_sources.bank_name IS 'data.bank_name: bank accounts only';
COMMENT ON COLUMN stripe.customer_sources.usage IS
    'data.usage: reusable or single_use; sources only';
COMMENT ON COLUMN stripe.customer_sources.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.customer_sources.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.customer_sources.created IS 'data.created';
COMMENT ON COLUMN stripe.customer_sources.deleted IS 'true once Stripe deleted the customer source';
COMMENT ON COLUMN stripe.customer_sources.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- mandates
CREATE TABLE stripe.mandates (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    payment_method text GENERATED ALWAYS AS (stripe.id_at(data, 'payment_method')) STORED,
    on_behalf_of text GENERATED ALWAYS AS (stripe.id_at(data, 'on_behalf_of')) STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    payment_method_details_type text GENERATED ALWAYS AS (
        stripe.text_at(data, 'payment_method_details.type')) STORED,
    customer_acceptance_type text GENERATED ALWAYS AS (
        stripe.text_at(data, 'customer_acceptance.type')) STORED,
    customer_acceptance_accepted_at timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'customer_acceptance.accepted_at')) STORED,
    single_use_amount bigint GENERATED ALWAYS AS (
        stripe.text_at(data, 'single_use.amount')::bigint) STORED,
    single_use_currency text GENERATED ALWAYS AS (
        stripe.text_at(data, 'single_use.currency')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX mandates_payment_method_idx ON stripe.mandates (payment_method);
CREATE INDEX mandates_on_behalf_of_idx ON stripe.mandates (on_behalf_of);
COMMENT ON TABLE stripe.mandates IS 'Stripe mandates (object "mandate"), one row per id.';
COMMENT ON COLUMN stripe.mandates.data IS 'The whole Stripe mandate object.';
COMMENT ON COLUMN stripe.mandates.payment_method IS
    'data.payment_method, a payment method id (joins stripe.payment_methods)';
COMMENT ON COLUMN stripe.mandates.on_behalf_of IS
    'data.on_behalf_of, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.mandates.status IS 'data.status: active, inactive or pending';
COMMENT ON COLUMN stripe.mandates.type IS 'data.type: multi_use or single_use';
COMMENT ON COLUMN stripe.mandates.payment_method_details_type IS 'data.payment_method_details.type';
COMMENT ON COLUMN stripe.mandates.customer_acceptance_type IS
    'data.customer_acceptance.type: online or offline';
COMMENT ON COLUMN stripe.mandates.customer_acceptance_accepted_at IS
    'data.customer_acceptance.accepted_at';
COMMENT ON COLUMN stripe.mandates.single_use_amount IS
    'data.single_use.amount, minor units of currency';
COMMENT ON COLUMN stripe.mandates.single_use_currency IS
    'data.single_use.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.mandates.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.mandates.deleted IS 'data.deleted, normally false: Stripe keeps mandates';
COMMENT ON COLUMN stripe.mandates.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- Keep mirror data in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.payment_intents', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.setup_intents', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.charges', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.refunds', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.disputes', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.reviews', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.early_fraud_warnings', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.payouts', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.balance_transactions', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.payment_methods', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.customer_sources', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.mandates', '');
