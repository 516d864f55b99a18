//! Raising Postgres errors with a SQLSTATE, a message and a hint. Every user-facing failure goes
//! through here so callers can rely on the codes documented in the README.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// `text` without the API key this backend has read, even transformed: messages carry what
/// Stripe (or whatever `stripe.api_base` names) sent, and a server can echo the key anywhere.
pub fn scrubbed(text: &str) -> String {
    let key = crate::api_key::known();
    crate::client::scrub::scrub(text, &key)
}

/// A WARNING, scrubbed of the API key (`scrubbed`).
macro_rules! warn_scrubbed {
    ($($arg:tt)*) => {
        pgrx::warning!("{}", $crate::errors::scrubbed(&format!($($arg)*)))
    };
}

/// A NOTICE, scrubbed of the API key (`scrubbed`).
macro_rules! notice_scrubbed {
    ($($arg:tt)*) => {
        pgrx::notice!("{}", $crate::errors::scrubbed(&format!($($arg)*)))
    };
}

pub(crate) use {notice_scrubbed, warn_scrubbed};

/// Raises an ERROR; its message and hint are scrubbed of the API key (`scrubbed`).
pub fn raise(code: PgSqlErrorCode, message: String, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, scrubbed(&message), "djstripe_pg");
    if let Some(h) = hint {
        report = report.set_hint(scrubbed(h));
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
