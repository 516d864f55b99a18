//! Queries run on every webhook, planned once per backend and kept: parsing and planning
//! them each time would cost more than running them.

use pgrx::datum::FromDatum;
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
    plan.with(|plan| {
        let mut plan = plan.borrow_mut();
        Spi::connect(|c| {
            if plan.is_none() {
                *plan = Some(c.prepare(sql, &[])?.keep());
            }
            c.select(plan.as_ref().unwrap(), None, &[])?
                .first()
                .get_one::<T>()
        })
    })
}
