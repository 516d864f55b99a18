//! The background workers: two per database in `stripe.worker_databases`, registered at server
//! start (djstripe_pg in `shared_preload_libraries`). The events worker applies queued events
//! (`stripe._work_events()`: a chunk of pending events applied together, or one event due for a
//! retry) and never waits for Stripe unless an event needs it; the sync worker does the work
//! that talks to Stripe (`stripe._work_sync()`: objects to retrieve, pages of sync jobs). So a
//! hanging API never holds up queued events, and a stream of events never starves a sync.
//! Each loop step is one transaction. Postgres restarts a crashed worker after 5 s; work in
//! flight was never committed, so nothing is lost or applied twice.

use crate::{gucs, versions};
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, SignalWakeFlags};
use pgrx::prelude::*;
use std::time::{Duration, Instant};

/// The two kinds of worker, as `stripe.workers.kind` and `pg_stat_activity.backend_type` name them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Events,
    Sync,
}

impl Kind {
    fn of(arg: usize) -> Kind {
        if arg.is_multiple_of(2) {
            Kind::Events
        } else {
            Kind::Sync
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Events => "events",
            Kind::Sync => "sync",
        }
    }

    fn backend_type(self) -> &'static str {
        match self {
            Kind::Events => "djstripe_pg worker",
            Kind::Sync => "djstripe_pg sync worker",
        }
    }
}

pub fn register() {
    for (i, db) in gucs::worker_databases().iter().enumerate() {
        for kind in [Kind::Events, Kind::Sync] {
            let arg = 2 * i + kind as usize;
            BackgroundWorkerBuilder::new(&format!("{} for {db}", kind.backend_type()))
                .set_type(kind.backend_type())
                .set_library("djstripe_pg")
                .set_function("djstripe_pg_worker_main")
                .set_argument(Some(pg_sys::Datum::from(arg)))
                .enable_spi_access()
                .set_restart_time(Some(Duration::from_secs(5)))
                .load();
        }
    }
}

/// What one step did.
enum Step {
    /// Nothing to do.
    Idle,
    /// Applied this many pending events (0: other work instead).
    Worked(i64),
    /// The database's extension is at this version, not the library's: nothing was done.
    OtherVersion(String),
}

/// Runs one step. `turn` alternates the sync worker between its two kinds of work.
fn step(kind: Kind, announce: bool, turn: bool) -> Step {
    BackgroundWorker::transaction(|| {
        let installed = Spi::get_one::<String>(
            "SELECT extversion FROM pg_extension WHERE extname = 'djstripe_pg'",
        )
        .ok()
        .flatten();
        match installed {
            None => return Step::Idle, // CREATE EXTENSION has not run in this database (yet)
            Some(v) if v != versions::LIBRARY => return Step::OtherVersion(v),
            Some(_) => {}
        }
        // Should a worker's step and a user's statement (a long foreground sync) deadlock, the
        // worker is the one to give way, whoever waited first: Postgres looks for a cycle once,
        // deadlock_timeout after a wait begins, and aborts the waiter that looks, so the worker
        // looks at once when it waits last, and gives up after 500 ms when it waited first (a
        // user's deadlock_timeout is 1 s by default). What it gave up (an event, a job page, a
        // retrieve) is tried again a second later, no attempt counted.
        let _ = Spi::run("SET LOCAL deadlock_timeout = '50ms'");
        let _ = Spi::run("SET LOCAL lock_timeout = '500ms'");
        if announce {
            let _ = Spi::run_with_args(
                "INSERT INTO stripe.workers (database, kind, pid) \
                 VALUES (current_database(), $1, pg_backend_pid()) \
                 ON CONFLICT (database, kind) DO UPDATE SET pid = excluded.pid, \
                 started_at = CASE WHEN stripe.workers.pid = excluded.pid THEN stripe.workers.started_at \
                                   ELSE clock_timestamp() END, heartbeat_at = clock_timestamp()",
                &[kind.name().into()],
            );
        }
        let work = match kind {
            Kind::Events => Spi::get_one::<i64>("SELECT stripe._work_events()"),
            Kind::Sync => {
                Spi::get_one_with_args::<i64>("SELECT stripe._work_sync($1)", &[turn.into()])
            }
        };
        match work {
            Ok(Some(n)) => Step::Worked(n),
            _ => Step::Idle,
        }
    })
}

/// Sleeps without returning early when the latch is set (it is, by every commit that queues an
/// event), so that events arriving meanwhile are applied together.
fn gather(delay: Duration) {
    if delay.is_zero() {
        return;
    }
    // SAFETY: a plain timed wait on our own latch, as WaitLatch is meant to be called.
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            delay.as_millis() as std::ffi::c_long,
            pg_sys::PG_WAIT_EXTENSION,
        );
    }
}

/// The settings `ALTER DATABASE … SET` and `ALTER ROLE … IN DATABASE … SET` give this
/// database: a worker applies them only when it connects, so it restarts when they change.
fn database_settings() -> Option<String> {
    BackgroundWorker::transaction(|| {
        Spi::get_one::<String>(
            "SELECT string_agg(s.setconfig::text, ';' ORDER BY s.setrole) FROM pg_db_role_setting s \
             WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND s.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user))",
        )
        .ok()
        .flatten()
    })
}

/// How often a worker looks for changed database settings.
const SETTINGS_CHECK: Duration = Duration::from_secs(5);
/// How often the sync worker prunes the webhook request log.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Prunes `stripe.webhook_requests` (retention and row cap), in a transaction of its own.
fn prune_request_log() {
    BackgroundWorker::transaction(|| {
        let _ = Spi::run(
            "SELECT stripe.prune_webhook_requests() \
             WHERE to_regprocedure('stripe.prune_webhook_requests()') IS NOT NULL",
        );
    });
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn djstripe_pg_worker_main(arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    let (index, kind) = (arg.value() / 2, Kind::of(arg.value()));
    let Some(db) = gucs::worker_databases().get(index).cloned() else {
        return;
    };
    BackgroundWorker::connect_worker_to_spi(Some(&db), None);
    if kind == Kind::Events {
        crate::refetch::go_offline(); // what needs Stripe is queued for the sync worker
    }
    log!("{} started for database {db}", kind.backend_type());
    let settings = database_settings();
    let mut checked = Instant::now();
    let mut pruned: Option<Instant> = None;
    let (mut announce, mut turn) = (true, false);
    let mut waiting_for_update = false;
    loop {
        if BackgroundWorker::sigterm_received() {
            break;
        }
        let done = step(kind, announce, turn);
        turn = !turn;
        announce = matches!(done, Step::Idle); // refresh the heartbeat after every idle period
        if !matches!(done, Step::OtherVersion(_)) {
            waiting_for_update = false;
        }
        if BackgroundWorker::sigterm_received() {
            break;
        }
        match done {
            Step::Idle => {
                let idle = Duration::from_secs(gucs::WORKER_IDLE.get().max(1) as u64);
                if !BackgroundWorker::wait_latch(Some(idle.min(SETTINGS_CHECK))) {
                    break;
                }
            }
            // The queue was emptied by a partial chunk: events are arriving one by one, and
            // waiting a moment lets the next chunk hold several (far less work per event).
            Step::Worked(n) if n > 0 && n < gucs::EVENT_BATCH_SIZE.get() as i64 => {
                gather(Duration::from_millis(
                    gucs::WORKER_BATCH_DELAY.get().max(0) as u64
                ));
            }
            Step::Worked(_) => {}
            Step::OtherVersion(ext) => {
                // The database's SQL and this process's library are of different releases, so
                // neither may be what the other expects: do nothing until they agree. Starting
                // again would not help: a preloaded library is loaded once, by the postmaster,
                // and every worker it starts inherits it.
                if !waiting_for_update {
                    let what = if versions::compare(&ext, versions::LIBRARY)
                        == Some(std::cmp::Ordering::Greater)
                    {
                        "restart PostgreSQL to load the library installed with it".to_string()
                    } else {
                        format!("run ALTER EXTENSION djstripe_pg UPDATE in database {db}")
                    };
                    log!(
                        "{} for database {db}: the extension is at {ext}, the loaded library at {}; \
                         waiting: {what}",
                        kind.backend_type(),
                        versions::LIBRARY
                    );
                }
                waiting_for_update = true;
                if !BackgroundWorker::wait_latch(Some(SETTINGS_CHECK)) {
                    break;
                }
            }
        }

        if BackgroundWorker::sighup_received() {
            // SAFETY: reloading the configuration file is what a worker does on SIGHUP.
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        // Not while waiting for the other release: its SQL is not this library's.
        if kind == Kind::Sync
            && !waiting_for_update
            && pruned.is_none_or(|p| p.elapsed() >= PRUNE_EVERY)
        {
            pruned = Some(Instant::now());
            prune_request_log();
        }
        if checked.elapsed() >= SETTINGS_CHECK {
            checked = Instant::now();
            if database_settings() != settings {
                // Exit with 1: Postgres starts the worker again (after 5 s), with the new
                // settings applied as it connects.
                log!(
                    "{} for database {db}: the database's settings changed; restarting to apply them",
                    kind.backend_type()
                );
                unsafe { pg_sys::proc_exit(1) };
            }
        }
    }
    log!("{} for database {db} stopping", kind.backend_type());
}
