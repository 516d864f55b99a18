//! Applying one event to the mirror: shared by webhook ingest, the background worker,
//! `stripe.reprocess_events` and `stripe.sync_events`.

use crate::api_key;
use crate::catalog::{self, ObjectType};
use crate::errors::{raise, spi};
use crate::event::Envelope;
use crate::gucs;
use crate::sql_gen;
use crate::writer::{self, Write};
use pgrx::prelude::*;

/// The write parameters an event implies (see `sql_gen`).
pub fn write_for<'a>(payload: &'a str, ev: &'a Envelope) -> Write<'a> {
    Write {
        json: payload,
        as_of: ev.created as f64,
        from: &ev.id,
        account: ev.account.as_deref(),
        // Within one second creation comes first: a *.created never wins a tie.
        wins_tie: !ev.event_type.ends_with(".created"),
        parent: None,
        deletes: catalog::is_deletion_event(&ev.event_type),
    }
}

fn interrupt() {
    pgrx::check_for_interrupts!();
}

/// Records and applies an event from its payload. Returns its status, or None when it was
/// already processed (a duplicate).
pub fn apply(payload: &str, ev: &Envelope) -> Option<String> {
    let w = write_for(payload, ev);
    match catalog::route_event(&ev.event_type, &ev.object_type) {
        Some(t) => apply_write(t, ev, &w),
        None => writer::run("event:ignored", sql_gen::record_ignored_event, &w).map(|r| r.0),
    }
}

/// Writes an event's object of type `t` with the given parameters, then completes any nested
/// list Stripe truncated.
fn apply_write(t: &ObjectType, ev: &Envelope, w: &Write) -> Option<String> {
    // Only the nested lists and embedded objects this object carries: each extra target table
    // costs the statement its executor set-up even when it writes nothing.
    let fields = sql_gen::dependent_fields(t, &ev.nested_objects);
    let key = format!("event:{}:{}", t.table, fields.join(","));
    let outcome = writer::run(
        &key,
        || sql_gen::apply_event(t, sql_gen::Fields::Only(&fields)),
        w,
    );
    if let Some((_, truncated)) = &outcome {
        if truncated.starts_with("[{") {
            // The object's nested list was cut at 10 entries: fetch the rest from the API.
            writer::complete_lists(&api_key::client(), truncated, w, &interrupt);
        }
    }
    outcome.map(|r| r.0)
}

/// Whether `stripe.revalidate` asks to fetch this type fresh instead of trusting the payload.
pub fn revalidates(t: &ObjectType) -> bool {
    let setting = gucs::revalidate();
    setting
        .split(',')
        .map(str::trim)
        .any(|s| s == "all" || s == t.name || s == t.table)
}

/// Payloads that cannot change any more, so fetching them again is pointless.
fn is_final(ev: &Envelope, payload: &str) -> bool {
    if catalog::is_deletion_event(&ev.event_type) {
        return true;
    }
    let status = serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v["data"]["object"]["status"].as_str().map(str::to_string));
    matches!(status.as_deref(), Some("void" | "canceled" | "expired"))
}

fn is_deleted_stub(body: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Stub {
        #[serde(default)]
        deleted: bool,
    }
    serde_json::from_str::<Stub>(body).is_ok_and(|s| s.deleted)
}

/// Fetches the event's object from the API and writes that instead of the payload.
fn revalidate(t: &ObjectType, ev: &Envelope, payload: &str) -> Option<String> {
    let (Some(path), Some(id)) = (t.top_level_list(), ev.object_id.as_deref()) else {
        return None;
    };
    let fetched_at = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)) as f64;
    let gone = || {
        // Deleted since the event (Stripe answers 404, or a `"deleted": true` stub for a
        // customer): the payload is the last state there is, and the object no longer exists.
        let w = Write {
            deletes: true,
            ..write_for(payload, ev)
        };
        apply_write(t, ev, &w)
    };
    let body = match api_key::client().get(&format!("{path}/{id}"), "", &interrupt) {
        Ok(body) if is_deleted_stub(&body) => return gone(),
        Ok(body) => body,
        Err(e) if e.status == Some(404) => return gone(),
        Err(e) => crate::sync::raise_api_error(&format!("revalidating {id}"), &e),
    };
    let page = format!("{{\"data\":[{body}]}}");
    let w = Write {
        json: &page,
        as_of: fetched_at,
        from: &ev.id,
        account: ev.account.as_deref(),
        wins_tie: true,
        parent: None,
        deletes: false,
    };
    let (_, truncated) = writer::write_page(t, &w);
    if truncated.starts_with("[{") {
        writer::complete_lists(&api_key::client(), &truncated, &w, &interrupt);
    }
    spi(
        "marking the event applied",
        Spi::run_with_args(
            "UPDATE stripe.events SET status = 'applied', processed_at = clock_timestamp(), \
             last_error = NULL, next_attempt_at = NULL WHERE id = $1",
            &[ev.id.as_str().into()],
        ),
    );
    Some("applied".into())
}

/// Applies a recorded event by id (the worker's and reprocessing's entry point). Errors
/// propagate: `stripe._process_event` catches them and schedules a retry.
#[pg_extern(name = "_apply_event", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn apply_recorded(event_id: &str) -> Option<String> {
    let payload = spi(
        "reading the event",
        Spi::get_one_with_args::<String>(
            "SELECT data::text FROM stripe.events WHERE id = $1",
            &[event_id.into()],
        ),
    )
    .unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_NO_DATA_FOUND,
            format!("no event {event_id} in stripe.events"),
            None,
        )
    });
    let ev = crate::webhook::parse(&payload);
    if let Some(t) = catalog::route_event(&ev.event_type, &ev.object_type) {
        if revalidates(t) && !is_final(&ev, &payload) {
            return revalidate(t, &ev, &payload);
        }
    }
    apply(&payload, &ev)
}
