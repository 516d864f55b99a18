//! The paths typed columns read (`stripe.text_at(data, 'owner.type')`): keys separated by `.`,
//! array positions as numbers (`items.data.0.price`), and `|` between alternatives, tried in
//! order, for fields Stripe moved between API versions (`price | pricing.price_details.price`).
//! Pure: the pgrx glue walks the jsonb along the steps this yields.

/// The alternatives of `path`, each as its steps. Spaces around `.` and `|` are ignored.
pub fn alternatives(path: &str) -> impl Iterator<Item = impl Iterator<Item = &str>> {
    path.split('|').map(|alt| alt.split('.').map(str::trim))
}

/// A step taken in an array: a position (`0`), else None (no key matches in an array).
pub fn index(step: &str) -> Option<u32> {
    if step.is_empty() || !step.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    step.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(path: &str) -> Vec<Vec<&str>> {
        alternatives(path).map(Iterator::collect).collect()
    }

    #[test]
    fn splits_alternatives_and_steps() {
        assert_eq!(collect("customer"), [["customer"]]);
        assert_eq!(
            collect("price | pricing.price_details.price"),
            vec![vec!["price"], vec!["pricing", "price_details", "price"]]
        );
        assert_eq!(
            collect("items.data.0.current_period_end"),
            [["items", "data", "0", "current_period_end"]]
        );
    }

    #[test]
    fn positions_are_plain_numbers() {
        assert_eq!(index("0"), Some(0));
        assert_eq!(index("12"), Some(12));
        for not in ["", "-1", "+1", "1e2", "id", " 1"] {
            assert_eq!(index(not), None, "{not:?}");
        }
    }
}
