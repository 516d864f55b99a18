//! djstripe_pg: a mirror of Stripe inside PostgreSQL.
//!
//! Pure Rust (no pgrx): `catalog`, `client`, `retry`, `form`, `signature`, `event`, `sql_gen`.
//! Thin pgrx glue: `gucs`, `api_key`, `sync`, `webhook`, `errors`.

pub mod catalog;
pub mod client;
pub mod event;
pub mod form;
pub mod retry;
pub mod signature;
pub mod sql_gen;

mod api_key;
mod errors;
mod gucs;
mod sync;
mod webhook;

pgrx::pg_module_magic!(name, version);

pgrx::extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
pgrx::extension_sql_file!("../sql/config.sql", name = "config", requires = ["schema"]);
pgrx::extension_sql_file!("../sql/grants.sql", name = "grants", finalize);

#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
}

#[cfg(feature = "pg_test")]
mod pg_tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
