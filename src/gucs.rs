//! Postgres settings (`stripe.*`). All are superuser-only (PGC_SUSET): `api_base` decides where
//! the secret key is sent, and the others shape what background work does, so an ordinary role
//! must not change them. `ALTER SYSTEM` / `ALTER DATABASE … SET` make them visible to workers too.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::{CStr, CString};

pub const DEFAULT_API_BASE: &CStr = c"https://api.stripe.com";
/// The API version our typed columns are written against; matches the bundled OpenAPI spec.
pub const DEFAULT_API_VERSION: &CStr = c"2023-08-16";

pub static API_BASE: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(DEFAULT_API_BASE));
pub static API_VERSION: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(DEFAULT_API_VERSION));
pub static WEBHOOK_TOLERANCE: GucSetting<i32> = GucSetting::<i32>::new(300);
pub static HTTP_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(30);
pub static MAX_RETRIES: GucSetting<i32> = GucSetting::<i32>::new(3);
/// What `stripe.ingest_webhook` does after verifying and recording an event.
#[derive(pgrx::PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum IngestMode {
    /// Apply it in the same transaction (works without shared_preload_libraries).
    #[name = c"apply"]
    Apply,
    /// Leave it pending for the background worker.
    #[name = c"queue"]
    Queue,
}

pub static INGEST_MODE: GucSetting<IngestMode> = GucSetting::<IngestMode>::new(IngestMode::Apply);
pub static REVALIDATE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(Some(c""));
pub static EVENT_MAX_ATTEMPTS: GucSetting<i32> = GucSetting::<i32>::new(8);
pub static WORKER_DATABASES: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c""));
pub static WORKER_IDLE: GucSetting<i32> = GucSetting::<i32>::new(10);
pub static EVENT_BATCH_SIZE: GucSetting<i32> = GucSetting::<i32>::new(500);
pub static WORKER_BATCH_DELAY: GucSetting<i32> = GucSetting::<i32>::new(20);
pub static JOB_MAX_ATTEMPTS: GucSetting<i32> = GucSetting::<i32>::new(8);
pub static WEBHOOK_MAX_BYTES: GucSetting<i32> = GucSetting::<i32>::new(1_048_576);
pub static WEBHOOK_LOG_RETENTION: GucSetting<i32> = GucSetting::<i32>::new(7 * 86_400);
pub static WEBHOOK_LOG_MAX_ROWS: GucSetting<i32> = GucSetting::<i32>::new(100_000);
pub static SWEEP_MAX_FRACTION: GucSetting<f64> = GucSetting::<f64>::new(0.1);
pub static SYNC_EVENTS_OVERLAP: GucSetting<i32> = GucSetting::<i32>::new(60);

pub fn init() {
    GucRegistry::define_string_guc(
        c"stripe.api_base",
        c"Base URL of the Stripe API.",
        c"Where requests, and with them the secret key, are sent. Superuser only.",
        &API_BASE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"stripe.api_version",
        c"Stripe-Version header sent with every request.",
        c"Empty sends no header, so the account's default version applies.",
        &API_VERSION,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"stripe.webhook_tolerance",
        c"Seconds a webhook signature timestamp may differ from now.",
        c"0 disables the check (not recommended: it is what stops replayed deliveries).",
        &WEBHOOK_TOLERANCE,
        0,
        86_400,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"stripe.http_timeout",
        c"Seconds one Stripe API request may take.",
        c"Covers connecting, sending and reading the response of a single attempt.",
        &HTTP_TIMEOUT,
        1,
        3_600,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"stripe.max_retries",
        c"Retries of a failed Stripe API request before giving up.",
        c"Retries happen on 429, 5xx and connection errors, with exponential backoff.",
        &MAX_RETRIES,
        0,
        20,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"stripe.ingest_mode",
        c"apply: ingest_webhook applies events itself; queue: it only verifies and records them.",
        c"queue leaves applying to the background worker (needs shared_preload_libraries).",
        &INGEST_MODE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"stripe.revalidate",
        c"Object types (comma-separated, or all) whose events are re-fetched from the API.",
        c"When the worker processes such an event it fetches the object instead of trusting the payload, unless the payload is final (deleted, void, canceled, expired).",
        &REVALIDATE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"stripe.event_max_attempts",
        c"Attempts to process an event before it stays failed.",
        c"Failed events are retried with exponential backoff until then; stripe.reprocess_failed() retries them again.",
        &EVENT_MAX_ATTEMPTS,
        1,
        1000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"stripe.job_max_attempts",
        c"Attempts at a failing page of a background sync before the job fails.",
        c"Retried with backoff (1 s doubling, capped at 5 min); stripe.resume_sync() starts it again.",
        &JOB_MAX_ATTEMPTS,
        1,
        1000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"stripe.worker_databases",
        c"Databases (comma-separated) that get a djstripe_pg background worker.",
        c"Read at server start (a change needs a restart); needs djstripe_pg in shared_preload_libraries.",
        &WORKER_DATABASES,
        // Sighup rather than Postmaster: a Postmaster setting cannot be defined when the library
        // is loaded later than server start, which is how most sessions load it.
        GucContext::Sighup,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"stripe.worker_idle_timeout",
        c"Seconds a worker sleeps when it is not woken by new work.",
        c"New events and jobs wake it at once; this only bounds how late retries start.",
        &WORKER_IDLE,
        1,
        3_600,
        GucContext::Sighup,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"stripe.event_batch_size",
        c"Pending events the worker, process_pending and sync_events apply together.",
        c"One transaction and one statement per object type for up to this many events, oldest first.",
        &EVENT_BATCH_SIZE,
        1,
        10_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"stripe.worker_batch_delay",
        c"Milliseconds the worker waits, after emptying the queue, for more events to apply together.",
        c"Events arriving one by one are then applied several at a time: less work per event, this much more latency.",
        &WORKER_BATCH_DELAY,
        0,
        10_000,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"stripe.webhook_max_bytes",
        c"Largest webhook body stripe.webhook() accepts (HTTP 413 above it).",
        c"Stripe's events are a few KiB; the cap bounds what an anonymous caller can send.",
        &WEBHOOK_MAX_BYTES,
        1024,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_BYTE,
    );
    GucRegistry::define_int_guc(
        c"stripe.webhook_log_retention",
        c"How long stripe.webhook_requests keeps a request.",
        c"Older rows are pruned by every 1,000th request, the sync worker (every minute) and stripe.prune_webhook_requests().",
        &WEBHOOK_LOG_RETENTION,
        60,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"stripe.webhook_log_max_rows",
        c"Most rows stripe.webhook_requests keeps (the newest).",
        c"Each row is at most ~3.5 kB, so the log stays under this many times that.",
        &WEBHOOK_LOG_MAX_ROWS,
        100,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"stripe.sweep_max_fraction",
        c"Largest share of a type's rows a complete sync may leave unlisted and still check.",
        c"Each unlisted object is retrieved before it is marked deleted; a walk that leaves more than this share (and more than 20) unlisted is not trusted, and nothing is checked.",
        &SWEEP_MAX_FRACTION,
        0.0,
        1.0,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"stripe.sync_events_overlap",
        c"Seconds before its last mark that stripe.sync_events() lists events again.",
        c"Covers events Stripe lists a little after their created time, and clocks that differ; events already recorded are skipped by id.",
        &SYNC_EVENTS_OVERLAP,
        0,
        86_400,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    // Unknown stripe.* names are then errors instead of silent placeholders (catches typos).
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"stripe".as_ptr()) };
}

fn string(setting: &GucSetting<Option<CString>>, default: &CStr) -> String {
    setting
        .get()
        .unwrap_or_else(|| default.to_owned())
        .to_string_lossy()
        .into_owned()
}

pub fn api_base() -> String {
    string(&API_BASE, DEFAULT_API_BASE)
        .trim_end_matches('/')
        .to_string()
}

pub fn api_version() -> String {
    string(&API_VERSION, DEFAULT_API_VERSION)
}

pub fn queue_mode() -> bool {
    INGEST_MODE.get() == IngestMode::Queue
}

pub fn revalidate() -> String {
    string(&REVALIDATE, c"")
}

pub fn worker_databases() -> Vec<String> {
    string(&WORKER_DATABASES, c"")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}
