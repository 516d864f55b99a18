//! Raising Postgres errors with a SQLSTATE, a message and a hint. Every user-facing failure goes
//! through here so callers can rely on the codes documented in the README.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

pub fn raise(code: PgSqlErrorCode, message: String, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, message, "djstripe_pg");
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// An SPI failure is a bug or a broken installation, not user input: report it as internal.
pub fn spi<T>(what: &str, r: Result<T, pgrx::spi::SpiError>) -> T {
    r.unwrap_or_else(|e| {
        raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("djstripe_pg: {what}: {e}"),
            None,
        )
    })
}
