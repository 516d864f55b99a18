//! `stripe.sync(type)`: page through a list endpoint and upsert each page in one statement.

use crate::api_key;
use crate::catalog::{self, ObjectType};
use crate::client::{ApiError, ErrorKind, ListParams};
use crate::errors::{raise, spi};
use crate::sql_gen;
use crate::writer::{self, Write};
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

fn skipped(t: &ObjectType, why: String) -> ! {
    // sync_all reports this SQLSTATE as "skipped", not as a failure.
    raise(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("stripe.sync('{}') skipped: {why}", t.name),
        None,
    )
}

struct Run<'a> {
    t: &'a ObjectType,
    client: crate::client::Client,
    stats: SyncStats,
    clock: Instant,
}

impl Run<'_> {
    /// Pages through one list (the type's own, or one parent's) and writes every page.
    fn list(&mut self, path: &str, params: ListParams, parent: Option<&str>) {
        let interrupt = || {
            pgrx::check_for_interrupts!();
        };
        let mut pager = self.client.pager(path, params);
        let mut first = true;
        loop {
            // Events carry whole seconds; a page fetched during second T reflects Stripe as
            // of T, so an event created later in that same second still applies (sql_gen).
            let fetched_at = unix_now().floor();
            let page = match pager.next_page(&interrupt) {
                None => break,
                Some(Ok(p)) => p,
                Some(Err(e))
                    if first
                        && self.stats.pages == 0
                        && matches!(e.status, Some(400 | 403 | 404)) =>
                {
                    // The account cannot use this product (Connect, Issuing, …): Stripe says why.
                    skipped(self.t, e.to_string())
                }
                Some(Err(e)) => raise_api_error(&format!("stripe.sync('{}')", self.t.name), &e),
            };
            first = false;
            let w = Write {
                json: &page.body,
                as_of: fetched_at,
                from: "sync",
                account: None,
                wins_tie: true,
                parent,
                deletes: false,
            };
            let (_, truncated) = writer::write_page(self.t, &w);
            let nested = writer::complete_lists(&self.client, &truncated, &w, &interrupt);
            self.stats.pages += 1;
            self.stats.objects += page.count as i64;
            notice!(
                "stripe.sync('{}'){}: page {}, {} objects{}, {:.1}s",
                self.t.name,
                parent.map(|p| format!(" under {p}")).unwrap_or_default(),
                self.stats.pages,
                self.stats.objects,
                if nested > 0 {
                    format!(" (+{nested} from truncated nested lists)")
                } else {
                    String::new()
                },
                self.clock.elapsed().as_secs_f64()
            );
        }
    }
}

pub fn run_sync(t: &ObjectType, since: Option<i64>) -> SyncStats {
    let Some(path) = t.list_path else {
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
    let livemode = api_key::api_key().contains("_live_");
    let started = unix_now();
    let mut run = Run {
        t,
        client: api_key::client(),
        stats: SyncStats::default(),
        clock: Instant::now(),
    };
    if t.parent.is_some() {
        // Listable only per parent: walk the parents already mirrored.
        let parents = spi(
            "listing parents",
            Spi::get_one::<Vec<String>>(&sql_gen::parent_ids(t)),
        )
        .unwrap_or_default();
        for p in &parents {
            let (path, query) = path.replace("{parent}", p).split_once('?').map_or_else(
                || (path.replace("{parent}", p), None),
                |(a, b)| (a.to_string(), Some(b.to_string())),
            );
            let mut params = params.clone();
            if let Some((k, v)) = query.as_deref().and_then(|q| q.split_once('=')) {
                params.extra.push((k.to_string(), v.to_string()));
            }
            run.list(&path, params, Some(p));
        }
    } else {
        run.list(path, params, None);
    }
    let mut stats = run.stats;
    if since.is_none() && t.deletion == catalog::Deletion::Deleted {
        let sql = sql_gen::mark_missing_deleted(t);
        stats.marked_deleted = spi(
            "marking deleted objects",
            Spi::connect_mut(|c| {
                let args: [DatumWithOid; 2] = [started.into(), livemode.into()];
                c.update(sql.as_str(), None, &args).map(|r| r.len() as i64)
            }),
        );
    }
    record_run(t, started, &stats, since);
    stats
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
