//! The ordering rule as the statements apply it, compared case by case with its Rust model
//! (`ordering::replaces`, `ordering::ambiguous`): every kind of row against every kind of
//! write, in the seconds around a tie.

#[pgrx::pg_schema]
mod tests {
    use crate::catalog::{lookup, ObjectType};
    use crate::ordering::{self, Kind, Row, Write};
    use crate::sql_gen;
    use pgrx::prelude::*;
    use serde_json::json;

    fn action(kind: Kind) -> &'static str {
        match kind {
            Kind::Created => "created",
            Kind::Deleted => "deleted",
            _ => "updated",
        }
    }

    fn rows() -> Vec<Row> {
        let mut rows = Vec::new();
        for written_at in [100.2, 100.6] {
            // (A row a removing *.deleted wrote is deleted: the last one below.)
            for (kind, as_of) in [
                (Kind::Fetch, 100.3f64),
                (Kind::Created, 100.0),
                (Kind::Updated, 100.0),
            ] {
                rows.push(Row {
                    kind,
                    as_of: if kind == Kind::Fetch {
                        as_of.min(written_at)
                    } else {
                        as_of
                    },
                    written_at,
                    deleted: false,
                    source: String::new(),
                    version: None,
                });
            }
        }
        rows.push(Row {
            kind: Kind::Deleted,
            as_of: 100.0,
            written_at: 100.2,
            deleted: true,
            source: String::new(),
            version: None,
        });
        rows
    }

    fn writes() -> Vec<Write> {
        let fetches = [99.5, 100.1, 100.25, 100.5, 100.7, 101.2].map(|t| (Kind::Fetch, t));
        let events = [Kind::Created, Kind::Updated, Kind::Deleted]
            .into_iter()
            .flat_map(|k| [99.0, 100.0, 101.0].map(move |t| (k, t)));
        fetches
            .into_iter()
            .chain(events)
            .map(|(kind, as_of)| Write {
                kind,
                as_of,
                source: String::new(),
                version: None,
            })
            .collect()
    }

    /// Puts `row` in the table as object `id` (and the event that wrote it in stripe.events).
    fn place(t: &ObjectType, id: &str, row: &mut Row) {
        row.source = if row.kind == Kind::Fetch {
            "sync".into()
        } else {
            format!("evt_row_{id}")
        };
        let mut data = json!({"id": id, "object": t.objects[0], "v": "row"});
        if row.deleted {
            data["deleted"] = json!(true);
        }
        if let Some(v) = row.version {
            data["updated"] = json!(v);
        }
        if row.kind != Kind::Fetch {
            let event = json!({"id": row.source, "object": "event", "created": 100,
                "type": format!("{}.{}", t.event_prefixes[0], action(row.kind)),
                "data": {"object": data}});
            Spi::run_with_args(
                "INSERT INTO stripe.events (id, data, status) VALUES ($1, $2, 'applied')",
                &[row.source.as_str().into(), pgrx::JsonB(event).into()],
            )
            .unwrap();
        }
        Spi::run_with_args(
            &format!(
                "INSERT INTO {} (id, data, synced_at, synced_from, stripe_as_of) \
                 VALUES ($1, $2, to_timestamp($3), $4, to_timestamp($5))",
                t.qualified_table()
            ),
            &[
                id.into(),
                pgrx::JsonB(data).into(),
                row.written_at.into(),
                row.source.as_str().into(),
                row.as_of.into(),
            ],
        )
        .unwrap();
    }

    /// Applies `w` to object `id` the way sync or ingest would.
    fn apply(t: &ObjectType, id: &str, w: &mut Write) {
        let mut data = json!({"id": id, "object": t.objects[0], "v": "new"});
        if let Some(v) = w.version {
            data["updated"] = json!(v);
        }
        if w.kind == Kind::Fetch {
            w.source = "sync".into();
            let page = json!({"data": [data]}).to_string();
            let write = crate::writer::Write {
                json: &page,
                as_of: w.as_of,
                from: "sync",
                account: None,
                kind: Kind::Fetch,
                parent: None,
                deletes: false,
            };
            crate::writer::write_page(t, &write);
            return;
        }
        w.source = format!("evt_new_{id}");
        let event_type = format!("{}.{}", t.event_prefixes[0], action(w.kind));
        let payload = json!({"id": w.source, "object": "event", "type": event_type,
            "created": w.as_of, "data": {"object": data}})
        .to_string();
        let write = crate::writer::Write {
            json: &payload,
            as_of: w.as_of,
            from: &w.source,
            account: None,
            kind: w.kind,
            parent: None,
            deletes: t.event_deletes(&event_type),
        };
        crate::writer::run(
            &format!("ordering:{}", t.table),
            || sql_gen::apply_event(t, sql_gen::Fields::All),
            &write,
        );
    }

    fn outcome(t: &ObjectType, id: &str) -> (bool, bool) {
        let replaced = Spi::get_one_with_args::<bool>(
            &format!(
                "SELECT data ->> 'v' = 'new' FROM {} WHERE id = $1",
                t.qualified_table()
            ),
            &[id.into()],
        )
        .unwrap()
        .unwrap();
        let queued = Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT 1 FROM stripe.refetch_queue WHERE object_id = $1 AND reason = 'tie')",
            &[id.into()],
        )
        .unwrap()
        .unwrap();
        (replaced, queued)
    }

    fn check(t: &ObjectType, cases: Vec<(Row, Write)>) -> usize {
        let n = cases.len();
        for (i, (mut row, mut w)) in cases.into_iter().enumerate() {
            let id = format!("ord_{}_{i}", t.table);
            place(t, &id, &mut row);
            apply(t, &id, &mut w);
            let expected = (ordering::replaces(&row, &w), ordering::ambiguous(&row, &w));
            assert_eq!(
                outcome(t, &id),
                expected,
                "{}: row {row:?}, write {w:?}: (replaced, queued for a retrieve)",
                t.name
            );
        }
        n
    }

    #[pg_test]
    fn the_statements_apply_the_ordering_rule() {
        let cus = lookup("customer").unwrap();
        let cases: Vec<(Row, Write)> = rows()
            .into_iter()
            .flat_map(|r| writes().into_iter().map(move |w| (r.clone(), w)))
            .collect();
        let n = check(cus, cases);
        assert!(n > 100, "{n} cases");
    }

    #[pg_test]
    fn an_objects_own_version_orders_before_time() {
        let prod = lookup("product").unwrap();
        let mut cases = Vec::new();
        for (row_version, write_version) in [(5, 6), (6, 5), (5, 5), (5, 0)] {
            for mut row in rows().into_iter().filter(|r| !r.deleted) {
                row.version = Some(row_version);
                for mut w in writes() {
                    w.version = (write_version > 0).then_some(write_version);
                    cases.push((row.clone(), w));
                }
            }
        }
        check(prod, cases);
    }
}
