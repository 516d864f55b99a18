//! Queries run on every webhook, planned once per backend and kept: parsing and planning
//! them each time would cost more than running them.

use pgrx::datum::FromDatum;
use pgrx::pg_sys::{self, PgOid};
use pgrx::spi::{self, OwnedPreparedStatement, Spi};
use pgrx::IntoDatum;
use std::cell::RefCell;
use std::thread::LocalKey;

pub type KeptPlan = RefCell<Option<OwnedPreparedStatement>>;

/// Runs `sql` (no parameters) through the plan kept in `plan`, and returns its one value.
pub fn select_one<T: FromDatum + IntoDatum>(
    plan: &'static LocalKey<KeptPlan>,
    sql: &str,
) -> spi::Result<Option<T>> {
    select(plan, sql, None)
}

/// `select_one` for a query with one text parameter `$1`.
pub fn select_one_with<T: FromDatum + IntoDatum>(
    plan: &'static LocalKey<KeptPlan>,
    sql: &str,
    arg: &str,
) -> spi::Result<Option<T>> {
    select(plan, sql, Some(arg))
}

fn select<T: FromDatum + IntoDatum>(
    plan: &'static LocalKey<KeptPlan>,
    sql: &str,
    arg: Option<&str>,
) -> spi::Result<Option<T>> {
    plan.with(|plan| {
        let mut plan = plan.borrow_mut();
        Spi::connect(|c| {
            if plan.is_none() {
                let text = PgOid::BuiltIn(pg_sys::BuiltinOid::TEXTOID);
                let types: &[PgOid] = if arg.is_some() { &[text] } else { &[] };
                *plan = Some(c.prepare(sql, types)?.keep());
            }
            let args: Vec<pgrx::datum::DatumWithOid> = arg.into_iter().map(Into::into).collect();
            c.select(plan.as_ref().unwrap(), None, &args)?
                .first()
                .get_one::<T>()
        })
    })
}
