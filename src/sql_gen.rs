//! SQL text for the statements sync and ingest run, built from the catalog. Pure: it only makes
//! strings, so the statements are unit-tested here and executed by the pgrx glue.
//!
//! One statement writes a batch of objects of one type *and* everything hanging off them: the
//! nested lists Stripe inlines (invoice lines, subscription items, …) replace the parent's child
//! rows, and embedded objects (a customer's discount) are upserted into their own tables.
//!
//! Ordering rule shared by every write: a row is only replaced by data at least as new as what it
//! holds (`stripe_as_of`, whole seconds: events carry no finer time). At equal seconds a
//! `*.created` event never replaces anything and a deleted row stays deleted, because within one
//! second creation comes first and deletion last; other events and syncs win ties, since a change
//! later in the same second as a sync's fetch must not be lost.
//!
//! Every write statement takes the same parameters, so the glue binds them one way:
//! `$1` jsonb the JSON (a list page, a page of children, or an event); the statements cast it
//!            (`$1::jsonb`), so they read the same with a text parameter
//! `$2` float8 the unix second the data reflects
//! `$3` text  synced_from: `sync` or the event id
//! `$4` text  account_id (Connect account, or NULL for the platform's own)
//! `$5` bool  whether this write wins a tie on `stripe_as_of`
//! `$6` text  the parent id, for types that hang off a parent (else NULL)
//! `$7` bool  the event deletes its object

use crate::catalog::{lookup, ObjectType};

pub const WRITE_PARAMS: usize = 7;

const UPDATE_SET: &str = "data = excluded.data, account_id = excluded.account_id, \
     synced_at = excluded.synced_at, synced_from = excluded.synced_from, \
     stripe_as_of = excluded.stripe_as_of";

fn newer_wins(tie: &str) -> String {
    format!(
        "t.stripe_as_of < excluded.stripe_as_of \
         OR (t.stripe_as_of = excluded.stripe_as_of AND {tie} AND NOT t.deleted)"
    )
}

/// What a write stamps on each row: SQL expressions for `stripe_as_of`, `synced_from` and
/// `account_id` — the statement's parameters, or columns of the rows being written.
struct Stamp<'a> {
    as_of: &'a str,
    from: &'a str,
    account: &'a str,
}

/// A single write's stamp: the shared parameters.
const PARAMS: Stamp = Stamp {
    as_of: "to_timestamp($2)",
    from: "$3",
    account: "$4",
};

/// Rows that hang off a written parent carry the parent's stamp (`up` returns it).
const FROM_PARENT: Stamp = Stamp {
    as_of: "p.stripe_as_of",
    from: "p.synced_from",
    account: "p.account_id",
};

/// What `up` returns for its dependents and for the caller.
const UP_RETURNING: &str = "RETURNING id, data, stripe_as_of, synced_from, account_id";

/// The rows an upsert writes: what `from` yields (as `o`), kept where `filter` holds.
struct Rows<'a> {
    from: &'a str,
    filter: &'a str,
    /// Ids are already unique (an event's one object, or rows deduplicated upstream): no need
    /// to drop repeated ids first, which costs a sort and its executor set-up on every write.
    unique: bool,
}

impl<'a> Rows<'a> {
    fn many(from: &'a str, filter: &'a str) -> Self {
        Rows {
            from,
            filter,
            unique: false,
        }
    }
}

/// `INSERT … ON CONFLICT` of `rows` into `t`'s table.
fn upsert(
    t: &ObjectType,
    rows: Rows,
    parent_expr: Option<&str>,
    stamp: &Stamp,
    tie: &str,
    returning: &str,
) -> String {
    let (pcol, pval, pset, pfilter) = match (t.parent, parent_expr) {
        (Some(p), Some(expr)) => (
            format!(", {}", p.column),
            format!(", {expr}"),
            format!(", {0} = excluded.{0}", p.column),
            // A row that names its own parent may lose it (a detached payment method);
            // one that does not cannot be placed without the bound parent.
            if p.own_field.is_some() {
                String::new()
            } else {
                format!(" AND {expr} IS NOT NULL")
            },
        ),
        _ => Default::default(),
    };
    format!(
        "INSERT INTO {table} AS t (id, data{pcol}, account_id, synced_at, synced_from, stripe_as_of) \
         SELECT {distinct}o ->> 'id', o{pval}, {account}, clock_timestamp(), {src}, {as_of} \
         FROM {from} WHERE o ->> 'id' IS NOT NULL{filter}{pfilter} \
         ON CONFLICT (id) DO UPDATE SET {UPDATE_SET}{pset} WHERE {cond} {returning}",
        table = t.qualified_table(),
        distinct = if rows.unique { "" } else { "DISTINCT ON (o ->> 'id') " },
        from = rows.from,
        filter = rows.filter,
        cond = newer_wins(tie),
        account = stamp.account,
        src = stamp.from,
        as_of = stamp.as_of,
    )
}

/// The parent id of an object of type `t`: the bound parent, else the object's own field.
fn parent_expr(t: &ObjectType) -> Option<String> {
    t.parent.map(|p| match p.own_field {
        Some(f) => format!("coalesce($6, o ->> '{f}')"),
        None => "$6".to_string(),
    })
}

/// Which of `t`'s nested lists and embedded objects a write includes: all of them (a list page
/// of many objects), or only the fields one object carries (an event), so a statement does not
/// prepare writes to tables it cannot touch.
#[derive(Clone, Copy)]
pub enum Fields<'a> {
    All,
    Only(&'a [String]),
}

impl Fields<'_> {
    fn has(&self, field: &str) -> bool {
        match self {
            Fields::All => true,
            Fields::Only(present) => present.iter().any(|f| f == field),
        }
    }
}

/// The fields of `t` that name a nested list or an embedded object, among `present`.
pub fn dependent_fields(t: &ObjectType, present: &[String]) -> Vec<String> {
    let inline = t
        .children()
        .filter_map(|c| c.parent.and_then(|p| p.inline_field));
    let embedded = t.embeds.iter().map(|(f, _)| *f);
    inline
        .chain(embedded)
        .filter(|f| present.iter().any(|p| p == f))
        .map(str::to_string)
        .collect()
}

/// CTEs that follow `up` (the written parents: id, data): nested lists and embedded objects.
fn dependents(t: &ObjectType, fields: Fields) -> Vec<String> {
    let mut ctes = Vec::new();
    for (i, c) in t.children().enumerate() {
        let (Some(p), Some(field)) = (c.parent, c.parent.and_then(|p| p.inline_field)) else {
            continue;
        };
        if !fields.has(field) {
            continue;
        }
        let list = format!("p.data -> '{field}'");
        // Replace only when the parent carries the whole list: absent (not expanded) or
        // truncated (`has_more`) lists are completed by paging, then pruned by the glue.
        ctes.push(format!(
            "d{i} AS (DELETE FROM {ct} c USING up p WHERE c.{pc} = p.id \
             AND jsonb_typeof({list}) = 'object' \
             AND NOT coalesce(({list} ->> 'has_more')::boolean, false) \
             AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements({list} -> 'data') k \
                             WHERE k ->> 'id' = c.id))",
            ct = c.qualified_table(),
            pc = p.column,
        ));
        let from = format!(
            "up p, jsonb_array_elements(CASE WHEN jsonb_typeof({list} -> 'data') = 'array' \
             THEN {list} -> 'data' ELSE '[]' END) o"
        );
        ctes.push(format!(
            "c{i} AS ({})",
            upsert(
                c,
                Rows::many(&from, ""),
                Some("p.id"),
                &FROM_PARENT,
                "true",
                "RETURNING 1"
            )
        ));
    }
    for (i, (field, name)) in t.embeds.iter().enumerate() {
        if !fields.has(field) {
            continue;
        }
        let e = lookup(name).expect("catalog test checks embeds");
        let from = format!("up p, LATERAL (SELECT p.data -> '{field}' AS o) e");
        let only_objects = " AND jsonb_typeof(o) = 'object'";
        let sql = upsert(
            e,
            Rows::many(&from, only_objects),
            None,
            &FROM_PARENT,
            "true",
            "RETURNING 1",
        );
        ctes.push(format!("e{i} AS ({sql})"));
    }
    ctes
}

/// A jsonb array (as text) of the nested lists the written parents truncated:
/// `[{"parent": id, "child": catalog name, "url": "/v1/…", "as_of", "src"}]` (the parent's
/// stamp, which its children take), to be paged by the glue.
fn paging(t: &ObjectType, fields: Fields) -> String {
    let parts: Vec<String> = t
        .children()
        .filter_map(|c| c.parent.and_then(|p| p.inline_field).map(|f| (c, f)))
        .filter(|(_, f)| fields.has(f))
        .map(|(c, f)| {
            format!(
                "SELECT p.id AS parent, '{name}' AS child, p.data -> '{f}' ->> 'url' AS url, \
                 extract(epoch FROM p.stripe_as_of)::float8 AS as_of, p.synced_from AS src \
                 FROM up p WHERE coalesce((p.data -> '{f}' ->> 'has_more')::boolean, false)",
                name = c.name
            )
        })
        .collect();
    if parts.is_empty() {
        "'[]'".to_string()
    } else {
        format!(
            "(SELECT coalesce(jsonb_agg(x), '[]')::text FROM ({}) x)",
            parts.join(" UNION ALL ")
        )
    }
}

fn with_up(t: &ObjectType, up: String, fields: Fields) -> String {
    let mut ctes = vec![format!("up AS ({up})")];
    ctes.extend(dependents(t, fields));
    format!("WITH {}", ctes.join(", "))
}

/// Writes one list page of `t` (and its dependents). Returns one row:
/// (objects written: bigint, truncated nested lists: text jsonb array).
pub fn write_page(t: &ObjectType) -> String {
    let parent = parent_expr(t);
    let up = upsert(
        t,
        Rows::many("jsonb_array_elements($1::jsonb -> 'data') o", ""),
        parent.as_deref(),
        &PARAMS,
        "$5",
        UP_RETURNING,
    );
    format!(
        "{} SELECT (SELECT count(*) FROM up)::text, {}",
        with_up(t, up, Fields::All),
        paging(t, Fields::All)
    )
}

/// Records an event and applies its object (and dependents) in one statement, so a crash can
/// never leave one without the other. The event's row (when it exists: queued, or being
/// processed by the worker) is locked before anything is written, so a concurrent delivery of
/// the same event waits, then sees it processed, instead of writing the object a second time or
/// deadlocking against the worker. Returns one row (status, truncated nested lists), or no row
/// when the event id was already processed.
pub fn apply_event(t: &ObjectType, fields: Fields) -> String {
    let parent = parent_expr(t);
    let from = format!(
        "(SELECT CASE WHEN $7 THEN e -> 'data' -> 'object' || '{{\"deleted\": true}}' \
         ELSE e -> 'data' -> 'object' END AS o FROM ev \
         WHERE NOT EXISTS (SELECT 1 FROM lk WHERE lk.status NOT IN ({UNPROCESSED}))) s"
    );
    let rows = Rows {
        from: &from,
        filter: "",
        unique: true,
    };
    let up = upsert(t, rows, parent.as_deref(), &PARAMS, "$5", UP_RETURNING);
    // lk takes the event row's lock first: a materialized CTE, so no filter is pushed below the
    // lock (which would skip locking a row another transaction is still processing).
    let with = with_up(t, up, fields).replacen(
        "WITH ",
        "WITH ev AS (SELECT $1::jsonb AS e), \
         lk AS MATERIALIZED (SELECT status FROM stripe.events WHERE id = $3 FOR UPDATE), ",
        1,
    );
    format!(
        "{with} INSERT INTO stripe.events (id, data, status, processed_at, account_id) \
         SELECT $3, e, CASE WHEN EXISTS (SELECT 1 FROM up) THEN 'applied' ELSE 'stale' END, \
         clock_timestamp(), $4 FROM ev \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, processed_at = excluded.processed_at, \
         last_error = NULL, next_attempt_at = NULL \
         WHERE stripe.events.status IN ({UNPROCESSED}) \
         RETURNING status, {}",
        paging(t, fields)
    )
}

/// Applies recorded events of type `t` in one statement (the catch-up path): `$1` text[] the
/// ids of the events, read from `stripe.events` as stored (no JSON is parsed again). Per object
/// only its newest event is written (ties: a deletion over an update over a creation, as one at
/// a time would end), and each event gets the status it would get applied alone in created
/// order. Returns (events processed, truncated nested lists).
pub fn apply_events_batch(t: &ObjectType) -> String {
    let parent = t
        .parent
        .and_then(|p| p.own_field)
        .map(|f| format!("o ->> '{f}'"));
    let stamp = Stamp {
        as_of: "b.as_of",
        from: "b.src",
        account: "b.account",
    };
    // ON CONFLICT … WHERE sees only the row and `excluded`, so creations (which lose ties) and
    // the rest (which win them) go through two upserts; an object is in only one of them.
    let wins = upsert(
        t,
        Rows {
            from: "b",
            filter: " AND b.rank > 0",
            unique: true,
        },
        parent.as_deref(),
        &stamp,
        "true",
        UP_RETURNING,
    );
    let loses = upsert(
        t,
        Rows {
            from: "b",
            filter: " AND b.rank = 0",
            unique: true,
        },
        parent.as_deref(),
        &stamp,
        "false",
        UP_RETURNING,
    );
    let up = "SELECT * FROM w UNION ALL SELECT * FROM l".to_string();
    let with = with_up(t, up, Fields::All).replacen(
        "WITH ",
        &format!(
            "WITH lk AS MATERIALIZED (SELECT id, type, created, account_id, data FROM stripe.events \
                 WHERE id = ANY($1) AND status IN ({UNPROCESSED}) FOR UPDATE), \
             b0 AS (SELECT id AS src, created AS as_of, account_id AS account, \
                 CASE WHEN type LIKE '%.deleted' THEN 2 \
                      WHEN type LIKE '%.created' THEN 0 ELSE 1 END AS rank, \
                 CASE WHEN type LIKE '%.deleted' \
                      THEN data -> 'data' -> 'object' || '{{\"deleted\": true}}' \
                      ELSE data -> 'data' -> 'object' END AS o \
                 FROM lk), \
             b AS (SELECT DISTINCT ON (o ->> 'id') * FROM b0 \
                 ORDER BY o ->> 'id', as_of DESC, rank DESC, src DESC), \
             w AS ({wins}), l AS ({loses}), "
        ),
        1,
    );
    // Status as if the page's events were applied one by one, oldest first: each is applied
    // unless the row held newer data before the page (`pre` reads the statement's snapshot,
    // taken before w and l write), whatever newer event of the page then replaced it.
    format!(
        "{with}, pre AS (SELECT id, stripe_as_of, deleted FROM {table} \
                         WHERE id IN (SELECT o ->> 'id' FROM b0)), \
         st AS (UPDATE stripe.events ev SET status = CASE WHEN x.beats THEN 'applied' ELSE 'stale' END, \
             processed_at = clock_timestamp(), last_error = NULL, next_attempt_at = NULL \
             FROM (SELECT b0.src, (pre.id IS NULL OR b0.as_of > pre.stripe_as_of \
                       OR (b0.as_of = pre.stripe_as_of AND b0.rank > 0 AND NOT pre.deleted)) AS beats \
                   FROM b0 LEFT JOIN pre ON pre.id = b0.o ->> 'id') x \
             WHERE ev.id = x.src RETURNING 1) \
         SELECT (SELECT count(*) FROM st)::text, {}",
        paging(t, Fields::All),
        table = t.qualified_table(),
    )
}

/// Marks recorded events of types the mirror does not keep. `$1` text[] their ids.
pub const IGNORE_EVENTS: &str =
    "UPDATE stripe.events SET status = 'ignored', processed_at = clock_timestamp() \
     WHERE id = ANY($1) AND status IN ('recorded', 'pending', 'failed')";

/// Statuses of events recorded but not yet applied: a delivery or the worker may apply them.
const UNPROCESSED: &str = "'recorded', 'pending', 'failed'";

/// Records an event whose object type the mirror does not keep. Same parameters.
pub fn record_ignored_event() -> String {
    format!(
        "INSERT INTO stripe.events (id, data, status, processed_at, account_id) \
         VALUES ($3, $1::jsonb, 'ignored', clock_timestamp(), $4) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, processed_at = excluded.processed_at \
         WHERE stripe.events.status IN ({UNPROCESSED}) RETURNING status, '[]'::text"
    )
}

/// Records a page of the Events API (`$1` jsonb) for the catch-up to apply. Returns one row:
/// (events newly recorded, '').
pub const RECORD_EVENTS: &str = "WITH ins AS (INSERT INTO stripe.events \
     (id, data, status, account_id, synced_from) \
     SELECT e ->> 'id', e, 'pending', e ->> 'account', 'events_api' \
     FROM jsonb_array_elements($1::jsonb -> 'data') e \
     ON CONFLICT (id) DO NOTHING RETURNING 1) \
     SELECT count(*)::text, '' FROM ins";

/// Queue mode: only records the event for the worker. Same parameters.
pub const QUEUE_EVENT: &str = "INSERT INTO stripe.events (id, data, status, account_id) \
     VALUES ($3, $1::jsonb, 'pending', $4) \
     ON CONFLICT (id) DO NOTHING RETURNING status, '[]'::text";

/// After paging a truncated nested list completely: child rows of the parent not seen are gone.
/// `$1` parent id, `$2` text[] ids seen.
pub fn prune_children(c: &ObjectType) -> String {
    let p = c.parent.expect("prune_children takes a child type");
    format!(
        "DELETE FROM {} WHERE {} = $1 AND NOT (id = ANY($2))",
        c.qualified_table(),
        p.column
    )
}

/// After a complete, unfiltered sync: rows of the key's mode that the listing did not return
/// and nothing newer touched are gone from Stripe. `$1` float8: when the sync started (exact);
/// `$2` bool: livemode. A row an earlier sync wrote before this one started counts as not seen
/// even within the same second, since this listing would have returned it again.
pub fn mark_missing_deleted(t: &ObjectType) -> String {
    format!(
        "UPDATE {table} SET data = data || '{{\"deleted\": true}}', synced_at = clock_timestamp(), \
         synced_from = 'sync', stripe_as_of = to_timestamp(floor($1)) \
         WHERE NOT deleted AND coalesce((data ->> 'livemode')::boolean, $2) = $2 \
         AND (stripe_as_of < to_timestamp(floor($1)) \
              OR (synced_from = 'sync' AND synced_at < to_timestamp($1)))",
        table = t.qualified_table(),
    )
}

/// Ids of the parents a per-parent type is listed under.
pub fn parent_ids(c: &ObjectType) -> String {
    let p = c.parent.expect("parent_ids takes a child type");
    let parent = lookup(p.name).expect("catalog test checks parents");
    format!(
        "SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM {} WHERE NOT deleted",
        parent.qualified_table()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{lookup, CATALOG};

    fn max_param(sql: &str) -> usize {
        (1..=9)
            .filter(|p| sql.contains(&format!("${p}")))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn write_statements_use_the_shared_parameters_only() {
        for t in CATALOG {
            for sql in [write_page(t), apply_event(t, Fields::All)] {
                assert!(sql.contains(&t.qualified_table()), "{sql}");
                assert!(max_param(&sql) <= WRITE_PARAMS, "{sql}");
            }
        }
    }

    #[test]
    fn nested_lists_and_embeds_are_written_with_their_parent() {
        let inv = write_page(lookup("invoice").unwrap());
        assert!(inv.contains("INSERT INTO stripe.invoice_lines"), "{inv}");
        assert!(
            inv.contains("DELETE FROM stripe.invoice_lines c USING up p WHERE c.invoice = p.id")
        );
        assert!(inv.contains("INSERT INTO stripe.discounts"), "{inv}");
        assert!(inv.contains("'line_item' AS child"), "{inv}");
        let cus = write_page(lookup("customer").unwrap());
        assert!(
            !cus.contains("DELETE"),
            "customers have no inline lists: {cus}"
        );
        let tax = write_page(lookup("tax_id").unwrap());
        assert!(tax.contains("coalesce($6, o ->> 'customer')"), "{tax}");
    }

    #[test]
    fn ordering_guard_is_on_every_upsert() {
        for t in CATALOG {
            let sql = apply_event(t, Fields::All);
            let inserts = sql.matches("INSERT INTO stripe.").count();
            // every mirror upsert carries the guard; the events insert does not need it
            assert_eq!(
                sql.matches("t.stripe_as_of < excluded.stripe_as_of")
                    .count(),
                inserts - 1,
                "{sql}"
            );
        }
        assert!(mark_missing_deleted(lookup("customer").unwrap())
            .contains("coalesce((data ->> 'livemode')::boolean, $2) = $2"));
    }

    #[test]
    fn an_event_only_writes_the_tables_its_object_can_fill() {
        let inv = lookup("invoice").unwrap();
        let plain = apply_event(inv, Fields::Only(&[]));
        assert!(
            !plain.contains("invoice_lines") && !plain.contains("discounts"),
            "{plain}"
        );
        let present = dependent_fields(inv, &["lines".into(), "customer_address".into()]);
        assert_eq!(present, ["lines"]);
        let lines = apply_event(inv, Fields::Only(&present));
        assert!(lines.contains("INSERT INTO stripe.invoice_lines") && !lines.contains("discounts"));
    }

    #[test]
    fn child_helpers() {
        let lines = lookup("line_item").unwrap();
        assert_eq!(
            prune_children(lines),
            "DELETE FROM stripe.invoice_lines WHERE invoice = $1 AND NOT (id = ANY($2))"
        );
        assert!(parent_ids(lookup("tax_id").unwrap()).contains("FROM stripe.customers"));
    }
}
