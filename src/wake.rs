//! Waking a background worker of the database when a transaction that queued work for it
//! commits. The workers record their pids in `stripe.workers`; setting one's latch after our
//! commit makes it see the new rows at once, instead of at its next idle timeout.

use pgrx::prelude::*;
use pgrx::{register_xact_callback, PgXactCallbackEvent};
use std::cell::Cell;

thread_local! {
    // One wake-up per worker per transaction is enough, however much work it queued.
    static ARMED: Cell<[bool; 2]> = const { Cell::new([false; 2]) };
    // Every queued webhook asks for the worker's pid: plan that query once per backend.
    static PID_PLAN: crate::kept_plans::KeptPlan = const { std::cell::RefCell::new(None) };
}

/// Which worker: the one applying events, or the one talking to Stripe.
#[derive(Clone, Copy)]
pub enum Worker {
    Events = 0,
    Sync = 1,
}

pub fn after_commit(worker: Worker) {
    let slot = worker as usize;
    if ARMED.with(Cell::get)[slot] {
        return;
    }
    let kind = match worker {
        Worker::Events => "events",
        Worker::Sync => "sync",
    };
    let pid = crate::kept_plans::select_one_with::<i32>(
        &PID_PLAN,
        "SELECT (SELECT pid FROM stripe.workers WHERE database = current_database() AND kind = $1)",
        kind,
    )
    .ok()
    .flatten();
    let Some(pid) = pid else {
        return; // no worker here: the work waits for stripe.process_pending() or a worker
    };
    ARMED.with(|a| {
        let mut armed = a.get();
        armed[slot] = true;
        a.set(armed)
    });
    register_xact_callback(PgXactCallbackEvent::Commit, move || {
        ARMED.with(|a| a.set([false; 2]));
        // SAFETY: BackendPidGetProc returns a live backend's PGPROC or null; its latch stays
        // valid while the process runs. A pid reused by another backend only wakes it
        // spuriously, which every latch user tolerates.
        unsafe {
            let proc_ = pg_sys::BackendPidGetProc(pid);
            if !proc_.is_null() {
                pg_sys::SetLatch(&mut (*proc_).procLatch);
            }
        }
    });
    register_xact_callback(PgXactCallbackEvent::Abort, || {
        ARMED.with(|a| a.set([false; 2]))
    });
}

/// Wakes the worker of `kind` (`events` or `sync`) when the calling transaction commits.
#[pg_extern(name = "_wake_worker", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn wake_worker(kind: default!(&str, "'sync'")) {
    after_commit(if kind == "events" {
        Worker::Events
    } else {
        Worker::Sync
    });
}
