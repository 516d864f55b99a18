//! SQL text for the statements sync and ingest run, built from the catalog. Pure: it only makes
//! strings, so the statements are unit-tested here and executed by the pgrx glue.
//!
//! Ordering rule shared by every write: a row is only replaced by data at least as new as what it
//! holds (`stripe_as_of`, whole seconds: events carry no finer time). At equal seconds a
//! `*.created` event never replaces anything and a deleted row stays deleted, because within one
//! second creation comes first and deletion last; other events and syncs win ties, since a change
//! later in the same second as a sync's fetch must not be lost.

use crate::catalog::ObjectType;

/// The condition under which incoming `excluded` data may replace row `t`.
/// `$tie` is a boolean parameter: whether this write wins a tie on `stripe_as_of`.
fn newer_wins(tie_param: &str) -> String {
    format!(
        "t.stripe_as_of < excluded.stripe_as_of \
         OR (t.stripe_as_of = excluded.stripe_as_of AND {tie_param} AND NOT t.deleted)"
    )
}

const UPDATE_SET: &str = "data = excluded.data, synced_at = excluded.synced_at, \
     synced_from = excluded.synced_from, stripe_as_of = excluded.stripe_as_of";

/// Upserts one list page. `$1` text: the list response body (`{"data": [...]}`);
/// `$2` float8: unix second the page was fetched in. Affected rows = objects written.
pub fn upsert_page(t: &ObjectType) -> String {
    format!(
        "INSERT INTO {table} AS t (id, data, synced_at, synced_from, stripe_as_of) \
         SELECT DISTINCT ON (o ->> 'id') o ->> 'id', o, clock_timestamp(), 'sync', to_timestamp($2) \
         FROM jsonb_array_elements($1::jsonb -> 'data') AS o \
         ON CONFLICT (id) DO UPDATE SET {UPDATE_SET} WHERE {cond}",
        table = t.qualified_table(),
        cond = newer_wins("true"),
    )
}

/// After a complete, unfiltered sync: rows of the key's mode that the listing did not return
/// and nothing newer touched are gone from Stripe. `$1` float8: the second the sync started in;
/// `$2` bool: livemode.
pub fn mark_missing_deleted(t: &ObjectType) -> String {
    format!(
        "UPDATE {table} SET data = data || '{{\"deleted\": true}}', synced_at = clock_timestamp(), \
         synced_from = 'sync', stripe_as_of = to_timestamp($1) \
         WHERE NOT deleted AND livemode = $2 AND stripe_as_of < to_timestamp($1)",
        table = t.qualified_table(),
    )
}

/// Records an event and applies its object in one statement, so a crash can never leave one
/// without the other. `$1` text: the event payload; `$2` text: event id; `$3` bool: the event
/// deletes its object; `$4` bool: the event wins ties (not a `*.created`).
/// Returns one row with the event's status, or no row when the event was already recorded.
pub fn apply_event(t: &ObjectType) -> String {
    format!(
        "WITH ev AS (SELECT $1::jsonb AS e), \
         up AS ( \
           INSERT INTO {table} AS t (id, data, synced_at, synced_from, stripe_as_of) \
           SELECT e -> 'data' -> 'object' ->> 'id', \
                  CASE WHEN $3 THEN (e -> 'data' -> 'object') || '{{\"deleted\": true}}' \
                       ELSE e -> 'data' -> 'object' END, \
                  clock_timestamp(), $2, to_timestamp((e ->> 'created')::float8) \
           FROM ev WHERE NOT EXISTS (SELECT 1 FROM stripe.events WHERE id = $2) \
           ON CONFLICT (id) DO UPDATE SET {UPDATE_SET} WHERE {cond} \
           RETURNING 1) \
         INSERT INTO stripe.events (id, data, status, processed_at) \
         SELECT $2, e, CASE WHEN EXISTS (SELECT 1 FROM up) THEN 'applied' ELSE 'stale' END, \
                clock_timestamp() FROM ev \
         ON CONFLICT (id) DO NOTHING RETURNING status",
        table = t.qualified_table(),
        cond = newer_wins("$4"),
    )
}

/// Records an event whose object type the mirror does not keep. `$1` payload, `$2` event id.
pub const RECORD_IGNORED_EVENT: &str =
    "INSERT INTO stripe.events (id, data, status, processed_at) \
     VALUES ($2, $1::jsonb, 'ignored', clock_timestamp()) \
     ON CONFLICT (id) DO NOTHING RETURNING status";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{lookup, CATALOG};

    #[test]
    fn statements_name_the_table_and_all_parameters() {
        for t in CATALOG {
            let table = format!("stripe.{}", t.table);
            for (sql, params) in [
                (upsert_page(t), 2),
                (mark_missing_deleted(t), 2),
                (apply_event(t), 4),
            ] {
                assert!(sql.contains(&table), "{sql}");
                for p in 1..=params {
                    assert!(sql.contains(&format!("${p}")), "${p} unused in {sql}");
                }
                assert!(!sql.contains(&format!("${}", params + 1)), "{sql}");
            }
        }
    }

    #[test]
    fn ordering_guard_is_on_every_upsert() {
        let t = lookup("customer").unwrap();
        assert!(upsert_page(t).contains("t.stripe_as_of < excluded.stripe_as_of"));
        assert!(apply_event(t).contains("AND $4 AND NOT t.deleted"));
        assert!(mark_missing_deleted(t).contains("livemode = $2"));
    }
}
