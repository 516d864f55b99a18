//! Keeping statements that hold a Stripe secret out of the server log. Postgres logs the text
//! of a statement that failed (`log_min_error_statement`): a mistyped `set_api_key`, a call
//! refused before any function of ours runs. While the library is loaded (in every backend when
//! it is preloaded, as the workers need), this hook hides the statement of any report whose
//! statement holds something shaped like a Stripe secret key or webhook signing secret.

use pgrx::pg_sys;
use std::ffi::CStr;

/// The hook that was there before ours, called after it.
static mut PREVIOUS: pg_sys::emit_log_hook_type = None;

/// Prefixes of what Stripe's secrets look like (`sk_live_…`, `rk_test_…`, `whsec_…`).
const SECRET_PREFIXES: [&[u8]; 5] = [
    b"sk_live_",
    b"sk_test_",
    b"rk_live_",
    b"rk_test_",
    b"whsec_",
];

/// Whether a statement's text holds something shaped like a Stripe secret.
pub fn holds_secret(statement: &[u8]) -> bool {
    SECRET_PREFIXES
        .iter()
        .any(|p| statement.windows(p.len()).any(|w| w == *p))
}

/// Installs the hook (from `_PG_init`, once per backend).
pub fn install() {
    // SAFETY: _PG_init runs once, on the backend's only thread, before any report.
    unsafe {
        PREVIOUS = pg_sys::emit_log_hook;
        pg_sys::emit_log_hook = Some(hide_secret_statements);
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn hide_secret_statements(edata: *mut pg_sys::ErrorData) {
    // SAFETY: Postgres passes the report being emitted; debug_query_string is the statement
    // being executed (or null), a C string Postgres owns for the statement's life.
    unsafe {
        if !edata.is_null() && !(*edata).hide_stmt && !pg_sys::debug_query_string.is_null() {
            let statement = CStr::from_ptr(pg_sys::debug_query_string).to_bytes();
            if holds_secret(statement) {
                (*edata).hide_stmt = true;
            }
        }
        if let Some(previous) = PREVIOUS {
            previous(edata);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::holds_secret;

    #[test]
    fn secret_shapes() {
        assert!(holds_secret(b"SELECT stripe.set_api_key('sk_live_abc', 1)"));
        assert!(holds_secret(b"select 1/0, 'whsec_x'"));
        assert!(!holds_secret(b"SELECT stripe.sync('customer')"));
    }
}
