//! Keeping Stripe secrets out of the server log. Postgres logs the text of a statement that
//! failed (`log_min_error_statement`), of every statement (`log_statement`), and the query and
//! context lines of an error inside a function: a mistyped `set_api_key`, a call refused
//! before any function of ours runs. While the library is loaded (in every backend when it is
//! preloaded, as the workers need), this hook hides the statement of any report whose statement
//! holds something shaped like a Stripe secret key or webhook signing secret, and cuts such
//! secrets out of the report's own texts (message, detail, hint, context, internal query).

use pgrx::pg_sys;
use std::ffi::{c_char, CStr, CString};

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

/// What stands in for a secret's body.
const CUT: &[u8] = "…".as_bytes();

fn prefix_at(text: &[u8], i: usize) -> Option<&'static [u8]> {
    SECRET_PREFIXES
        .into_iter()
        .find(|p| text[i..].starts_with(p))
}

/// Whether a text holds something shaped like a Stripe secret.
pub fn holds_secret(text: &[u8]) -> bool {
    (0..text.len()).any(|i| prefix_at(text, i).is_some())
}

/// `text` with the body of every secret-shaped word cut: `sk_test_abc1` → `sk_test_…`.
pub fn redact(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match prefix_at(text, i) {
            Some(p) => {
                out.extend_from_slice(p);
                out.extend_from_slice(CUT);
                i += p.len();
                while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'_') {
                    i += 1;
                }
            }
            None => {
                out.push(text[i]);
                i += 1;
            }
        }
    }
    out
}

/// Installs the hook (from `_PG_init`, once per backend).
pub fn install() {
    // SAFETY: _PG_init runs once, on the backend's only thread, before any report.
    unsafe {
        PREVIOUS = pg_sys::emit_log_hook;
        pg_sys::emit_log_hook = Some(hide_secrets);
    }
}

/// Replaces one of the report's texts by its redacted copy, allocated where Postgres keeps the
/// report (ErrorContext), if it holds a secret.
///
/// SAFETY: `field` is null or a C string of the report being emitted.
unsafe fn redact_field(field: &mut *mut c_char) {
    if field.is_null() {
        return;
    }
    // SAFETY: non-null, owned by the report (see above).
    let text = unsafe { CStr::from_ptr(*field) }.to_bytes();
    if !holds_secret(text) {
        return;
    }
    // A C string's bytes hold no NUL, and redacting adds none.
    let Ok(clean) = CString::new(redact(text)) else {
        return;
    };
    // SAFETY: ErrorContext lives while the report is being emitted; it frees the copy with it.
    *field = unsafe { pg_sys::MemoryContextStrdup(pg_sys::ErrorContext, clean.as_ptr()) };
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn hide_secrets(edata: *mut pg_sys::ErrorData) {
    // SAFETY: Postgres passes the report being emitted; debug_query_string is the statement
    // being executed (or null), a C string Postgres owns for the statement's life.
    unsafe {
        if let Some(e) = edata.as_mut() {
            if !e.hide_stmt && !pg_sys::debug_query_string.is_null() {
                let statement = CStr::from_ptr(pg_sys::debug_query_string).to_bytes();
                if holds_secret(statement) {
                    e.hide_stmt = true;
                }
            }
            redact_field(&mut e.message);
            redact_field(&mut e.detail);
            redact_field(&mut e.detail_log);
            redact_field(&mut e.hint);
            redact_field(&mut e.context);
            redact_field(&mut e.internalquery);
        }
        if let Some(previous) = PREVIOUS {
            previous(edata);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{holds_secret, redact};

    #[test]
    fn secret_shapes() {
        assert!(holds_secret(b"SELECT stripe.set_api_key('sk_live_abc', 1)"));
        assert!(holds_secret(b"select 1/0, 'whsec_x'"));
        assert!(!holds_secret(b"SELECT stripe.sync('customer')"));
    }

    #[test]
    fn secrets_are_cut_to_their_kind() {
        let cut = redact(
            b"QUERY: SELECT stripe.set_api_key('sk_test_4eC39Hq_x'::int), whsec_Ab1 rk_live_",
        );
        assert_eq!(
            String::from_utf8(cut).unwrap(),
            "QUERY: SELECT stripe.set_api_key('sk_test_…'::int), whsec_… rk_live_…"
        );
        assert_eq!(redact("é plain".as_bytes()), "é plain".as_bytes());
    }
}
