//! `stripe.sync_events()`: the catch-up from the Events API (Stripe keeps 30 days). It keeps
//! its own high-water mark per account and mode (`stripe.event_catchup.walked_to`): the time
//! before which a walk of the Events API has recorded every event. Webhooks never move it, so
//! the first delivery after an outage cannot hide the events the outage lost; an event with a
//! `created` far in the future cannot either, since the mark is the moment the walk started
//! (by Stripe's clock or ours, whichever is earlier).

use crate::api_key;
use crate::client::ListParams;
use crate::client::Walk;
use crate::errors::spi;
use crate::gucs;
use crate::prefetch::Prefetcher;
use crate::sync::{self, unix_now};
use crate::writer;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

/// How long Stripe keeps events.
const RETENTION: f64 = 30.0 * 86_400.0;

/// Records every event created since the last walk's mark (less `stripe.sync_events_overlap`,
/// for events Stripe lists a little after their `created`), then processes everything
/// pending through the webhook path, oldest first. The first run reads all Stripe keeps.
/// Safe to repeat: events already recorded are skipped by id. Returns the new events.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sync_events() -> i64 {
    let account = ""; // the platform's own events (a connected account's need its key)
    let livemode = sync::livemode();
    let walked_to = spi(
        "reading the catch-up mark",
        Spi::get_one_with_args::<f64>(
            "SELECT (SELECT extract(epoch FROM walked_to)::float8 FROM stripe.event_catchup \
             WHERE account_id = $1 AND livemode = $2)",
            &[account.into(), livemode.into()],
        ),
    );
    let started = unix_now();
    let mut params = ListParams::default();
    let mut gap: Option<(f64, f64)> = None;
    if let Some(mark) = walked_to {
        let from = mark - gucs::SYNC_EVENTS_OVERLAP.get() as f64;
        if from < started - RETENTION {
            gap = Some((from, started - RETENTION));
            crate::errors::warn_scrubbed!(
                "stripe.sync_events(): the last catch-up reached {}; Stripe keeps events for 30 \
                 days, so those up to {} are gone and this catch-up cannot close that gap",
                iso(from),
                iso(started - RETENTION)
            );
        }
        // gte, not gt: more events may share that second; ids already recorded are skipped.
        params
            .extra
            .push(("created[gte]".into(), (from.floor() as i64).to_string()));
    }
    let interrupt = || {
        pgrx::check_for_interrupts!();
    };
    let walk = Walk::new("event").newest_first().lenient_ids();
    // The next page is fetched (and its JSON parsed) while this one is recorded.
    let pager = Prefetcher::walk(api_key::client(), "/v1/events".into(), params, walk, None);
    let (mut pages, mut recorded, mut junk) = (0, 0i64, 0i64);
    let mut stripe_clock: Option<f64> = None;
    while let Some(fetched) = pager.next(&interrupt) {
        let page = fetched
            .page
            .unwrap_or_else(|e| sync::raise_api_error("stripe.sync_events()", &e));
        if pages == 0 {
            stripe_clock = page.date.map(|d| d as f64);
        }
        let (new, skipped) = record_page(&page.body, fetched.jsonb.as_deref(), pages + 1);
        pages += 1;
        recorded += new;
        junk += skipped;
        if skipped > 0 {
            crate::errors::warn_scrubbed!(
                "stripe.sync_events(): page {pages} had {skipped} item(s) that are not events with \
                 an id; they were not recorded"
            );
        }
        crate::errors::notice_scrubbed!(
            "stripe.sync_events(): page {pages}, {recorded} new events recorded"
        );
    }
    // Every event created before the first request started has been listed now.
    let mark = stripe_clock.map_or(started, |s| s.min(started));
    let args: [DatumWithOid; 8] = [
        account.into(),
        livemode.into(),
        mark.into(),
        started.into(),
        recorded.into(),
        junk.into(),
        gap.map(|g| g.0).into(),
        gap.map(|g| g.1).into(),
    ];
    spi(
        "saving the catch-up mark",
        Spi::run_with_args(
            "INSERT INTO stripe.event_catchup AS c (account_id, livemode, walked_to, started_at, \
                 finished_at, new_events, skipped_items, gap_from, gap_to) \
             VALUES ($1, $2, to_timestamp($3), to_timestamp($4), clock_timestamp(), $5, $6, \
                 to_timestamp($7), to_timestamp($8)) \
             ON CONFLICT (account_id, livemode) DO UPDATE SET \
                 walked_to = greatest(c.walked_to, excluded.walked_to), \
                 started_at = excluded.started_at, finished_at = excluded.finished_at, \
                 new_events = excluded.new_events, skipped_items = excluded.skipped_items, \
                 gap_from = coalesce(excluded.gap_from, c.gap_from), \
                 gap_to = coalesce(excluded.gap_to, c.gap_to)",
            &args,
        ),
    );
    // Apply what is pending oldest first (the API pages newest first), stripe.event_batch_size
    // events per statement per type, then whatever is due for a retry.
    let processed = spi(
        "processing pending events",
        Spi::get_one::<i64>("SELECT stripe.process_pending()"),
    )
    .unwrap_or(0);
    crate::errors::notice_scrubbed!(
        "stripe.sync_events(): {recorded} new events, {processed} processed"
    );
    recorded
}

/// Records one page of events. If Postgres cannot store the page (an event holding what it
/// cannot: a `\u0000`, a lone surrogate), the events are recorded one by one and those that
/// fail are skipped with a WARNING, so one of them cannot block every later catch-up.
/// Returns (new events, items skipped).
fn record_page(body: &str, jsonb: Option<&[u8]>, page: i64) -> (i64, i64) {
    let mut failed = 0;
    let recorded = crate::subxact::page_or_items(
        body,
        |json, whole| writer::record_events(json, jsonb.filter(|_| whole)),
        |item, f| {
            failed += 1;
            crate::errors::warn_scrubbed!(
                "stripe.sync_events(): page {page}: an event cannot be stored ({}: {}) and was \
                 skipped: {:.200}",
                f.sqlstate(),
                f.message,
                item
            )
        },
    );
    recorded
        .iter()
        .fold((0, failed), |(n, s), (new, skipped)| (n + new, s + skipped))
}

/// A unix time as Postgres shows a timestamptz (in the session's time zone), for messages.
fn iso(t: f64) -> String {
    spi(
        "formatting a time",
        Spi::get_one_with_args::<String>("SELECT to_timestamp($1)::text", &[t.into()]),
    )
    .unwrap_or_default()
}
