//! `stripe.ingest_webhook(payload, sig)`: verify Stripe's signature, record the event once and
//! apply its object to the mirror, all in one statement.

use crate::api_key;
use crate::catalog;
use crate::errors::raise;
use crate::event::{self, EventError};
use crate::gucs;
use crate::signature::{self, SignatureError};
use crate::sql_gen;
use crate::writer::{self, Write};
use pgrx::prelude::*;
use std::time::{SystemTime, UNIX_EPOCH};

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
    let w = Write {
        json: payload,
        as_of: ev.created as f64,
        from: &ev.id,
        account: ev.account.as_deref(),
        // Within one second creation comes first: a *.created never wins a tie.
        wins_tie: !ev.event_type.ends_with(".created"),
        parent: None,
        deletes: catalog::is_deletion_event(&ev.event_type),
    };
    let outcome = match catalog::route_event(&ev.event_type, &ev.object_type) {
        Some(t) if t.name != "event" => writer::run(
            &format!("event:{}", t.table),
            || sql_gen::apply_event(t),
            &w,
        ),
        _ => writer::run("event:ignored", || sql_gen::RECORD_IGNORED_EVENT.into(), &w),
    };
    if let Some((_, truncated)) = &outcome {
        if truncated != "[]" && !truncated.is_empty() {
            // The object's nested list was cut at 10 entries: fetch the rest from the API.
            let interrupt = || {
                pgrx::check_for_interrupts!();
            };
            writer::complete_lists(&api_key::client(), truncated, &w, &interrupt);
        }
    }
    pgrx::JsonB(serde_json::json!({
        "result": outcome.as_ref().map_or("duplicate", |(status, _)| status.as_str()),
        "event_id": ev.id,
        "event_type": ev.event_type,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
    }))
}
