//! `stripe.ingest_webhook(payload, sig)`: verify Stripe's signature, record the event once and
//! apply its object to the mirror, all in one statement.

use crate::api_key;
use crate::errors::raise;
use crate::event::{self, EventError};
use crate::gucs;
use crate::processing;
use crate::signature::{self, SignatureError};
use crate::sql_gen;
use crate::writer;
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
    // A stale timestamp is an authentication failure like a wrong signature (28000): no other
    // failure of a delivery shares the code, so callers can tell them from payloads that fail.
    let (code, hint) = match e {
        SignatureError::NoSecretsConfigured => (
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "Run SELECT stripe.add_webhook_secret('whsec_…') as the extension owner.",
        ),
        SignatureError::TimestampOutsideTolerance { .. } => (
            PgSqlErrorCode::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            "A replayed or delayed delivery, or a clock off by more than stripe.webhook_tolerance.",
        ),
        _ => (
            PgSqlErrorCode::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            "Pass the raw request body and the Stripe-Signature header unchanged.",
        ),
    };
    raise(code, format!("stripe.ingest_webhook: {e}"), Some(hint))
}

pub fn parse(payload: &str) -> event::Envelope {
    event::parse(payload).unwrap_or_else(|e| {
        let code = match e {
            EventError::Malformed(_) => PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
            EventError::NotAnEvent(_) => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        };
        raise(code, format!("stripe.ingest_webhook: {e}"), None)
    })
}

/// Verifies and ingests one webhook delivery. Returns what happened:
/// `{"result": "applied" | "stale" | "ignored" | "duplicate" | "queued", "event_id", ...}`.
/// With `stripe.ingest_mode = queue` it only verifies and records; the worker applies.
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
    let status = if gucs::queue_mode() {
        let w = processing::write_for(payload, &ev, None);
        let queued = writer::run("event:queue", || sql_gen::QUEUE_EVENT.into(), &w);
        if queued.is_some() {
            crate::wake::after_commit(crate::wake::Worker::Events);
        }
        queued.map(|_| "queued".to_string())
    } else {
        processing::apply(payload, &ev)
    };
    pgrx::JsonB(serde_json::json!({
        "result": status.as_deref().unwrap_or("duplicate"),
        "event_id": ev.id,
        "event_type": ev.event_type,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
    }))
}
