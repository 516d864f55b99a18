//! SQL text for the statements sync and ingest run, built from the catalog. Pure: it only makes
//! strings, so the statements are unit-tested here and executed by the pgrx glue.
//!
//! One statement writes a batch of objects of one type *and* everything hanging off them: the
//! nested lists Stripe inlines (invoice lines, subscription items, …) replace the parent's child
//! rows, and embedded objects (a customer's discount) are upserted into their own tables.
//!
//! Every upsert replaces a row only with a newer version of the object (`ordering`), and an
//! object whose two versions nothing orders is queued in `stripe.refetch_queue` for a retrieve.
//!
//! Every write statement takes the same parameters, so the glue binds them one way:
//! `$1` jsonb the JSON (a list page, a page of children, or an event); the statements cast it
//!            (`$1::jsonb`), so they read the same with a text parameter
//! `$2` float8 the unix time the data reflects: an event's `created`, or the exact moment a
//!            fetch started
//! `$3` text  synced_from: `sync`, `retrieve` or the event id
//! `$4` text  account_id (Connect account, or NULL for the platform's own)
//! `$5` text  what the write is: `ordering::Kind::as_str`
//! `$6` text  the parent id, for types that hang off a parent (else NULL)
//! `$7` bool  the event removes its object (`ObjectType::event_deletes`)

use crate::catalog::{lookup, ObjectType};
use crate::ordering::{self, Sides};

pub const WRITE_PARAMS: usize = 7;

/// A deletion keeps the last state the row knew (an event may carry only a deleted stub).
const UPDATE_SET: &str = "data = CASE WHEN excluded.data @> '{\"deleted\": true}' \
     THEN t.data || excluded.data ELSE excluded.data END, account_id = excluded.account_id, \
     synced_at = excluded.synced_at, synced_from = excluded.synced_from, \
     stripe_as_of = excluded.stripe_as_of";

/// What a write stamps on each row: SQL expressions for `stripe_as_of`, `synced_from` and
/// `account_id` — the statement's parameters, or columns of the rows being written — and the
/// write's `ordering::Kind`, as an expression `ON CONFLICT … WHERE` can use.
struct Stamp<'a> {
    as_of: &'a str,
    from: &'a str,
    account: &'a str,
    kind: &'a str,
}

/// A single write's stamp: the shared parameters.
const PARAMS: Stamp = Stamp {
    as_of: "to_timestamp($2)",
    from: "$3",
    account: "$4",
    kind: "$5",
};

/// Rows that hang off a written parent carry the parent's stamp (`up` returns it), and order
/// as an update when an event wrote the parent, as a fetch otherwise.
const FROM_PARENT: Stamp = Stamp {
    as_of: "p.stripe_as_of",
    from: "p.synced_from",
    account: "p.account_id",
    kind: "CASE WHEN excluded.synced_from LIKE 'evt\\_%' THEN 'updated' ELSE 'fetch' END",
};

/// What `up` returns for its dependents and for the caller; `existed`: the row was there
/// already (updated, not inserted).
const UP_RETURNING: &str =
    "RETURNING id, data, stripe_as_of, synced_from, account_id, t.xmax <> 0 AS existed";

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
        cond = ordering::on_conflict(stamp.kind, t.version_field).replaces(),
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
        let not_listed = format!(
            "NOT EXISTS (SELECT 1 FROM jsonb_array_elements({list} -> 'data') k WHERE k ->> 'id' = c.id)"
        );
        // Replace only when the parent carries the whole list: absent (not expanded) or
        // truncated (`has_more`) lists are completed by paging, then pruned by the glue.
        ctes.push(format!(
            "d{i} AS (DELETE FROM {ct} c USING up p WHERE c.{pc} = p.id AND NOT p.data @> {DELETED} \
             AND jsonb_typeof({list}) = 'object' \
             AND NOT coalesce(({list} ->> 'has_more')::boolean, false) AND {not_listed})",
            ct = c.qualified_table(),
            pc = p.column,
        ));
        // A deleted parent takes what hangs off it along: its children are deleted too.
        ctes.push(format!(
            "m{i} AS (UPDATE {ct} c SET data = c.data || {DELETED}, synced_at = clock_timestamp(), \
             synced_from = p.synced_from, stripe_as_of = greatest(c.stripe_as_of, p.stripe_as_of) \
             FROM up p WHERE c.{pc} = p.id AND p.data @> {DELETED} AND NOT c.deleted AND {not_listed})",
            ct = c.qualified_table(),
            pc = p.column,
        ));
        let from = format!(
            "up p, LATERAL (SELECT CASE WHEN p.data @> {DELETED} THEN x || {DELETED} ELSE x END AS o \
             FROM jsonb_array_elements(CASE WHEN jsonb_typeof({list} -> 'data') = 'array' \
             THEN {list} -> 'data' ELSE '[]' END) x) l"
        );
        ctes.push(format!(
            "c{i} AS ({})",
            upsert(
                c,
                Rows::many(&from, ""),
                Some("p.id"),
                &FROM_PARENT,
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
            "RETURNING 1",
        );
        ctes.push(format!("e{i} AS ({sql})"));
    }
    ctes
}

/// A jsonb array (as text) of the nested lists the written parents truncated (but a deleted
/// parent's: Stripe no longer lists what hung off it):
/// `[{"parent": id, "child": catalog name, "url": "/v1/…", "as_of", "src", "kind"}]` (the
/// parent's stamp, which its children take), to be paged by the glue. A truncated list
/// without a `url` is listed too (url null): the glue cannot complete it and says so.
fn paging(t: &ObjectType, fields: Fields) -> String {
    let parts: Vec<String> = t
        .children()
        .filter_map(|c| c.parent.and_then(|p| p.inline_field).map(|f| (c, f)))
        .filter(|(_, f)| fields.has(f))
        .map(|(c, f)| {
            format!(
                "SELECT p.id AS parent, '{name}' AS child, p.data -> '{f}' ->> 'url' AS url, \
                 extract(epoch FROM p.stripe_as_of)::float8 AS as_of, p.synced_from AS src, \
                 p.account_id AS account \
                 FROM up p WHERE coalesce((p.data -> '{f}' ->> 'has_more')::boolean, false) \
                 AND NOT coalesce((p.data ->> 'deleted')::boolean, false)",
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

/// Whether an object of `t` can be retrieved on its own, so that an ambiguous version is worth
/// queueing for a retrieve (`stripe.refetch_queue`).
fn refetchable(t: &ObjectType) -> bool {
    t.object_path(Some("p"), "x").is_some()
}

/// Whether the statement's write (its parameters, the object `data`) and the row `r` as it was
/// are two versions nothing orders.
fn against_row(t: &ObjectType, data: &str) -> String {
    Sides {
        row: "r",
        as_of: PARAMS.as_of,
        source: PARAMS.from,
        kind: PARAMS.kind,
        data,
        version: t.version_field,
    }
    .ambiguous()
}

/// An `INSERT` into `stripe.refetch_queue` of the objects `from` yields (`r`: the row as it
/// was) where `ambiguous` holds; a connected account's object is retrieved as that account.
fn queue_refetch(t: &ObjectType, from: &str, ambiguous: &str) -> String {
    let parent = match t.parent {
        Some(p) => format!("r.{}", p.column),
        None => "NULL".into(),
    };
    format!(
        "INSERT INTO stripe.refetch_queue (object_type, object_id, parent, account_id, reason) \
         SELECT DISTINCT '{name}', r.id, {parent}, coalesce(r.account_id, ''), 'tie' \
         FROM {from} WHERE {ambiguous} RETURNING 1",
        name = t.name,
    )
}

/// Writes one list page of `t` (and its dependents). Returns one row: ("<objects written>
/// <of them, rows that existed already>", truncated nested lists: text jsonb array).
pub fn write_page(t: &ObjectType) -> String {
    let parent = parent_expr(t);
    let page = "jsonb_array_elements($1::jsonb -> 'data') o";
    let up = upsert(
        t,
        Rows::many(page, ""),
        parent.as_deref(),
        &PARAMS,
        UP_RETURNING,
    );
    let mut with = with_up(t, up, Fields::All);
    if refetchable(t) {
        // A page that lost to an event of its own second may be the newer of the two. The row
        // as it was comes from the statement's snapshot: an event applied concurrently is
        // missed here, and applied all the same.
        let ambiguous = against_row(t, "o");
        let from = format!(
            "{page} JOIN {table} r ON r.id = o ->> 'id'",
            table = t.qualified_table()
        );
        let lost = format!("NOT EXISTS (SELECT 1 FROM up WHERE up.id = r.id) AND {ambiguous}");
        with.push_str(&format!(", amb AS ({})", queue_refetch(t, &from, &lost)));
        // Not in the snapshot, but there at the upsert (or it lost to it): inserted meanwhile
        // by an event, whose version and this page's nothing orders.
        let parent = match (t.parent, parent.as_deref()) {
            (Some(_), Some(p)) => p.to_string(),
            _ => "NULL".into(),
        };
        with.push_str(&format!(
            ", amb_new AS (INSERT INTO stripe.refetch_queue \
             (object_type, object_id, parent, account_id, reason) \
             SELECT DISTINCT '{name}', o ->> 'id', {parent}, coalesce($4, ''), 'tie' FROM {page} \
             WHERE o ->> 'id' IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.id = o ->> 'id') \
             AND NOT EXISTS (SELECT 1 FROM up WHERE up.id = o ->> 'id' AND NOT up.existed) \
             RETURNING 1)",
            name = t.name,
            table = t.qualified_table()
        ));
    }
    format!(
        "{with} SELECT (SELECT count(*) || ' ' || count(*) FILTER (WHERE existed) FROM up), {}",
        paging(t, Fields::All)
    )
}

/// The event's object with `deleted` set when the event removes it (`$7`).
const EVENT_OBJECT: &str = "CASE WHEN $7 THEN e -> 'data' -> 'object' || '{\"deleted\": true}' \
     ELSE e -> 'data' -> 'object' END";

/// Records an event and applies its object (and dependents) in one statement, so a crash can
/// never leave one without the other. The event's row (when it exists: queued, or being
/// processed by the worker) is locked before anything is written, so a concurrent delivery of
/// the same event waits, then sees it processed, instead of writing the object a second time or
/// deadlocking against the worker; then the object's row, so that `pre` is the version the
/// write is compared with even when another event of the object commits meanwhile. Returns
/// one row (status, truncated nested lists), or no row when the event id was already processed.
pub fn apply_event(t: &ObjectType, fields: Fields) -> String {
    let parent = parent_expr(t);
    // Reading `pre` in the upsert's source makes it lock the row before anything is written.
    let from = format!(
        "(SELECT {EVENT_OBJECT} AS o FROM ev LEFT JOIN pre ON true \
         WHERE NOT EXISTS (SELECT 1 FROM lk WHERE lk.status NOT IN ({UNPROCESSED}))) s"
    );
    let rows = Rows {
        from: &from,
        filter: "",
        unique: true,
    };
    let up = upsert(t, rows, parent.as_deref(), &PARAMS, UP_RETURNING);
    let pre_parent = t
        .parent
        .map(|p| format!(", r.{}", p.column))
        .unwrap_or_default();
    let mut with = with_up(t, up, fields).replacen(
        "WITH ",
        &format!(
            "WITH ev AS (SELECT $1::jsonb AS e), \
             lk AS MATERIALIZED (SELECT status FROM stripe.events WHERE id = $3 FOR UPDATE), \
             pre AS MATERIALIZED (SELECT r.id, r.data, r.deleted, r.account_id, r.synced_at, \
                 r.synced_from, r.stripe_as_of{pre_parent} FROM {table} r \
                 WHERE r.id = $1::jsonb -> 'data' -> 'object' ->> 'id' FOR UPDATE), ",
            table = t.qualified_table()
        ),
        1,
    );
    if refetchable(t) {
        let ambiguous = against_row(t, "(SELECT e -> 'data' -> 'object' FROM ev)");
        let applies =
            format!("NOT EXISTS (SELECT 1 FROM lk WHERE lk.status NOT IN ({UNPROCESSED}))");
        let vs_row = format!("{applies} AND {ambiguous}");
        with.push_str(&format!(
            ", amb AS ({})",
            queue_refetch(t, "pre r", &vs_row)
        ));
        // No row to lock before, but one at the upsert (or it lost to one): another delivery
        // inserted the object meanwhile, and which of the two is newer is not known here.
        let parent = match t.parent.and_then(|p| p.own_field) {
            Some(f) => format!("e -> 'data' -> 'object' ->> '{f}'"),
            None => "$6".into(),
        };
        with.push_str(&format!(
            ", amb_new AS (INSERT INTO stripe.refetch_queue \
             (object_type, object_id, parent, account_id, reason) \
             SELECT '{name}', e -> 'data' -> 'object' ->> 'id', {parent}, coalesce($4, ''), 'tie' \
             FROM ev WHERE {applies} AND $5 = 'updated' AND NOT EXISTS (SELECT 1 FROM pre) \
             AND NOT EXISTS (SELECT 1 FROM up WHERE NOT existed) RETURNING 1)",
            name = t.name
        ));
    }
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

/// Locks the mirror rows a batch of recorded events is about to write (`$1` text[] the events'
/// ids), in id order, so that the batch statement that follows compares every event with the
/// object's latest version and concurrent batches never deadlock.
pub fn lock_batch_rows(t: &ObjectType) -> String {
    format!(
        "SELECT count(*) FROM (SELECT 1 FROM {table} r WHERE r.id IN \
         (SELECT object_id FROM stripe.events WHERE id = ANY($1)) ORDER BY r.id FOR UPDATE) x",
        table = t.qualified_table()
    )
}

/// Applies recorded events of type `t` in one statement (the catch-up path): `$1` text[] the
/// ids of the events, read from `stripe.events` as stored (no JSON is parsed again). Per object
/// only its newest event is written (ties: a deletion over an update over a creation, as one at
/// a time would end), and each event gets the status it would get applied alone in created
/// order. Objects with two updates in one second, or whose newest event no rule orders against
/// the row, are queued for a retrieve. Returns (events processed, truncated nested lists).
pub fn apply_events_batch(t: &ObjectType) -> String {
    let parent = t
        .parent
        .and_then(|p| p.own_field)
        .map(|f| format!("o ->> '{f}'"));
    let upserts: Vec<String> = [(0, "created"), (1, "updated"), (2, "deleted")]
        .iter()
        .map(|(rank, kind)| {
            let kind = format!("'{kind}'");
            let stamp = Stamp {
                as_of: "b.as_of",
                from: "b.src",
                account: "b.account",
                kind: &kind,
            };
            let filter = format!(" AND b.rank = {rank}");
            let rows = Rows {
                from: "b",
                filter: &filter,
                unique: true,
            };
            format!(
                "k{rank} AS ({})",
                upsert(t, rows, parent.as_deref(), &stamp, UP_RETURNING)
            )
        })
        .collect();
    // A type that ends in a status (a canceled subscription): its *.deleted is an update.
    let (removes, deleted_rank) = if t.event_deletes("x.deleted") {
        ("data -> 'data' -> 'object' || '{\"deleted\": true}'", 2)
    } else {
        ("data -> 'data' -> 'object'", 1)
    };
    let up = "SELECT * FROM k0 UNION ALL SELECT * FROM k1 UNION ALL SELECT * FROM k2".to_string();
    let kind_of = |rank: &str| {
        format!("CASE {rank} WHEN 0 THEN 'created' WHEN 1 THEN 'updated' ELSE 'deleted' END")
    };
    let with = with_up(t, up, Fields::All).replacen(
        "WITH ",
        &format!(
            "WITH lk AS MATERIALIZED (SELECT id, type, created, account_id, data FROM stripe.events \
                 WHERE id = ANY($1) AND status IN ({UNPROCESSED}) FOR UPDATE), \
             b0 AS (SELECT id AS src, created AS as_of, account_id AS account, \
                 CASE WHEN type LIKE '%.deleted' THEN {deleted_rank} \
                      WHEN type LIKE '%.created' THEN 0 ELSE 1 END AS rank, \
                 CASE WHEN type LIKE '%.deleted' THEN {removes} \
                      ELSE data -> 'data' -> 'object' END AS o \
                 FROM lk), \
             b AS (SELECT DISTINCT ON (o ->> 'id') * FROM b0 \
                 ORDER BY o ->> 'id', as_of DESC, rank DESC, src DESC), \
             pre AS MATERIALIZED (SELECT * FROM {table} WHERE id IN (SELECT o ->> 'id' FROM b0)), \
             {}, ",
            upserts.join(", "),
            table = t.qualified_table(),
        ),
        1,
    );
    // Status as if the page's events were applied one by one, oldest first: each is applied
    // unless the row held newer data before the page (`pre` reads the statement's snapshot,
    // taken before the upserts write), whatever newer event of the page then replaced it.
    let beats = Sides {
        row: "pre",
        as_of: "b0.as_of",
        source: "b0.src",
        kind: &kind_of("b0.rank"),
        data: "b0.o",
        version: t.version_field,
    }
    .replaces();
    let refetch = if refetchable(t) {
        let vs_row = Sides {
            row: "r",
            as_of: "b.as_of",
            source: "b.src",
            kind: &kind_of("b.rank"),
            data: "b.o",
            version: t.version_field,
        }
        .ambiguous();
        // No row before the batch, but one at the upsert (or it lost to one): another delivery
        // inserted the object meanwhile.
        let inserted_meanwhile = "(r.id IS NULL AND b.rank = 1 AND NOT EXISTS \
             (SELECT 1 FROM up u WHERE u.id = b.o ->> 'id' AND NOT u.existed))";
        let twice = "b.rank = 1 AND EXISTS (SELECT 1 FROM b0 x WHERE x.o ->> 'id' = b.o ->> 'id' \
             AND x.src <> b.src AND x.rank = 1 \
             AND date_trunc('second', x.as_of) = date_trunc('second', b.as_of))";
        let parent = match (t.parent, parent.as_deref()) {
            (Some(_), Some(p)) => p.to_string(),
            _ => "NULL".into(),
        };
        format!(
            ", amb AS (INSERT INTO stripe.refetch_queue (object_type, object_id, parent, account_id, reason) \
             SELECT '{name}', o ->> 'id', {parent}, coalesce(b.account, ''), 'tie' FROM b \
             LEFT JOIN pre r ON r.id = b.o ->> 'id' \
             WHERE {twice} OR (r.id IS NOT NULL AND {vs_row}) OR {inserted_meanwhile} RETURNING 1)",
            name = t.name
        )
    } else {
        String::new()
    };
    format!(
        "{with}, st AS (UPDATE stripe.events ev SET status = CASE WHEN x.beats THEN 'applied' ELSE 'stale' END, \
             processed_at = clock_timestamp(), last_error = NULL, next_attempt_at = NULL \
             FROM (SELECT b0.src, (pre.id IS NULL OR ({beats})) AS beats \
                   FROM b0 LEFT JOIN pre ON pre.id = b0.o ->> 'id') x \
             WHERE ev.id = x.src RETURNING 1){refetch} \
         SELECT (SELECT count(*) FROM st)::text, {}",
        paging(t, Fields::All),
    )
}

/// Marks recorded events of types the mirror does not keep. `$1` text[] their ids.
pub const IGNORE_EVENTS: &str =
    "UPDATE stripe.events SET status = 'ignored', processed_at = clock_timestamp() \
     WHERE id = ANY($1) AND status IN ('recorded', 'pending', 'failed')";

/// What marks an object deleted in its `data`.
const DELETED: &str = "'{\"deleted\": true}'";

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

/// Records a page of the Events API (`$1` jsonb) for the catch-up to apply. Items that are not
/// events with a string id cannot be recorded and are counted instead. Returns one row:
/// (events newly recorded, items skipped).
pub const RECORD_EVENTS: &str =
    "WITH items AS (SELECT e FROM jsonb_array_elements($1::jsonb -> 'data') e), \
     ins AS (INSERT INTO stripe.events (id, data, status, account_id, synced_from) \
     SELECT e ->> 'id', e, 'pending', e ->> 'account', 'events_api' FROM items \
     WHERE jsonb_typeof(e -> 'id') = 'string' AND e ->> 'id' LIKE 'evt\\_%' \
     ON CONFLICT (id) DO NOTHING RETURNING 1) \
     SELECT (SELECT count(*) FROM ins)::text, \
     (SELECT count(*) FROM items WHERE jsonb_typeof(e -> 'id') IS DISTINCT FROM 'string' \
      OR e ->> 'id' NOT LIKE 'evt\\_%')::text";

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

/// The platform's rows of the key's mode: what a walk of the platform's lists covers.
/// `$1` bool livemode.
fn in_scope() -> &'static str {
    "account_id IS NULL AND coalesce((data ->> 'livemode')::boolean, $1) = $1"
}

/// After a complete walk of `t` (no `since`): how many rows the walk covered, and those it did
/// not see — neither written nor touched since it started — which may have been deleted and
/// are retrieved before anything is marked. `$1` bool livemode, `$2` float8 the exact moment
/// the walk started, `$3` float8 the largest share of the rows a walk may leave unseen, `$4`
/// bigint how many may always be. Returns one row: (rows in scope, rows unseen, the unseen as
/// a jsonb array of `[id, parent]`, or NULL when they are too many to trust the walk).
pub fn sweep_candidates(t: &ObjectType) -> String {
    // Only a child whose parent is known can be retrieved (under that parent).
    let (parent, has_parent) = match t.parent {
        Some(p) => (p.column, " AND parent IS NOT NULL"),
        None => ("NULL::text", ""),
    };
    format!(
        "WITH scope AS (SELECT id, {parent} AS parent, synced_at, stripe_as_of FROM {table} \
             WHERE NOT deleted AND {scope}), \
         unseen AS (SELECT id, parent FROM scope WHERE synced_at < to_timestamp($2) \
             AND stripe_as_of < to_timestamp($2){has_parent}), \
         n AS (SELECT (SELECT count(*) FROM scope) AS scope, (SELECT count(*) FROM unseen) AS unseen) \
         SELECT n.scope, n.unseen, CASE WHEN n.unseen <= greatest($4, floor($3 * n.scope)) THEN \
             (SELECT coalesce(jsonb_agg(jsonb_build_array(id, parent) ORDER BY id), '[]')::text \
              FROM unseen) END \
         FROM n",
        table = t.qualified_table(),
        scope = in_scope(),
    )
}

/// Marks one object deleted on Stripe's word, and its nested lists' entries with it. `$1` id,
/// `$2` text why (synced_from: `retrieve:deleted`, `retrieve:resource_missing`), `$3` float8
/// when the request that said so started. A 404 marks only a row nothing wrote since then.
pub fn mark_deleted(t: &ObjectType) -> String {
    let children: Vec<String> = t
        .children()
        .filter_map(|c| c.parent.filter(|p| p.inline_field.is_some()).map(|p| (c, p)))
        .enumerate()
        .map(|(i, (c, p))| {
            format!(
                ", c{i} AS (UPDATE {ct} c SET data = c.data || {DELETED}, synced_at = clock_timestamp(), \
                 synced_from = $2 FROM m WHERE c.{pc} = m.id AND NOT c.deleted)",
                ct = c.qualified_table(),
                pc = p.column
            )
        })
        .collect();
    format!(
        "WITH m AS (UPDATE {table} SET data = data || {DELETED}, synced_at = clock_timestamp(), \
         synced_from = $2, stripe_as_of = greatest(stripe_as_of, to_timestamp($3)) \
         WHERE id = $1 AND NOT deleted AND ($2 <> '{missing}' \
             OR (synced_at < to_timestamp($3) AND stripe_as_of <= to_timestamp($3))) \
         RETURNING id){} SELECT 1 FROM m",
        children.concat(),
        missing = ordering::MISSING,
        table = t.qualified_table(),
    )
}

/// Ids of the parents a per-parent type is listed under: the platform's rows of the key's
/// mode that are not deleted (`$1` bool livemode).
pub fn parent_ids(c: &ObjectType) -> String {
    let p = c.parent.expect("parent_ids takes a child type");
    let parent = lookup(p.name).expect("catalog test checks parents");
    format!(
        "SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM {} WHERE NOT deleted AND {}",
        parent.qualified_table(),
        in_scope()
    )
}

/// Entries due for a retrieve, oldest first, locked (another worker skips them). `$1` int how
/// many. An object may be queued more than once: the glue retrieves it once, and settles the
/// entries it took (their `seq`s) — never one another session holds.
pub const TAKE_REFETCHES: &str =
    "SELECT object_type, object_id, parent, account_id, array_agg(seq) \
     FROM (SELECT * FROM stripe.refetch_queue \
           WHERE coalesce(next_attempt_at, '-infinity') <= clock_timestamp() \
           ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED) q \
     GROUP BY object_type, object_id, parent, account_id ORDER BY min(seq)";

/// A retrieve done: the entries taken for it (`$4` bigint[] their seqs) go, repeats included.
/// `$1` object type, `$2` id, `$3` account ('' for the platform).
pub const REFETCH_DONE: &str = "DELETE FROM stripe.refetch_queue \
     WHERE object_type = $1 AND object_id = $2 AND account_id = $3 AND seq = ANY($4)";

/// A retrieve failed: tried again with backoff (10 s doubling, capped at 1 h). `$5` the error.
pub const REFETCH_FAILED: &str = "UPDATE stripe.refetch_queue SET attempts = attempts + 1, \
     last_error = $5, next_attempt_at = clock_timestamp() \
         + least(interval '1 hour', interval '10 seconds' * 2 ^ least(attempts, 12)) \
     WHERE object_type = $1 AND object_id = $2 AND account_id = $3 AND seq = ANY($4)";

/// A retrieve that lost a deadlock to another session: taken again a second later, no attempt
/// counted.
pub const REFETCH_DEFERRED: &str = "UPDATE stripe.refetch_queue \
     SET next_attempt_at = clock_timestamp() + interval '1 second' \
     WHERE object_type = $1 AND object_id = $2 AND account_id = $3 AND seq = ANY($4)";

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
            for sql in [
                apply_event(t, Fields::All),
                apply_events_batch(t),
                write_page(t),
            ] {
                // Every mirror upsert (its SET starts with data) carries the rule; the events
                // insert does not need it.
                assert_eq!(
                    sql.matches("CASE WHEN t.deleted THEN").count(),
                    sql.matches("ON CONFLICT (id) DO UPDATE SET data").count(),
                    "{sql}"
                );
            }
        }
    }

    #[test]
    fn ambiguous_versions_are_queued_for_a_retrieve() {
        let cus = lookup("customer").unwrap();
        for sql in [
            write_page(cus),
            apply_event(cus, Fields::All),
            apply_events_batch(cus),
        ] {
            assert!(sql.contains("INSERT INTO stripe.refetch_queue"), "{sql}");
        }
        // Discounts cannot be retrieved on their own: nothing to queue.
        assert!(!write_page(lookup("discount").unwrap()).contains("refetch_queue"));
    }

    #[test]
    fn a_status_type_keeps_its_row_on_deleted_events() {
        let sub = apply_events_batch(lookup("subscription").unwrap());
        let marks = "'object' || '{\"deleted\": true}'";
        assert!(!sub.contains(marks), "{sub}");
        let cus = apply_events_batch(lookup("customer").unwrap());
        assert!(cus.contains(marks), "{cus}");
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
    fn sweeps_are_scoped_to_the_platform_and_the_keys_mode() {
        let sql = sweep_candidates(lookup("customer").unwrap());
        assert!(sql.contains("account_id IS NULL"), "{sql}");
        assert!(sql.contains("coalesce((data ->> 'livemode')::boolean, $1) = $1"));
        let tax = sweep_candidates(lookup("tax_id").unwrap());
        assert!(
            tax.contains("customer AS parent") && tax.contains("parent IS NOT NULL"),
            "{tax}"
        );
        assert!(parent_ids(lookup("tax_id").unwrap()).contains("account_id IS NULL"));
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
