//! Waking the database's background worker when a transaction that queued work commits.
//! The worker records its pid in `stripe.workers`; setting its latch after our commit makes it
//! see the new rows at once, instead of at its next idle timeout.

use pgrx::prelude::*;
use pgrx::{register_xact_callback, PgXactCallbackEvent};
use std::cell::Cell;

thread_local! {
    // One wake-up per transaction is enough, however many events it queued.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    // Every queued webhook asks for the worker's pid: plan that query once per backend.
    static PID_PLAN: crate::kept_plans::KeptPlan = const { std::cell::RefCell::new(None) };
}

pub fn worker_after_commit() {
    if ARMED.with(Cell::get) {
        return;
    }
    let pid = crate::kept_plans::select_one::<i32>(
        &PID_PLAN,
        "SELECT (SELECT pid FROM stripe.workers WHERE database = current_database())",
    )
    .ok()
    .flatten();
    let Some(pid) = pid else {
        return; // no worker here: the work waits for stripe.process_pending() or a worker
    };
    ARMED.with(|a| a.set(true));
    register_xact_callback(PgXactCallbackEvent::Commit, move || {
        ARMED.with(|a| a.set(false));
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
    register_xact_callback(PgXactCallbackEvent::Abort, || ARMED.with(|a| a.set(false)));
}

/// Wakes the worker when the calling transaction commits (after queueing a sync job).
#[pg_extern(name = "_wake_worker", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn wake_worker() {
    worker_after_commit();
}
