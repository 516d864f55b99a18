//! `stripe.text_at`, `stripe.id_at` and `stripe.time_at`, the functions typed columns are
//! generated with: each case next to the operator chain it replaced.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    const DOC: &str = r#"{"customer": "cus_1", "expanded": {"id": "cus_2", "object": "customer"},
        "no_id": {"object": "thing"}, "none": null, "n": 42, "big": 12345678901234567890,
        "dec": "1.50", "flag": false, "ts": 1700000000, "frac": 1700000000.5, "tstr": "1700000000",
        "owner": {"type": "user"}, "items": {"data": [{"price": {"id": "price_1"}}, {"price": "price_2"}]},
        "parent": {"details": {"sub": "sub_9"}}, "list": [1, 2]}"#;

    fn one(expr: &str) -> Option<String> {
        Spi::get_one_with_args::<String>(
            &format!("SELECT ({expr})::text FROM (SELECT $1::jsonb AS data) d"),
            &[DOC.into()],
        )
        .unwrap()
    }

    fn same(a: &str, b: &str) {
        assert_eq!(one(a), one(b), "{a} vs {b}");
    }

    #[pg_test]
    fn text_at_reads_like_the_operators() {
        same("stripe.text_at(data, 'customer')", "data ->> 'customer'");
        same(
            "stripe.text_at(data, 'owner.type')",
            "data -> 'owner' ->> 'type'",
        );
        same("stripe.text_at(data, 'n')", "data ->> 'n'");
        same("stripe.text_at(data, 'big')", "data ->> 'big'");
        same("stripe.text_at(data, 'flag')", "data ->> 'flag'");
        same("stripe.text_at(data, 'owner')", "data ->> 'owner'");
        same("stripe.text_at(data, 'list')", "data ->> 'list'");
        same(
            "stripe.text_at(data, 'items.data.1.price')",
            "data -> 'items' -> 'data' -> 1 ->> 'price'",
        );
        assert_eq!(one("stripe.text_at(data, 'none')"), None);
        assert_eq!(one("stripe.text_at(data, 'missing.deeper')"), None);
        assert_eq!(
            one("stripe.text_at(data, 'customer.id')"),
            None,
            "a string has no keys"
        );
        assert_eq!(
            one("stripe.text_at(data, 'items.data.x')"),
            None,
            "arrays take positions"
        );
        assert_eq!(one("stripe.text_at(data, 'items.data.7.price')"), None);
        assert_eq!(
            one("stripe.text_at('5'::jsonb, 'a')"),
            None,
            "a scalar document"
        );
        assert_eq!(one("stripe.text_at('[1]'::jsonb, '0')"), Some("1".into()));
        assert_eq!(one("stripe.text_at(data, NULL)"), None, "strict");
    }

    #[pg_test]
    fn alternatives_are_tried_in_order() {
        assert_eq!(
            one("stripe.text_at(data, 'none | missing | parent.details.sub | customer')"),
            Some("sub_9".into())
        );
        assert_eq!(
            one("stripe.text_at(data, 'customer|n')"),
            Some("cus_1".into())
        );
        assert_eq!(one("stripe.text_at(data, 'none | missing')"), None);
    }

    #[pg_test]
    fn id_at_reads_expandable_fields() {
        assert_eq!(one("stripe.id_at(data, 'customer')"), Some("cus_1".into()));
        assert_eq!(one("stripe.id_at(data, 'expanded')"), Some("cus_2".into()));
        assert_eq!(one("stripe.id_at(data, 'no_id')"), None);
        assert_eq!(one("stripe.id_at(data, 'list')"), None);
        assert_eq!(
            one("stripe.id_at(data, 'items.data.0.price')"),
            Some("price_1".into())
        );
        assert_eq!(
            one("stripe.id_at(data, 'items.data.1.price')"),
            Some("price_2".into())
        );
        assert_eq!(
            one("stripe.id_at(data, 'no_id | customer')"),
            Some("cus_1".into())
        );
        same(
            "stripe.id_at(data, 'expanded')",
            "coalesce(data -> 'expanded' ->> 'id', data ->> 'expanded')",
        );
    }

    #[pg_test]
    fn time_at_converts_unix_seconds() {
        same(
            "stripe.time_at(data, 'ts')",
            "to_timestamp((data ->> 'ts')::double precision)",
        );
        same(
            "stripe.time_at(data, 'frac')",
            "to_timestamp((data ->> 'frac')::double precision)",
        );
        assert_eq!(one("stripe.time_at(data, 'tstr')"), None, "not a number");
        assert_eq!(one("stripe.time_at(data, 'none')"), None);
        assert_eq!(one("stripe.time_at(data, 'owner')"), None);
        assert_eq!(
            one("stripe.time_at(data, 'missing | ts') = to_timestamp(1700000000)"),
            Some("true".into())
        );
    }

    #[pg_test]
    fn every_typed_column_is_one_small_expression() {
        // The reason for the helpers: a generated column's whole expression tree is rebuilt by
        // each statement that writes its table. Keep every one small.
        let biggest = Spi::get_two::<String, i32>(
            "SELECT c.relname || '.' || a.attname, length(d.adbin) FROM pg_attrdef d \
             JOIN pg_class c ON c.oid = d.adrelid \
             JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
             WHERE c.relnamespace = 'stripe'::regnamespace AND a.attgenerated = 's' \
             ORDER BY 2 DESC LIMIT 1",
        )
        .unwrap();
        let (column, size) = (biggest.0.unwrap(), biggest.1.unwrap());
        assert!(size < 3000, "{column}: {size} bytes of expression");
    }
}
