//! The background worker: one per database in `stripe.worker_databases`, registered at server
//! start (djstripe_pg in `shared_preload_libraries`). Each loop step is one transaction running
//! `stripe._work_once()` (sql/worker.sql): a chunk of pending events applied together, one
//! event due for a retry, or one page of a sync job.
//! Postgres restarts a crashed worker after 5 s; work in flight was never committed, so
//! nothing is lost or applied twice.

use crate::gucs;
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, SignalWakeFlags};
use pgrx::prelude::*;
use std::time::Duration;

pub fn register() {
    for (i, db) in gucs::worker_databases().iter().enumerate() {
        BackgroundWorkerBuilder::new(&format!("djstripe_pg worker for {db}"))
            .set_type("djstripe_pg worker")
            .set_library("djstripe_pg")
            .set_function("djstripe_pg_worker_main")
            .set_argument(Some(pg_sys::Datum::from(i)))
            .enable_spi_access()
            .set_restart_time(Some(Duration::from_secs(5)))
            .load();
    }
}

/// What one step did.
enum Step {
    /// Nothing to do.
    Idle,
    /// Applied this many pending events (0: a retry or a sync job page instead).
    Worked(i64),
}

/// Runs one step.
fn step(announce: bool) -> Step {
    BackgroundWorker::transaction(|| {
        let installed =
            Spi::get_one::<bool>("SELECT to_regprocedure('stripe._work_once()') IS NOT NULL")
                .ok()
                .flatten()
                .unwrap_or(false);
        if !installed {
            return Step::Idle; // CREATE EXTENSION has not run in this database (yet)
        }
        if announce {
            let _ = Spi::run(
                "INSERT INTO stripe.workers (database, pid) VALUES (current_database(), pg_backend_pid()) \
                 ON CONFLICT (database) DO UPDATE SET pid = excluded.pid, \
                 started_at = CASE WHEN stripe.workers.pid = excluded.pid THEN stripe.workers.started_at \
                                   ELSE clock_timestamp() END, heartbeat_at = clock_timestamp()",
            );
        }
        match Spi::get_one::<i64>("SELECT stripe._work_once()") {
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

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn djstripe_pg_worker_main(arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    let Some(db) = gucs::worker_databases().get(arg.value()).cloned() else {
        return;
    };
    BackgroundWorker::connect_worker_to_spi(Some(&db), None);
    log!("djstripe_pg worker started for database {db}");
    let mut announce = true;
    loop {
        if BackgroundWorker::sigterm_received() {
            break;
        }
        let done = step(announce);
        announce = matches!(done, Step::Idle); // refresh the heartbeat after every idle period
        if BackgroundWorker::sigterm_received() {
            break;
        }
        match done {
            Step::Idle => {
                let idle = Duration::from_secs(gucs::WORKER_IDLE.get().max(1) as u64);
                if !BackgroundWorker::wait_latch(Some(idle)) {
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
        }
        if BackgroundWorker::sighup_received() {
            // SAFETY: reloading the configuration file is what a worker does on SIGHUP.
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
    }
    log!("djstripe_pg worker for database {db} stopping");
}
