//! `stripe.sync(type)`: walk a type's list, upsert each page in one statement, and after a
//! complete walk check the objects it did not see (`sweep`).

use crate::api_key;
use crate::catalog::{self, ObjectType};
use crate::client::Walk;
use crate::client::{ApiError, Client, ErrorKind, ListParams, Page};
use crate::errors::{raise, spi};
use crate::ordering::Kind;
use crate::prefetch::{Fetched, Prefetcher};
use crate::sql_gen;
use crate::writer::{self, Write};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use std::time::Instant;

pub use crate::prefetch::unix_now;

pub fn lookup_or_raise(name: Option<&str>) -> &'static ObjectType {
    let Some(name) = name else {
        raise(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "the Stripe object type is NULL".into(),
            Some(&format!("Known types: {}.", catalog::known_names())),
        )
    };
    catalog::lookup(name).unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("unknown Stripe object type {name:?}"),
            Some(&format!("Known types: {}.", catalog::known_names())),
        )
    })
}

pub fn raise_api_error(context: &str, e: &ApiError) -> ! {
    let code = match e.kind {
        ErrorKind::Network => PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE,
        _ => PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
    };
    let hint = match (e.kind, e.status) {
        (ErrorKind::Contradiction, _) => Some(
            "Nothing was marked deleted: a walk that cannot be trusted to be complete proves nothing.",
        ),
        (_, Some(401)) => Some("Check the key set with stripe.set_api_key()."),
        (_, Some(403)) => Some("The key lacks permission for this resource (restricted key?)."),
        (_, None) => {
            Some("Check stripe.api_base and the network; stripe.http_timeout bounds each request.")
        }
        _ => None,
    };
    raise(code, format!("{context}: {e}"), hint)
}

/// Counters of one sync, reported per page and stored in `stripe.sync_runs`.
#[derive(Default)]
pub struct SyncStats {
    pub objects: i64,
    pub pages: i32,
    pub marked_deleted: i64,
    /// Objects the walk listed that the mirror already had (see `sweep::candidates`).
    pub seen_existing: i64,
    /// What the check of unseen objects did (`sweep::Outcome`), once the walk is complete.
    pub sweep: Option<String>,
    /// Objects Postgres could not store: `[{"id", "page", "error"}]` (the first 100), and
    /// how many there were.
    pub skipped: Vec<serde_json::Value>,
    pub skipped_objects: i64,
}

fn skipped(t: &ObjectType, why: String) -> ! {
    // sync_all reports this SQLSTATE as "skipped", not as a failure.
    raise(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("stripe.sync('{}') skipped: {why}", t.name),
        None,
    )
}

/// Where one list of `t` is fetched: the type's own endpoint, or one parent's.
/// A `?key={parent}` in the catalog path becomes a query parameter.
pub fn list_target(
    t: &ObjectType,
    base: &ListParams,
    parent: Option<&str>,
) -> (String, ListParams) {
    let path = match parent {
        Some(p) => t.parent_list_path(p).unwrap_or_default(),
        None => t.list_path.unwrap_or_default().to_string(),
    };
    let mut params = base.clone();
    match path.split_once('?') {
        Some((path, query)) => {
            for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
                params.extra.push((k.to_string(), v.to_string()));
            }
            (path.to_string(), params)
        }
        None => (path, params),
    }
}

/// What one list of `t` is called in errors: `customer`, or `tax_id of cus_1`.
pub fn walk_label(t: &ObjectType, parent: Option<&str>) -> String {
    match parent {
        Some(p) => format!("{} of {p}", t.name),
        None => t.name.to_string(),
    }
}

/// The walk of one list of `t`. Top-level lists are newest first, which the walk checks too.
pub fn walk_of(t: &ObjectType, parent: Option<&str>) -> Walk {
    match parent {
        Some(_) => Walk::new(walk_label(t, parent)),
        None => Walk::new(walk_label(t, None)).newest_first(),
    }
}

/// The list parameters of a sync of `t`, optionally windowed to objects created since then.
pub fn list_params(t: &ObjectType, since: Option<i64>) -> ListParams {
    let Some(_) = t.list_path else {
        skipped(t, "Stripe has no list endpoint for it; it is mirrored from events and from the objects that embed it".into())
    };
    let mut params = ListParams {
        extra: t
            .list_params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    if let Some(s) = since {
        if !t.created_filter {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("Stripe cannot filter {} by created time", t.name),
                Some("Call stripe.sync without since."),
            );
        }
        params.extra.push(("created[gte]".into(), s.to_string()));
    }
    params
}

pub fn interrupt() {
    pgrx::check_for_interrupts!();
}

/// Where a page sits in a walk, for what is said about it.
pub struct PageAt<'a> {
    pub t: &'static ObjectType,
    pub parent: Option<&'a str>,
    pub page: u32,
    pub first: bool,
}

/// Writes a fetched page with everything nested in it; returns the page and how many nested
/// entries had to be paged separately. An object Postgres cannot store is skipped (and named
/// in `stats.skipped` and a WARNING) rather than failing the type's whole sync.
pub fn write_fetched(
    client: &Client,
    fetched: Fetched,
    at: &PageAt,
    stats: &mut SyncStats,
) -> (Page, i64) {
    let t = at.t;
    let page = match fetched.page {
        Ok(page) => page,
        // A parent deleted in Stripe since it was mirrored: nothing hangs off it any more.
        Err(e)
            if at.parent.is_some()
                && fetched.after.is_none()
                && e.code.as_deref() == Some("resource_missing") =>
        {
            crate::errors::notice_scrubbed!(
                "stripe.sync('{}'): {} is gone from Stripe, skipped",
                t.name,
                at.parent.unwrap_or_default()
            );
            let empty = r#"{"object":"list","data":[],"has_more":false}"#;
            return (
                Page {
                    body: empty.into(),
                    ..Page::default()
                },
                0,
            );
        }
        // The account cannot use this product (Connect, Issuing, …): Stripe says why.
        // (Stripe's own error object only: a proxy's 404 page is a failure, not a reason.)
        Err(e) if at.first && e.refuses_the_product() => skipped(t, e.to_string()),
        Err(e) => raise_api_error(&format!("stripe.sync('{}')", t.name), &e),
    };
    let w = Write {
        json: &page.body,
        as_of: fetched.fetched_at,
        from: "sync",
        account: None,
        kind: Kind::Fetch,
        parent: at.parent,
        deletes: false,
    };
    let label = format!("stripe.sync('{}') page {}", t.name, at.page);
    let skipped_before = stats.skipped_objects;
    let truncated = store_page(t, &w, fetched.jsonb.as_deref(), &label, stats);
    let nested = writer::complete_lists(client, &truncated, &interrupt);
    // What could not be stored is not counted as synced.
    let mut page = page;
    page.count -= (stats.skipped_objects - skipped_before) as usize;
    (page, nested)
}

/// Writes a page in a subtransaction; if Postgres cannot store it (an error about the data),
/// writes its objects one by one and skips those that fail. Returns the truncated lists.
pub fn store_page(
    t: &ObjectType,
    w: &Write,
    jsonb: Option<&[u8]>,
    label: &str,
    stats: &mut SyncStats,
) -> String {
    let mut skipped_objects = 0;
    let written = crate::subxact::page_or_items(
        w.json,
        |json, whole| {
            let page = Write { json, ..*w };
            // The page's encoded jsonb is the whole page's; a single item is encoded afresh.
            writer::write_page_encoded(t, &page, jsonb.filter(|_| whole))
        },
        |item, f| {
            skipped_objects += 1;
            let id = object_id(item);
            crate::errors::warn_scrubbed!(
                "{label}: {} {id} cannot be stored ({}: {}) and was skipped; the rest of the \
                 type is synced. Correct the value in Stripe, then sync again.",
                t.name,
                f.sqlstate(),
                f.message
            );
            if stats.skipped.len() < 100 {
                let clean = |s: &str| crate::errors::scrubbed(s);
                stats.skipped.push(serde_json::json!(
                    {"id": clean(&id), "page": clean(label), "sqlstate": f.sqlstate(),
                     "error": clean(&f.message)}
                ));
            }
        },
    );
    stats.skipped_objects += skipped_objects;
    stats.seen_existing += written.iter().map(|p| p.existed).sum::<i64>();
    // Each write's truncated lists are a JSON array; together they are one.
    let lists: Vec<serde_json::Value> = written
        .iter()
        .filter_map(|p| serde_json::from_str::<Vec<serde_json::Value>>(&p.truncated).ok())
        .flatten()
        .collect();
    serde_json::Value::Array(lists).to_string()
}

/// The id of one object's JSON, for messages ("(no id)" when it has none).
fn object_id(json: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Id {
        id: Option<String>,
    }
    serde_json::from_str::<Id>(json)
        .ok()
        .and_then(|i| i.id)
        .unwrap_or_else(|| "(no id)".into())
}

/// Fetches one page of a list inline (no prefetch) and checks it against its walk.
pub fn fetch_page(
    client: &Client,
    path: &str,
    params: &ListParams,
    cursor: Option<&str>,
    walk: &mut Walk,
) -> (Fetched, Option<String>) {
    let fetched_at = unix_now();
    let page = client.list_page(path, params, cursor, &interrupt);
    let (page, next) = match page {
        Ok(p) => match walk.advance(cursor, &p) {
            Ok(next) => (Ok(p), next),
            Err(e) => (Err(e), None),
        },
        Err(e) => (Err(e), None),
    };
    let fetched = Fetched {
        page,
        fetched_at,
        jsonb: None,
        after: cursor.map(str::to_string),
    };
    (fetched, next)
}

/// Pages through one list (the type's own, or one parent's), writing every page. A top-level
/// list is fetched a page ahead on a thread (`prefetch`), so the next page's request and JSON
/// parsing overlap this page's writes; a parent's list (usually one page) is fetched in line.
fn sync_list(
    t: &'static ObjectType,
    client: &Client,
    params: &ListParams,
    parent: Option<&str>,
    stats: &mut SyncStats,
    clock: &Instant,
) {
    let (path, params) = list_target(t, params, parent);
    let ahead = parent.is_none().then(|| {
        Prefetcher::walk(
            client.clone(),
            path.clone(),
            params.clone(),
            walk_of(t, None),
            None,
        )
    });
    let mut walk = walk_of(t, parent);
    let mut cursor: Option<String> = None;
    let mut page_no = 0;
    loop {
        page_no += 1;
        let at = PageAt {
            t,
            parent,
            page: page_no,
            first: stats.pages == 0,
        };
        let (fetched, next) = match &ahead {
            Some(pager) => match pager.next(&interrupt) {
                Some(fetched) => (fetched, None),
                None => break,
            },
            None => fetch_page(client, &path, &params, cursor.as_deref(), &mut walk),
        };
        let (page, nested) = write_fetched(client, fetched, &at, stats);
        stats.pages += 1;
        stats.objects += page.count as i64;
        crate::errors::notice_scrubbed!(
            "stripe.sync('{}'){}: page {}, {} objects{}, {:.1}s",
            t.name,
            parent.map(|p| format!(" under {p}")).unwrap_or_default(),
            stats.pages,
            stats.objects,
            if nested > 0 {
                format!(" (+{nested} from truncated nested lists)")
            } else {
                String::new()
            },
            clock.elapsed().as_secs_f64()
        );
        if ahead.is_none() {
            cursor = next;
            if cursor.is_none() {
                break;
            }
        }
    }
}

/// Whether the key is a live-mode key: the mode of every object a walk with it can see.
pub fn livemode() -> bool {
    api_key::api_key().contains("_live_")
}

/// Ids of the mirrored parents a per-parent type is listed under, after `after`.
pub fn parents_after(t: &ObjectType, after: Option<&str>) -> Vec<String> {
    let ids = spi(
        "listing parents",
        Spi::get_one_with_args::<Vec<String>>(&sql_gen::parent_ids(t), &[livemode().into()]),
    )
    .unwrap_or_default();
    match after {
        Some(a) => ids.into_iter().filter(|id| id.as_str() > a).collect(),
        None => ids,
    }
}

pub fn run_sync(t: &'static ObjectType, since: Option<i64>) -> SyncStats {
    let params = list_params(t, since);
    let client = api_key::client();
    // Before the first request: everything this walk fetches reflects Stripe after this moment.
    let started = unix_now();
    let clock = Instant::now();
    let mut stats = SyncStats::default();
    if t.parent.is_some() {
        // Listable only per parent: walk the parents already mirrored.
        for p in parents_after(t, None) {
            sync_list(t, &client, &params, Some(&p), &mut stats, &clock);
        }
    } else {
        sync_list(t, &client, &params, None, &mut stats, &clock);
    }
    if since.is_none() {
        let candidates = crate::sweep::candidates(t, started, &mut stats);
        crate::sweep::check_all(t, &client, candidates, &mut stats);
    }
    record_run(t, started, &stats, since);
    stats
}

pub fn record_run(t: &ObjectType, started: f64, s: &SyncStats, since: Option<i64>) {
    let args: [DatumWithOid; 8] = [
        t.name.into(),
        started.into(),
        s.objects.into(),
        s.pages.into(),
        s.marked_deleted.into(),
        since.map(|v| v as f64).into(),
        s.sweep.as_deref().into(),
        pgrx::JsonB(serde_json::Value::Array(s.skipped.clone())).into(),
    ];
    spi(
        "recording the sync",
        Spi::run_with_args(
            "INSERT INTO stripe.sync_runs AS r (object_type, started_at, finished_at, objects, pages, \
             marked_deleted, since, sweep, skipped) \
             VALUES ($1, to_timestamp($2), clock_timestamp(), $3, $4, $5, to_timestamp($6), $7, $8) \
             ON CONFLICT (object_type) DO UPDATE SET started_at = excluded.started_at, \
             finished_at = excluded.finished_at, objects = excluded.objects, pages = excluded.pages, \
             marked_deleted = excluded.marked_deleted, since = excluded.since, \
             sweep = excluded.sweep, skipped = excluded.skipped",
            &args,
        ),
    );
}

/// `since` as unix seconds, refusing what Stripe cannot filter by (`infinity`).
pub fn since_seconds(since: Option<pgrx::datum::TimestampWithTimeZone>) -> Option<i64> {
    let ts = since?;
    if ts.is_infinity() || ts.is_neg_infinity() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("since must be a finite time, not {ts}"),
            Some("Pass NULL for a full sync, or a timestamp such as now() - interval '1 day'."),
        );
    }
    // TimestampTz counts microseconds from 2000-01-01; Stripe wants unix seconds.
    Some(ts.into_inner().div_euclid(1_000_000) + 946_684_800)
}

/// Pages through Stripe's list of `object_type` and upserts every object; returns how many.
/// With `since`, only objects created at or after it (and nothing is marked deleted).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sync(
    object_type: Option<&str>,
    since: default!(Option<pgrx::datum::TimestampWithTimeZone>, "NULL"),
) -> i64 {
    let t = lookup_or_raise(object_type);
    run_sync(t, since_seconds(since)).objects
}
