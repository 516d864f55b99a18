-- The functions typed columns are generated with (src/typed_columns.rs). A path is keys
-- separated by '.', array positions as numbers, and '|' between alternatives, tried in order:
-- where Stripe moved a field between API versions a column reads both places.
--
-- They exist for speed as much as brevity: PostgreSQL rebuilds every generated column's
-- expression each time a statement writes its table, and a single call is the cheapest
-- expression there is (see the README's performance section).

CREATE FUNCTION stripe.text_at(data jsonb, path text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'djstripe_text_at';
COMMENT ON FUNCTION stripe.text_at(jsonb, text) IS
    'The value at path as ->> renders it (a string, a number, true/false; an object as JSON), '
    'or NULL. text_at(data, ''owner.type'') = data -> ''owner'' ->> ''type''.';

CREATE FUNCTION stripe.id_at(data jsonb, path text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'djstripe_id_at';
COMMENT ON FUNCTION stripe.id_at(jsonb, text) IS
    'The id in an expandable field: the id string Stripe sends by default, or the id of the '
    'object expand[] puts in its place; an alternative without one is skipped.';

CREATE FUNCTION stripe.time_at(data jsonb, path text) RETURNS timestamptz
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'djstripe_time_at';
COMMENT ON FUNCTION stripe.time_at(jsonb, text) IS
    'A Unix time at path (Stripe''s timestamps) as to_timestamp converts it; an alternative '
    'that is not a number is skipped.';
