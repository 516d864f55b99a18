//! The catalog as a set-returning function, for the `stripe.object_types` view and
//! `stripe.sync_all()` (see sql/views.sql).

use crate::catalog::{Deletion, CATALOG};
use pgrx::prelude::*;

#[allow(clippy::type_complexity)]
#[pg_extern(immutable, parallel_safe, name = "_catalog")]
fn catalog() -> TableIterator<
    'static,
    (
        name!(ord, i32),
        name!(object_type, String),
        name!(table_name, String),
        name!(endpoint, Option<String>),
        name!(parent, Option<String>),
        name!(event_prefixes, Vec<String>),
        name!(deletion, String),
        name!(created_filter, bool),
    ),
> {
    TableIterator::new(CATALOG.iter().enumerate().map(|(i, t)| {
        let deletion = match t.deletion {
            Deletion::Deleted => "deleted object and *.deleted event".to_string(),
            Deletion::Status(s) => format!("status {s}"),
            Deletion::Kept => "never deleted".to_string(),
        };
        (
            i as i32 + 1,
            t.name.to_string(),
            t.table.to_string(),
            t.list_path.map(str::to_string),
            t.parent.map(|p| p.name.to_string()),
            t.event_prefixes.iter().map(|p| p.to_string()).collect(),
            deletion,
            t.created_filter,
        )
    }))
}
