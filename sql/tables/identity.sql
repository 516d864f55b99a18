-- djstripe_pg mirror tables, identity group.
-- Identity: verification sessions and reports.
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
-- identity_verification_sessions
CREATE TABLE stripe.identity_verification_sessions (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    status text GENERATED ALWAYS AS (data ->> 'status') STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    last_verification_report text GENERATED ALWAYS AS (
        stripe.id_at(data, 'last_verification_report')) STORED,
    related_customer text GENERATED ALWAYS AS (stripe.id_at(data, 'related_customer')) STORED,
    client_reference_id text GENERATED ALWAYS AS (data ->> 'client_reference_id') STORED,
    last_error_code text GENERATED ALWAYS AS (stripe.text_at(data, 'last_error.code')) STORED,
    redaction_status text GENERATED ALWAYS AS (stripe.text_at(data, 'redaction.status')) STORED,
    metadata jsonb GENERATED ALWAYS AS (data -> 'metadata') STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX identity_verification_sessions_last_verification_report_idx
    ON stripe.identity_verification_sessions (last_verification_report);
CREATE INDEX identity_verification_sessions_related_customer_idx
    ON stripe.identity_verification_sessions (related_customer);
CREATE INDEX identity_verification_sessions_client_reference_id_idx
    ON stripe.identity_verification_sessions (client_reference_id);
COMMENT ON TABLE stripe.identity_verification_sessions IS
    'Stripe Identity verification sessions (object "identity.verification_session"), one row '
    'per id.';
COMMENT ON COLUMN stripe.identity_verification_sessions.data IS
    'The whole Stripe verification session object.';
COMMENT ON COLUMN stripe.identity_verification_sessions.status IS
    'data.status: requires_input, processing, verified or canceled';
COMMENT ON COLUMN stripe.identity_verification_sessions.type IS 'data.type: document or id_number';
COMMENT ON COLUMN stripe.identity_verification_sessions.last_verification_report IS
    'data.last_verification_report, a verification report id (joins '
    'stripe.identity_verification_reports)';
COMMENT ON COLUMN stripe.identity_verification_sessions.related_customer IS
    'data.related_customer, a customer id (joins stripe.customers); newer API versions';
COMMENT ON COLUMN stripe.identity_verification_sessions.client_reference_id IS
    'data.client_reference_id';
COMMENT ON COLUMN stripe.identity_verification_sessions.last_error_code IS 'data.last_error.code';
COMMENT ON COLUMN stripe.identity_verification_sessions.redaction_status IS 'data.redaction.status';
COMMENT ON COLUMN stripe.identity_verification_sessions.metadata IS
    'data.metadata: your key-value pairs';
COMMENT ON COLUMN stripe.identity_verification_sessions.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.identity_verification_sessions.created IS 'data.created';
COMMENT ON COLUMN stripe.identity_verification_sessions.deleted IS
    'data.deleted, normally false: Identity verification sessions are never deleted, they end '
    'in status canceled';
COMMENT ON COLUMN stripe.identity_verification_sessions.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- ---------------------------------------------------------------------------------------------
-- identity_verification_reports
CREATE TABLE stripe.identity_verification_reports (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    verification_session text GENERATED ALWAYS AS (
        stripe.id_at(data, 'verification_session')) STORED,
    type text GENERATED ALWAYS AS (data ->> 'type') STORED,
    client_reference_id text GENERATED ALWAYS AS (data ->> 'client_reference_id') STORED,
    document_status text GENERATED ALWAYS AS (stripe.text_at(data, 'document.status')) STORED,
    document_type text GENERATED ALWAYS AS (stripe.text_at(data, 'document.type')) STORED,
    document_issuing_country text GENERATED ALWAYS AS (
        stripe.text_at(data, 'document.issuing_country')) STORED,
    id_number_status text GENERATED ALWAYS AS (stripe.text_at(data, 'id_number.status')) STORED,
    selfie_status text GENERATED ALWAYS AS (stripe.text_at(data, 'selfie.status')) STORED,
    livemode boolean GENERATED ALWAYS AS ((data ->> 'livemode')::boolean) STORED,
    created timestamptz GENERATED ALWAYS AS (stripe.time_at(data, 'created')) STORED,
    deleted boolean GENERATED ALWAYS AS (data @> '{"deleted": true}') STORED,
    account_id text,
    synced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    synced_from text NOT NULL,
    stripe_as_of timestamptz NOT NULL
);
CREATE INDEX identity_verification_reports_verification_session_idx
    ON stripe.identity_verification_reports (verification_session);
COMMENT ON TABLE stripe.identity_verification_reports IS
    'Stripe Identity verification reports (object "identity.verification_report"), one row per id.';
COMMENT ON COLUMN stripe.identity_verification_reports.data IS
    'The whole Stripe verification report object.';
COMMENT ON COLUMN stripe.identity_verification_reports.verification_session IS
    'data.verification_session, a verification session id (joins '
    'stripe.identity_verification_sessions)';
COMMENT ON COLUMN stripe.identity_verification_reports.type IS 'data.type: document or id_number';
COMMENT ON COLUMN stripe.identity_verification_reports.client_reference_id IS
    'data.client_reference_id';
COMMENT ON COLUMN stripe.identity_verification_reports.document_status IS
    'data.document.status: verified or unverified';
COMMENT ON COLUMN stripe.identity_verification_reports.document_type IS 'data.document.type';
COMMENT ON COLUMN stripe.identity_verification_reports.document_issuing_country IS
    'data.document.issuing_country';
COMMENT ON COLUMN stripe.identity_verification_reports.id_number_status IS 'data.id_number.status';
COMMENT ON COLUMN stripe.identity_verification_reports.selfie_status IS 'data.selfie.status';
COMMENT ON COLUMN stripe.identity_verification_reports.livemode IS
    'data.livemode: false for test-mode objects';
COMMENT ON COLUMN stripe.identity_verification_reports.created IS 'data.created';
COMMENT ON COLUMN stripe.identity_verification_reports.deleted IS
    'data.deleted, normally false: Stripe keeps Identity verification reports';
COMMENT ON COLUMN stripe.identity_verification_reports.account_id IS
    'The Connect account the object belongs to (joins stripe.accounts); NULL for the '
    'platform''s own. Set by the extension';

-- Keep mirror data in pg_dump output (extension tables are skipped otherwise).
SELECT pg_catalog.pg_extension_config_dump('stripe.identity_verification_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('stripe.identity_verification_reports', '');
