//! Which of two versions of one object is newer: the rule every write to the mirror applies,
//! as a Rust model (unit-tested here, and compared with its SQL by a pg_test) and as the SQL
//! the write statements embed. Pure: no pgrx.
//!
//! What Stripe gives to order versions:
//! - an event's `created`, in whole seconds: events are delivered in no particular order, and
//!   several changes of one object often fall into one second (`invoice.finalized`,
//!   `invoice.paid`);
//! - the moment a fetch (a list page, a retrieve) started, on our clock: it reflects every
//!   change made before it, and any event applied to the row before it started;
//! - the object's own `updated` where the type has one (products, meters).
//!
//! The rule: a deleted row stays deleted (Stripe never brings an id back), but for one marked
//! so only because a retrieve answered 404 (`retrieve:resource_missing`): a key for another
//! account answers that too, and anything newer that shows the object proves it exists, so it
//! replaces that row. A newer `updated`
//! wins. Otherwise a newer second wins and an older loses. Within one second: a fetch replaces
//! a fetch that started earlier, and an event's row only if that event was applied before the
//! fetch started (it then saw it) or was the object's creation; an event never loses to data
//! fetched before it was applied; a `*.created` event never replaces anything (creation comes
//! first) and a `*.deleted` one that removes its object always does (deletion comes last; a
//! status type's `*.deleted`, a canceled subscription, is an update like any other: the object
//! can still change). When nothing orders two versions of one second
//! (two updates, or an update and a fetch), the write is "ambiguous": the row keeps one of them
//! and the object is queued for a retrieve (`stripe.refetch_queue`), whose answer is newer than
//! both.

/// What a write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A list page or a retrieve: `as_of` is the exact moment its request started.
    Fetch,
    /// A `*.created` event; `as_of` is its `created` second, as for the two below.
    Created,
    /// Any other event.
    Updated,
    /// A `*.deleted` event that removes its object (`ObjectType::event_deletes`).
    Deleted,
}

impl Kind {
    /// The kind of an event of `event_type`; `removes` says whether it removes its object.
    pub fn of_event(event_type: &str, removes: bool) -> Kind {
        if event_type.ends_with(".created") {
            Kind::Created
        } else if removes {
            Kind::Deleted
        } else {
            Kind::Updated
        }
    }

    /// How the statements receive it (`$5`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fetch => "fetch",
            Kind::Created => "created",
            Kind::Updated => "updated",
            Kind::Deleted => "deleted",
        }
    }
}

/// The mirror row as the rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// How the row was last written: `Fetch`, or the kind of the event that wrote it (a
    /// `Deleted` one left it deleted).
    pub kind: Kind,
    /// `stripe_as_of`, unix seconds.
    pub as_of: f64,
    /// `synced_at`: when that write happened (our clock).
    pub written_at: f64,
    pub deleted: bool,
    /// `synced_from`: the event id, or what fetched it.
    pub source: String,
    pub version: Option<i64>,
}

/// A write about to be applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub kind: Kind,
    pub as_of: f64,
    pub source: String,
    pub version: Option<i64>,
}

/// What a row marked deleted on a 404 alone says in `synced_from` (see `refetch`).
pub const MISSING: &str = "retrieve:resource_missing";

/// Whether `w` replaces `row`.
pub fn replaces(row: &Row, w: &Write) -> bool {
    if row.deleted {
        return row.source == MISSING && w.as_of > row.as_of;
    }
    if let (Some(new), Some(old)) = (w.version, row.version) {
        if new != old {
            return new > old;
        }
    }
    let (ws, rs) = (w.as_of.floor(), row.as_of.floor());
    if ws != rs {
        return ws > rs;
    }
    match (w.kind, row.kind) {
        (Kind::Fetch, Kind::Fetch) => w.as_of >= row.as_of,
        (Kind::Fetch, Kind::Created) => true,
        (Kind::Fetch, _) => row.written_at < w.as_of,
        (Kind::Created, _) => false,
        (Kind::Deleted | Kind::Updated, _) => true,
    }
}

/// Whether nothing orders `w` and `row`, so the object must be retrieved to know its state.
pub fn ambiguous(row: &Row, w: &Write) -> bool {
    if row.deleted || row.source == w.source || w.as_of.floor() != row.as_of.floor() {
        return false;
    }
    if let (Some(new), Some(old)) = (w.version, row.version) {
        if new != old {
            return false;
        }
    }
    match (w.kind, row.kind) {
        (Kind::Fetch, Kind::Updated) => !replaces(row, w),
        (Kind::Updated, Kind::Fetch | Kind::Updated) => true,
        _ => false,
    }
}

/// The two sides of a comparison in SQL: the row (a table alias with the mirror's columns:
/// `stripe_as_of`, `synced_from`, `synced_at`, `deleted`, `data`) and the write (SQL
/// expressions for its `stripe_as_of`, `synced_from`, `Kind::as_str` and object).
pub struct Sides<'a> {
    pub row: &'a str,
    pub as_of: &'a str,
    pub source: &'a str,
    pub kind: &'a str,
    pub data: &'a str,
    /// The type's version field (`ObjectType::version_field`).
    pub version: Option<&'a str>,
}

/// For `INSERT … ON CONFLICT DO UPDATE … WHERE`: the row is `t`, the write `excluded`.
pub fn on_conflict<'a>(kind: &'a str, version: Option<&'a str>) -> Sides<'a> {
    Sides {
        row: "t",
        as_of: "excluded.stripe_as_of",
        source: "excluded.synced_from",
        kind,
        data: "excluded.data",
        version,
    }
}

impl Sides<'_> {
    /// SQL of `replaces`.
    pub fn replaces(&self) -> String {
        let Sides {
            row: r,
            as_of,
            kind,
            data,
            ..
        } = self;
        let sec = |x: &str| format!("date_trunc('second', {x})");
        let (ws, rs) = (sec(as_of), sec(&format!("{r}.stripe_as_of")));
        let (by_version, end) = match self.version {
            Some(f) => (
                format!(
                    "CASE WHEN jsonb_typeof({data} -> '{f}') = 'number' \
                     AND jsonb_typeof({r}.data -> '{f}') = 'number' \
                     AND ({data} ->> '{f}') <> ({r}.data ->> '{f}') \
                     THEN ({data} ->> '{f}')::numeric > ({r}.data ->> '{f}')::numeric ELSE "
                ),
                " END",
            ),
            None => (String::new(), ""),
        };
        format!(
            "CASE WHEN {r}.deleted THEN {r}.synced_from = '{MISSING}' AND {as_of} > {r}.stripe_as_of \
             ELSE ({by_version}{ws} > {rs} OR ({ws} = {rs} AND CASE \
             WHEN {kind} = 'fetch' THEN CASE WHEN {is_event} \
                  THEN {r}.synced_at < {as_of} OR {created} \
                  ELSE {as_of} >= {r}.stripe_as_of END \
             ELSE {kind} <> 'created' END){end}) END",
            is_event = self.row_is_event(),
            created = self.row_created(),
        )
    }

    /// SQL of `ambiguous`.
    pub fn ambiguous(&self) -> String {
        let Sides {
            row: r,
            as_of,
            source,
            kind,
            data,
            ..
        } = self;
        let by_version = self.version.map_or(String::new(), |f| {
            format!(
                " AND NOT coalesce(jsonb_typeof({data} -> '{f}') = 'number' \
                 AND jsonb_typeof({r}.data -> '{f}') = 'number' \
                 AND ({data} ->> '{f}') <> ({r}.data ->> '{f}'), false)"
            )
        });
        let is_event = self.row_is_event();
        let updated = format!("NOT {}", self.row_created());
        format!(
            "NOT {r}.deleted AND {r}.synced_from IS DISTINCT FROM {source} \
             AND date_trunc('second', {r}.stripe_as_of) = date_trunc('second', {as_of}){by_version} \
             AND CASE WHEN {kind} = 'fetch' THEN {is_event} AND {r}.synced_at >= {as_of} AND {updated} \
                      WHEN {kind} = 'updated' THEN NOT {is_event} OR ({updated}) \
                      ELSE false END"
        )
    }

    /// The row was written by an event (its `synced_from` is the event's id).
    fn row_is_event(&self) -> String {
        format!("{}.synced_from LIKE 'evt\\_%'", self.row)
    }

    /// ...by a `*.created` event: looked up only for ties, which are rare.
    fn row_created(&self) -> String {
        format!(
            "EXISTS (SELECT 1 FROM stripe.events e WHERE e.id = {}.synced_from \
             AND e.type LIKE '%.created')",
            self.row
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [Kind; 4] = [Kind::Fetch, Kind::Created, Kind::Updated, Kind::Deleted];

    fn row(kind: Kind, as_of: f64, written_at: f64) -> Row {
        Row {
            kind,
            as_of,
            written_at,
            deleted: false,
            source: if kind == Kind::Fetch {
                "sync"
            } else {
                "evt_row"
            }
            .into(),
            version: None,
        }
    }

    fn write(kind: Kind, as_of: f64) -> Write {
        Write {
            kind,
            as_of,
            source: if kind == Kind::Fetch {
                "sync"
            } else {
                "evt_new"
            }
            .into(),
            version: None,
        }
    }

    #[test]
    fn newer_seconds_win_and_older_lose_whatever_the_kinds() {
        for r in KINDS {
            for w in KINDS {
                let at = if r == Kind::Fetch { 100.4 } else { 100.0 };
                assert!(
                    replaces(&row(r, at, 100.5), &write(w, 101.0)),
                    "{r:?} {w:?}"
                );
                assert!(
                    !replaces(&row(r, at, 100.5), &write(w, 99.9)),
                    "{r:?} {w:?}"
                );
                assert!(!ambiguous(&row(r, at, 100.5), &write(w, 101.2)));
            }
        }
    }

    #[test]
    fn an_event_never_loses_to_data_fetched_before_it_was_applied() {
        // The page was fetched at 100.2; the event (created in second 100) was applied at 100.6,
        // while the page was still being written.
        let applied = row(Kind::Updated, 100.0, 100.6);
        assert!(!replaces(&applied, &write(Kind::Fetch, 100.2)));
        assert!(ambiguous(&applied, &write(Kind::Fetch, 100.2)));
        // A fetch that started after the event was applied saw it.
        assert!(replaces(&applied, &write(Kind::Fetch, 100.7)));
        assert!(!ambiguous(&applied, &write(Kind::Fetch, 100.7)));
        // The other way round: an event arriving after a same-second fetch is applied.
        let fetched = row(Kind::Fetch, 100.2, 100.3);
        assert!(replaces(&fetched, &write(Kind::Updated, 100.0)));
        assert!(ambiguous(&fetched, &write(Kind::Updated, 100.0)));
    }

    #[test]
    fn creation_comes_first_and_deletion_last_within_a_second() {
        for r in [Kind::Fetch, Kind::Updated, Kind::Created] {
            let at = if r == Kind::Fetch { 100.5 } else { 100.0 };
            assert!(!replaces(&row(r, at, 101.0), &write(Kind::Created, 100.0)));
            assert!(replaces(&row(r, at, 101.0), &write(Kind::Deleted, 100.0)));
            assert!(!ambiguous(&row(r, at, 101.0), &write(Kind::Created, 100.0)));
            assert!(!ambiguous(&row(r, at, 101.0), &write(Kind::Deleted, 100.0)));
        }
        // A creation the row reflects, and a fetch or update after it: no doubt.
        let created = row(Kind::Created, 100.0, 100.9);
        assert!(
            replaces(&created, &write(Kind::Fetch, 100.1)),
            "it listed the object"
        );
        assert!(replaces(&created, &write(Kind::Updated, 100.0)));
        assert!(!ambiguous(&created, &write(Kind::Updated, 100.0)));
        // A status type's *.deleted (a canceled subscription) is an update: still changeable.
        assert_eq!(
            Kind::of_event("customer.subscription.deleted", false),
            Kind::Updated
        );
        assert_eq!(Kind::of_event("customer.deleted", true), Kind::Deleted);
        let canceled = row(Kind::Updated, 100.0, 100.5);
        assert!(replaces(&canceled, &write(Kind::Updated, 100.0)));
        assert!(ambiguous(&canceled, &write(Kind::Updated, 100.0)));
    }

    #[test]
    fn two_updates_in_one_second_are_ambiguous() {
        let r = row(Kind::Updated, 100.0, 100.5);
        assert!(replaces(&r, &write(Kind::Updated, 100.0)));
        assert!(ambiguous(&r, &write(Kind::Updated, 100.0)));
        // The same event again is not a second version.
        let again = Write {
            source: "evt_row".into(),
            ..write(Kind::Updated, 100.0)
        };
        assert!(!ambiguous(&r, &again));
    }

    #[test]
    fn deleted_is_final() {
        let mut r = row(Kind::Deleted, 100.0, 100.5);
        r.deleted = true;
        for w in KINDS {
            assert!(!replaces(&r, &write(w, 200.0)));
            assert!(!ambiguous(&r, &write(w, 100.0)));
        }
    }

    #[test]
    fn a_404_alone_is_overruled_by_anything_newer_that_shows_the_object() {
        // Marked deleted at 100.5 because a retrieve (perhaps with another account's key) said 404.
        let mut r = row(Kind::Fetch, 100.5, 100.5);
        (r.deleted, r.source) = (true, MISSING.into());
        assert!(
            replaces(&r, &write(Kind::Fetch, 100.6)),
            "a later listing has it"
        );
        assert!(
            replaces(&r, &write(Kind::Updated, 101.0)),
            "so has a later event"
        );
        assert!(
            !replaces(&r, &write(Kind::Fetch, 100.4)),
            "fetched before the 404"
        );
        assert!(!replaces(&r, &write(Kind::Updated, 100.0)));
    }

    #[test]
    fn fetches_order_exactly() {
        let r = row(Kind::Fetch, 100.5, 100.6);
        assert!(replaces(&r, &write(Kind::Fetch, 100.5)));
        assert!(!replaces(&r, &write(Kind::Fetch, 100.4)));
        assert!(!ambiguous(&r, &write(Kind::Fetch, 100.4)));
    }

    #[test]
    fn the_objects_version_orders_first() {
        let mut r = row(Kind::Updated, 100.0, 100.5);
        r.version = Some(1_000);
        let mut w = write(Kind::Fetch, 100.2);
        w.version = Some(1_001);
        assert!(
            replaces(&r, &w),
            "a newer `updated`, though fetched earlier"
        );
        let mut newer_time = write(Kind::Updated, 105.0);
        newer_time.version = Some(999);
        assert!(
            !replaces(&r, &newer_time),
            "an older `updated`, though a later event"
        );
        assert!(!ambiguous(&r, &w));
    }

    #[test]
    fn sql_names_every_case() {
        let sql = on_conflict("$5", Some("updated")).replaces();
        assert!(sql.starts_with("CASE WHEN t.deleted THEN"), "{sql}");
        for needle in [
            "'fetch'",
            "'created'",
            "t.synced_at < excluded.stripe_as_of",
        ] {
            assert!(sql.contains(needle), "{needle}: {sql}");
        }
        let amb = Sides {
            row: "r",
            as_of: "to_timestamp($2)",
            source: "$3",
            kind: "$5",
            data: "o",
            version: None,
        }
        .ambiguous();
        assert!(amb.contains("r.synced_from IS DISTINCT FROM $3"), "{amb}");
        assert!(!amb.contains("t."), "{amb}");
    }
}
