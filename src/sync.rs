//! `stripe.sync(type)`: page through a list endpoint and upsert each page in one statement.

use crate::api_key;
use crate::catalog::{self, ObjectType};
use crate::client::{ApiError, ErrorKind, ListParams};
use crate::errors::{raise, spi};
use crate::sql_gen;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

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

pub fn run_sync(t: &ObjectType, since: Option<i64>) -> SyncStats {
    let client = api_key::client();
    let livemode = api_key::api_key().contains("_live_");
    let mut params = ListParams::default();
    params.extra = t
        .list_params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(s) = since {
        if !t.created_filter {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("Stripe cannot filter {} by created time", t.object),
                Some("Call stripe.sync without since."),
            );
        }
        params.extra.push(("created[gte]".into(), s.to_string()));
    }
    let started = unix_now();
    let clock = Instant::now();
    let upsert = sql_gen::upsert_page(t);
    let mut stats = SyncStats::default();
    let mut pager = client.pager(t.list_path, params);
    let interrupt = || {
        pgrx::check_for_interrupts!();
    };
    loop {
        // Events carry whole seconds; a page fetched during second T reflects Stripe as of T,
        // so an event created later in that same second still applies (see sql_gen).
        let fetched_at = unix_now().floor();
        let page = match pager.next_page(&interrupt) {
            None => break,
            Some(Ok(p)) => p,
            Some(Err(e)) => raise_api_error(&format!("stripe.sync('{}')", t.object), &e),
        };
        let written = spi(
            "upserting a page",
            Spi::connect_mut(|c| {
                let args: [DatumWithOid; 2] = [page.body.as_str().into(), fetched_at.into()];
                c.update(upsert.as_str(), None, &args).map(|r| r.len())
            }),
        );
        stats.pages += 1;
        stats.objects += page.count as i64;
        notice!(
            "stripe.sync('{}'): page {}, {} objects ({} written), {:.1}s",
            t.object,
            stats.pages,
            stats.objects,
            written,
            clock.elapsed().as_secs_f64()
        );
    }
    if since.is_none() {
        let sql = sql_gen::mark_missing_deleted(t);
        stats.marked_deleted = spi(
            "marking deleted objects",
            Spi::connect_mut(|c| {
                let args: [DatumWithOid; 2] = [started.floor().into(), livemode.into()];
                c.update(sql.as_str(), None, &args).map(|r| r.len() as i64)
            }),
        );
    }
    record_run(t, started, &stats, since);
    stats
}

fn record_run(t: &ObjectType, started: f64, s: &SyncStats, since: Option<i64>) {
    let args: [DatumWithOid; 6] = [
        t.object.into(),
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
