//! djstripe_pg: a mirror of Stripe inside PostgreSQL.
//!
//! Pure Rust (no pgrx), `pub`: `catalog`, `client` (with its list `Walk`), `prefetch`, `retry`, `form`,
//! `signature`, `event`, `ordering`, `sql_gen`, `json_path`, `jsonb_encode`.
//! pgrx glue, private: everything else.

pub mod catalog;
pub mod client;
pub mod event;
pub mod form;
pub mod json_path;
pub mod jsonb_encode;
pub mod ordering;
pub mod prefetch;
pub mod retry;
pub mod signature;
pub mod sql_gen;
pub mod versions;

mod api_key;
mod catalog_sql;
mod catchup;
mod errors;
mod event_batch;
mod gucs;
mod jobs;
mod jsonb_param;
mod kept_plans;
mod log_hook;
mod processing;
mod refetch;
mod secrets;
mod subxact;
mod sweep;
mod sync;
mod typed_columns;
mod wake;
mod webhook;
mod worker;
mod writer;

pgrx::pg_module_magic!(name, version);

pgrx::extension_sql_file!(
    "../sql/typed_columns.sql",
    name = "typed_columns",
    bootstrap
);
pgrx::extension_sql_file!(
    "../sql/schema.sql",
    name = "schema",
    requires = ["typed_columns"]
);
pgrx::extension_sql_file!(
    "../sql/tables/core.sql",
    name = "core",
    requires = ["schema"]
);
pgrx::extension_sql_file!(
    "../sql/tables/payments.sql",
    name = "payments",
    requires = ["core"]
);
pgrx::extension_sql_file!(
    "../sql/tables/billing.sql",
    name = "billing",
    requires = ["payments"]
);
pgrx::extension_sql_file!(
    "../sql/tables/checkout.sql",
    name = "checkout",
    requires = ["billing"]
);
pgrx::extension_sql_file!(
    "../sql/tables/connect.sql",
    name = "connect",
    requires = ["checkout"]
);
pgrx::extension_sql_file!(
    "../sql/tables/entitlements.sql",
    name = "entitlements",
    requires = ["connect"]
);
pgrx::extension_sql_file!(
    "../sql/tables/identity.sql",
    name = "identity",
    requires = ["entitlements"]
);
pgrx::extension_sql_file!(
    "../sql/tables/issuing.sql",
    name = "issuing",
    requires = ["identity"]
);
pgrx::extension_sql_file!("../sql/config.sql", name = "config", requires = ["issuing"]);
pgrx::extension_sql_file!(
    "../sql/views.sql",
    name = "views",
    requires = ["schema", catalog_sql::catalog, sync::sync]
);
pgrx::extension_sql_file!(
    "../sql/worker.sql",
    name = "worker",
    requires = [
        "views",
        jobs::sync_job_step,
        event_batch::apply_events,
        refetch::refetch_queued,
        catchup::sync_events,
        processing::apply_recorded,
        wake::wake_worker
    ]
);
pgrx::extension_sql_file!(
    "../sql/requests.sql",
    name = "requests",
    requires = ["worker", webhook::ingest_webhook]
);
pgrx::extension_sql_file!(
    "../sql/postgrest.sql",
    name = "postgrest",
    requires = ["requests"]
);
pgrx::extension_sql_file!(
    "../sql/comments.sql",
    name = "comments",
    requires = ["postgrest", "config"]
);
pgrx::extension_sql_file!("../sql/grants.sql", name = "grants", finalize);

#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
    log_hook::install();
    // Workers can only be registered while the server starts (shared_preload_libraries).
    if unsafe { pgrx::pg_sys::process_shared_preload_libraries_in_progress } {
        worker::register();
    }
}

/// The extension's version. Calling it also loads the library, which defines the `stripe.*`
/// settings in this session.
#[pgrx::pg_extern]
fn version() -> &'static str {
    versions::LIBRARY
}

#[cfg(feature = "pg_test")]
mod pg_tests;
#[cfg(feature = "pg_test")]
mod pg_tests_catalog;
#[cfg(feature = "pg_test")]
mod pg_tests_jsonb;
#[cfg(feature = "pg_test")]
mod pg_tests_ordering;
#[cfg(feature = "pg_test")]
mod pg_tests_typed;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
