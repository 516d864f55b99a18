//! Applying one event to the mirror: shared by webhook ingest, the background worker,
//! `stripe.reprocess_events` and `stripe.sync_events`.

use crate::api_key;
use crate::catalog::{self, ObjectType};
use crate::errors::{raise, spi};
use crate::event::Envelope;
use crate::gucs;
use crate::ordering::Kind;
use crate::refetch::{self, Outcome};
use crate::sql_gen;
use crate::sync::interrupt;
use crate::writer::{self, Write};
use pgrx::prelude::*;

/// The write parameters an event implies for its type `t` (see `sql_gen`); for an event the
/// mirror does not keep, `t` is None.
pub fn write_for<'a>(payload: &'a str, ev: &'a Envelope, t: Option<&ObjectType>) -> Write<'a> {
    Write {
        json: payload,
        as_of: ev.created as f64,
        from: &ev.id,
        account: ev.account.as_deref(),
        kind: Kind::of_event(
            &ev.event_type,
            t.is_some_and(|t| t.event_deletes(&ev.event_type)),
        ),
        parent: None,
        deletes: t.is_some_and(|t| t.event_deletes(&ev.event_type)),
    }
}

/// Records and applies an event from its payload. Returns its status, or None when it was
/// already processed (a duplicate).
pub fn apply(payload: &str, ev: &Envelope) -> Option<String> {
    match catalog::route_event(&ev.event_type, &ev.object_type) {
        Some(t) => {
            require_object_id(t, ev);
            apply_write(t, ev, &write_for(payload, ev, Some(t)))
        }
        None => writer::run(
            "event:ignored",
            sql_gen::record_ignored_event,
            &write_for(payload, ev, None),
        )
        .map(|r| r.0),
    }
}

/// An event of a type the mirror keeps must name its object: without `data.object.id` there is
/// no row to write, and calling it `stale` would hide that.
fn require_object_id(t: &ObjectType, ev: &Envelope) {
    if ev.object_id.as_deref().is_none_or(str::is_empty) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "event {} ({}) carries a {} without an id (data.object.id)",
                ev.id, ev.event_type, t.name
            ),
            Some("Stripe's events always name their object; check what sent this one."),
        )
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
            writer::complete_lists(&api_key::client(), truncated, &interrupt);
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

/// Fetches the event's object from the API and writes that instead of the payload; the event
/// is recorded as applied. An object that cannot be retrieved on its own (no endpoint) gets
/// the payload after all.
fn revalidate(t: &ObjectType, ev: &Envelope, payload: &str) -> Option<String> {
    let id = ev.object_id.as_deref().unwrap_or_default();
    if refetch::offline() {
        // The events worker does not wait on Stripe: the payload now, and the object as Stripe
        // has it as soon as the sync worker retrieves it (newer, so it wins).
        refetch::queue(t, id, None, ev.account.as_deref(), "revalidate");
        return apply(payload, ev);
    }
    let outcome = refetch::object(t, &api_key::client(), id, None, ev.account.as_deref())
        .unwrap_or_else(|e| crate::sync::raise_api_error(&format!("revalidating {id}"), &e));
    if outcome == Outcome::NotRetrievable {
        return apply(payload, ev);
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
            "SELECT (SELECT data::text FROM stripe.events WHERE id = $1)",
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
            require_object_id(t, &ev);
            return revalidate(t, &ev, &payload);
        }
    }
    apply(&payload, &ev)
}
