-- djstripe_pg mirror tables, billing group.
-- Billing: subscriptions, invoices and their lines, credit notes, quotes, discounts, tax IDs.
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
-- subscriptions
CREATE TABLE stripe.subscriptions (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    default_payment_method text GENERATED ALWAYS AS (
        stripe.id_at(data, 'default_payment_method')) STORED,
    default_source text GENERATED ALWAYS AS (stripe.id_at(data, 'default_source')) STORED,
    latest_invoice text GENERATED ALWAYS AS (stripe.id_at(data, 'latest_invoice')) STORED,
    schedule text GENERATED ALWAYS AS (stripe.id_at(data, 'schedule')) STORED,
    pending_setup_intent text GENERATED ALWAYS AS (
        stripe.id_at(data, 'pending_setup_intent')) STORED,
    on_behalf_of text GENERATED ALWAYS AS (stripe.id_at(data, 'on_behalf_of')) STORED,
    transfer_data_destination text GENERATED ALWAYS AS (
        stripe.id_at(data, 'transfer_data.destination')) STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    collection_method text GENERATED ALWAYS AS (data ->> 'collection_method') STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    current_period_start timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'current_period_start | items.data.0.current_period_start')) STORED,
    current_period_end timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'current_period_end | items.data.0.current_period_end')) STORED,
    billing_cycle_anchor timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'billing_cycle_anchor')) STORED,
    start_date timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'start_date')) STORED,
    trial_start timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'trial_start')) STORED,
    trial_end timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'trial_end')) STORED,
    cancel_at_period_end boolean GENERATED ALWAYS AS (
        (data ->> 'cancel_at_period_end')::boolean) STORED,
    cancel_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'cancel_at')) STORED,
    canceled_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'canceled_at')) STORED,
    ended_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'ended_at')) STORED,
    cancellation_details_reason text GENERATED ALWAYS AS (
        stripe.text_at(data, 'cancellation_details.reason')) STORED,
    cancellation_details_feedback text GENERATED ALWAYS AS (
        stripe.text_at(data, 'cancellation_details.feedback')) STORED,
    pause_collection_behavior text GENERATED ALWAYS AS (
        stripe.text_at(data, 'pause_collection.behavior')) STORED,
    days_until_due integer GENERATED ALWAYS AS ((data ->> 'days_until_due')::integer) STORED,
    application_fee_percent numeric GENERATED ALWAYS AS (
        (data ->> 'application_fee_percent')::numeric) STORED,
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
CREATE INDEX subscriptions_customer_idx ON stripe.subscriptions (customer);
CREATE INDEX subscriptions_default_payment_method_idx
    ON stripe.subscriptions (default_payment_method);
CREATE INDEX subscriptions_default_source_idx ON stripe.subscriptions (default_source);
CREATE INDEX subscriptions_latest_invoice_idx ON stripe.subscriptions (latest_invoice);
CREATE INDEX subscriptions_schedule_idx ON stripe.subscriptions (schedule);
CREATE INDEX subscriptions_pending_setup_intent_idx ON stripe.subscriptions (pending_setup_intent);
CREATE INDEX subscriptions_on_behalf_of_idx ON stripe.subscriptions (on_behalf_of);
CREATE INDEX subscriptions_transfer_data_destination_idx
    ON stripe.subscriptions (transfer_data_destination);
CREATE INDEX subscriptions_status_idx ON stripe.subscriptions (status);
COMMENT ON TABLE stripe.subscriptions IS
    'Stripe subscriptions (object "subscription"), one row per id.';
COMMENT ON COLUMN stripe.subscriptions.data IS 'The whole Stripe subscription object.';
COMMENT ON COLUMN stripe.subscriptions.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.subscriptions.default_payment_method IS
    'data.default_payment_method, a payment method id (joins stripe.payment_methods)';
COMMENT ON COLUMN stripe.subscriptions.default_source IS
    'data.default_source: a card, bank account or source id (joins stripe.customer_sources)';
COMMENT ON COLUMN stripe.subscriptions.latest_invoice IS
    'data.latest_invoice, an invoice id (joins stripe.invoices)';
COMMENT ON COLUMN stripe.subscriptions.schedule IS
    'data.schedule, a subscription schedule id (joins stripe.subscription_schedules)';
COMMENT ON COLUMN stripe.subscriptions.pending_setup_intent IS
    'data.pending_setup_intent, a SetupIntent id (joins stripe.setup_intents)';
COMMENT ON COLUMN stripe.subscriptions.on_behalf_of IS
    'data.on_behalf_of, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.subscriptions.transfer_data_destination IS
    'data.transfer_data.destination, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.subscriptions.status IS
    'data.status: incomplete, incomplete_expired, trialing, active, past_due, canceled, unpaid '
    'or paused';
COMMENT ON COLUMN stripe.subscriptions.collection_method IS
    'data.collection_method: charge_automatically or send_invoice';
COMMENT ON COLUMN stripe.subscriptions.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.subscriptions.current_period_start IS
    'data.current_period_start or data.items.data[0].current_period_start: the first path on '
    'older API versions; on newer ones, which keep periods on the items, the first item''s (see '
    'stripe.subscription_items)';
COMMENT ON COLUMN stripe.subscriptions.current_period_end IS
    'data.current_period_end or data.items.data[0].current_period_end: the first path on older '
    'API versions; on newer ones, which keep periods on the items, the first item''s (see '
    'stripe.subscription_items)';
COMMENT ON COLUMN stripe.subscriptions.billing_cycle_anchor IS 'data.billing_cycle_anchor';
COMMENT ON COLUMN stripe.subscriptions.start_date IS 'data.start_date';
COMMENT ON COLUMN stripe.subscriptions.trial_start IS 'data.trial_start';
COMMENT ON COLUMN stripe.subscriptions.trial_end IS 'data.trial_end';
COMMENT ON COLUMN stripe.subscriptions.cancel_at_period_end IS 'data.cancel_at_period_end';
COMMENT ON COLUMN stripe.subscriptions.cancel_at IS 'data.cancel_at';
COMMENT ON COLUMN stripe.subscriptions.canceled_at IS 'data.canceled_at';
COMMENT ON COLUMN stripe.subscriptions.ended_at IS 'data.ended_at';
COMMENT ON COLUMN stripe.subscriptions.cancellation_details_reason IS
    'data.cancellation_details.reason';
COMMENT ON COLUMN stripe.subscriptions.cancellation_details_feedback IS
    'data.cancellation_details.feedback';
COMMENT ON COLUMN stripe.subscriptions.pause_collection_behavior IS
    'data.pause_collection.behavior: set while collection is paused';
COMMENT ON COLUMN stripe.subscriptions.days_until_due IS 'data.days_until_due';
COMMENT ON COLUMN stripe.subscriptions.application_fee_percent IS 'data.application_fee_percent';
COMMENT ON COLUMN stripe.subscriptions.description IS 'data.description';
COMMENT ON COLUMN stripe.subscriptions.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.subscriptions.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.subscriptions.created IS 'data.created';
COMMENT ON COLUMN stripe.subscriptions.deleted IS
    'data.deleted, normally false: subscriptions are never deleted, they end in status canceled';
COMMENT ON COLUMN stripe.subscriptions.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- subscription_items
CREATE TABLE stripe.subscription_items (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    subscription text,
    price text GENERATED ALWAYS AS (stripe.id_at(data, 'price')) STORED,
    product text GENERATED ALWAYS AS (stripe.id_at(data, 'price.product')) STORED,
    plan text GENERATED ALWAYS AS (stripe.id_at(data, 'plan')) STORED,
    quantity integer GENERATED ALWAYS AS ((data ->> 'quantity')::integer) STORED,
    current_period_start timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'current_period_start')) STORED,
    current_period_end timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'current_period_end')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX subscription_items_subscription_idx ON stripe.subscription_items (subscription);
CREATE INDEX subscription_items_price_idx ON stripe.subscription_items (price);
CREATE INDEX subscription_items_product_idx ON stripe.subscription_items (product);
CREATE INDEX subscription_items_plan_idx ON stripe.subscription_items (plan);
COMMENT ON TABLE stripe.subscription_items IS
    'Stripe subscription items (object "subscription_item"), one row per id; subscription links '
    'each to its subscription in stripe.subscriptions.';
COMMENT ON COLUMN stripe.subscription_items.data IS 'The whole Stripe subscription item object.';
COMMENT ON COLUMN stripe.subscription_items.subscription IS
    'The parent subscription id (joins stripe.subscriptions), set by the extension';
COMMENT ON COLUMN stripe.subscription_items.price IS 'data.price, a price id (joins stripe.prices)';
COMMENT ON COLUMN stripe.subscription_items.product IS
    'data.price.product, a product id (joins stripe.products)';
COMMENT ON COLUMN stripe.subscription_items.plan IS
    'data.plan, a plan id (joins stripe.plans); same id as price for prices used as plans';
COMMENT ON COLUMN stripe.subscription_items.quantity IS 'data.quantity';
COMMENT ON COLUMN stripe.subscription_items.current_period_start IS
    'data.current_period_start: newer API versions only (older ones: '
    'stripe.subscriptions.current_period_start)';
COMMENT ON COLUMN stripe.subscription_items.current_period_end IS
    'data.current_period_end: newer API versions only (older ones: '
    'stripe.subscriptions.current_period_end)';
COMMENT ON COLUMN stripe.subscription_items.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.subscription_items.created IS 'data.created';
COMMENT ON COLUMN stripe.subscription_items.deleted IS
    'true once Stripe deleted the subscription item';
COMMENT ON COLUMN stripe.subscription_items.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- subscription_schedules
CREATE TABLE stripe.subscription_schedules (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    subscription text GENERATED ALWAYS AS (stripe.id_at(data, 'subscription')) STORED,
    released_subscription text GENERATED ALWAYS AS (
        stripe.id_at(data, 'released_subscription')) STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    end_behavior text GENERATED ALWAYS AS (data ->> 'end_behavior') STORED,
    current_phase_start_date timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'current_phase.start_date')) STORED,
    current_phase_end_date timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'current_phase.end_date')) STORED,
    canceled_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'canceled_at')) STORED,
    completed_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'completed_at')) STORED,
    released_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'released_at')) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX subscription_schedules_customer_idx ON stripe.subscription_schedules (customer);
CREATE INDEX subscription_schedules_subscription_idx
    ON stripe.subscription_schedules (subscription);
CREATE INDEX subscription_schedules_released_subscription_idx
    ON stripe.subscription_schedules (released_subscription);
COMMENT ON TABLE stripe.subscription_schedules IS
    'Stripe subscription schedules (object "subscription_schedule"), one row per id.';
COMMENT ON COLUMN stripe.subscription_schedules.data IS
    'The whole Stripe subscription schedule object.';
COMMENT ON COLUMN stripe.subscription_schedules.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.subscription_schedules.subscription IS
    'data.subscription, a subscription id (joins stripe.subscriptions)';
COMMENT ON COLUMN stripe.subscription_schedules.released_subscription IS
    'data.released_subscription, a subscription id (joins stripe.subscriptions)';
COMMENT ON COLUMN stripe.subscription_schedules.status IS
    'data.status: not_started, active, completed, released or canceled';
COMMENT ON COLUMN stripe.subscription_schedules.end_behavior IS
    'data.end_behavior: release or cancel';
COMMENT ON COLUMN stripe.subscription_schedules.current_phase_start_date IS
    'data.current_phase.start_date';
COMMENT ON COLUMN stripe.subscription_schedules.current_phase_end_date IS
    'data.current_phase.end_date';
COMMENT ON COLUMN stripe.subscription_schedules.canceled_at IS 'data.canceled_at';
COMMENT ON COLUMN stripe.subscription_schedules.completed_at IS 'data.completed_at';
COMMENT ON COLUMN stripe.subscription_schedules.released_at IS 'data.released_at';
COMMENT ON COLUMN stripe.subscription_schedules.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.subscription_schedules.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.subscription_schedules.created IS 'data.created';
COMMENT ON COLUMN stripe.subscription_schedules.deleted IS
    'data.deleted, normally false: subscription schedules are never deleted, they end in status '
    'canceled';
COMMENT ON COLUMN stripe.subscription_schedules.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- invoices
CREATE TABLE stripe.invoices (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    subscription text GENERATED ALWAYS AS (
        stripe.id_at(data, 'subscription | parent.subscription_details.subscription')) STORED,
    charge text GENERATED ALWAYS AS (
        stripe.id_at(data, 'charge | payments.data.0.payment.charge')) STORED,
    payment_intent text GENERATED ALWAYS AS (
        stripe.id_at(data, 'payment_intent | payments.data.0.payment.payment_intent')) STORED,
    quote text GENERATED ALWAYS AS (
        stripe.id_at(data, 'quote | parent.quote_details.quote')) STORED,
    default_payment_method text GENERATED ALWAYS AS (
        stripe.id_at(data, 'default_payment_method')) STORED,
    on_behalf_of text GENERATED ALWAYS AS (stripe.id_at(data, 'on_behalf_of')) STORED,
    number text GENERATED ALWAYS AS (data ->> 'number') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    paid boolean GENERATED ALWAYS AS (
        coalesce((data ->> 'paid')::boolean, (data ->> 'status') = 'paid')) STORED,
    billing_reason text GENERATED ALWAYS AS (data ->> 'billing_reason') STORED,
    collection_method text GENERATED ALWAYS AS (data ->> 'collection_method') STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    amount_due bigint GENERATED ALWAYS AS ((data ->> 'amount_due')::bigint) STORED,
    amount_paid bigint GENERATED ALWAYS AS ((data ->> 'amount_paid')::bigint) STORED,
    amount_remaining bigint GENERATED ALWAYS AS ((data ->> 'amount_remaining')::bigint) STORED,
    subtotal bigint GENERATED ALWAYS AS ((data ->> 'subtotal')::bigint) STORED,
    total bigint GENERATED ALWAYS AS ((data ->> 'total')::bigint) STORED,
    tax bigint GENERATED ALWAYS AS ((data ->> 'tax')::bigint) STORED,
    starting_balance bigint GENERATED ALWAYS AS ((data ->> 'starting_balance')::bigint) STORED,
    ending_balance bigint GENERATED ALWAYS AS ((data ->> 'ending_balance')::bigint) STORED,
    attempt_count integer GENERATED ALWAYS AS ((data ->> 'attempt_count')::integer) STORED,
    attempted boolean GENERATED ALWAYS AS ((data ->> 'attempted')::boolean) STORED,
    auto_advance boolean GENERATED ALWAYS AS ((data ->> 'auto_advance')::boolean) STORED,
    customer_email text GENERATED ALWAYS AS (data ->> 'customer_email') STORED,
    customer_name text GENERATED ALWAYS AS (data ->> 'customer_name') STORED,
    due_date timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'due_date')) STORED,
    period_start timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'period_start')) STORED,
    period_end timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'period_end')) STORED,
    effective_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'effective_at')) STORED,
    status_transitions_finalized_at timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'status_transitions.finalized_at')) STORED,
    status_transitions_paid_at timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'status_transitions.paid_at')) STORED,
    status_transitions_voided_at timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'status_transitions.voided_at')) STORED,
    hosted_invoice_url text GENERATED ALWAYS AS (data ->> 'hosted_invoice_url') STORED,
    invoice_pdf text GENERATED ALWAYS AS (data ->> 'invoice_pdf') STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX invoices_customer_idx ON stripe.invoices (customer);
CREATE INDEX invoices_subscription_idx ON stripe.invoices (subscription);
CREATE INDEX invoices_charge_idx ON stripe.invoices (charge);
CREATE INDEX invoices_payment_intent_idx ON stripe.invoices (payment_intent);
CREATE INDEX invoices_quote_idx ON stripe.invoices (quote);
CREATE INDEX invoices_default_payment_method_idx ON stripe.invoices (default_payment_method);
CREATE INDEX invoices_on_behalf_of_idx ON stripe.invoices (on_behalf_of);
CREATE INDEX invoices_number_idx ON stripe.invoices (number);
CREATE INDEX invoices_created_idx ON stripe.invoices (created);
COMMENT ON TABLE stripe.invoices IS 'Stripe invoices (object "invoice"), one row per id.';
COMMENT ON COLUMN stripe.invoices.data IS 'The whole Stripe invoice object.';
COMMENT ON COLUMN stripe.invoices.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.invoices.subscription IS
    'data.subscription or data.parent.subscription_details.subscription, a subscription id '
    '(joins stripe.subscriptions); the first path on older API versions, the second on newer '
    'ones';
COMMENT ON COLUMN stripe.invoices.charge IS
    'data.charge or data.payments.data[0].payment.charge, a charge id (joins stripe.charges); '
    'the first path on older API versions; newer ones only when the invoice payments list was '
    'included';
COMMENT ON COLUMN stripe.invoices.payment_intent IS
    'data.payment_intent or data.payments.data[0].payment.payment_intent, a PaymentIntent id '
    '(joins stripe.payment_intents); the first path on older API versions; newer ones only when '
    'the invoice payments list was included';
COMMENT ON COLUMN stripe.invoices.quote IS
    'data.quote or data.parent.quote_details.quote, a quote id (joins stripe.quotes); the first '
    'path on older API versions, the second on newer ones';
COMMENT ON COLUMN stripe.invoices.default_payment_method IS
    'data.default_payment_method, a payment method id (joins stripe.payment_methods)';
COMMENT ON COLUMN stripe.invoices.on_behalf_of IS
    'data.on_behalf_of, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.invoices.number IS 'data.number';
COMMENT ON COLUMN stripe.invoices.status IS 'data.status: draft, open, paid, uncollectible or void';
COMMENT ON COLUMN stripe.invoices.paid IS
    'data.paid (older API versions), or data.status = ''paid''';
COMMENT ON COLUMN stripe.invoices.billing_reason IS 'data.billing_reason';
COMMENT ON COLUMN stripe.invoices.collection_method IS
    'data.collection_method: charge_automatically or send_invoice';
COMMENT ON COLUMN stripe.invoices.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.invoices.amount_due IS 'data.amount_due, minor units of currency';
COMMENT ON COLUMN stripe.invoices.amount_paid IS 'data.amount_paid, minor units of currency';
COMMENT ON COLUMN stripe.invoices.amount_remaining IS
    'data.amount_remaining, minor units of currency';
COMMENT ON COLUMN stripe.invoices.subtotal IS 'data.subtotal, minor units of currency';
COMMENT ON COLUMN stripe.invoices.total IS 'data.total, minor units of currency';
COMMENT ON COLUMN stripe.invoices.tax IS
    'data.tax, minor units of currency; older API versions only';
COMMENT ON COLUMN stripe.invoices.starting_balance IS
    'data.starting_balance, minor units of currency';
COMMENT ON COLUMN stripe.invoices.ending_balance IS 'data.ending_balance, minor units of currency';
COMMENT ON COLUMN stripe.invoices.attempt_count IS 'data.attempt_count';
COMMENT ON COLUMN stripe.invoices.attempted IS 'data.attempted';
COMMENT ON COLUMN stripe.invoices.auto_advance IS 'data.auto_advance';
COMMENT ON COLUMN stripe.invoices.customer_email IS 'data.customer_email';
COMMENT ON COLUMN stripe.invoices.customer_name IS 'data.customer_name';
COMMENT ON COLUMN stripe.invoices.due_date IS 'data.due_date';
COMMENT ON COLUMN stripe.invoices.period_start IS 'data.period_start';
COMMENT ON COLUMN stripe.invoices.period_end IS 'data.period_end';
COMMENT ON COLUMN stripe.invoices.effective_at IS 'data.effective_at';
COMMENT ON COLUMN stripe.invoices.status_transitions_finalized_at IS
    'data.status_transitions.finalized_at';
COMMENT ON COLUMN stripe.invoices.status_transitions_paid_at IS 'data.status_transitions.paid_at';
COMMENT ON COLUMN stripe.invoices.status_transitions_voided_at IS
    'data.status_transitions.voided_at';
COMMENT ON COLUMN stripe.invoices.hosted_invoice_url IS 'data.hosted_invoice_url';
COMMENT ON COLUMN stripe.invoices.invoice_pdf IS 'data.invoice_pdf';
COMMENT ON COLUMN stripe.invoices.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.invoices.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.invoices.created IS 'data.created';
COMMENT ON COLUMN stripe.invoices.deleted IS 'true once Stripe deleted the invoice';
COMMENT ON COLUMN stripe.invoices.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- invoice_lines
CREATE TABLE stripe.invoice_lines (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    invoice text,
    type text GENERATED ALWAYS AS (
        coalesce(data ->> 'type',
                 CASE data -> 'parent' ->> 'type'
                     WHEN 'invoice_item_details' THEN 'invoiceitem'
                     WHEN 'subscription_item_details' THEN 'subscription'
                 END)) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    quantity integer GENERATED ALWAYS AS ((data ->> 'quantity')::integer) STORED,
    period_start timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'period.start')) STORED,
    period_end timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'period.end')) STORED,
    proration boolean GENERATED ALWAYS AS (
        stripe.text_at(data, 'proration | parent.subscription_item_details.proration | parent.invoice_item_details.proration')::boolean) STORED,
    discountable boolean GENERATED ALWAYS AS ((data ->> 'discountable')::boolean) STORED,
    price text GENERATED ALWAYS AS (
        stripe.id_at(data, 'price | pricing.price_details.price')) STORED,
    product text GENERATED ALWAYS AS (
        stripe.id_at(data, 'price.product | pricing.price_details.product')) STORED,
    unit_amount_decimal numeric GENERATED ALWAYS AS (
        stripe.text_at(data, 'price.unit_amount_decimal | pricing.unit_amount_decimal')::numeric) STORED,
    subscription text GENERATED ALWAYS AS (
        stripe.id_at(data, 'subscription | parent.subscription_item_details.subscription | parent.invoice_item_details.subscription')) STORED,
    subscription_item text GENERATED ALWAYS AS (
        stripe.id_at(data, 'subscription_item | parent.subscription_item_details.subscription_item')) STORED,
    invoice_item text GENERATED ALWAYS AS (
        stripe.id_at(data, 'invoice_item | parent.invoice_item_details.invoice_item')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX invoice_lines_invoice_idx ON stripe.invoice_lines (invoice);
CREATE INDEX invoice_lines_price_idx ON stripe.invoice_lines (price);
CREATE INDEX invoice_lines_product_idx ON stripe.invoice_lines (product);
CREATE INDEX invoice_lines_subscription_idx ON stripe.invoice_lines (subscription);
CREATE INDEX invoice_lines_subscription_item_idx ON stripe.invoice_lines (subscription_item);
CREATE INDEX invoice_lines_invoice_item_idx ON stripe.invoice_lines (invoice_item);
COMMENT ON TABLE stripe.invoice_lines IS
    'Stripe invoice line items (object "line_item"), one row per id; invoice links each to its '
    'invoice in stripe.invoices.';
COMMENT ON COLUMN stripe.invoice_lines.data IS 'The whole Stripe invoice line item object.';
COMMENT ON COLUMN stripe.invoice_lines.invoice IS
    'The parent invoice id (joins stripe.invoices), set by the extension';
COMMENT ON COLUMN stripe.invoice_lines.type IS
    'data.type (older API versions: invoiceitem or subscription), or the same values from '
    'data.parent.type (invoice_item_details, subscription_item_details)';
COMMENT ON COLUMN stripe.invoice_lines.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.invoice_lines.currency IS
    'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.invoice_lines.description IS 'data.description';
COMMENT ON COLUMN stripe.invoice_lines.quantity IS 'data.quantity';
COMMENT ON COLUMN stripe.invoice_lines.period_start IS 'data.period.start';
COMMENT ON COLUMN stripe.invoice_lines.period_end IS 'data.period.end';
COMMENT ON COLUMN stripe.invoice_lines.proration IS
    'data.proration or data.parent.subscription_item_details.proration or '
    'data.parent.invoice_item_details.proration: the first path on older API versions';
COMMENT ON COLUMN stripe.invoice_lines.discountable IS 'data.discountable';
COMMENT ON COLUMN stripe.invoice_lines.price IS
    'data.price or data.pricing.price_details.price, a price id (joins stripe.prices); the '
    'first path on older API versions, the second on newer ones';
COMMENT ON COLUMN stripe.invoice_lines.product IS
    'data.price.product or data.pricing.price_details.product, a product id (joins '
    'stripe.products)';
COMMENT ON COLUMN stripe.invoice_lines.unit_amount_decimal IS
    'data.price.unit_amount_decimal or data.pricing.unit_amount_decimal: decimal minor units';
COMMENT ON COLUMN stripe.invoice_lines.subscription IS
    'data.subscription or data.parent.subscription_item_details.subscription or '
    'data.parent.invoice_item_details.subscription, a subscription id (joins '
    'stripe.subscriptions); the first path on older API versions';
COMMENT ON COLUMN stripe.invoice_lines.subscription_item IS
    'data.subscription_item or data.parent.subscription_item_details.subscription_item, a '
    'subscription item id (joins stripe.subscription_items); the first path on older API '
    'versions';
COMMENT ON COLUMN stripe.invoice_lines.invoice_item IS
    'data.invoice_item or data.parent.invoice_item_details.invoice_item, an invoice item id '
    '(joins stripe.invoiceitems); the first path on older API versions';
COMMENT ON COLUMN stripe.invoice_lines.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.invoice_lines.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.invoice_lines.deleted IS
    'data.deleted, normally false: Stripe keeps invoice line items';
COMMENT ON COLUMN stripe.invoice_lines.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- invoiceitems
CREATE TABLE stripe.invoiceitems (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    invoice text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice')) STORED,
    subscription text GENERATED ALWAYS AS (
        stripe.id_at(data, 'subscription | parent.subscription_details.subscription')) STORED,
    subscription_item text GENERATED ALWAYS AS (
        stripe.id_at(data, 'subscription_item | parent.subscription_details.subscription_item')) STORED,
    price text GENERATED ALWAYS AS (
        stripe.id_at(data, 'price | pricing.price_details.price')) STORED,
    product text GENERATED ALWAYS AS (
        stripe.id_at(data, 'price.product | pricing.price_details.product')) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    quantity integer GENERATED ALWAYS AS ((data ->> 'quantity')::integer) STORED,
    unit_amount bigint GENERATED ALWAYS AS ((data ->> 'unit_amount')::bigint) STORED,
    unit_amount_decimal numeric GENERATED ALWAYS AS (
        stripe.text_at(data, 'unit_amount_decimal | pricing.unit_amount_decimal')::numeric) STORED,
    proration boolean GENERATED ALWAYS AS ((data ->> 'proration')::boolean) STORED,
    discountable boolean GENERATED ALWAYS AS ((data ->> 'discountable')::boolean) STORED,
    date timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'date')) STORED,
    period_start timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'period.start')) STORED,
    period_end timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'period.end')) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX invoiceitems_customer_idx ON stripe.invoiceitems (customer);
CREATE INDEX invoiceitems_invoice_idx ON stripe.invoiceitems (invoice);
CREATE INDEX invoiceitems_subscription_idx ON stripe.invoiceitems (subscription);
CREATE INDEX invoiceitems_subscription_item_idx ON stripe.invoiceitems (subscription_item);
CREATE INDEX invoiceitems_price_idx ON stripe.invoiceitems (price);
CREATE INDEX invoiceitems_product_idx ON stripe.invoiceitems (product);
COMMENT ON TABLE stripe.invoiceitems IS
    'Stripe invoice items (object "invoiceitem"), one row per id.';
COMMENT ON COLUMN stripe.invoiceitems.data IS 'The whole Stripe invoice item object.';
COMMENT ON COLUMN stripe.invoiceitems.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.invoiceitems.invoice IS
    'data.invoice, an invoice id (joins stripe.invoices); null while pending (not yet on an '
    'invoice)';
COMMENT ON COLUMN stripe.invoiceitems.subscription IS
    'data.subscription or data.parent.subscription_details.subscription, a subscription id '
    '(joins stripe.subscriptions); the first path on older API versions, the second on newer '
    'ones';
COMMENT ON COLUMN stripe.invoiceitems.subscription_item IS
    'data.subscription_item or data.parent.subscription_details.subscription_item, a '
    'subscription item id (joins stripe.subscription_items); the first path on older API '
    'versions, the second on newer ones';
COMMENT ON COLUMN stripe.invoiceitems.price IS
    'data.price or data.pricing.price_details.price, a price id (joins stripe.prices); the '
    'first path on older API versions, the second on newer ones';
COMMENT ON COLUMN stripe.invoiceitems.product IS
    'data.price.product or data.pricing.price_details.product, a product id (joins '
    'stripe.products)';
COMMENT ON COLUMN stripe.invoiceitems.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.invoiceitems.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.invoiceitems.description IS 'data.description';
COMMENT ON COLUMN stripe.invoiceitems.quantity IS 'data.quantity';
COMMENT ON COLUMN stripe.invoiceitems.unit_amount IS
    'data.unit_amount, minor units of currency; older API versions only';
COMMENT ON COLUMN stripe.invoiceitems.unit_amount_decimal IS
    'data.unit_amount_decimal or data.pricing.unit_amount_decimal: decimal minor units';
COMMENT ON COLUMN stripe.invoiceitems.proration IS 'data.proration';
COMMENT ON COLUMN stripe.invoiceitems.discountable IS 'data.discountable';
COMMENT ON COLUMN stripe.invoiceitems.date IS 'data.date: when the invoice item was created';
COMMENT ON COLUMN stripe.invoiceitems.period_start IS 'data.period.start';
COMMENT ON COLUMN stripe.invoiceitems.period_end IS 'data.period.end';
COMMENT ON COLUMN stripe.invoiceitems.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.invoiceitems.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.invoiceitems.deleted IS 'true once Stripe deleted the invoice item';
COMMENT ON COLUMN stripe.invoiceitems.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- credit_notes
CREATE TABLE stripe.credit_notes (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    invoice text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice')) STORED,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    refund text GENERATED ALWAYS AS (stripe.id_at(data, 'refund | refunds.0.refund')) STORED,
    number text GENERATED ALWAYS AS (data ->> 'number') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    reason text GENERATED ALWAYS AS (data ->> 'reason') STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    subtotal bigint GENERATED ALWAYS AS ((data ->> 'subtotal')::bigint) STORED,
    total bigint GENERATED ALWAYS AS ((data ->> 'total')::bigint) STORED,
    discount_amount bigint GENERATED ALWAYS AS ((data ->> 'discount_amount')::bigint) STORED,
    out_of_band_amount bigint GENERATED ALWAYS AS ((data ->> 'out_of_band_amount')::bigint) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    memo text GENERATED ALWAYS AS (data ->> 'memo') STORED,
    effective_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'effective_at')) STORED,
    voided_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'voided_at')) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX credit_notes_invoice_idx ON stripe.credit_notes (invoice);
CREATE INDEX credit_notes_customer_idx ON stripe.credit_notes (customer);
CREATE INDEX credit_notes_refund_idx ON stripe.credit_notes (refund);
CREATE INDEX credit_notes_number_idx ON stripe.credit_notes (number);
COMMENT ON TABLE stripe.credit_notes IS
    'Stripe credit notes (object "credit_note"), one row per id.';
COMMENT ON COLUMN stripe.credit_notes.data IS 'The whole Stripe credit note object.';
COMMENT ON COLUMN stripe.credit_notes.invoice IS
    'data.invoice, an invoice id (joins stripe.invoices)';
COMMENT ON COLUMN stripe.credit_notes.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.credit_notes.refund IS
    'data.refund or data.refunds[0].refund, a refund id (joins stripe.refunds); the first path '
    'on older API versions; newer ones list refunds, this is the first';
COMMENT ON COLUMN stripe.credit_notes.number IS 'data.number';
COMMENT ON COLUMN stripe.credit_notes.status IS 'data.status: issued or void';
COMMENT ON COLUMN stripe.credit_notes.type IS 'data.type: pre_payment or post_payment';
COMMENT ON COLUMN stripe.credit_notes.reason IS 'data.reason';
COMMENT ON COLUMN stripe.credit_notes.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.credit_notes.subtotal IS 'data.subtotal, minor units of currency';
COMMENT ON COLUMN stripe.credit_notes.total IS 'data.total, minor units of currency';
COMMENT ON COLUMN stripe.credit_notes.discount_amount IS
    'data.discount_amount, minor units of currency';
COMMENT ON COLUMN stripe.credit_notes.out_of_band_amount IS
    'data.out_of_band_amount, minor units of currency';
COMMENT ON COLUMN stripe.credit_notes.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.credit_notes.memo IS 'data.memo';
COMMENT ON COLUMN stripe.credit_notes.effective_at IS 'data.effective_at';
COMMENT ON COLUMN stripe.credit_notes.voided_at IS 'data.voided_at';
COMMENT ON COLUMN stripe.credit_notes.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.credit_notes.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.credit_notes.created IS 'data.created';
COMMENT ON COLUMN stripe.credit_notes.deleted IS
    'data.deleted, normally false: credit notes are never deleted, they end in status void';
COMMENT ON COLUMN stripe.credit_notes.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- credit_note_lines
CREATE TABLE stripe.credit_note_lines (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    credit_note text NOT NULL,
    invoice_line_item text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice_line_item')) STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    discount_amount bigint GENERATED ALWAYS AS ((data ->> 'discount_amount')::bigint) STORED,
    quantity integer GENERATED ALWAYS AS ((data ->> 'quantity')::integer) STORED,
    unit_amount bigint GENERATED ALWAYS AS ((data ->> 'unit_amount')::bigint) STORED,
    unit_amount_decimal numeric GENERATED ALWAYS AS (
        (data ->> 'unit_amount_decimal')::numeric) STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX credit_note_lines_credit_note_idx ON stripe.credit_note_lines (credit_note);
CREATE INDEX credit_note_lines_invoice_line_item_idx
    ON stripe.credit_note_lines (invoice_line_item);
COMMENT ON TABLE stripe.credit_note_lines IS
    'Stripe credit note line items (object "credit_note_line_item"), one row per id; '
    'credit_note links each to its credit note in stripe.credit_notes.';
COMMENT ON COLUMN stripe.credit_note_lines.data IS 'The whole Stripe credit note line item object.';
COMMENT ON COLUMN stripe.credit_note_lines.credit_note IS
    'The parent credit note id (joins stripe.credit_notes), set by the extension';
COMMENT ON COLUMN stripe.credit_note_lines.invoice_line_item IS
    'data.invoice_line_item, an invoice line item id (joins stripe.invoice_lines)';
COMMENT ON COLUMN stripe.credit_note_lines.type IS
    'data.type: invoice_line_item or custom_line_item';
COMMENT ON COLUMN stripe.credit_note_lines.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.credit_note_lines.discount_amount IS
    'data.discount_amount, minor units of currency';
COMMENT ON COLUMN stripe.credit_note_lines.quantity IS 'data.quantity';
COMMENT ON COLUMN stripe.credit_note_lines.unit_amount IS
    'data.unit_amount, minor units of currency';
COMMENT ON COLUMN stripe.credit_note_lines.unit_amount_decimal IS
    'data.unit_amount_decimal: decimal minor units';
COMMENT ON COLUMN stripe.credit_note_lines.description IS 'data.description';
COMMENT ON COLUMN stripe.credit_note_lines.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.credit_note_lines.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.credit_note_lines.deleted IS
    'data.deleted, normally false: Stripe keeps credit note line items';
COMMENT ON COLUMN stripe.credit_note_lines.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- quotes
CREATE TABLE stripe.quotes (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    invoice text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice')) STORED,
    subscription text GENERATED ALWAYS AS (stripe.id_at(data, 'subscription')) STORED,
    subscription_schedule text GENERATED ALWAYS AS (
        stripe.id_at(data, 'subscription_schedule')) STORED,
    on_behalf_of text GENERATED ALWAYS AS (stripe.id_at(data, 'on_behalf_of')) STORED,
    number text GENERATED ALWAYS AS (data ->> 'number') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    amount_subtotal bigint GENERATED ALWAYS AS ((data ->> 'amount_subtotal')::bigint) STORED,
    amount_total bigint GENERATED ALWAYS AS ((data ->> 'amount_total')::bigint) STORED,
    total_details_amount_discount bigint GENERATED ALWAYS AS (
        stripe.text_at(data, 'total_details.amount_discount')::bigint) STORED,
    total_details_amount_tax bigint GENERATED ALWAYS AS (
        stripe.text_at(data, 'total_details.amount_tax')::bigint) STORED,
    collection_method text GENERATED ALWAYS AS (data ->> 'collection_method') STORED,
    expires_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'expires_at')) STORED,
    status_transitions_finalized_at timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'status_transitions.finalized_at')) STORED,
    status_transitions_accepted_at timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'status_transitions.accepted_at')) STORED,
    status_transitions_canceled_at timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'status_transitions.canceled_at')) STORED,
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
CREATE INDEX quotes_customer_idx ON stripe.quotes (customer);
CREATE INDEX quotes_invoice_idx ON stripe.quotes (invoice);
CREATE INDEX quotes_subscription_idx ON stripe.quotes (subscription);
CREATE INDEX quotes_subscription_schedule_idx ON stripe.quotes (subscription_schedule);
CREATE INDEX quotes_on_behalf_of_idx ON stripe.quotes (on_behalf_of);
COMMENT ON TABLE stripe.quotes IS 'Stripe quotes (object "quote"), one row per id.';
COMMENT ON COLUMN stripe.quotes.data IS 'The whole Stripe quote object.';
COMMENT ON COLUMN stripe.quotes.customer IS 'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.quotes.invoice IS 'data.invoice, an invoice id (joins stripe.invoices)';
COMMENT ON COLUMN stripe.quotes.subscription IS
    'data.subscription, a subscription id (joins stripe.subscriptions)';
COMMENT ON COLUMN stripe.quotes.subscription_schedule IS
    'data.subscription_schedule, a subscription schedule id (joins stripe.subscription_schedules)';
COMMENT ON COLUMN stripe.quotes.on_behalf_of IS
    'data.on_behalf_of, an account id (joins stripe.accounts)';
COMMENT ON COLUMN stripe.quotes.number IS 'data.number';
COMMENT ON COLUMN stripe.quotes.status IS 'data.status: draft, open, accepted or canceled';
COMMENT ON COLUMN stripe.quotes.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.quotes.amount_subtotal IS 'data.amount_subtotal, minor units of currency';
COMMENT ON COLUMN stripe.quotes.amount_total IS 'data.amount_total, minor units of currency';
COMMENT ON COLUMN stripe.quotes.total_details_amount_discount IS
    'data.total_details.amount_discount, minor units of currency';
COMMENT ON COLUMN stripe.quotes.total_details_amount_tax IS
    'data.total_details.amount_tax, minor units of currency';
COMMENT ON COLUMN stripe.quotes.collection_method IS 'data.collection_method';
COMMENT ON COLUMN stripe.quotes.expires_at IS 'data.expires_at';
COMMENT ON COLUMN stripe.quotes.status_transitions_finalized_at IS
    'data.status_transitions.finalized_at';
COMMENT ON COLUMN stripe.quotes.status_transitions_accepted_at IS
    'data.status_transitions.accepted_at';
COMMENT ON COLUMN stripe.quotes.status_transitions_canceled_at IS
    'data.status_transitions.canceled_at';
COMMENT ON COLUMN stripe.quotes.description IS 'data.description';
COMMENT ON COLUMN stripe.quotes.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.quotes.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.quotes.created IS 'data.created';
COMMENT ON COLUMN stripe.quotes.deleted IS
    'data.deleted, normally false: quotes are never deleted, they end in status canceled';
COMMENT ON COLUMN stripe.quotes.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- discounts
CREATE TABLE stripe.discounts (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    coupon text GENERATED ALWAYS AS (stripe.id_at(data, 'coupon | source.coupon')) STORED,
    promotion_code text GENERATED ALWAYS AS (stripe.id_at(data, 'promotion_code')) STORED,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    subscription text GENERATED ALWAYS AS (stripe.id_at(data, 'subscription')) STORED,
    subscription_item text GENERATED ALWAYS AS (stripe.id_at(data, 'subscription_item')) STORED,
    invoice text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice')) STORED,
    invoice_item text GENERATED ALWAYS AS (stripe.id_at(data, 'invoice_item')) STORED,
    checkout_session text GENERATED ALWAYS AS (stripe.id_at(data, 'checkout_session')) STORED,
    start timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'start')) STORED,
    "end" timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'end')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX discounts_coupon_idx ON stripe.discounts (coupon);
CREATE INDEX discounts_promotion_code_idx ON stripe.discounts (promotion_code);
CREATE INDEX discounts_customer_idx ON stripe.discounts (customer);
CREATE INDEX discounts_subscription_idx ON stripe.discounts (subscription);
CREATE INDEX discounts_subscription_item_idx ON stripe.discounts (subscription_item);
CREATE INDEX discounts_invoice_idx ON stripe.discounts (invoice);
CREATE INDEX discounts_invoice_item_idx ON stripe.discounts (invoice_item);
CREATE INDEX discounts_checkout_session_idx ON stripe.discounts (checkout_session);
COMMENT ON TABLE stripe.discounts IS
    'Stripe discounts (object "discount"): a coupon or promotion code applied to a customer, '
    'subscription, invoice or Checkout Session; one row per id.';
COMMENT ON COLUMN stripe.discounts.data IS 'The whole Stripe discount object.';
COMMENT ON COLUMN stripe.discounts.coupon IS
    'data.coupon or data.source.coupon, a coupon id (joins stripe.coupons); the first path on '
    'older API versions, the second on newer ones';
COMMENT ON COLUMN stripe.discounts.promotion_code IS
    'data.promotion_code, a promotion code id (joins stripe.promotion_codes)';
COMMENT ON COLUMN stripe.discounts.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.discounts.subscription IS
    'data.subscription, a subscription id (joins stripe.subscriptions)';
COMMENT ON COLUMN stripe.discounts.subscription_item IS
    'data.subscription_item, a subscription item id (joins stripe.subscription_items)';
COMMENT ON COLUMN stripe.discounts.invoice IS 'data.invoice, an invoice id (joins stripe.invoices)';
COMMENT ON COLUMN stripe.discounts.invoice_item IS
    'data.invoice_item, an invoice item id (joins stripe.invoiceitems)';
COMMENT ON COLUMN stripe.discounts.checkout_session IS
    'data.checkout_session, a Checkout Session id (joins stripe.checkout_sessions)';
COMMENT ON COLUMN stripe.discounts.start IS 'data.start';
COMMENT ON COLUMN stripe.discounts."end" IS
    'data.end: null unless the coupon lasts a number of months';
COMMENT ON COLUMN stripe.discounts.deleted IS 'true once Stripe deleted the discount';
COMMENT ON COLUMN stripe.discounts.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- tax_ids
CREATE TABLE stripe.tax_ids (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    customer text,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    value text GENERATED ALWAYS AS (data ->> 'value') STORED,
    country text GENERATED ALWAYS AS (data ->> 'country') STORED,
    verification_status text GENERATED ALWAYS AS (
        stripe.text_at(data, 'verification.status')) STORED,
    owner_type text GENERATED ALWAYS AS (stripe.text_at(data, 'owner.type')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX tax_ids_customer_idx ON stripe.tax_ids (customer);
COMMENT ON TABLE stripe.tax_ids IS
    'Stripe tax IDs (object "tax_id"), one row per id; customer links each to its customer in '
    'stripe.customers.';
COMMENT ON COLUMN stripe.tax_ids.data IS 'The whole Stripe tax ID object.';
COMMENT ON COLUMN stripe.tax_ids.customer IS
    'The parent customer id (joins stripe.customers), set by the extension';
COMMENT ON COLUMN stripe.tax_ids.type IS 'data.type: e.g. eu_vat, gb_vat, us_ein';
COMMENT ON COLUMN stripe.tax_ids.value IS 'data.value';
COMMENT ON COLUMN stripe.tax_ids.country IS 'data.country';
COMMENT ON COLUMN stripe.tax_ids.verification_status IS
    'data.verification.status: pending, verified, unverified or unavailable';
COMMENT ON COLUMN stripe.tax_ids.owner_type IS 'data.owner.type: newer API versions';
COMMENT ON COLUMN stripe.tax_ids.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.tax_ids.created IS 'data.created';
COMMENT ON COLUMN stripe.tax_ids.deleted IS 'true once Stripe deleted the tax ID';
COMMENT ON COLUMN stripe.tax_ids.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- Keep mirror data in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.subscriptions', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.subscription_items', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.subscription_schedules', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.invoices', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.invoice_lines', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.invoiceitems', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.credit_notes', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.credit_note_lines', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.quotes', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.discounts', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.tax_ids', '');
