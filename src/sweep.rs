//! After a complete walk of a type's list: the mirrored objects it did not see may have been
//! deleted. None is marked on that evidence alone: each is retrieved, and only Stripe's answer
//! (a deleted stub, or 404 `resource_missing`) marks it (`refetch`). The walk only names the
//! candidates, and only within what it covered (the platform's objects of the key's mode). A
//! walk that would name more than `stripe.sweep_max_fraction` of the type's rows (and more than
//! 20), or that listed objects but none the mirror already had (a key for another account,
//! whose 404s say nothing about this one's objects), is not trusted at all: nothing is checked,
//! and the sync says so.

use crate::catalog::ObjectType;
use crate::client::Client;
use crate::errors::spi;
use crate::gucs;
use crate::refetch::{self, Outcome};
use crate::sql_gen;
use crate::sync::{livemode, SyncStats};
use pgrx::prelude::*;

/// Fewer unseen objects than this are always checked, whatever their share.
const ALWAYS_CHECKED: i64 = 20;

/// The objects of `t` that a complete walk started at `started` did not see: `(id, parent)`.
/// Empty (and `stats.sweep` says why) when the share is too large to trust.
pub fn candidates(
    t: &ObjectType,
    started: f64,
    stats: &mut SyncStats,
) -> Vec<(String, Option<String>)> {
    if !t.sweeps() {
        return Vec::new();
    }
    let fraction = gucs::SWEEP_MAX_FRACTION.get();
    let (in_scope, unseen, list) = spi(
        "finding objects the walk did not see",
        Spi::connect(|c| {
            let row = c
                .select(
                    &sql_gen::sweep_candidates(t),
                    None,
                    &[
                        livemode().into(),
                        started.into(),
                        fraction.into(),
                        ALWAYS_CHECKED.into(),
                    ],
                )?
                .first();
            Ok((
                row.get::<i64>(1)?.unwrap_or(0),
                row.get::<i64>(2)?.unwrap_or(0),
                row.get::<String>(3)?,
            ))
        }),
    );
    // A walk that listed objects, but none the mirror holds (a key for another account, another
    // api_base), proves nothing about them: Stripe's 404s would be that account's. (An empty
    // listing may be the truth; if a 404 then marks a row wrongly, a later listing or event that
    // shows the object overrules it: see `ordering`.)
    if list.is_some()
        && unseen > 0
        && stats.objects > 0
        && stats.seen_existing == 0
        && fraction < 1.0
    {
        crate::errors::warn_scrubbed!(
            "stripe.sync('{}'): the walk listed none of the {in_scope} mirrored {}: a key for \
             another account, or another stripe.api_base? None was checked or marked deleted. If \
             Stripe did delete them all, SET stripe.sweep_max_fraction = 1 and sync again (each \
             is retrieved before it is marked).",
            t.name,
            t.table
        );
        stats.sweep = Some(format!(
            "stopped: listed none of the {in_scope} mirrored, {unseen} not listed"
        ));
        return Vec::new();
    }
    let Some(list) = list else {
        crate::errors::warn_scrubbed!(
            "stripe.sync('{}'): {unseen} of the {in_scope} mirrored {} were not listed, more than \
             stripe.sweep_max_fraction ({fraction}) of them: none was checked or marked deleted. \
             If Stripe did delete them, SET stripe.sweep_max_fraction = 1 and sync again (each is \
             retrieved before it is marked).",
            t.name,
            t.table
        );
        stats.sweep = Some(format!(
            "stopped: {unseen} of {in_scope} not listed, over stripe.sweep_max_fraction"
        ));
        return Vec::new();
    };
    serde_json::from_str::<Vec<(String, Option<String>)>>(&list).unwrap_or_default()
}

/// Retrieves each candidate and writes Stripe's answer; counts what was marked deleted.
pub fn check_all(
    t: &ObjectType,
    client: &Client,
    candidates: Vec<(String, Option<String>)>,
    stats: &mut SyncStats,
) {
    if !t.sweeps() || (candidates.is_empty() && stats.sweep.is_some()) {
        return; // nothing to check, and candidates() said why
    }
    let (mut deleted, mut present, mut failed) = (0, 0, 0);
    let total = candidates.len();
    for (id, parent) in candidates {
        match refetch::object(t, client, &id, parent.as_deref(), None) {
            Ok(Outcome::Deleted) => deleted += 1,
            Ok(_) => present += 1,
            Err(e) => {
                failed += 1;
                crate::errors::warn_scrubbed!(
                    "stripe.sync('{}'): could not check {id}: {e}; it stays as it is",
                    t.name
                );
            }
        }
    }
    stats.marked_deleted += deleted;
    let errors = if failed > 0 {
        format!(", {failed} could not be checked")
    } else {
        String::new()
    };
    stats.sweep = Some(format!(
        "checked {total} not listed: {deleted} deleted in Stripe, {present} still there{errors}"
    ));
    if total > 0 {
        crate::errors::notice_scrubbed!(
            "stripe.sync('{}'): {}",
            t.name,
            stats.sweep.as_deref().unwrap_or_default()
        );
    }
}
