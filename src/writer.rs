//! Executing the catalog's write statements (see `sql_gen`): one plan per statement and table,
//! kept for the backend's life, and completing nested lists Stripe truncated.

use crate::catalog::{self, ObjectType};
use crate::client::{Client, ListParams};
use crate::errors::{raise, spi};
use crate::ordering::Kind;
use crate::sql_gen::{self, WRITE_PARAMS};
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys::{self, PgOid};
use pgrx::prelude::*;
use pgrx::spi::OwnedPreparedStatement;
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    // Planned once per backend; Postgres re-plans them itself after DDL.
    static PLANS: RefCell<HashMap<String, OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

/// The shared parameters of every write statement (see `sql_gen`).
pub struct Write<'a> {
    pub json: &'a str,
    /// Unix time the data reflects: an event's `created`, or the exact start of the fetch.
    pub as_of: f64,
    pub from: &'a str,
    pub account: Option<&'a str>,
    pub kind: Kind,
    pub parent: Option<&'a str>,
    pub deletes: bool,
}

/// Runs the statement cached under `key` (planned from `sql` with `types` on first use) with
/// the parameters `args` makes, and returns its first row's two text columns, or None when it
/// returned no row. The parameters are made inside the SPI connection, so their copies of the
/// JSON are freed when it closes: made outside, they would live until the calling statement
/// ends, and a sync of N pages would hold N pages of JSON.
fn run_cached<'a>(
    key: &str,
    what: &str,
    sql: impl FnOnce() -> String,
    types: &[PgOid],
    args: impl FnOnce() -> Vec<DatumWithOid<'a>>,
) -> Option<(String, String)> {
    PLANS.with(|plans| {
        let mut plans = plans.borrow_mut();
        spi(
            what,
            Spi::connect_mut(|c| {
                if !plans.contains_key(key) {
                    let plan = c.prepare_mut(sql().as_str(), types)?.keep();
                    plans.insert(key.to_string(), plan);
                }
                let rows = c.update(&plans[key], None, &args())?;
                if rows.is_empty() || rows.columns()? < 2 {
                    return Ok(None);
                }
                let (a, b) = rows.first().get_two::<String, String>()?;
                Ok(Some((a.unwrap_or_default(), b.unwrap_or_default())))
            }),
        )
    })
}

const TEXT: PgOid = PgOid::BuiltIn(pg_sys::BuiltinOid::TEXTOID);
/// The JSON parameter: parsed in Rust (`jsonb_param`), so the statements' `$1::jsonb` is a no-op.
const JSONB: PgOid = PgOid::BuiltIn(pg_sys::BuiltinOid::JSONBOID);

/// Runs a write statement (see `sql_gen`) with the shared parameters. Returns its one row:
/// (status or count, truncated nested lists as JSON), or None when it returned no row.
pub fn run(key: &str, sql: impl FnOnce() -> String, w: &Write) -> Option<(String, String)> {
    run_encoded(key, sql, w, None)
}

/// `run`, with `w.json` already encoded as `jsonb` (`jsonb_encode`) when `jsonb` is given.
pub fn run_encoded(
    key: &str,
    sql: impl FnOnce() -> String,
    w: &Write,
    jsonb: Option<&[u8]>,
) -> Option<(String, String)> {
    let float = PgOid::BuiltIn(pg_sys::BuiltinOid::FLOAT8OID);
    let boolean = PgOid::BuiltIn(pg_sys::BuiltinOid::BOOLOID);
    let types: [PgOid; WRITE_PARAMS] = [JSONB, float, TEXT, TEXT, TEXT, TEXT, boolean];
    let args = || {
        vec![
            crate::jsonb_param::param(w.json, jsonb),
            w.as_of.into(),
            w.from.into(),
            w.account.into(),
            w.kind.as_str().into(),
            w.parent.into(),
            w.deletes.into(),
        ]
    };
    run_cached(key, "writing to the mirror", sql, &types, args)
}

/// Runs a batch statement (`sql_gen::apply_events_batch`, `IGNORE_EVENTS`) over the recorded
/// events with these ids. Returns its row, if it returns one.
pub fn run_batch(
    key: &str,
    sql: impl FnOnce() -> String,
    ids: Vec<String>,
) -> Option<(String, String)> {
    let types = [PgOid::BuiltIn(pg_sys::BuiltinOid::TEXTARRAYOID)];
    run_cached(key, "applying recorded events", sql, &types, || {
        vec![ids.into()]
    })
}

/// Records a page of the Events API as pending events; returns how many were new, and how many
/// items were not events with an id (and could not be recorded).
pub fn record_events(page: &str, jsonb: Option<&[u8]>) -> (i64, i64) {
    let row = run_cached(
        "events:record",
        "recording events",
        || sql_gen::RECORD_EVENTS.into(),
        &[JSONB],
        || vec![crate::jsonb_param::param(page, jsonb)],
    );
    let (new, skipped) = row.unwrap_or_default();
    (new.parse().unwrap_or(0), skipped.parse().unwrap_or(0))
}

/// Writes one list page of `t`; returns the objects written and the truncated nested lists.
pub fn write_page(t: &ObjectType, w: &Write) -> (i64, String) {
    let page = write_page_encoded(t, w, None);
    (page.written, page.truncated)
}

/// What writing a page did.
#[derive(Debug, Default)]
pub struct PageWritten {
    /// Objects written (not those the row already held newer).
    pub written: i64,
    /// Of them, objects the mirror already had: a walk that has none of them listed nothing
    /// the mirror knows (another account's key?).
    pub existed: i64,
    /// Its truncated nested lists (see `sql_gen`).
    pub truncated: String,
}

/// `write_page`, with the page already encoded as `jsonb` when `jsonb` is given.
pub fn write_page_encoded(t: &ObjectType, w: &Write, jsonb: Option<&[u8]>) -> PageWritten {
    let (counts, truncated) = run_encoded(
        &format!("page:{}", t.table),
        || sql_gen::write_page(t),
        w,
        jsonb,
    )
    .unwrap_or_default();
    let mut n = counts.split(' ').map(|c| c.parse().unwrap_or(0));
    PageWritten {
        written: n.next().unwrap_or(0),
        existed: n.next().unwrap_or(0),
        truncated,
    }
}

#[derive(Deserialize)]
struct Truncated {
    parent: String,
    child: String,
    url: Option<String>,
    /// The parent's stamp: its children are written as of the same moment and source.
    as_of: f64,
    src: String,
    account: Option<String>,
}

#[derive(Deserialize)]
struct Ids {
    data: Vec<IdOnly>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

/// Pages through each truncated nested list (`paging` from a write) and writes every entry,
/// then removes child rows the complete list no longer has. A list that cannot be completed
/// (no `url`, a contradictory page, an API error) raises: its children are never pruned from an
/// incomplete walk. Returns the children written.
pub fn complete_lists(client: &Client, paging: &str, interrupt: &dyn Fn()) -> i64 {
    let lists: Vec<Truncated> = serde_json::from_str(paging).unwrap_or_else(|e| {
        raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("djstripe_pg: reading the truncated lists of a write: {e}"),
            None,
        )
    });
    let mut written = 0;
    for list in lists {
        let child = catalog::lookup(&list.child).expect("paging names catalog types");
        if crate::refetch::offline() {
            // The events worker does not wait on Stripe: the sync worker retrieves the parent,
            // whose list it then completes (newer than this write, so it wins).
            let parent = child.parent.and_then(|p| catalog::lookup(p.name));
            let parent = parent.expect("a nested list's parent is in the catalog");
            crate::refetch::queue(parent, &list.parent, None, list.account.as_deref(), "list");
            continue;
        }
        let what = format!("the {} of {}", child.table, list.parent);
        let Some(url) = &list.url else {
            raise(
                PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
                format!("Stripe sent {what} truncated (has_more) without its url: it cannot be completed"),
                Some("Nothing of the list was pruned; stripe.sync of the parent's type lists it again."),
            )
        };
        let mut seen: Vec<String> = Vec::new();
        let walk = crate::client::Walk::new(format!("{} of {}", child.name, list.parent));
        // A connected account's list is that account's: asked for with its Stripe-Account.
        let client = client.for_account(list.account.as_deref());
        let mut pager = client.walk_pager(url, ListParams::default(), walk);
        let mut first = true;
        while let Some(page) = pager.next_page(interrupt) {
            let page = match page {
                Ok(page) => page,
                // The parent is gone from Stripe since (a deleted draft invoice): nothing hangs
                // off it any more, and what the payload carried stays as it is.
                Err(e) if first && e.code.as_deref() == Some("resource_missing") => {
                    crate::errors::notice_scrubbed!(
                        "{what}: the parent is gone from Stripe; the list stays as sent"
                    );
                    break;
                }
                Err(e) => crate::sync::raise_api_error(&format!("completing {what}"), &e),
            };
            first = false;
            if let Ok(ids) = serde_json::from_str::<Ids>(&page.body) {
                seen.extend(ids.data.into_iter().filter_map(|i| i.id));
            }
            let page_write = Write {
                json: &page.body,
                parent: Some(&list.parent),
                as_of: list.as_of,
                from: &list.src,
                account: list.account.as_deref(),
                kind: if list.src.starts_with("evt_") {
                    Kind::Updated
                } else {
                    Kind::Fetch
                },
                deletes: false,
            };
            written += write_page(child, &page_write).0;
        }
        if first {
            continue; // nothing was listed, so nothing is pruned
        }
        spi(
            "pruning a nested list",
            Spi::connect_mut(|c| {
                let args: [DatumWithOid; 2] = [list.parent.as_str().into(), seen.into()];
                c.update(&sql_gen::prune_children(child), None, &args)
                    .map(|_| ())
            }),
        );
    }
    written
}

/// Marks an object deleted because Stripe said so when it was retrieved (`why`, recorded in
/// `synced_from`) at `at`. Returns whether the row was marked (false: already deleted, or
/// not mirrored).
pub fn mark_deleted(t: &ObjectType, id: &str, why: &str, at: f64) -> bool {
    spi(
        "marking an object deleted",
        Spi::connect_mut(|c| {
            let args: [DatumWithOid; 3] = [id.into(), why.into(), at.into()];
            c.update(&sql_gen::mark_deleted(t), None, &args)
                .map(|r| !r.is_empty())
        }),
    )
}
