//! `stripe.sync(type)`: page through a list endpoint and upsert each page in one statement.

use crate::api_key;
use crate::catalog::{self, ObjectType};
use crate::client::{ApiError, Client, ErrorKind, ListParams, Page};
use crate::errors::{raise, spi};
use crate::prefetch::{Fetched, Prefetcher};
use crate::sql_gen;
use crate::writer::{self, Write};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use std::time::Instant;

pub use crate::prefetch::unix_now;

pub fn lookup_or_raise(name: &str) -> &'static ObjectType {
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
    let hint = match e.status {
        Some(401) => Some("Check the key set with stripe.set_api_key()."),
        Some(403) => Some("The key lacks permission for this resource (restricted key?)."),
        None => {
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
    let template = t.list_path.unwrap_or_default();
    let path = parent.map_or_else(|| template.to_string(), |p| template.replace("{parent}", p));
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

fn interrupt() {
    pgrx::check_for_interrupts!();
}

/// Fetches one page of a list and writes it with everything nested in it.
/// Returns the page and how many nested entries had to be paged separately.
pub fn sync_page(
    t: &ObjectType,
    client: &Client,
    path: &str,
    params: &ListParams,
    cursor: Option<&str>,
    parent: Option<&str>,
    first: bool,
) -> (Page, i64) {
    // Events carry whole seconds; a page fetched during second T reflects Stripe as of T, so
    // an event created later in that same second still applies (sql_gen).
    let fetched_at = unix_now().floor();
    let fetched = Fetched {
        page: client.list_page(path, params, cursor, &interrupt),
        fetched_at,
        jsonb: None,
        after: cursor.map(str::to_string),
    };
    write_fetched(t, client, fetched, parent, first)
}

/// Writes a fetched page with everything nested in it (see `sync_page`).
fn write_fetched(
    t: &ObjectType,
    client: &Client,
    fetched: Fetched,
    parent: Option<&str>,
    first: bool,
) -> (Page, i64) {
    let page = match fetched.page {
        Ok(page) => page,
        // A parent deleted in Stripe since it was mirrored: nothing hangs off it any more.
        Err(e)
            if parent.is_some()
                && fetched.after.is_none()
                && e.code.as_deref() == Some("resource_missing") =>
        {
            notice!(
                "stripe.sync('{}'): {} is gone from Stripe, skipped",
                t.name,
                parent.unwrap_or_default()
            );
            let empty = r#"{"object":"list","data":[],"has_more":false}"#.to_string();
            return (
                Page {
                    body: empty,
                    has_more: false,
                    count: 0,
                    last_id: None,
                    ..Page::default()
                },
                0,
            );
        }
        // The account cannot use this product (Connect, Issuing, …): Stripe says why.
        Err(e) if first && matches!(e.status, Some(400 | 403 | 404)) => skipped(t, e.to_string()),
        Err(e) => raise_api_error(&format!("stripe.sync('{}')", t.name), &e),
    };
    let w = Write {
        json: &page.body,
        as_of: fetched.fetched_at,
        from: "sync",
        account: None,
        wins_tie: true,
        parent,
        deletes: false,
    };
    let (_, truncated) = writer::write_page_encoded(t, &w, fetched.jsonb.as_deref());
    let nested = writer::complete_lists(client, &truncated, &w, &interrupt);
    (page, nested)
}

/// Pages through one list (the type's own, or one parent's), writing every page. A top-level
/// list is fetched a page ahead on a thread (`prefetch`), so the next page's request and JSON
/// parsing overlap this page's writes; a parent's list (usually one page) is fetched in line.
fn sync_list(
    t: &ObjectType,
    client: &Client,
    params: &ListParams,
    parent: Option<&str>,
    stats: &mut SyncStats,
    clock: &Instant,
) {
    let (path, params) = list_target(t, params, parent);
    let ahead = parent
        .is_none()
        .then(|| Prefetcher::start(client.clone(), path.clone(), params.clone(), None));
    let mut cursor: Option<String> = None;
    loop {
        let (page, nested) = match &ahead {
            Some(pager) => match pager.next(&interrupt) {
                Some(fetched) => write_fetched(t, client, fetched, parent, stats.pages == 0),
                None => break,
            },
            None => sync_page(
                t,
                client,
                &path,
                &params,
                cursor.as_deref(),
                parent,
                stats.pages == 0,
            ),
        };
        stats.pages += 1;
        stats.objects += page.count as i64;
        notice!(
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
        cursor = page.next_cursor(cursor.as_deref());
        if cursor.is_none() {
            break;
        }
    }
}

/// Ids of the mirrored parents a per-parent type is listed under, after `after`.
pub fn parents_after(t: &ObjectType, after: Option<&str>) -> Vec<String> {
    let ids = spi(
        "listing parents",
        Spi::get_one::<Vec<String>>(&sql_gen::parent_ids(t)),
    )
    .unwrap_or_default();
    match after {
        Some(a) => ids.into_iter().filter(|id| id.as_str() > a).collect(),
        None => ids,
    }
}

pub fn run_sync(t: &ObjectType, since: Option<i64>) -> SyncStats {
    let params = list_params(t, since);
    let started = unix_now();
    let client = api_key::client();
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
    finish(t, started, &mut stats, since);
    stats
}

/// After the last page: mark what a full listing no longer returned, and record the run.
pub fn finish(t: &ObjectType, started: f64, stats: &mut SyncStats, since: Option<i64>) {
    if since.is_none() && t.deletion == catalog::Deletion::Deleted {
        let livemode = api_key::api_key().contains("_live_");
        let sql = sql_gen::mark_missing_deleted(t);
        stats.marked_deleted = spi(
            "marking deleted objects",
            Spi::connect_mut(|c| {
                let args: [DatumWithOid; 2] = [started.into(), livemode.into()];
                c.update(sql.as_str(), None, &args).map(|r| r.len() as i64)
            }),
        );
    }
    record_run(t, started, stats, since);
}

fn record_run(t: &ObjectType, started: f64, s: &SyncStats, since: Option<i64>) {
    let args: [DatumWithOid; 6] = [
        t.name.into(),
        started.into(),
        s.objects.into(),
        s.pages.into(),
        s.marked_deleted.into(),
        since.map(|v| v as f64).into(),
    ];
    spi(
        "recording the sync",
        Spi::run_with_args(
            "INSERT INTO stripe.sync_runs AS r (object_type, started_at, finished_at, objects, pages, marked_deleted, since) \
             VALUES ($1, to_timestamp($2), clock_timestamp(), $3, $4, $5, to_timestamp($6)) \
             ON CONFLICT (object_type) DO UPDATE SET started_at = excluded.started_at, \
             finished_at = excluded.finished_at, objects = excluded.objects, pages = excluded.pages, \
             marked_deleted = excluded.marked_deleted, since = excluded.since",
            &args,
        ),
    );
}

/// Pages through Stripe's list of `object_type` and upserts every object; returns how many.
/// With `since`, only objects created at or after it (and nothing is marked deleted).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sync(
    object_type: &str,
    since: default!(Option<pgrx::datum::TimestampWithTimeZone>, "NULL"),
) -> i64 {
    let t = lookup_or_raise(object_type);
    // TimestampTz counts microseconds from 2000-01-01; Stripe wants unix seconds.
    let since = since.map(|ts| ts.into_inner().div_euclid(1_000_000) + 946_684_800);
    run_sync(t, since).objects
}
