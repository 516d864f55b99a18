//! The functions typed columns are generated with: `stripe.text_at`, `stripe.id_at` and
//! `stripe.time_at` read a path (see `json_path`) out of an object's jsonb.
//!
//! Why C functions instead of `->`/`->>` chains: PostgreSQL 15 re-reads every generated
//! column's expression from its stored node tree each time a statement writes a table, and that
//! cost grows with the tree. A chain of operators with a `coalesce` for moved fields was 1–6 kB
//! of node text per column, which made setting up a one-row write cost several times the write.
//! One function call with a constant path is the smallest tree there is, and it reads the jsonb
//! in place, as the built-in operators do.

use crate::json_path;
use pgrx::pg_sys::{self, jbvType, Datum, JsonbContainer, JsonbValue};
use pgrx::prelude::*;
use std::ffi::c_char;

/// The value at one alternative's steps, or None (absent, or JSON null).
unsafe fn walk<'a>(
    root: *mut JsonbContainer,
    steps: impl Iterator<Item = &'a str>,
) -> Option<JsonbValue> {
    let mut container = root;
    let mut found: Option<JsonbValue> = None;
    for step in steps {
        if let Some(v) = found {
            if v.type_ != jbvType::jbvBinary {
                return None;
            }
            container = v.val.binary.data;
        }
        let header = (*container).header;
        let next: *mut JsonbValue = if header & pg_sys::JB_FOBJECT != 0 {
            let mut res = std::mem::MaybeUninit::<JsonbValue>::zeroed();
            pg_sys::getKeyJsonValueFromContainer(
                container,
                step.as_ptr() as *const c_char,
                step.len() as i32,
                res.as_mut_ptr(),
            )
        } else if header & pg_sys::JB_FARRAY != 0 && header & pg_sys::JB_FSCALAR == 0 {
            match json_path::index(step) {
                Some(i) => pg_sys::getIthJsonbValueFromContainer(container, i),
                None => std::ptr::null_mut(),
            }
        } else {
            std::ptr::null_mut()
        };
        if next.is_null() {
            return None;
        }
        found = Some(*next);
    }
    found.filter(|v| v.type_ != jbvType::jbvNull)
}

/// The first alternative of the path (argument 1) that holds a value `accept` takes in the
/// jsonb (argument 0), as `accept` returns it.
unsafe fn lookup(
    fcinfo: pg_sys::FunctionCallInfo,
    accept: impl Fn(JsonbValue) -> Option<JsonbValue>,
) -> Option<JsonbValue> {
    let jb = pg_sys::pg_detoast_datum(pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr())
        as *mut pg_sys::Jsonb;
    let path = pgrx::text_to_rust_str_unchecked(pg_sys::pg_detoast_datum_packed(
        pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 1).cast_mut_ptr(),
    ));
    let root = &raw mut (*jb).root;
    json_path::alternatives(path).find_map(|steps| walk(root, steps).and_then(&accept))
}

/// An expandable field's id: the value itself when a scalar, the `id` of an object.
unsafe fn id_of(v: JsonbValue) -> Option<JsonbValue> {
    if v.type_ != jbvType::jbvBinary {
        return Some(v);
    }
    let container = v.val.binary.data;
    if (*container).header & pg_sys::JB_FOBJECT == 0 {
        return None;
    }
    walk(container, std::iter::once("id")).filter(|id| id.type_ == jbvType::jbvString)
}

// The fmgr entry points themselves (pg_sys wraps them as Rust functions, which
// DirectFunctionCall cannot take).
unsafe extern "C-unwind" {
    fn numeric_out(fcinfo: pg_sys::FunctionCallInfo) -> Datum;
    fn numeric_float8(fcinfo: pg_sys::FunctionCallInfo) -> Datum;
    fn float8_timestamptz(fcinfo: pg_sys::FunctionCallInfo) -> Datum;
}

unsafe fn text_datum(s: &[u8]) -> Datum {
    Datum::from(pg_sys::cstring_to_text_with_len(
        s.as_ptr() as *const c_char,
        s.len() as i32,
    ))
}

/// A scalar as `->>` renders it; an object or array as its JSON text.
unsafe fn as_text(v: &JsonbValue) -> Datum {
    match v.type_ {
        jbvType::jbvString => text_datum(std::slice::from_raw_parts(
            v.val.string.val as *const u8,
            v.val.string.len as usize,
        )),
        jbvType::jbvBool => text_datum(if v.val.boolean { b"true" } else { b"false" }),
        jbvType::jbvNumeric => {
            let s = pg_sys::DirectFunctionCall1Coll(
                Some(numeric_out),
                pg_sys::InvalidOid,
                Datum::from(v.val.numeric),
            );
            Datum::from(pg_sys::cstring_to_text(s.cast_mut_ptr()))
        }
        _ => {
            let s =
                pg_sys::JsonbToCString(std::ptr::null_mut(), v.val.binary.data, v.val.binary.len);
            Datum::from(pg_sys::cstring_to_text(s))
        }
    }
}

unsafe fn null(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    pgrx::fcinfo::pg_return_null(fcinfo)
}

/// `stripe.text_at(data jsonb, path text) → text`: the value at the path as `->>` gives it.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn djstripe_text_at(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    match lookup(fcinfo, Some) {
        Some(v) => as_text(&v),
        None => null(fcinfo),
    }
}

/// `stripe.id_at(data jsonb, path text) → text`: the id of an expandable field: the string
/// Stripe sends by default, or the `id` of the object `expand[]` puts in its place.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn djstripe_id_at(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    match lookup(fcinfo, |v| id_of(v)) {
        Some(v) => as_text(&v),
        None => null(fcinfo),
    }
}

/// `stripe.time_at(data jsonb, path text) → timestamptz`: a Unix time (Stripe's timestamps),
/// as `to_timestamp` converts it. NULL when no alternative holds a number.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn djstripe_time_at(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    let Some(v) = lookup(fcinfo, |v| {
        Some(v).filter(|v| v.type_ == jbvType::jbvNumeric)
    }) else {
        return null(fcinfo);
    };
    let seconds = pg_sys::DirectFunctionCall1Coll(
        Some(numeric_float8),
        pg_sys::InvalidOid,
        Datum::from(v.val.numeric),
    );
    pg_sys::DirectFunctionCall1Coll(Some(float8_timestamptz), pg_sys::InvalidOid, seconds)
}

macro_rules! finfo_v1 {
    ($($name:ident),*) => {$(
        #[unsafe(no_mangle)]
        #[doc(hidden)]
        pub extern "C" fn $name() -> &'static pg_sys::Pg_finfo_record {
            const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    )*};
}
finfo_v1!(
    pg_finfo_djstripe_text_at,
    pg_finfo_djstripe_id_at,
    pg_finfo_djstripe_time_at
);
