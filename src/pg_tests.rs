//! SQL-surface tests run inside Postgres by `cargo pgrx test` (each in a rolled-back transaction).
//! Network-free: webhooks are signed here; sync is tested against servers in `tests/e2e`.

#[pgrx::pg_schema]
mod tests {
    use crate::catalog::CATALOG;
    use crate::signature;
    use pgrx::prelude::*;
    use serde_json::{json, Value};

    const SECRET: &str = "whsec_pgtest_0123456789";
    const FIXTURES: &str = include_str!("../vendor/stripe/fixtures3.json");

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn fixture(object: &str) -> Value {
        let all: Value = serde_json::from_str(FIXTURES).unwrap();
        all["resources"][object].clone()
    }

    fn setup() {
        Spi::run(&format!("SELECT stripe.add_webhook_secret('{SECRET}')")).unwrap();
        // Helper: run a statement, return 'OK' or 'SQLSTATE: message'.
        Spi::run(
            "CREATE FUNCTION pg_temp.outcome(sql text) RETURNS text LANGUAGE plpgsql AS $$
             BEGIN EXECUTE sql; RETURN 'OK';
             EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$",
        )
        .unwrap();
    }

    fn outcome(sql: &str) -> String {
        Spi::get_one_with_args::<String>("SELECT pg_temp.outcome($1)", &[sql.into()])
            .unwrap()
            .unwrap()
    }

    fn event(id: &str, typ: &str, created: i64, object: Value) -> String {
        json!({"id": id, "object": "event", "type": typ, "created": created,
               "api_version": "2023-08-16", "livemode": false,
               "data": {"object": object}})
        .to_string()
    }

    fn ingest(payload: &str) -> Value {
        let sig = signature::sign(payload.as_bytes(), SECRET, now());
        let r = Spi::get_one_with_args::<pgrx::JsonB>(
            "SELECT stripe.ingest_webhook($1, $2)",
            &[payload.into(), sig.as_str().into()],
        )
        .unwrap()
        .unwrap();
        r.0
    }

    fn one<T: IntoDatum + FromDatum>(sql: &str) -> Option<T> {
        Spi::get_one::<T>(sql).unwrap()
    }

    #[pg_test]
    fn catalog_and_schema_agree() {
        for t in CATALOG {
            let exists = one::<bool>(&format!(
                "SELECT to_regclass('stripe.{}') IS NOT NULL",
                t.table
            ));
            assert_eq!(exists, Some(true), "table for {}", t.name);
        }
        // Every mirror table (a table with data jsonb and stripe_as_of) is in the catalog.
        let tables = one::<Vec<String>>(
            "SELECT array_agg(c.table_name::text) FROM information_schema.columns c
             WHERE c.table_schema = 'stripe' AND c.column_name = 'stripe_as_of'",
        )
        .unwrap();
        for table in tables {
            assert!(
                CATALOG.iter().any(|t| t.table == table),
                "{table} has no catalog entry"
            );
        }
        // Every data column is lz4-compressed where the server has lz4 (Debian's does).
        let not_lz4 = one::<i64>(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'stripe' AND a.attname = 'data' AND a.attcompression <> 'l'
               AND EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'
                           AND 'lz4' = ANY (enumvals))",
        );
        assert_eq!(not_lz4, Some(0));
    }

    #[pg_test]
    fn fixture_objects_land_with_typed_columns() {
        setup();
        let created = now();
        for (object, table) in [
            ("customer", "customers"),
            ("product", "products"),
            ("price", "prices"),
        ] {
            let obj = fixture(object);
            let r = ingest(&event(
                &format!("evt_fx_{object}"),
                &format!("{object}.created"),
                created,
                obj.clone(),
            ));
            assert_eq!(r["result"], "applied", "{object}: {r}");
            let data = one::<pgrx::JsonB>(&format!(
                "SELECT data FROM stripe.{table} WHERE id = '{}'",
                obj["id"].as_str().unwrap()
            ))
            .unwrap();
            assert_eq!(data.0, obj, "{object}: data is the whole object");
        }
        let price = fixture("price");
        let row = Spi::get_three::<i64, String, String>(
            "SELECT unit_amount, recurring_interval, product FROM stripe.prices",
        )
        .unwrap();
        assert_eq!(row.0, price["unit_amount"].as_i64());
        assert_eq!(row.1.as_deref(), price["recurring"]["interval"].as_str());
        assert_eq!(row.2.as_deref(), price["product"].as_str());
        let join = one::<String>(
            "SELECT pr.name FROM stripe.prices p JOIN stripe.products pr ON pr.id = p.product",
        );
        assert_eq!(join.as_deref(), fixture("product")["name"].as_str());
        let created_col =
            one::<i64>("SELECT extract(epoch FROM created)::bigint FROM stripe.customers");
        assert_eq!(created_col, fixture("customer")["created"].as_i64());
        let source = one::<String>("SELECT synced_from FROM stripe.customers");
        assert_eq!(source.as_deref(), Some("evt_fx_customer"));
    }

    #[pg_test]
    fn duplicate_stale_ignored_and_deleted() {
        setup();
        let t = now();
        let cus = |email: &str| json!({"id": "cus_1", "object": "customer", "email": email, "created": 1, "livemode": false});
        assert_eq!(
            ingest(&event("evt_2", "customer.updated", t, cus("new@x")))["result"],
            "applied"
        );
        assert_eq!(
            ingest(&event("evt_2", "customer.updated", t, cus("new@x")))["result"],
            "duplicate"
        );
        assert_eq!(
            ingest(&event("evt_1", "customer.updated", t - 10, cus("old@x")))["result"],
            "stale"
        );
        // Same second: a *.created never overwrites an update.
        assert_eq!(
            ingest(&event("evt_0", "customer.created", t, cus("first@x")))["result"],
            "stale"
        );
        assert_eq!(
            one::<String>("SELECT email FROM stripe.customers").as_deref(),
            Some("new@x")
        );
        assert_eq!(
            ingest(&event("evt_3", "customer.deleted", t, cus("new@x")))["result"],
            "applied"
        );
        assert_eq!(
            one::<bool>("SELECT deleted FROM stripe.customers"),
            Some(true)
        );
        // Same second after the delete: an update does not resurrect it.
        assert_eq!(
            ingest(&event("evt_4", "customer.updated", t, cus("zombie@x")))["result"],
            "stale"
        );
        assert_eq!(
            one::<bool>("SELECT deleted FROM stripe.customers"),
            Some(true)
        );
        let r = ingest(&event(
            "evt_5",
            "balance.available",
            t,
            json!({"object": "balance"}),
        ));
        assert_eq!(r["result"], "ignored");
        assert_eq!(
            one::<String>(
                "SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM stripe.events"
            )
            .as_deref(),
            Some("evt_0:stale,evt_1:stale,evt_2:applied,evt_3:applied,evt_4:stale,evt_5:ignored")
        );
    }

    #[pg_test]
    fn bad_input_has_its_own_sqlstate_and_writes_nothing() {
        setup();
        let good = event(
            "evt_ok",
            "customer.created",
            now(),
            json!({"id": "cus_9", "object": "customer"}),
        );
        let call = |payload: &str, sig: &str| {
            outcome(&format!(
                "SELECT stripe.ingest_webhook({}, {})",
                pgrx::spi::quote_literal(payload),
                pgrx::spi::quote_literal(sig)
            ))
        };
        let sig = signature::sign(good.as_bytes(), SECRET, now());
        assert!(
            call(&good, "t=1,v1=abc").starts_with("28000"),
            "{}",
            call(&good, "t=1,v1=abc")
        );
        assert!(call(&good, "garbage").starts_with("28000"));
        let wrong = signature::sign(good.as_bytes(), "whsec_other", now());
        assert!(call(&good, &wrong).starts_with("28000"));
        let tampered = good.replace("cus_9", "cus_8");
        assert!(call(&tampered, &sig).starts_with("28000"));
        let stale = signature::sign(good.as_bytes(), SECRET, now() - 3600);
        assert!(
            call(&good, &stale).starts_with("28000"),
            "{}",
            call(&good, &stale)
        );
        let bad_json = "{\"id\": ";
        let s = signature::sign(bad_json.as_bytes(), SECRET, now());
        assert!(
            call(bad_json, &s).starts_with("22P02"),
            "{}",
            call(bad_json, &s)
        );
        let not_event = r#"{"id":"cus_1","object":"customer"}"#;
        let s = signature::sign(not_event.as_bytes(), SECRET, now());
        assert!(
            call(not_event, &s).starts_with("22023"),
            "{}",
            call(not_event, &s)
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM stripe.events"), Some(0));
        assert_eq!(one::<i64>("SELECT count(*) FROM stripe.customers"), Some(0));
        assert!(
            !call(&good, "t=1,v1=abc").contains(SECRET),
            "a secret must never appear in an error"
        );
        Spi::run(&format!("SELECT stripe.remove_webhook_secret('{SECRET}')")).unwrap();
        assert!(call(&good, &sig).starts_with("55000"));
    }

    #[pg_test]
    fn rotation_accepts_any_active_secret() {
        setup();
        Spi::run("SELECT stripe.add_webhook_secret('whsec_second')").unwrap();
        let p = event(
            "evt_rot",
            "product.created",
            now(),
            json!({"id": "prod_1", "object": "product"}),
        );
        let sig = signature::sign(p.as_bytes(), "whsec_second", now());
        let r = Spi::get_one_with_args::<pgrx::JsonB>(
            "SELECT stripe.ingest_webhook($1, $2)",
            &[p.as_str().into(), sig.as_str().into()],
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.0["result"], "applied");
    }

    #[pg_test]
    fn configuration_never_shows_secrets() {
        setup();
        assert!(outcome("SELECT stripe.set_api_key('pk_test_abc')").starts_with("22023"));
        assert!(!outcome("SELECT stripe.set_api_key('pk_test_abc')").contains("pk_test_abc"));
        Spi::run("SELECT stripe.set_api_key('sk_test_supersecretvalue')").unwrap();
        let shown =
            one::<String>("SELECT string_agg(setting || '=' || value, ' ') FROM stripe.config()")
                .unwrap();
        assert!(!shown.contains("supersecretvalue"), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("webhook_secrets=1 configured"), "{shown}");
        assert!(
            shown.contains("stripe.api_base=https://api.stripe.com"),
            "{shown}"
        );
        assert_eq!(
            one::<bool>(&format!("SELECT stripe.remove_webhook_secret('{SECRET}')")),
            Some(true)
        );
        assert_eq!(
            one::<bool>(&format!("SELECT stripe.remove_webhook_secret('{SECRET}')")),
            Some(false)
        );
    }

    #[pg_test]
    fn sync_errors_are_actionable() {
        setup();
        let r = outcome("SELECT stripe.sync('nonsense')");
        assert!(r.starts_with("22023") && r.contains("nonsense"), "{r}");
        let r = outcome("SELECT stripe.sync('customer')");
        assert!(r.starts_with("55000") && r.contains("API key"), "{r}");
        Spi::run("SELECT stripe.set_api_key('sk_test_abc123')").unwrap();
        Spi::run("SET stripe.api_base = 'http://127.0.0.1:9'").unwrap();
        Spi::run("SET stripe.max_retries = 0").unwrap();
        let r = outcome("SELECT stripe.sync('customer')");
        assert!(r.starts_with("08006"), "{r}");
        assert!(!r.contains("abc123"), "the key must not leak: {r}");
    }

    fn mirror_state() -> String {
        one::<String>(
            "SELECT string_agg(id || '=' || data::text || '@' || stripe_as_of::text, E'\\n' ORDER BY id)
             FROM (SELECT id, data, stripe_as_of FROM stripe.customers
                   UNION ALL SELECT id, data, stripe_as_of FROM stripe.products) s",
        )
        .unwrap_or_default()
    }

    #[pg_test]
    fn shuffled_and_duplicated_deliveries_end_in_the_same_state() {
        setup();
        let t0 = now() - 100;
        // A history per object: created, several updates (two in the same second), deleted.
        let mut history = Vec::new();
        for c in 0..4 {
            let id = format!("cus_shuf{c}");
            let mut at = t0;
            let body = |v: i64| json!({"id": id, "object": "customer", "email": format!("v{v}@x"), "created": t0});
            history.push(event(
                &format!("evt_{c}_0"),
                "customer.created",
                at,
                body(0),
            ));
            for v in 1..5 {
                if v != 3 {
                    at += 1; // v2 and v3 share a second: whichever lands last wins
                }
                history.push(event(
                    &format!("evt_{c}_{v}"),
                    "customer.updated",
                    at,
                    body(v),
                ));
            }
            if c % 2 == 0 {
                history.push(event(
                    &format!("evt_{c}_9"),
                    "customer.deleted",
                    at + 1,
                    body(4),
                ));
            }
        }
        history.push(event(
            "evt_p",
            "product.created",
            t0,
            json!({"id": "prod_s", "object": "product", "name": "A"}),
        ));
        for e in &history {
            ingest(e);
        }
        let in_order = mirror_state();
        assert!(
            in_order.contains("v4@x") && in_order.contains("\"deleted\": true"),
            "{in_order}"
        );

        // Same events again: shuffled (a fixed LCG, so failures reproduce) with duplicates.
        Spi::run("TRUNCATE stripe.customers, stripe.products, stripe.events").unwrap();
        let mut order: Vec<usize> = (0..history.len()).chain(0..history.len()).collect();
        let mut seed: u64 = 0x5eed;
        for i in (1..order.len()).rev() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        for &i in &order {
            ingest(&history[i]);
        }
        assert_eq!(mirror_state(), in_order);
        assert_eq!(
            one::<i64>("SELECT count(*) FROM stripe.events"),
            Some(history.len() as i64)
        );
    }

    #[pg_test]
    fn sync_page_and_events_interleave_and_sweeps_stay_in_scope() {
        setup();
        let t = (now() - 100) as f64;
        let page = json!({"object": "list", "has_more": false,
            "data": [{"id": "cus_s", "object": "customer", "email": "synced@x", "livemode": false}]});
        let body = page.to_string();
        let upsert = |fetched: f64| {
            let w = crate::writer::Write {
                json: &body,
                as_of: fetched,
                from: "sync",
                account: None,
                kind: crate::ordering::Kind::Fetch,
                parent: None,
                deletes: false,
            };
            crate::writer::write_page(crate::catalog::lookup("customer").unwrap(), &w).0
        };
        assert_eq!(upsert(t + 0.1), 1);
        // An event of the fetch's second, applied after it: it may be the later change, and an
        // event never loses to data fetched before it was applied. Which came first is unknown,
        // so the customer is queued for a retrieve.
        let later = ingest(&event(
            "evt_same",
            "customer.updated",
            t as i64,
            json!({"id": "cus_s", "object": "customer", "email": "later@x"}),
        ));
        assert_eq!(later["result"], "applied");
        assert_eq!(
            one::<String>("SELECT object_id || ' ' || reason FROM stripe.refetch_queue").as_deref(),
            Some("cus_s tie")
        );
        // A page fetched in that second, before the event was applied, loses to it.
        assert_eq!(upsert(t + 0.5), 0);
        // An older event is stale; a page fetched in a later second wins.
        let older = ingest(&event(
            "evt_old",
            "customer.updated",
            t as i64 - 1,
            json!({"id": "cus_s", "object": "customer", "email": "older@x"}),
        ));
        assert_eq!(older["result"], "stale");
        let sync_start = t + 1.2;
        assert_eq!(upsert(sync_start), 1);
        assert_eq!(
            one::<String>("SELECT email || ' ' || synced_from FROM stripe.customers").as_deref(),
            Some("synced@x sync")
        );
        // A walk's unseen rows: only the platform's, of the key's mode, untouched since it began.
        for (id, extra) in [
            ("cus_live", json!({"livemode": true})),
            ("cus_old", json!({})),
        ] {
            let mut obj = json!({"id": id, "object": "customer"});
            obj.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            ingest(&event(
                &format!("evt_{id}"),
                "customer.created",
                t as i64 - 5,
                obj,
            ));
        }
        let mut connected: Value = serde_json::from_str(&event(
            "evt_connect",
            "customer.created",
            t as i64 - 5,
            json!({"id": "cus_connected", "object": "customer"}),
        ))
        .unwrap();
        connected["account"] = json!("acct_connected");
        ingest(&connected.to_string());
        let sql = crate::sql_gen::sweep_candidates(crate::catalog::lookup("customer").unwrap());
        let unseen = |started: f64| {
            Spi::get_one_with_args::<String>(
                &format!("SELECT c FROM ({sql}) s(n, u, c)"),
                &[false.into(), started.into(), 1.0f64.into(), 20i64.into()],
            )
            .unwrap()
            .unwrap()
        };
        // A walk that began after cus_s was written, before the others were: it saw cus_s.
        let after_s = one::<f64>(
            "SELECT extract(epoch FROM synced_at)::float8 + 0.000001 FROM stripe.customers WHERE id = 'cus_s'",
        )
        .unwrap();
        assert_eq!(
            unseen(after_s),
            r#"[["cus_s", null]]"#,
            "written before the walk"
        );
        let later = (now() + 10) as f64;
        assert_eq!(unseen(later), r#"[["cus_old", null], ["cus_s", null]]"#);
        // Too many unseen for the share allowed: the walk is not trusted, no candidate at all.
        let share = Spi::get_one_with_args::<String>(
            &format!("SELECT n || ' ' || u || ' ' || coalesce(c, 'none') FROM ({sql}) s(n, u, c)"),
            &[false.into(), later.into(), 0.1f64.into(), 1i64.into()],
        )
        .unwrap();
        assert_eq!(share.as_deref(), Some("2 2 none"));
    }

    #[pg_test]
    fn receive_webhook_logs_every_request_and_never_raises_for_bad_input() {
        setup();
        let good = event(
            "evt_log",
            "customer.created",
            now(),
            json!({"id": "cus_log", "object": "customer"}),
        );
        let sig = signature::sign(good.as_bytes(), SECRET, now());
        let ok = Spi::get_one_with_args::<pgrx::JsonB>(
            "SELECT stripe.receive_webhook($1, $2)",
            &[good.as_str().into(), sig.as_str().into()],
        )
        .unwrap()
        .unwrap();
        assert_eq!(ok.0["result"], "applied");
        let bad = Spi::get_one_with_args::<pgrx::JsonB>(
            "SELECT stripe.receive_webhook($1, 't=1,v1=00')",
            &[good.replace("cus_log", "cus_evil").as_str().into()],
        )
        .unwrap()
        .unwrap();
        assert_eq!(bad.0["result"], "rejected");
        assert_eq!(bad.0["sqlstate"], "28000");
        let log = one::<String>(
            "SELECT string_agg(result || ':' || coalesce(sqlstate, '-') || ':' || (payload_excerpt IS NOT NULL)::text, ',' ORDER BY id)
             FROM stripe.webhook_requests",
        );
        assert_eq!(log.as_deref(), Some("applied:-:false,rejected:28000:true"));
        assert_eq!(
            one::<i64>("SELECT count(*) FROM stripe.customers WHERE id = 'cus_evil'"),
            Some(0)
        );
        let leaked = one::<i64>(&format!(
            "SELECT count(*) FROM stripe.webhook_requests WHERE concat_ws(' ', error, payload_excerpt, signature_header) LIKE '%{SECRET}%'"
        ));
        assert_eq!(leaked, Some(0));
    }

    #[pg_test]
    fn queue_mode_records_and_process_pending_applies_in_created_order() {
        setup();
        Spi::run("SET stripe.ingest_mode = queue").unwrap();
        let t = now();
        let cus = |email: &str| json!({"id": "cus_q", "object": "customer", "email": email});
        // Delivered newest first; processing must still end on the newest.
        assert_eq!(
            ingest(&event("evt_q2", "customer.updated", t, cus("new@x")))["result"],
            "queued"
        );
        assert_eq!(
            ingest(&event("evt_q1", "customer.updated", t - 5, cus("old@x")))["result"],
            "queued"
        );
        assert_eq!(
            ingest(&event("evt_q1", "customer.updated", t - 5, cus("old@x")))["result"],
            "duplicate"
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM stripe.customers"), Some(0));
        assert_eq!(one::<i64>("SELECT stripe.process_pending()"), Some(2));
        assert_eq!(
            one::<String>("SELECT email FROM stripe.customers").as_deref(),
            Some("new@x")
        );
        assert_eq!(
            one::<String>(
                "SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM stripe.events"
            )
            .as_deref(),
            Some("evt_q1:applied,evt_q2:applied")
        );
        let r = outcome("SELECT stripe.sync_async('customer')");
        assert!(
            r.starts_with("55000") && r.contains("background worker"),
            "{r}"
        );
    }

    #[pg_test]
    fn failed_events_retry_with_backoff_and_can_be_reprocessed() {
        setup();
        Spi::run("SET stripe.ingest_mode = queue").unwrap();
        Spi::run("SET stripe.revalidate = 'customer'").unwrap();
        Spi::run("SET stripe.max_retries = 0").unwrap();
        Spi::run("SET stripe.api_base = 'http://127.0.0.1:9'").unwrap();
        Spi::run("SELECT stripe.set_api_key('sk_test_unreachable')").unwrap();
        ingest(&event(
            "evt_f",
            "customer.updated",
            now(),
            json!({"id": "cus_f", "object": "customer"}),
        ));
        assert_eq!(one::<i64>("SELECT stripe.process_pending()"), Some(1));
        let row = one::<String>(
            "SELECT status || ':' || attempts || ':' || (next_attempt_at > now())::text || ':' || (last_error LIKE '%revalidating cus_f%')::text FROM stripe.events",
        );
        assert_eq!(row.as_deref(), Some("failed:1:true:true"));
        // Not due yet: the queue is empty until the backoff passes.
        assert_eq!(one::<i64>("SELECT stripe.process_pending()"), Some(0));
        // A final payload is not revalidated, so a deletion applies without the API.
        ingest(&event(
            "evt_d",
            "customer.deleted",
            now(),
            json!({"id": "cus_f", "object": "customer"}),
        ));
        assert_eq!(one::<i64>("SELECT stripe.process_pending()"), Some(1));
        assert_eq!(
            one::<bool>("SELECT deleted FROM stripe.customers WHERE id = 'cus_f'"),
            Some(true)
        );
        Spi::run("SET stripe.revalidate = ''").unwrap();
        let r = one::<String>(
            "SELECT string_agg(event_id || '=' || result, ',') FROM stripe.reprocess_failed()",
        );
        assert_eq!(
            r.as_deref(),
            Some("evt_f=stale"),
            "older than the applied deletion"
        );
        assert_eq!(
            one::<String>("SELECT status FROM stripe.events WHERE id = 'evt_f'").as_deref(),
            Some("stale")
        );
    }

    #[pg_test]
    fn settings_are_registered_and_superuser_only() {
        setup();
        let ctx = one::<String>(
            "SELECT string_agg(name || ':' || context, ',' ORDER BY name) FROM pg_settings WHERE name LIKE 'stripe.%'",
        )
        .unwrap();
        for name in [
            "api_base",
            "api_version",
            "http_timeout",
            "max_retries",
            "webhook_tolerance",
        ] {
            assert!(ctx.contains(&format!("stripe.{name}:superuser")), "{ctx}");
        }
        let typo = outcome("SET stripe.no_such_setting = 1");
        assert!(
            typo.starts_with("42602") && typo.contains("stripe.no_such_setting"),
            "{typo}"
        );
    }
}
