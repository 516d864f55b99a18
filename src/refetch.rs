//! Retrieving one object from Stripe and writing what Stripe says about it: the object (as of
//! the moment the request started), or that it is gone. Used wherever the mirror needs
//! Stripe's word on one object: versions nothing orders (`stripe.refetch_queue`), objects a
//! complete walk did not see (`sweep`), and `stripe.revalidate`.

use crate::api_key;
use crate::catalog::{self, ObjectType};
use crate::client::{ApiError, Client, ErrorKind};
use crate::errors::spi;
use crate::ordering::Kind;
use crate::sql_gen;
use crate::sync::{self, interrupt, unix_now, SyncStats};
use crate::writer::{self, Write};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

thread_local! {
    // Set in the events worker: it never waits on Stripe, and queues what needs it instead.
    static OFFLINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// From now on this backend does not call Stripe for single objects and nested lists: it
/// queues them for the sync worker (`queue`). The events worker's choice.
pub fn go_offline() {
    OFFLINE.with(|o| o.set(true));
}

/// Whether this backend leaves calls to Stripe to the sync worker.
pub fn offline() -> bool {
    OFFLINE.with(|o| o.get())
}

/// Queues `id` of type `t` for a retrieve by the sync worker, woken when this commits.
pub fn queue(t: &ObjectType, id: &str, parent: Option<&str>, account: Option<&str>, reason: &str) {
    spi(
        "queueing a retrieve",
        Spi::run_with_args(
            "INSERT INTO stripe.refetch_queue (object_type, object_id, parent, account_id, reason) \
             VALUES ($1, $2, $3, coalesce($4, ''), $5)",
            &[
                t.name.into(),
                id.into(),
                parent.into(),
                account.into(),
                reason.into(),
            ],
        ),
    );
    crate::wake::after_commit(crate::wake::Worker::Sync);
}

/// What Stripe said about the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It exists: its current state is written (unless the row already holds a newer one).
    Stored,
    /// It is gone (a deleted stub, or 404 `resource_missing`): the row is marked deleted.
    Deleted,
    /// Stripe's 404 is older than the row (written since the request started): kept as it is.
    Kept,
    /// It cannot be retrieved: no endpoint, no known parent, or another account's object.
    NotRetrievable,
}

/// What a retrieve's answer says about itself.
#[derive(serde::Deserialize)]
struct Head {
    id: Option<serde_json::Value>,
    object: Option<serde_json::Value>,
    deleted: Option<serde_json::Value>,
}

impl Head {
    /// Why the answer is not the object asked for (a hostile or broken server), if it is not.
    fn mismatch(&self, t: &ObjectType, id: &str) -> Option<String> {
        let said = |v: &Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => "nothing".into(),
        };
        if self.id.as_ref().and_then(|v| v.as_str()) != Some(id) {
            return Some(format!(
                "asked for {id}, Stripe answered {}",
                said(&self.id)
            ));
        }
        let object = self.object.as_ref().and_then(|v| v.as_str());
        if !object.is_some_and(|o| t.objects.contains(&o)) {
            return Some(format!(
                "asked for {id}, a {}, Stripe answered an object {}",
                t.name,
                said(&self.object)
            ));
        }
        if self.deleted.as_ref().is_some_and(|d| !d.is_boolean()) {
            return Some(format!(
                "{id}: `deleted` is {}, not true or false",
                said(&self.deleted)
            ));
        }
        None
    }
}

/// Retrieves `id` of type `t` and writes the answer. `account` is the Connect account the row
/// belongs to (None or "": the platform's own): its objects are asked for as that account
/// (`Stripe-Account`), since the platform's own 404 would say nothing about them.
#[allow(clippy::result_large_err)] // ApiError carries the request's whole context, as elsewhere
pub fn object(
    t: &ObjectType,
    client: &Client,
    id: &str,
    parent: Option<&str>,
    account: Option<&str>,
) -> Result<Outcome, ApiError> {
    let Some(path) = t.object_path(parent, id) else {
        return Ok(Outcome::NotRetrievable);
    };
    let account = account.filter(|a| !a.is_empty());
    let client = client.for_account(account);
    let started = unix_now();
    // A 404 is weaker word than a deleted stub (another account's key gets it too): it marks
    // the row only if nothing wrote the row since the request started, as an event applied
    // meanwhile may be newer than Stripe's answer.
    let body = match client.get(&path, "", &interrupt) {
        Ok(body) => body,
        Err(e) if e.status == Some(404) && e.code.as_deref() == Some("resource_missing") => {
            let marked = writer::mark_deleted(t, id, crate::ordering::MISSING, started);
            return Ok(if marked {
                Outcome::Deleted
            } else {
                Outcome::Kept
            });
        }
        Err(e) => return Err(e),
    };
    let head = serde_json::from_str::<Head>(&body).unwrap_or(Head {
        id: None,
        object: None,
        deleted: None,
    });
    if let Some(why) = head.mismatch(t, id) {
        let mut e = ApiError::new(ErrorKind::Decode, Some(200), why);
        e.method = "GET".into();
        e.path = path;
        return Err(e);
    }
    if head.deleted.as_ref().and_then(|d| d.as_bool()) == Some(true) {
        writer::mark_deleted(t, id, "retrieve:deleted", started);
        return Ok(Outcome::Deleted);
    }
    let page = format!("{{\"data\":[{body}]}}");
    let w = Write {
        json: &page,
        as_of: started,
        from: "retrieve",
        account,
        kind: Kind::Fetch,
        parent,
        deletes: false,
    };
    let label = format!("retrieving {id}");
    let truncated = sync::store_page(t, &w, None, &label, &mut SyncStats::default());
    writer::complete_lists(&client, &truncated, &interrupt);
    Ok(Outcome::Stored)
}

/// One entry of `stripe.refetch_queue`.
struct Queued {
    object_type: String,
    id: String,
    parent: Option<String>,
    account: String,
    /// The entries taken for it: all of them are settled by this retrieve.
    seqs: Vec<i64>,
}

/// Retrieves up to `max_objects` objects due in `stripe.refetch_queue`, oldest first, and
/// writes what Stripe says; a failed retrieve is tried again later with backoff. Returns how
/// many were taken. Needs the API key only when something is queued.
#[pg_extern(name = "_refetch_queued", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn refetch_queued(max_objects: i32) -> i64 {
    let due = spi(
        "reading the refetch queue",
        // A read-write client: the statement locks what it takes (FOR UPDATE SKIP LOCKED).
        Spi::connect_mut(|c| {
            let rows = c.update(sql_gen::TAKE_REFETCHES, None, &[max_objects.max(0).into()])?;
            rows.map(|r| {
                Ok(Queued {
                    object_type: r.get::<String>(1)?.unwrap_or_default(),
                    id: r.get::<String>(2)?.unwrap_or_default(),
                    parent: r.get::<String>(3)?,
                    account: r.get::<String>(4)?.unwrap_or_default(),
                    seqs: r.get::<Vec<i64>>(5)?.unwrap_or_default(),
                })
            })
            .collect::<pgrx::spi::Result<Vec<_>>>()
        }),
    );
    if due.is_empty() {
        return 0;
    }
    let client = api_key::client();
    for q in &due {
        // In a subtransaction: two sessions retrieving at once (the sync worker and a
        // process_pending) may lock the same rows in other orders, and the one that loses the
        // deadlock leaves the object for a moment later instead of failing all it did.
        #[allow(clippy::result_large_err)] // ApiError, as `object` returns it
        let retrieved = crate::subxact::attempt(std::panic::AssertUnwindSafe(|| {
            match catalog::lookup(&q.object_type) {
                Some(t) => object(t, &client, &q.id, q.parent.as_deref(), Some(&q.account)),
                None => Ok(Outcome::NotRetrievable),
            }
        }));
        let mut args: Vec<DatumWithOid> = vec![
            q.object_type.as_str().into(),
            q.id.as_str().into(),
            q.account.as_str().into(),
            q.seqs.clone().into(),
        ];
        let sql = match retrieved {
            Ok(Ok(_)) => sql_gen::REFETCH_DONE,
            Ok(Err(e)) => {
                args.push(crate::errors::scrubbed(&e.to_string()).into());
                sql_gen::REFETCH_FAILED
            }
            Err(f) if f.is_a_lock_conflict() => sql_gen::REFETCH_DEFERRED,
            Err(f) => f.rethrow(),
        };
        spi("updating the refetch queue", Spi::run_with_args(sql, &args));
    }
    due.len() as i64
}
