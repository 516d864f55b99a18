//! Background syncs, one page per call: `stripe._sync_job_step(job)` fetches and writes the next
//! page of a `stripe.sync_jobs` row and stores the cursor in the same transaction, so a crash,
//! restart or cancel resumes exactly where the last committed page ended.

use crate::api_key;
use crate::errors::spi;
use crate::prefetch::Prefetcher;
use crate::sql_gen;
use crate::sync::{self, SyncStats};
use crate::writer;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

struct Job {
    object_type: String,
    since: Option<i64>,
    parent_cursor: Option<String>,
    cursor: Option<String>,
    pages: i32,
    objects: i64,
    started: f64,
}

/// The job, if it is still open (a cancel may have committed since it was picked).
fn load(job_id: i64) -> Option<Job> {
    spi(
        "reading the sync job",
        Spi::connect(|c| {
            let row = c
                .select(
                    "SELECT object_type, extract(epoch FROM since)::bigint, parent_cursor, cursor, pages, objects, \
                     extract(epoch FROM coalesce(started_at, clock_timestamp()))::float8 \
                     FROM stripe.sync_jobs WHERE id = $1 AND state IN ('queued', 'running')",
                    None,
                    &[job_id.into()],
                )?
                .first();
            if row.is_empty() {
                return Ok(None);
            }
            Ok(Some(Job {
                object_type: row.get::<String>(1)?.unwrap_or_default(),
                since: row.get::<i64>(2)?,
                parent_cursor: row.get::<String>(3)?,
                cursor: row.get::<String>(4)?,
                pages: row.get::<i32>(5)?.unwrap_or(0),
                objects: row.get::<i64>(6)?.unwrap_or(0),
                started: row.get::<f64>(7)?.unwrap_or(0.0),
            }))
        }),
    )
}

/// Runs the next page of a sync job. Returns true when the job is done.
#[pg_extern(name = "_sync_job_step", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sync_job_step(job_id: i64) -> bool {
    let Some(job) = load(job_id) else {
        return true; // cancelled or finished meanwhile: nothing left to do
    };
    let t = sync::lookup_or_raise(&job.object_type);
    let params = sync::list_params(t, job.since);
    let client = api_key::client();
    // Per-parent types walk the mirrored parents in id order; parent_cursor is the current one.
    let parent = match (&t.parent, &job.parent_cursor) {
        (None, _) => None,
        (Some(_), Some(p)) => Some(p.clone()),
        (Some(_), None) => sync::parents_after(t, None).into_iter().next(),
    };
    let mut done = t.parent.is_some() && parent.is_none();
    let (mut cursor, mut parent_cursor) = (job.cursor.clone(), parent.clone());
    let (mut pages, mut objects) = (job.pages, job.objects);
    if !done {
        let (path, params) = sync::list_target(t, &params, parent.as_deref());
        let first = job.pages == 0;
        let (page, _) = sync::sync_page(
            t,
            &client,
            &path,
            &params,
            job.cursor.as_deref(),
            parent.as_deref(),
            first,
        );
        pages += 1;
        objects += page.count as i64;
        if let Some(next) = page.next_cursor(job.cursor.as_deref()) {
            cursor = Some(next);
        } else {
            cursor = None;
            parent_cursor = parent
                .as_deref()
                .and_then(|p| sync::parents_after(t, Some(p)).into_iter().next());
            done = parent_cursor.is_none();
        }
    }
    let mut stats = SyncStats {
        objects,
        pages,
        marked_deleted: 0,
    };
    if done {
        sync::finish(t, job.started, &mut stats, job.since);
    }
    let args: [DatumWithOid; 7] = [
        job_id.into(),
        cursor.into(),
        parent_cursor.into(),
        pages.into(),
        objects.into(),
        stats.marked_deleted.into(),
        done.into(),
    ];
    spi(
        "saving the sync job",
        Spi::run_with_args(
            "UPDATE stripe.sync_jobs SET cursor = $2, parent_cursor = $3, pages = $4, objects = $5, \
             marked_deleted = $6, state = CASE WHEN $7 THEN 'done' ELSE 'running' END, \
             started_at = coalesce(started_at, clock_timestamp()), updated_at = clock_timestamp(), \
             finished_at = CASE WHEN $7 THEN clock_timestamp() END, error = NULL, attempts = 0, \
             next_attempt_at = NULL WHERE id = $1 AND state IN ('queued', 'running')",
            &args,
        ),
    );
    done
}

/// Catch-up from the Events API: records every event newer than the newest one already seen
/// (Stripe keeps 30 days) and processes everything pending through the webhook path, oldest
/// first. Safe to repeat: events already recorded are skipped by id.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sync_events() -> i64 {
    let newest = spi(
        "finding the newest event",
        Spi::get_one::<i64>("SELECT extract(epoch FROM max(created))::bigint FROM stripe.events"),
    );
    let mut params = crate::client::ListParams::default();
    if let Some(t) = newest {
        // gte, not gt: more events may share that second; ids already recorded are skipped.
        params.extra.push(("created[gte]".into(), t.to_string()));
    }
    let interrupt = || {
        pgrx::check_for_interrupts!();
    };
    // The next page is fetched (and its JSON parsed) while this one is recorded.
    let pager = Prefetcher::start(api_key::client(), "/v1/events".into(), params, None);
    let (mut pages, mut recorded) = (0, 0i64);
    while let Some(fetched) = pager.next(&interrupt) {
        let page = fetched
            .page
            .unwrap_or_else(|e| sync::raise_api_error("stripe.sync_events()", &e));
        let n = writer::record_events(&page.body, fetched.jsonb.as_deref());
        pages += 1;
        recorded += n;
        notice!("stripe.sync_events(): page {pages}, {recorded} new events recorded");
    }
    // Apply what is pending oldest first (the API pages newest first), stripe.event_batch_size
    // events per statement per type, then whatever is due for a retry.
    let processed = spi(
        "processing pending events",
        Spi::get_one::<i64>("SELECT stripe.process_pending()"),
    )
    .unwrap_or(0);
    notice!("stripe.sync_events(): {recorded} new events, {processed} processed");
    recorded
}

/// A pending event as the batch routes it: its generated columns, not its payload.
struct Pending {
    id: String,
    event_type: Option<String>,
    object_type: Option<String>,
}

/// Applies the pending events among `ids` set-based (`stripe._drain_events` locks and passes
/// them). Returns the events processed; the ones it leaves pending go one by one after it.
#[pg_extern(name = "_apply_events", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn apply_events(ids: Vec<String>) -> i64 {
    let chunk = spi(
        "reading pending events",
        Spi::connect(|c| {
            let rows = c.select(
                "SELECT id, type, object_type FROM stripe.events \
                 WHERE id = ANY ($1) AND status = 'pending'",
                None,
                &[ids.into()],
            )?;
            rows.map(|r| {
                Ok(Pending {
                    id: r.get::<String>(1)?.unwrap_or_default(),
                    event_type: r.get::<String>(2)?,
                    object_type: r.get::<String>(3)?,
                })
            })
            .collect::<pgrx::spi::Result<Vec<_>>>()
        }),
    );
    apply_chunk(chunk)
}

/// Applies a chunk of recorded events set-based: one statement per object type (see
/// `sql_gen::apply_events_batch`), reading the payloads where they are stored. Types
/// `stripe.revalidate` names, and rows that are not events, stay pending for
/// `stripe._drain_events`, which takes them one by one. Returns the events processed.
/// Needs no API key unless a nested list was truncated.
fn apply_chunk(chunk: Vec<Pending>) -> i64 {
    let mut by_type: std::collections::BTreeMap<&'static str, Vec<String>> = Default::default();
    let mut ignored = Vec::new();
    for ev in chunk {
        let (Some(event_type), Some(object_type)) = (&ev.event_type, &ev.object_type) else {
            continue; // not an event: applied alone, its failure says why
        };
        match crate::catalog::route_event(event_type, object_type) {
            Some(t) if crate::processing::revalidates(t) => {}
            Some(t) => by_type.entry(t.name).or_default().push(ev.id),
            None => ignored.push(ev.id),
        }
    }
    let mut processed = 0;
    if !ignored.is_empty() {
        writer::run_batch("events:ignore", || sql_gen::IGNORE_EVENTS.into(), ignored);
    }
    for (name, ids) in by_type {
        let t = crate::catalog::lookup(name).expect("routed to a catalog type");
        let key = format!("events:{}", t.table);
        let Some((n, truncated)) = writer::run_batch(&key, || sql_gen::apply_events_batch(t), ids)
        else {
            continue;
        };
        processed += n.parse::<i64>().unwrap_or(0);
        if truncated.starts_with("[{") {
            let w = writer::Write {
                json: "",
                as_of: 0.0,
                from: "events_api",
                account: None,
                wins_tie: true,
                parent: None,
                deletes: false,
            };
            let interrupt = || {
                pgrx::check_for_interrupts!();
            };
            // Only now is the API needed: webhooks alone work without a key.
            writer::complete_lists(&api_key::client(), &truncated, &w, &interrupt);
        }
    }
    processed
}
