-- djstripe_pg mirror tables, core group.
-- Core objects: accounts, customers, the product catalog, coupons, taxes, files.
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
-- accounts
CREATE TABLE stripe.accounts (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    business_type text GENERATED ALWAYS AS (data ->> 'business_type') STORED,
    email text GENERATED ALWAYS AS (data ->> 'email') STORED,
    country text GENERATED ALWAYS AS (data ->> 'country') STORED,
    default_currency text GENERATED ALWAYS AS (data ->> 'default_currency') STORED,
    charges_enabled boolean GENERATED ALWAYS AS ((data ->> 'charges_enabled')::boolean) STORED,
    payouts_enabled boolean GENERATED ALWAYS AS ((data ->> 'payouts_enabled')::boolean) STORED,
    details_submitted boolean GENERATED ALWAYS AS ((data ->> 'details_submitted')::boolean) STORED,
    business_profile_name text GENERATED ALWAYS AS (
        stripe.text_at(data, 'business_profile.name')) STORED,
    business_profile_url text GENERATED ALWAYS AS (
        stripe.text_at(data, 'business_profile.url')) STORED,
    company_name text GENERATED ALWAYS AS (stripe.text_at(data, 'company.name')) STORED,
    controller_type text GENERATED ALWAYS AS (stripe.text_at(data, 'controller.type')) STORED,
    requirements_disabled_reason text GENERATED ALWAYS AS (
        stripe.text_at(data, 'requirements.disabled_reason')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
COMMENT ON TABLE stripe.accounts IS
    'Connected accounts of the platform (object "account"), one row per id.';
COMMENT ON COLUMN stripe.accounts.data IS 'The whole Stripe account object.';
COMMENT ON COLUMN stripe.accounts.type IS 'data.type: standard, express, custom or none';
COMMENT ON COLUMN stripe.accounts.business_type IS 'data.business_type';
COMMENT ON COLUMN stripe.accounts.email IS 'data.email';
COMMENT ON COLUMN stripe.accounts.country IS 'data.country';
COMMENT ON COLUMN stripe.accounts.default_currency IS
    'data.default_currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.accounts.charges_enabled IS 'data.charges_enabled';
COMMENT ON COLUMN stripe.accounts.payouts_enabled IS 'data.payouts_enabled';
COMMENT ON COLUMN stripe.accounts.details_submitted IS 'data.details_submitted';
COMMENT ON COLUMN stripe.accounts.business_profile_name IS 'data.business_profile.name';
COMMENT ON COLUMN stripe.accounts.business_profile_url IS 'data.business_profile.url';
COMMENT ON COLUMN stripe.accounts.company_name IS 'data.company.name';
COMMENT ON COLUMN stripe.accounts.controller_type IS 'data.controller.type';
COMMENT ON COLUMN stripe.accounts.requirements_disabled_reason IS
    'data.requirements.disabled_reason: why charges or payouts are disabled, if they are';
COMMENT ON COLUMN stripe.accounts.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.accounts.created IS 'data.created';
COMMENT ON COLUMN stripe.accounts.deleted IS 'true once Stripe deleted the account';
COMMENT ON COLUMN stripe.accounts.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

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
    default_source text GENERATED ALWAYS AS (stripe.id_at(data, 'default_source')) STORED,
    invoice_settings_default_payment_method text GENERATED ALWAYS AS (
        stripe.id_at(data, 'invoice_settings.default_payment_method')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX customers_default_source_idx ON stripe.customers (default_source);
CREATE INDEX customers_invoice_settings_default_payment_method_idx
    ON stripe.customers (invoice_settings_default_payment_method);
CREATE INDEX customers_email_idx ON stripe.customers (lower(email));
CREATE INDEX customers_created_idx ON stripe.customers (created);
COMMENT ON TABLE stripe.customers IS 'Stripe customers (object "customer"), one row per id.';
COMMENT ON COLUMN stripe.customers.data IS 'The whole Stripe customer object.';
COMMENT ON COLUMN stripe.customers.email IS 'data.email';
COMMENT ON COLUMN stripe.customers.name IS 'data.name';
COMMENT ON COLUMN stripe.customers.description IS 'data.description';
COMMENT ON COLUMN stripe.customers.phone IS 'data.phone';
COMMENT ON COLUMN stripe.customers.currency IS 'data.currency';
COMMENT ON COLUMN stripe.customers.balance IS 'data.balance, minor units of currency';
COMMENT ON COLUMN stripe.customers.delinquent IS 'data.delinquent';
COMMENT ON COLUMN stripe.customers.default_source IS
    'data.default_source: a card, bank account or source id (joins stripe.customer_sources)';
COMMENT ON COLUMN stripe.customers.invoice_settings_default_payment_method IS
    'data.invoice_settings.default_payment_method, a payment method id (joins '
    'stripe.payment_methods)';
COMMENT ON COLUMN stripe.customers.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.customers.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.customers.created IS 'data.created';
COMMENT ON COLUMN stripe.customers.deleted IS 'true once Stripe deleted the customer';
COMMENT ON COLUMN stripe.customers.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';
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
    default_price text GENERATED ALWAYS AS (stripe.id_at(data, 'default_price')) STORED,
    unit_label text GENERATED ALWAYS AS (data ->> 'unit_label') STORED,
    tax_code text GENERATED ALWAYS AS (stripe.id_at(data, 'tax_code')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    updated timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'updated')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX products_default_price_idx ON stripe.products (default_price);
CREATE INDEX products_tax_code_idx ON stripe.products (tax_code);
COMMENT ON TABLE stripe.products IS 'Stripe products (object "product").';
COMMENT ON COLUMN stripe.products.data IS 'The whole Stripe product object.';
COMMENT ON COLUMN stripe.products.name IS 'data.name';
COMMENT ON COLUMN stripe.products.description IS 'data.description';
COMMENT ON COLUMN stripe.products.active IS
    'data.active: whether the product is available for purchase';
COMMENT ON COLUMN stripe.products.type IS 'data.type: good or service';
COMMENT ON COLUMN stripe.products.default_price IS
    'data.default_price, a price id (joins stripe.prices)';
COMMENT ON COLUMN stripe.products.unit_label IS 'data.unit_label';
COMMENT ON COLUMN stripe.products.tax_code IS
    'data.tax_code, a tax code id (joins stripe.tax_codes)';
COMMENT ON COLUMN stripe.products.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.products.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.products.created IS 'data.created';
COMMENT ON COLUMN stripe.products.updated IS 'data.updated';
COMMENT ON COLUMN stripe.products.deleted IS 'true once Stripe deleted the product';
COMMENT ON COLUMN stripe.products.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- prices
CREATE TABLE stripe.prices (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    product text GENERATED ALWAYS AS (stripe.id_at(data, 'product')) STORED,
    active boolean GENERATED ALWAYS AS ((data ->> 'active')::boolean) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    unit_amount bigint GENERATED ALWAYS AS ((data ->> 'unit_amount')::bigint) STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    billing_scheme text GENERATED ALWAYS AS (data ->> 'billing_scheme') STORED,
    recurring_interval text GENERATED ALWAYS AS (
        stripe.text_at(data, 'recurring.interval')) STORED,
    recurring_interval_count integer GENERATED ALWAYS AS (
        stripe.text_at(data, 'recurring.interval_count')::integer) STORED,
    recurring_usage_type text GENERATED ALWAYS AS (
        stripe.text_at(data, 'recurring.usage_type')) STORED,
    lookup_key text GENERATED ALWAYS AS (data ->> 'lookup_key') STORED,
    nickname text GENERATED ALWAYS AS (data ->> 'nickname') STORED,
    tax_behavior text GENERATED ALWAYS AS (data ->> 'tax_behavior') STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX prices_product_idx ON stripe.prices (product);
CREATE INDEX prices_lookup_key_idx ON stripe.prices (lookup_key) WHERE lookup_key IS NOT NULL;
COMMENT ON TABLE stripe.prices IS 'Stripe prices (object "price").';
COMMENT ON COLUMN stripe.prices.data IS 'The whole Stripe price object.';
COMMENT ON COLUMN stripe.prices.product IS 'data.product, a product id (joins stripe.products)';
COMMENT ON COLUMN stripe.prices.active IS 'data.active';
COMMENT ON COLUMN stripe.prices.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.prices.unit_amount IS 'data.unit_amount, minor units of currency';
COMMENT ON COLUMN stripe.prices.type IS 'data.type: one_time or recurring';
COMMENT ON COLUMN stripe.prices.billing_scheme IS 'data.billing_scheme: per_unit or tiered';
COMMENT ON COLUMN stripe.prices.recurring_interval IS
    'data.recurring.interval: day, week, month or year; null for one-time prices';
COMMENT ON COLUMN stripe.prices.recurring_interval_count IS 'data.recurring.interval_count';
COMMENT ON COLUMN stripe.prices.recurring_usage_type IS
    'data.recurring.usage_type: licensed or metered';
COMMENT ON COLUMN stripe.prices.lookup_key IS 'data.lookup_key';
COMMENT ON COLUMN stripe.prices.nickname IS 'data.nickname';
COMMENT ON COLUMN stripe.prices.tax_behavior IS
    'data.tax_behavior: inclusive, exclusive or unspecified';
COMMENT ON COLUMN stripe.prices.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.prices.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.prices.created IS 'data.created';
COMMENT ON COLUMN stripe.prices.deleted IS 'true once Stripe deleted the price';
COMMENT ON COLUMN stripe.prices.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- plans
CREATE TABLE stripe.plans (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    product text GENERATED ALWAYS AS (stripe.id_at(data, 'product')) STORED,
    active boolean GENERATED ALWAYS AS ((data ->> 'active')::boolean) STORED,
    amount bigint GENERATED ALWAYS AS ((data ->> 'amount')::bigint) STORED,
    amount_decimal numeric GENERATED ALWAYS AS ((data ->> 'amount_decimal')::numeric) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    interval text GENERATED ALWAYS AS (data ->> 'interval') STORED,
    interval_count integer GENERATED ALWAYS AS ((data ->> 'interval_count')::integer) STORED,
    usage_type text GENERATED ALWAYS AS (data ->> 'usage_type') STORED,
    billing_scheme text GENERATED ALWAYS AS (data ->> 'billing_scheme') STORED,
    nickname text GENERATED ALWAYS AS (data ->> 'nickname') STORED,
    trial_period_days integer GENERATED ALWAYS AS ((data ->> 'trial_period_days')::integer) STORED,
    meter text GENERATED ALWAYS AS (stripe.id_at(data, 'meter')) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX plans_product_idx ON stripe.plans (product);
CREATE INDEX plans_meter_idx ON stripe.plans (meter);
COMMENT ON TABLE stripe.plans IS
    'Stripe plans (object "plan"), the legacy form of recurring prices; a plan id equals its '
    'price id.';
COMMENT ON COLUMN stripe.plans.data IS 'The whole Stripe plan object.';
COMMENT ON COLUMN stripe.plans.product IS 'data.product, a product id (joins stripe.products)';
COMMENT ON COLUMN stripe.plans.active IS 'data.active';
COMMENT ON COLUMN stripe.plans.amount IS 'data.amount, minor units of currency';
COMMENT ON COLUMN stripe.plans.amount_decimal IS 'data.amount_decimal: decimal minor units';
COMMENT ON COLUMN stripe.plans.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.plans.interval IS 'data.interval: day, week, month or year';
COMMENT ON COLUMN stripe.plans.interval_count IS 'data.interval_count';
COMMENT ON COLUMN stripe.plans.usage_type IS 'data.usage_type: licensed or metered';
COMMENT ON COLUMN stripe.plans.billing_scheme IS 'data.billing_scheme: per_unit or tiered';
COMMENT ON COLUMN stripe.plans.nickname IS 'data.nickname';
COMMENT ON COLUMN stripe.plans.trial_period_days IS 'data.trial_period_days';
COMMENT ON COLUMN stripe.plans.meter IS
    'data.meter, a billing meter id (joins stripe.billing_meters)';
COMMENT ON COLUMN stripe.plans.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.plans.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.plans.created IS 'data.created';
COMMENT ON COLUMN stripe.plans.deleted IS 'true once Stripe deleted the plan';
COMMENT ON COLUMN stripe.plans.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- coupons
CREATE TABLE stripe.coupons (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    name text GENERATED ALWAYS AS (data ->> 'name') STORED,
    amount_off bigint GENERATED ALWAYS AS ((data ->> 'amount_off')::bigint) STORED,
    percent_off numeric GENERATED ALWAYS AS ((data ->> 'percent_off')::numeric) STORED,
    currency text GENERATED ALWAYS AS (data ->> 'currency') STORED,
    duration text GENERATED ALWAYS AS (data ->> 'duration') STORED,
    duration_in_months integer GENERATED ALWAYS AS (
        (data ->> 'duration_in_months')::integer) STORED,
    max_redemptions integer GENERATED ALWAYS AS ((data ->> 'max_redemptions')::integer) STORED,
    times_redeemed integer GENERATED ALWAYS AS ((data ->> 'times_redeemed')::integer) STORED,
    redeem_by timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'redeem_by')) STORED,
    valid boolean GENERATED ALWAYS AS ((data ->> 'valid')::boolean) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
COMMENT ON TABLE stripe.coupons IS 'Stripe coupons (object "coupon"), one row per id.';
COMMENT ON COLUMN stripe.coupons.data IS 'The whole Stripe coupon object.';
COMMENT ON COLUMN stripe.coupons.name IS 'data.name';
COMMENT ON COLUMN stripe.coupons.amount_off IS 'data.amount_off, minor units of currency';
COMMENT ON COLUMN stripe.coupons.percent_off IS 'data.percent_off: percent, e.g. 25.5';
COMMENT ON COLUMN stripe.coupons.currency IS 'data.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.coupons.duration IS 'data.duration: forever, once or repeating';
COMMENT ON COLUMN stripe.coupons.duration_in_months IS 'data.duration_in_months';
COMMENT ON COLUMN stripe.coupons.max_redemptions IS 'data.max_redemptions';
COMMENT ON COLUMN stripe.coupons.times_redeemed IS 'data.times_redeemed';
COMMENT ON COLUMN stripe.coupons.redeem_by IS 'data.redeem_by';
COMMENT ON COLUMN stripe.coupons.valid IS 'data.valid';
COMMENT ON COLUMN stripe.coupons.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.coupons.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.coupons.created IS 'data.created';
COMMENT ON COLUMN stripe.coupons.deleted IS 'true once Stripe deleted the coupon';
COMMENT ON COLUMN stripe.coupons.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- promotion_codes
CREATE TABLE stripe.promotion_codes (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    code text GENERATED ALWAYS AS (data ->> 'code') STORED,
    coupon text GENERATED ALWAYS AS (stripe.id_at(data, 'coupon | promotion.coupon')) STORED,
    customer text GENERATED ALWAYS AS (stripe.id_at(data, 'customer')) STORED,
    active boolean GENERATED ALWAYS AS ((data ->> 'active')::boolean) STORED,
    expires_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'expires_at')) STORED,
    max_redemptions integer GENERATED ALWAYS AS ((data ->> 'max_redemptions')::integer) STORED,
    times_redeemed integer GENERATED ALWAYS AS ((data ->> 'times_redeemed')::integer) STORED,
    restrictions_first_time_transaction boolean GENERATED ALWAYS AS (
        stripe.text_at(data, 'restrictions.first_time_transaction')::boolean) STORED,
    restrictions_minimum_amount bigint GENERATED ALWAYS AS (
        stripe.text_at(data, 'restrictions.minimum_amount')::bigint) STORED,
    restrictions_minimum_amount_currency text GENERATED ALWAYS AS (
        stripe.text_at(data, 'restrictions.minimum_amount_currency')) STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX promotion_codes_code_idx ON stripe.promotion_codes (code);
CREATE INDEX promotion_codes_coupon_idx ON stripe.promotion_codes (coupon);
CREATE INDEX promotion_codes_customer_idx ON stripe.promotion_codes (customer);
COMMENT ON TABLE stripe.promotion_codes IS
    'Stripe promotion codes (object "promotion_code"), one row per id.';
COMMENT ON COLUMN stripe.promotion_codes.data IS 'The whole Stripe promotion code object.';
COMMENT ON COLUMN stripe.promotion_codes.code IS 'data.code: the customer-facing code';
COMMENT ON COLUMN stripe.promotion_codes.coupon IS
    'data.coupon or data.promotion.coupon, a coupon id (joins stripe.coupons); the first path '
    'on older API versions, the second on newer ones';
COMMENT ON COLUMN stripe.promotion_codes.customer IS
    'data.customer, a customer id (joins stripe.customers)';
COMMENT ON COLUMN stripe.promotion_codes.active IS 'data.active';
COMMENT ON COLUMN stripe.promotion_codes.expires_at IS 'data.expires_at';
COMMENT ON COLUMN stripe.promotion_codes.max_redemptions IS 'data.max_redemptions';
COMMENT ON COLUMN stripe.promotion_codes.times_redeemed IS 'data.times_redeemed';
COMMENT ON COLUMN stripe.promotion_codes.restrictions_first_time_transaction IS
    'data.restrictions.first_time_transaction';
COMMENT ON COLUMN stripe.promotion_codes.restrictions_minimum_amount IS
    'data.restrictions.minimum_amount, minor units of currency';
COMMENT ON COLUMN stripe.promotion_codes.restrictions_minimum_amount_currency IS
    'data.restrictions.minimum_amount_currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.promotion_codes.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.promotion_codes.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.promotion_codes.created IS 'data.created';
COMMENT ON COLUMN stripe.promotion_codes.deleted IS
    'data.deleted, normally false: Stripe keeps promotion codes';
COMMENT ON COLUMN stripe.promotion_codes.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- tax_rates
CREATE TABLE stripe.tax_rates (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    display_name text GENERATED ALWAYS AS (data ->> 'display_name') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    percentage numeric GENERATED ALWAYS AS ((data ->> 'percentage')::numeric) STORED,
    effective_percentage numeric GENERATED ALWAYS AS (
        (data ->> 'effective_percentage')::numeric) STORED,
    inclusive boolean GENERATED ALWAYS AS ((data ->> 'inclusive')::boolean) STORED,
    active boolean GENERATED ALWAYS AS ((data ->> 'active')::boolean) STORED,
    country text GENERATED ALWAYS AS (data ->> 'country') STORED,
    state text GENERATED ALWAYS AS (data ->> 'state') STORED,
    jurisdiction text GENERATED ALWAYS AS (data ->> 'jurisdiction') STORED,
    tax_type text GENERATED ALWAYS AS (data ->> 'tax_type') STORED,
    metadata jsonb GENERATED ALWAYS AS (nullif(data -> 'metadata', 'null')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
COMMENT ON TABLE stripe.tax_rates IS 'Stripe tax rates (object "tax_rate"), one row per id.';
COMMENT ON COLUMN stripe.tax_rates.data IS 'The whole Stripe tax rate object.';
COMMENT ON COLUMN stripe.tax_rates.display_name IS 'data.display_name';
COMMENT ON COLUMN stripe.tax_rates.description IS 'data.description';
COMMENT ON COLUMN stripe.tax_rates.percentage IS 'data.percentage: percent';
COMMENT ON COLUMN stripe.tax_rates.effective_percentage IS 'data.effective_percentage: percent';
COMMENT ON COLUMN stripe.tax_rates.inclusive IS 'data.inclusive';
COMMENT ON COLUMN stripe.tax_rates.active IS 'data.active';
COMMENT ON COLUMN stripe.tax_rates.country IS 'data.country';
COMMENT ON COLUMN stripe.tax_rates.state IS 'data.state';
COMMENT ON COLUMN stripe.tax_rates.jurisdiction IS 'data.jurisdiction';
COMMENT ON COLUMN stripe.tax_rates.tax_type IS 'data.tax_type: e.g. vat, sales_tax, gst';
COMMENT ON COLUMN stripe.tax_rates.metadata IS
    'data.metadata: your key-value pairs; NULL where Stripe sends null';
COMMENT ON COLUMN stripe.tax_rates.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.tax_rates.created IS 'data.created';
COMMENT ON COLUMN stripe.tax_rates.deleted IS
    'data.deleted, normally false: Stripe keeps tax rates';
COMMENT ON COLUMN stripe.tax_rates.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- tax_codes
CREATE TABLE stripe.tax_codes (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    name text GENERATED ALWAYS AS (data ->> 'name') STORED,
    description text GENERATED ALWAYS AS (data ->> 'description') STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
COMMENT ON TABLE stripe.tax_codes IS
    'Stripe product tax codes (object "tax_code"), one row per id (txcd_...).';
COMMENT ON COLUMN stripe.tax_codes.data IS 'The whole Stripe tax code object.';
COMMENT ON COLUMN stripe.tax_codes.name IS 'data.name';
COMMENT ON COLUMN stripe.tax_codes.description IS 'data.description';
COMMENT ON COLUMN stripe.tax_codes.deleted IS
    'data.deleted, normally false: Stripe keeps tax codes';
COMMENT ON COLUMN stripe.tax_codes.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- shipping_rates
CREATE TABLE stripe.shipping_rates (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    display_name text GENERATED ALWAYS AS (data ->> 'display_name') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    fixed_amount_amount bigint GENERATED ALWAYS AS (
        stripe.text_at(data, 'fixed_amount.amount')::bigint) STORED,
    fixed_amount_currency text GENERATED ALWAYS AS (
        stripe.text_at(data, 'fixed_amount.currency')) STORED,
    tax_behavior text GENERATED ALWAYS AS (data ->> 'tax_behavior') STORED,
    tax_code text GENERATED ALWAYS AS (stripe.id_at(data, 'tax_code')) STORED,
    active boolean GENERATED ALWAYS AS ((data ->> 'active')::boolean) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX shipping_rates_tax_code_idx ON stripe.shipping_rates (tax_code);
COMMENT ON TABLE stripe.shipping_rates IS
    'Stripe shipping rates (object "shipping_rate"), one row per id.';
COMMENT ON COLUMN stripe.shipping_rates.data IS 'The whole Stripe shipping rate object.';
COMMENT ON COLUMN stripe.shipping_rates.display_name IS 'data.display_name';
COMMENT ON COLUMN stripe.shipping_rates.type IS 'data.type';
COMMENT ON COLUMN stripe.shipping_rates.fixed_amount_amount IS
    'data.fixed_amount.amount, minor units of currency';
COMMENT ON COLUMN stripe.shipping_rates.fixed_amount_currency IS
    'data.fixed_amount.currency: three-letter ISO code, lowercase';
COMMENT ON COLUMN stripe.shipping_rates.tax_behavior IS 'data.tax_behavior';
COMMENT ON COLUMN stripe.shipping_rates.tax_code IS
    'data.tax_code, a tax code id (joins stripe.tax_codes)';
COMMENT ON COLUMN stripe.shipping_rates.active IS 'data.active';
COMMENT ON COLUMN stripe.shipping_rates.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.shipping_rates.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.shipping_rates.created IS 'data.created';
COMMENT ON COLUMN stripe.shipping_rates.deleted IS
    'data.deleted, normally false: Stripe keeps shipping rates';
COMMENT ON COLUMN stripe.shipping_rates.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- billing_meters
CREATE TABLE stripe.billing_meters (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    display_name text GENERATED ALWAYS AS (data ->> 'display_name') STORED,
    event_name text GENERATED ALWAYS AS (data ->> 'event_name') STORED,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    default_aggregation_formula text GENERATED ALWAYS AS (
        stripe.text_at(data, 'default_aggregation.formula')) STORED,
    customer_mapping_event_payload_key text GENERATED ALWAYS AS (
        stripe.text_at(data, 'customer_mapping.event_payload_key')) STORED,
    value_settings_event_payload_key text GENERATED ALWAYS AS (
        stripe.text_at(data, 'value_settings.event_payload_key')) STORED,
    status_transitions_deactivated_at timestamptz GENERATED ALWAYS AS (
        stripe.time_at(data, 'status_transitions.deactivated_at')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    updated timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'updated')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX billing_meters_event_name_idx ON stripe.billing_meters (event_name);
COMMENT ON TABLE stripe.billing_meters IS
    'Stripe billing meters (object "billing.meter"), one row per id.';
COMMENT ON COLUMN stripe.billing_meters.data IS 'The whole Stripe billing meter object.';
COMMENT ON COLUMN stripe.billing_meters.display_name IS 'data.display_name';
COMMENT ON COLUMN stripe.billing_meters.event_name IS
    'data.event_name: the meter event name usage is reported under';
COMMENT ON COLUMN stripe.billing_meters.status IS 'data.status: active or inactive';
COMMENT ON COLUMN stripe.billing_meters.default_aggregation_formula IS
    'data.default_aggregation.formula';
COMMENT ON COLUMN stripe.billing_meters.customer_mapping_event_payload_key IS
    'data.customer_mapping.event_payload_key';
COMMENT ON COLUMN stripe.billing_meters.value_settings_event_payload_key IS
    'data.value_settings.event_payload_key';
COMMENT ON COLUMN stripe.billing_meters.status_transitions_deactivated_at IS
    'data.status_transitions.deactivated_at';
COMMENT ON COLUMN stripe.billing_meters.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.billing_meters.created IS 'data.created';
COMMENT ON COLUMN stripe.billing_meters.updated IS 'data.updated';
COMMENT ON COLUMN stripe.billing_meters.deleted IS
    'data.deleted, normally false: Stripe keeps billing meters';
COMMENT ON COLUMN stripe.billing_meters.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- entitlements_features
CREATE TABLE stripe.entitlements_features (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    name text GENERATED ALWAYS AS (data ->> 'name') STORED,
    lookup_key text GENERATED ALWAYS AS (data ->> 'lookup_key') STORED,
    active boolean GENERATED ALWAYS AS ((data ->> 'active')::boolean) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX entitlements_features_lookup_key_idx ON stripe.entitlements_features (lookup_key);
COMMENT ON TABLE stripe.entitlements_features IS
    'Stripe entitlement features (object "entitlements.feature"), one row per id.';
COMMENT ON COLUMN stripe.entitlements_features.data IS
    'The whole Stripe entitlement feature object.';
COMMENT ON COLUMN stripe.entitlements_features.name IS 'data.name';
COMMENT ON COLUMN stripe.entitlements_features.lookup_key IS 'data.lookup_key';
COMMENT ON COLUMN stripe.entitlements_features.active IS 'data.active';
COMMENT ON COLUMN stripe.entitlements_features.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.entitlements_features.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.entitlements_features.deleted IS
    'data.deleted, normally false: Stripe keeps entitlement features';
COMMENT ON COLUMN stripe.entitlements_features.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- files
CREATE TABLE stripe.files (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    filename text GENERATED ALWAYS AS (data ->> 'filename') STORED,
    purpose text GENERATED ALWAYS AS (data ->> 'purpose') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    size bigint GENERATED ALWAYS AS ((data ->> 'size')::bigint) STORED,
    title text GENERATED ALWAYS AS (data ->> 'title') STORED,
    url text GENERATED ALWAYS AS (data ->> 'url') STORED,
    expires_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'expires_at')) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
COMMENT ON TABLE stripe.files IS
    'Stripe file uploads (object "file"), one row per id; the contents are not mirrored.';
COMMENT ON COLUMN stripe.files.data IS 'The whole Stripe file object.';
COMMENT ON COLUMN stripe.files.filename IS 'data.filename';
COMMENT ON COLUMN stripe.files.purpose IS 'data.purpose: e.g. dispute_evidence, identity_document';
COMMENT ON COLUMN stripe.files.type IS 'data.type: file type, e.g. pdf, png';
COMMENT ON COLUMN stripe.files.size IS 'data.size: bytes';
COMMENT ON COLUMN stripe.files.title IS 'data.title';
COMMENT ON COLUMN stripe.files.url IS 'data.url';
COMMENT ON COLUMN stripe.files.expires_at IS 'data.expires_at';
COMMENT ON COLUMN stripe.files.created IS 'data.created';
COMMENT ON COLUMN stripe.files.deleted IS 'data.deleted, normally false: Stripe keeps files';
COMMENT ON COLUMN stripe.files.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- file_links
CREATE TABLE stripe.file_links (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    file text GENERATED ALWAYS AS (stripe.id_at(data, 'file')) STORED,
    url text GENERATED ALWAYS AS (data ->> 'url') STORED,
    expired boolean GENERATED ALWAYS AS ((data ->> 'expired')::boolean) STORED,
    expires_at timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'expires_at')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX file_links_file_idx ON stripe.file_links (file);
COMMENT ON TABLE stripe.file_links IS 'Stripe file links (object "file_link"), one row per id.';
COMMENT ON COLUMN stripe.file_links.data IS 'The whole Stripe file link object.';
COMMENT ON COLUMN stripe.file_links.file IS 'data.file, a file id (joins stripe.files)';
COMMENT ON COLUMN stripe.file_links.url IS 'data.url';
COMMENT ON COLUMN stripe.file_links.expired IS 'data.expired';
COMMENT ON COLUMN stripe.file_links.expires_at IS 'data.expires_at';
COMMENT ON COLUMN stripe.file_links.metadata IS 'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.file_links.livemode IS 'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.file_links.created IS 'data.created';
COMMENT ON COLUMN stripe.file_links.deleted IS
    'data.deleted, normally false: Stripe keeps file links';
COMMENT ON COLUMN stripe.file_links.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- Keep mirror data in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.customers', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.products', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.prices', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.plans', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.coupons', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.promotion_codes', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.tax_rates', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.tax_codes', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.shipping_rates', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.billing_meters', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.entitlements_features', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.files', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.file_links', '');
