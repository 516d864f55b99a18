//! `stripe.ingest_webhook(payload, sig)`: verify Stripe's signature, record the event once and
//! apply its object to the mirror, all in one statement.

use crate::api_key;
use crate::catalog;
use crate::errors::{raise, spi};
use crate::event::{self, EventError};
use crate::gucs;
use crate::signature::{self, SignatureError};
use crate::sql_gen;
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys::{self, PgOid};
use pgrx::prelude::*;
use pgrx::spi::OwnedPreparedStatement;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    // Planned once per backend and table; Postgres re-plans them itself after DDL.
    static PLANS: RefCell<HashMap<&'static str, OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

fn verify(payload: &str, sig: Option<&str>) {
    let secrets = api_key::webhook_secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let tolerance = gucs::WEBHOOK_TOLERANCE.get() as i64;
    let result = match sig {
        None => Err(SignatureError::MissingHeader),
        Some(h) => signature::verify(payload.as_bytes(), h, &secrets, tolerance, now),
    };
    let Err(e) = result else { return };
    let (code, hint) = match e {
        SignatureError::NoSecretsConfigured => (
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "Run SELECT stripe.add_webhook_secret('whsec_…') as the extension owner.",
        ),
        SignatureError::TimestampOutsideTolerance { .. } => (
            PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
            "A replayed or delayed delivery, or a clock off by more than stripe.webhook_tolerance.",
        ),
        _ => (
            PgSqlErrorCode::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            "Pass the raw request body and the Stripe-Signature header unchanged.",
        ),
    };
    raise(code, format!("stripe.ingest_webhook: {e}"), Some(hint))
}

fn parse(payload: &str) -> event::Envelope {
    event::parse(payload).unwrap_or_else(|e| {
        let code = match e {
            EventError::Malformed(_) => PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
            EventError::NotAnEvent(_) => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        };
        raise(code, format!("stripe.ingest_webhook: {e}"), None)
    })
}

/// Runs the statement for `key` (planned on first use) and returns the status it reports.
fn run_plan(
    key: &'static str,
    sql: impl FnOnce() -> String,
    args: &[DatumWithOid],
) -> Option<String> {
    PLANS.with(|plans| {
        let mut plans = plans.borrow_mut();
        spi(
            "applying the event",
            Spi::connect_mut(|c| {
                if !plans.contains_key(key) {
                    let text = PgOid::BuiltIn(pg_sys::BuiltinOid::TEXTOID);
                    let boolean = PgOid::BuiltIn(pg_sys::BuiltinOid::BOOLOID);
                    let types = [text, text, boolean, boolean];
                    let plan = c.prepare_mut(sql().as_str(), &types[..args.len()])?.keep();
                    plans.insert(key, plan);
                }
                let plan = &plans[key];
                let rows = c.update(plan, None, args)?;
                // No row: the event id was already recorded (a duplicate delivery).
                if rows.is_empty() {
                    Ok(None)
                } else {
                    rows.first().get_one::<String>()
                }
            }),
        )
    })
}

/// Verifies and ingests one webhook delivery. Returns what happened:
/// `{"result": "applied" | "stale" | "ignored" | "duplicate", "event_id", "event_type", ...}`.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn ingest_webhook(payload: Option<&str>, sig: Option<&str>) -> pgrx::JsonB {
    let payload = payload.unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "stripe.ingest_webhook: payload is NULL".into(),
            None,
        )
    });
    verify(payload, sig);
    let ev = parse(payload);
    let status = match catalog::lookup_object(&ev.object_type) {
        Some(t) => {
            let args: [DatumWithOid; 4] = [
                payload.into(),
                ev.id.as_str().into(),
                catalog::is_deletion_event(&ev.event_type).into(),
                (!ev.event_type.ends_with(".created")).into(),
            ];
            run_plan(t.table, || sql_gen::apply_event(t), &args)
        }
        None => {
            let args: [DatumWithOid; 2] = [payload.into(), ev.id.as_str().into()];
            run_plan("", || sql_gen::RECORD_IGNORED_EVENT.to_string(), &args)
        }
    };
    pgrx::JsonB(serde_json::json!({
        "result": status.as_deref().unwrap_or("duplicate"),
        "event_id": ev.id,
        "event_type": ev.event_type,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
    }))
}
