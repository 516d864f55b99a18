//! Applying a chunk of recorded events set-based: one statement per object type
//! (`sql_gen::apply_events_batch`), reading the payloads where they are stored. The worker,
//! `stripe.process_pending` and `stripe.sync_events` take pending events through
//! `stripe._drain_events`, which calls this and then applies what it left one by one.

use crate::api_key;
use crate::catalog;
use crate::errors::spi;
use crate::sql_gen;
use crate::writer;
use pgrx::prelude::*;
use std::collections::BTreeMap;

/// A pending event as the batch routes it: its generated columns, not its payload.
struct Pending {
    id: String,
    event_type: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
}

/// Applies the pending events among `ids` set-based (`stripe._drain_events` locks and passes
/// them). Returns the events processed; the ones it leaves pending go one by one after it.
#[pg_extern(name = "_apply_events", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn apply_events(ids: Vec<String>) -> i64 {
    let chunk = spi(
        "reading pending events",
        Spi::connect(|c| {
            let rows = c.select(
                "SELECT id, type, object_type, object_id FROM stripe.events \
                 WHERE id = ANY ($1) AND status = 'pending'",
                None,
                &[ids.into()],
            )?;
            rows.map(|r| {
                Ok(Pending {
                    id: r.get::<String>(1)?.unwrap_or_default(),
                    event_type: r.get::<String>(2)?,
                    object_type: r.get::<String>(3)?,
                    object_id: r.get::<String>(4)?,
                })
            })
            .collect::<pgrx::spi::Result<Vec<_>>>()
        }),
    );
    apply_chunk(chunk)
}

/// Types `stripe.revalidate` names, events whose object has no id, and rows that are not
/// events stay pending for `stripe._drain_events`, which takes them one by one (where a
/// failure says why). Returns the events processed. Needs no API key unless a nested list was
/// truncated.
fn apply_chunk(chunk: Vec<Pending>) -> i64 {
    let mut by_type: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut ignored = Vec::new();
    for ev in chunk {
        let (Some(event_type), Some(object_type)) = (&ev.event_type, &ev.object_type) else {
            continue;
        };
        match catalog::route_event(event_type, object_type) {
            Some(_) if ev.object_id.as_deref().is_none_or(str::is_empty) => {}
            Some(t) if crate::processing::revalidates(t) => {}
            Some(t) => by_type.entry(t.name).or_default().push(ev.id),
            None => ignored.push(ev.id),
        }
    }
    let mut processed = 0;
    if !ignored.is_empty() {
        writer::run_batch("events:ignore", || sql_gen::IGNORE_EVENTS.into(), ignored);
    }
    for (name, ids) in by_type {
        let t = catalog::lookup(name).expect("routed to a catalog type");
        // The rows first, in id order: the batch then compares each event with the latest
        // version, and two batches never deadlock.
        writer::run_batch(
            &format!("events:lock:{}", t.table),
            || sql_gen::lock_batch_rows(t),
            ids.clone(),
        );
        let key = format!("events:{}", t.table);
        let Some((n, truncated)) = writer::run_batch(&key, || sql_gen::apply_events_batch(t), ids)
        else {
            continue;
        };
        processed += n.parse::<i64>().unwrap_or(0);
        if truncated.starts_with("[{") {
            // Only now is the API needed: webhooks alone work without a key.
            writer::complete_lists(&api_key::client(), &truncated, &crate::sync::interrupt);
        }
    }
    processed
}
