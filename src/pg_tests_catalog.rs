//! Every catalog type, from Stripe's real object shapes (`vendor/stripe/fixtures3.json`):
//! written as a list page and as an event, then checked column by column against the JSON.

#[pgrx::pg_schema]
mod tests {
    use crate::catalog::{ObjectType, CATALOG};
    use crate::sql_gen;
    use pgrx::prelude::*;
    use serde_json::{json, Value};

    const FIXTURES: &str = include_str!("../vendor/stripe/fixtures3.json");

    /// The fixture object of a type, with an id where Stripe's example has none.
    pub fn fixture(t: &ObjectType) -> Value {
        let all: Value = serde_json::from_str(FIXTURES).unwrap();
        let mut obj = all["resources"][t.objects[0]].clone();
        assert!(obj.is_object(), "no fixture for {}", t.objects[0]);
        if obj["id"].as_str().is_none_or(str::is_empty) {
            obj["id"] = json!(format!("{}_fixture", t.table));
        }
        obj
    }

    /// The fixture value a generated column is named after: `recurring_interval` is
    /// `recurring.interval`. None where no path spells the name (moved or derived fields).
    fn value_for(obj: &Value, column: &str) -> Option<Value> {
        let map = obj.as_object()?;
        if let Some(v) = map.get(column) {
            return Some(v.clone());
        }
        map.iter().find_map(|(k, v)| {
            column
                .strip_prefix(k.as_str())
                .and_then(|rest| rest.strip_prefix('_'))
                .and_then(|rest| value_for(v, rest))
        })
    }

    /// Checks every generated column of `id`'s row against the fixture; returns how many had
    /// a fixture value to compare with.
    fn check_columns(t: &ObjectType, obj: &Value) -> usize {
        let cols = Spi::connect(|c| {
            c.select(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = 'stripe' AND table_name = $1 AND is_generated = 'ALWAYS'",
                None,
                &[t.table.into()],
            )?
            .map(|r| Ok((r.get::<String>(1)?.unwrap(), r.get::<String>(2)?.unwrap())))
            .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()
        })
        .unwrap();
        assert!(!cols.is_empty(), "{} has no generated columns", t.table);
        let mut compared = 0;
        for (col, ty) in cols {
            let Some(expected) = value_for(obj, &col) else {
                continue;
            };
            let expected = match (&expected, ty.as_str()) {
                // Null at the old path: the column may coalesce a newer location instead.
                (Value::Null, _) => continue,
                (Value::Object(o), "text") if o.contains_key("id") => {
                    o["id"].as_str().map(String::from)
                }
                (Value::String(s), _) => Some(s.clone()),
                (v, "jsonb") => Some(v.to_string()),
                (Value::Number(n), _) => Some(n.to_string()),
                (Value::Bool(b), _) => Some(b.to_string()),
                _ => continue, // objects and arrays in non-jsonb columns: not a direct mapping
            };
            let quoted = format!("\"{col}\"");
            let actual_sql = match ty.as_str() {
                "timestamp with time zone" => format!("extract(epoch FROM {quoted})::bigint::text"),
                _ => format!("{quoted}::text"),
            };
            let actual = Spi::get_one_with_args::<String>(
                &format!("SELECT {actual_sql} FROM stripe.{} WHERE id = $1", t.table),
                &[obj["id"].as_str().unwrap().into()],
            )
            .unwrap();
            let expected = match (expected, ty.as_str()) {
                (Some(e), "jsonb") => Some(
                    Spi::get_one_with_args::<String>(
                        "SELECT $1::jsonb::text",
                        &[e.as_str().into()],
                    )
                    .unwrap()
                    .unwrap(),
                ),
                (e, _) => e,
            };
            let expected = expected.map(|e| e.trim_end_matches(".0").to_string());
            assert_eq!(actual, expected, "{}.{col} ({ty})", t.table);
            compared += 1;
        }
        compared
    }

    fn write_page(t: &ObjectType, obj: &Value, parent: Option<&str>) {
        let page = json!({"object": "list", "data": [obj], "has_more": false}).to_string();
        let w = crate::writer::Write {
            json: &page,
            as_of: 1.0e9,
            from: "sync",
            account: None,
            kind: crate::ordering::Kind::Fetch,
            parent,
            deletes: false,
        };
        let (n, truncated) = crate::writer::write_page(t, &w);
        assert_eq!(n, 1, "{}: one object written", t.name);
        assert_eq!(truncated, "[]");
    }

    #[pg_test]
    fn every_type_round_trips_from_a_list_page() {
        let mut total = 0;
        for t in CATALOG {
            let obj = fixture(t);
            write_page(t, &obj, t.parent.map(|_| "par_fixture"));
            let data = Spi::get_one_with_args::<pgrx::JsonB>(
                &format!("SELECT data FROM stripe.{} WHERE id = $1", t.table),
                &[obj["id"].as_str().unwrap().into()],
            )
            .unwrap()
            .unwrap();
            assert_eq!(data.0, obj, "{}: data is the whole object", t.table);
            let compared = check_columns(t, &obj);
            assert!(
                compared >= 2,
                "{}: only {compared} typed columns checked",
                t.table
            );
            total += compared;
        }
        pgrx::notice!(
            "compared {total} typed columns across {} types",
            CATALOG.len()
        );
    }

    #[pg_test]
    fn every_type_with_events_lands_identically_from_a_webhook() {
        for t in CATALOG.iter().filter(|t| !t.event_prefixes.is_empty()) {
            let mut obj = fixture(t);
            if let Some(p) = t.parent.and_then(|p| p.own_field) {
                obj[p] = json!("par_from_event");
            }
            let payload = json!({"id": format!("evt_{}", t.table), "object": "event",
                "type": format!("{}.updated", t.event_prefixes[0]), "created": 1_000_000_000,
                "livemode": false, "data": {"object": obj}})
            .to_string();
            let w = crate::writer::Write {
                json: &payload,
                as_of: 1.0e9,
                from: &format!("evt_{}", t.table),
                account: Some("acct_connected"),
                kind: crate::ordering::Kind::Updated,
                parent: None,
                deletes: false,
            };
            let out = crate::writer::run(
                &format!("event:{}", t.table),
                || sql_gen::apply_event(t, sql_gen::Fields::All),
                &w,
            );
            assert_eq!(out.map(|o| o.0).as_deref(), Some("applied"), "{}", t.name);
            let row = Spi::get_two_with_args::<pgrx::JsonB, String>(
                &format!(
                    "SELECT data, account_id FROM stripe.{} WHERE id = $1",
                    t.table
                ),
                &[obj["id"].as_str().unwrap().into()],
            )
            .unwrap();
            assert_eq!(row.0.unwrap().0, obj, "{}", t.name);
            assert_eq!(row.1.as_deref(), Some("acct_connected"));
            check_columns(t, &obj);
            if let Some(p) = t.parent {
                let parent = Spi::get_one_with_args::<String>(
                    &format!("SELECT {} FROM stripe.{} WHERE id = $1", p.column, t.table),
                    &[obj["id"].as_str().unwrap().into()],
                )
                .unwrap();
                assert_eq!(parent.as_deref(), Some("par_from_event"), "{}", t.name);
            }
        }
    }

    #[pg_test]
    fn nested_lists_replace_the_parents_children() {
        let inv = crate::catalog::lookup("invoice").unwrap();
        let line = |n: usize| json!({"id": format!("il_{n}"), "object": "line_item", "amount": n});
        let invoice = |lines: Vec<Value>| {
            let mut o = fixture(inv);
            o["id"] = json!("in_nested");
            o["lines"] = json!({"object": "list", "data": lines, "has_more": false, "url": "/v1/invoices/in_nested/lines"});
            o
        };
        write_page(inv, &invoice((0..3).map(line).collect()), None);
        let ids = || {
            Spi::get_one::<String>("SELECT string_agg(id, ',' ORDER BY id) FROM stripe.invoice_lines WHERE invoice = 'in_nested'")
                .unwrap()
        };
        assert_eq!(ids().as_deref(), Some("il_0,il_1,il_2"));
        // A newer version of the invoice drops il_0 and adds il_3: no orphan is left behind.
        let page = json!({"data": [invoice(vec![line(1), line(2), line(3)])]}).to_string();
        let w = crate::writer::Write {
            json: &page,
            as_of: 1.0e9 + 5.0,
            from: "sync",
            account: None,
            kind: crate::ordering::Kind::Fetch,
            parent: None,
            deletes: false,
        };
        crate::writer::write_page(inv, &w);
        assert_eq!(ids().as_deref(), Some("il_1,il_2,il_3"));
        // A truncated list is reported for paging and nothing is pruned yet.
        let mut truncated = invoice(vec![line(7)]);
        truncated["lines"]["has_more"] = json!(true);
        let page = json!({"data": [truncated]}).to_string();
        let w = crate::writer::Write {
            as_of: 1.0e9 + 9.0,
            json: &page,
            ..w
        };
        let (_, paging) = crate::writer::write_page(inv, &w);
        let paging: Value = serde_json::from_str(&paging).unwrap();
        assert_eq!(
            paging,
            json!([{"parent": "in_nested", "child": "line_item", "url": "/v1/invoices/in_nested/lines",
                    "as_of": 1_000_000_009, "src": "sync", "account": null}])
        );
        assert_eq!(ids().as_deref(), Some("il_1,il_2,il_3,il_7"));
        // Embedded discount lands in its own table.
        let discount = Spi::get_one::<i64>("SELECT count(*) FROM stripe.discounts").unwrap();
        assert_eq!(
            discount,
            Some(if fixture(inv)["discount"].is_object() {
                1
            } else {
                0
            })
        );
    }

    #[pg_test]
    fn expanded_mandates_land_in_their_own_table() {
        let si = crate::catalog::lookup("setup_intent").unwrap();
        let mut obj = fixture(si);
        let mut mandate = fixture(crate::catalog::lookup("mandate").unwrap());
        mandate["id"] = json!("mandate_expanded");
        obj["mandate"] = mandate.clone();
        write_page(si, &obj, None);
        let stored = Spi::get_one::<pgrx::JsonB>(
            "SELECT data FROM stripe.mandates WHERE id = 'mandate_expanded'",
        )
        .unwrap()
        .unwrap();
        assert_eq!(stored.0, mandate);
        let link = Spi::get_one::<String>("SELECT mandate FROM stripe.setup_intents").unwrap();
        assert_eq!(
            link.as_deref(),
            Some("mandate_expanded"),
            "the id column reads an expanded object"
        );
    }
}
