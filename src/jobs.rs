//! Background syncs, one page per call: `stripe._sync_job_step(job)` fetches and writes the next
//! page of a `stripe.sync_jobs` row and stores the cursor in the same transaction, so a crash,
//! restart or cancel resumes exactly where the last committed page ended. After the last page
//! of a complete walk, the objects it did not see are retrieved a few per step (`sweep`) before
//! the job is done.

use crate::api_key;
use crate::client::{Walk, WalkState};
use crate::errors::spi;
use crate::sweep;
use crate::sync::{self, unix_now, PageAt, SyncStats};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

/// Unseen objects retrieved per step: each is a request, and a step is one transaction.
const CHECKS_PER_STEP: usize = 20;

/// A job's row, as a step reads and writes it.
struct Job {
    object_type: String,
    since: Option<i64>,
    parent_cursor: Option<String>,
    cursor: Option<String>,
    pages: i32,
    objects: i64,
    marked_deleted: i64,
    /// Objects the walk listed that the mirror already had (`SyncStats::seen_existing`).
    seen_existing: i64,
    /// When the walk's first request started (set by the first step, before it fetches).
    walk_started: Option<f64>,
    /// The walk of the current list, checked page by page across steps.
    walk: Option<WalkState>,
    /// After the walk: the unseen objects still to be retrieved.
    checks: Option<Vec<(String, Option<String>)>>,
    sweep: Option<String>,
}

/// The job, if it is still open (a cancel may have committed since it was picked).
fn load(job_id: i64) -> Option<Job> {
    spi(
        "reading the sync job",
        Spi::connect(|c| {
            let row = c
                .select(
                    "SELECT object_type, extract(epoch FROM since)::bigint, parent_cursor, cursor, \
                     pages, objects, marked_deleted, extract(epoch FROM walk_started_at)::float8, \
                     walk::text, checks::text, sweep, seen_existing \
                     FROM stripe.sync_jobs WHERE id = $1 AND state IN ('queued', 'running')",
                    None,
                    &[job_id.into()],
                )?
                .first();
            if row.is_empty() {
                return Ok(None);
            }
            let json = |i: usize| -> pgrx::spi::Result<Option<String>> { row.get::<String>(i) };
            Ok(Some(Job {
                object_type: row.get::<String>(1)?.unwrap_or_default(),
                since: row.get::<i64>(2)?,
                parent_cursor: row.get::<String>(3)?,
                cursor: row.get::<String>(4)?,
                pages: row.get::<i32>(5)?.unwrap_or(0),
                objects: row.get::<i64>(6)?.unwrap_or(0),
                marked_deleted: row.get::<i64>(7)?.unwrap_or(0),
                walk_started: row.get::<f64>(8)?,
                walk: json(9)?.and_then(|s| serde_json::from_str(&s).ok()),
                checks: json(10)?.and_then(|s| serde_json::from_str(&s).ok()),
                sweep: row.get::<String>(11)?,
                seen_existing: row.get::<i64>(12)?.unwrap_or(0),
            }))
        }),
    )
}

fn save(job_id: i64, job: &Job, done: bool) {
    let walk = job
        .walk
        .as_ref()
        .map(|w| serde_json::to_string(w).unwrap_or_default());
    let checks = job
        .checks
        .as_ref()
        .map(|c| serde_json::to_string(c).unwrap_or_default());
    let args: [DatumWithOid; 12] = [
        job_id.into(),
        job.cursor.as_deref().into(),
        job.parent_cursor.as_deref().into(),
        job.pages.into(),
        job.objects.into(),
        job.marked_deleted.into(),
        done.into(),
        job.walk_started.into(),
        walk.into(),
        checks.into(),
        job.sweep.as_deref().into(),
        job.seen_existing.into(),
    ];
    spi(
        "saving the sync job",
        Spi::run_with_args(
            "UPDATE stripe.sync_jobs SET cursor = $2, parent_cursor = $3, pages = $4, objects = $5, \
             marked_deleted = $6, state = CASE WHEN $7 THEN 'done' ELSE 'running' END, \
             walk_started_at = to_timestamp($8), walk = $9::jsonb, checks = $10::jsonb, sweep = $11, \
             seen_existing = $12, \
             started_at = coalesce(started_at, clock_timestamp()), updated_at = clock_timestamp(), \
             finished_at = CASE WHEN $7 THEN clock_timestamp() END, error = NULL, attempts = 0, \
             next_attempt_at = NULL WHERE id = $1 AND state IN ('queued', 'running')",
            &args,
        ),
    );
}

/// Retrieves the next few unseen objects; returns true once none is left.
fn check_step(t: &'static crate::catalog::ObjectType, job: &mut Job) -> bool {
    let mut left = job.checks.take().unwrap_or_default();
    let now: Vec<_> = left.drain(..left.len().min(CHECKS_PER_STEP)).collect();
    let mut stats = SyncStats::default();
    sweep::check_all(t, &api_key::client(), now, &mut stats);
    job.marked_deleted += stats.marked_deleted;
    job.sweep = stats.sweep;
    let done = left.is_empty();
    job.checks = (!done).then_some(left);
    done
}

/// Whether the job is still open: a cancel may have committed while a request was waiting.
fn still_open(job_id: i64) -> bool {
    spi(
        "reading the sync job's state",
        Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT 1 FROM stripe.sync_jobs \
             WHERE id = $1 AND state IN ('queued', 'running'))",
            &[job_id.into()],
        ),
    )
    .unwrap_or(false)
}

/// Fetches and writes the next page of the walk; returns whether the walk is complete, or
/// None when the job was cancelled while the page was fetched (nothing of it is written).
fn walk_step(t: &'static crate::catalog::ObjectType, job: &mut Job, job_id: i64) -> Option<bool> {
    let params = sync::list_params(t, job.since);
    let client = api_key::client();
    // Per-parent types walk the mirrored parents in id order; parent_cursor is the current one.
    let parent = match (&t.parent, &job.parent_cursor) {
        (None, _) => None,
        (Some(_), Some(p)) => Some(p.clone()),
        (Some(_), None) => sync::parents_after(t, None).into_iter().next(),
    };
    if t.parent.is_some() && parent.is_none() {
        return Some(true); // no parent mirrored: nothing to list
    }
    let (path, params) = sync::list_target(t, &params, parent.as_deref());
    let mut walk = match job.walk.take() {
        Some(state) => Walk::resume(
            sync::walk_label(t, parent.as_deref()),
            state,
            parent.is_none(),
        ),
        None => sync::walk_of(t, parent.as_deref()),
    };
    let (fetched, next) =
        sync::fetch_page(&client, &path, &params, job.cursor.as_deref(), &mut walk);
    if !still_open(job_id) {
        return None;
    }
    let at = PageAt {
        t,
        parent: parent.as_deref(),
        page: walk.pages(),
        first: job.pages == 0,
    };
    let mut stats = SyncStats::default();
    let (page, _) = sync::write_fetched(&client, fetched, &at, &mut stats);
    job.seen_existing += stats.seen_existing;
    job.pages += 1;
    job.objects += page.count as i64;
    job.parent_cursor = parent.clone();
    if let Some(next) = next {
        job.cursor = Some(next);
        job.walk = Some(walk.state());
        return Some(false);
    }
    // This list is complete: the next parent's, or the end of the walk.
    job.cursor = None;
    job.walk = None;
    job.parent_cursor = parent
        .as_deref()
        .and_then(|p| sync::parents_after(t, Some(p)).into_iter().next());
    Some(job.parent_cursor.is_none())
}

/// Runs the next step of a sync job. Returns true when the job is done.
#[pg_extern(name = "_sync_job_step", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sync_job_step(job_id: i64) -> bool {
    let Some(mut job) = load(job_id) else {
        return true; // cancelled or finished meanwhile: nothing left to do
    };
    let t = sync::lookup_or_raise(Some(&job.object_type));
    // Before the walk's first request: all it fetches reflects Stripe after this moment.
    let started = *job.walk_started.get_or_insert_with(unix_now);
    let walked = match job.checks {
        Some(_) => None,
        None => match walk_step(t, &mut job, job_id) {
            None => return true, // cancelled meanwhile: nothing of the page is kept
            walked => walked,
        },
    };
    let done = if job.checks.is_some() {
        check_step(t, &mut job)
    } else if walked == Some(true) {
        // The walk is complete: what it did not see is retrieved in the steps that follow.
        let mut stats = SyncStats {
            objects: job.objects,
            seen_existing: job.seen_existing,
            ..SyncStats::default()
        };
        let candidates = match job.since {
            None => sweep::candidates(t, started, &mut stats),
            Some(_) => Vec::new(),
        };
        job.sweep = stats.sweep;
        if candidates.is_empty() {
            true
        } else {
            job.checks = Some(candidates);
            false
        }
    } else {
        false
    };
    if done {
        let stats = SyncStats {
            objects: job.objects,
            pages: job.pages,
            marked_deleted: job.marked_deleted,
            sweep: job.sweep.clone(),
            ..SyncStats::default()
        };
        sync::record_run(t, started, &stats, job.since);
    }
    save(job_id, &job, done);
    done
}
