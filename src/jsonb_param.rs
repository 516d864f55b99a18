//! `jsonb` statement parameters built in Rust (`jsonb_encode`): the JSON Stripe sends is
//! parsed here several times faster than PostgreSQL 15's `jsonb_in`, which still takes whatever
//! the encoder leaves to it, errors included.

use pgrx::pg_sys::{self, Datum};
use pgrx::prelude::*;
use std::ffi::CString;

// Declared here: the bindings' wrapper is not the C-ABI function pointer DirectFunctionCall
// takes.
unsafe extern "C-unwind" {
    fn jsonb_in(fcinfo: pg_sys::FunctionCallInfo) -> Datum;
}

/// The `jsonb` value of `json`, palloc'd in the current memory context; `encoded` is its
/// varlena if `jsonb_encode` already made it (on the prefetch thread).
pub fn datum(json: &str, encoded: Option<&[u8]>) -> Datum {
    let bytes = match encoded {
        Some(b) => Some(std::borrow::Cow::Borrowed(b)),
        None => crate::jsonb_encode::encode(json).map(std::borrow::Cow::Owned),
    };
    match bytes {
        // Debug builds (what the tests run) check every value they encode against jsonb_in.
        Some(bytes) if cfg!(debug_assertions) && *bytes != postgres_bytes(json) => {
            panic!("the jsonb encoder differs from jsonb_in for {json:.300}")
        }
        // SAFETY: a fresh palloc of the varlena's exact size, filled from the encoder's bytes.
        Some(bytes) => unsafe {
            let ptr = pg_sys::palloc(bytes.len()).cast::<u8>();
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
            Datum::from(ptr)
        },
        None => parsed_by_postgres(json),
    }
}

/// `jsonb_in`'s value of `json` (and its error, if it is not valid).
pub fn parsed_by_postgres(json: &str) -> Datum {
    let Ok(text) = CString::new(json) else {
        crate::errors::raise(
            PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
            "invalid input syntax for type json: the text contains a NUL byte".into(),
            None,
        )
    };
    // SAFETY: jsonb_in takes one cstring argument and returns a palloc'd jsonb (or raises).
    unsafe {
        pg_sys::DirectFunctionCall1Coll(
            Some(jsonb_in),
            pg_sys::InvalidOid,
            Datum::from(text.as_ptr()),
        )
    }
}

/// jsonb_in's varlena bytes for `json`.
pub fn postgres_bytes(json: &str) -> Vec<u8> {
    let datum = parsed_by_postgres(json);
    // SAFETY: jsonb_in returns an untoasted varlena with a 4-byte header.
    unsafe {
        let ptr = datum.cast_mut_ptr::<pg_sys::varlena>();
        std::slice::from_raw_parts(ptr.cast::<u8>(), pgrx::varsize_any(ptr)).to_vec()
    }
}

/// A statement parameter of type `jsonb` holding `json` (see `datum`).
pub fn param(json: &str, encoded: Option<&[u8]>) -> pgrx::datum::DatumWithOid<'static> {
    // SAFETY: the datum is a valid jsonb for the lifetime of the current memory context, which
    // outlives the statement it is passed to.
    unsafe { pgrx::datum::DatumWithOid::new(datum(json, encoded), pg_sys::JSONBOID) }
}
