//! Running a piece of work in a subtransaction, so that its error can be caught and the work
//! before it kept: what a PL/pgSQL `BEGIN … EXCEPTION` block does, for the Rust glue.

use pgrx::pg_sys::{self, panic::CaughtError};
use pgrx::{PgSqlErrorCode, PgTryBuilder};

/// A Postgres error caught from `attempt`: its SQLSTATE and message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: PgSqlErrorCode,
    pub message: String,
    caught: std::sync::Arc<std::sync::Mutex<Option<CaughtError>>>,
}

impl Failure {
    /// The five-character SQLSTATE (`22P05`).
    pub fn sqlstate(&self) -> String {
        sqlstate(self.code)
    }

    /// Raises the error again, as it was.
    pub fn rethrow(self) -> ! {
        let caught = self.caught.lock().ok().and_then(|mut c| c.take());
        match caught {
            Some(c) => c.rethrow(),
            None => crate::errors::raise(self.code, self.message, None),
        }
    }

    /// Whether the work lost a deadlock (or a serialization check, or a lock wait) to another
    /// session: nothing about the work itself, so it may simply be tried again.
    pub fn is_a_lock_conflict(&self) -> bool {
        matches!(
            self.code,
            PgSqlErrorCode::ERRCODE_T_R_DEADLOCK_DETECTED
                | PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE
                | PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE
        )
    }

    /// Whether the error is about the data (class 22, data exception) or its size (class 54,
    /// program limit exceeded: an index row too large): the same write fails again every time.
    pub fn is_about_the_data(&self) -> bool {
        let s = self.sqlstate();
        s.starts_with("22") || s.starts_with("54")
    }
}

/// The five characters of a SQLSTATE, unpacked from Postgres' six-bit encoding.
pub fn sqlstate(code: PgSqlErrorCode) -> String {
    let v = code as i32;
    (0..5)
        .map(|i| (((v >> (6 * i)) & 0x3F) as u8 + b'0') as char)
        .collect()
}

/// Runs `work` in a subtransaction: its result, or (the subtransaction rolled back) the Postgres
/// error it raised. A cancel (`query_canceled`) and Rust panics are never caught.
pub fn attempt<T>(work: impl FnOnce() -> T + std::panic::UnwindSafe) -> Result<T, Failure> {
    // SAFETY: the same sequence as PL/pgSQL's exception blocks (pl_exec.c): begin, run, then
    // release or roll back, and restore the caller's memory context and resource owner.
    let (context, owner) = unsafe { (pg_sys::CurrentMemoryContext, pg_sys::CurrentResourceOwner) };
    unsafe { pg_sys::BeginInternalSubTransaction(std::ptr::null()) };
    unsafe { pg_sys::MemoryContextSwitchTo(context) };
    let restore = move || unsafe {
        pg_sys::MemoryContextSwitchTo(context);
        pg_sys::CurrentResourceOwner = owner;
    };
    PgTryBuilder::new(|| {
        let value = work();
        unsafe { pg_sys::ReleaseCurrentSubTransaction() };
        restore();
        Ok(value)
    })
    .catch_others(|e| {
        unsafe { pg_sys::RollbackAndReleaseCurrentSubTransaction() };
        restore();
        match &e {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r)
                if r.sql_error_code() != PgSqlErrorCode::ERRCODE_QUERY_CANCELED =>
            {
                Err(Failure {
                    code: r.sql_error_code(),
                    message: r.message().to_string(),
                    caught: std::sync::Arc::new(std::sync::Mutex::new(Some(e))),
                })
            }
            _ => e.rethrow(),
        }
    })
    .execute()
}

/// How many times work that lost a deadlock is tried in all.
const CONFLICT_TRIES: usize = 3;

/// `attempt`, tried again at once when it loses a deadlock or serialization check: rolling
/// back its subtransaction let the other session through, and the next try waits for it (so
/// the other side, if it is a worker with a short `deadlock_timeout`, is the one to give way).
pub fn attempt_through_conflicts<T>(
    work: impl Fn() -> T + std::panic::RefUnwindSafe,
) -> Result<T, Failure> {
    let mut tries = 1;
    loop {
        match attempt(&work) {
            Err(f) if f.is_a_lock_conflict() && tries < CONFLICT_TRIES => tries += 1,
            done => return done,
        }
    }
}

/// Runs `write` on a list page (`{"data": [...]}`) in a subtransaction; if Postgres cannot
/// store it (an error about the data), runs it on each item alone (as a page of one), and
/// hands the items that still fail to `skipped` with their error. `write` is told whether it
/// has the whole page. A write that loses a deadlock is tried again. The writes that succeeded
/// return their results, in order.
pub fn page_or_items<T>(
    page: &str,
    write: impl Fn(&str, bool) -> T + std::panic::RefUnwindSafe,
    mut skipped: impl FnMut(&str, &Failure),
) -> Vec<T> {
    let failure = match attempt_through_conflicts(|| write(page, true)) {
        Ok(value) => return vec![value],
        Err(f) if f.is_about_the_data() => f,
        Err(f) => f.rethrow(),
    };
    #[derive(serde::Deserialize)]
    struct Items<'a> {
        #[serde(borrow)]
        data: Vec<&'a serde_json::value::RawValue>,
    }
    let items: Items = serde_json::from_str(page).unwrap_or_else(|_| failure.rethrow());
    let mut done = Vec::new();
    for item in items.data {
        let one = format!("{{\"data\":[{}]}}", item.get());
        match attempt_through_conflicts(|| write(&one, false)) {
            Ok(value) => done.push(value),
            Err(f) if f.is_about_the_data() => skipped(item.get(), &f),
            Err(f) => f.rethrow(),
        }
    }
    done
}
