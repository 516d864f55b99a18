//! Reading secrets from their owner-only tables. Only SECURITY DEFINER functions call these, so
//! the caller never needs (or gets) privileges on the tables themselves.

use crate::errors::{raise, spi};
use pgrx::prelude::*;

thread_local! {
    // The key this backend last read: what every message it reports is scrubbed of.
    static KNOWN: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The API key this backend last read ("" if none): a server may echo it in anything it sends.
pub fn known() -> String {
    KNOWN.with(|k| k.borrow().clone())
}

pub fn api_key() -> String {
    let key = spi(
        "reading the API key",
        Spi::get_one::<String>("SELECT (SELECT api_key FROM stripe_secrets.api_key)"),
    );
    if let Some(k) = &key {
        KNOWN.with(|known| known.borrow_mut().clone_from(k));
    }
    key.unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "no Stripe API key is configured".into(),
            Some("Run SELECT stripe.set_api_key('sk_test_…') as the extension owner."),
        )
    })
}

thread_local! {
    static SECRETS_PLAN: crate::kept_plans::KeptPlan = const { std::cell::RefCell::new(None) };
}

pub fn webhook_secrets() -> Vec<String> {
    let secrets = spi(
        "reading webhook secrets",
        crate::kept_plans::select_one::<Vec<String>>(
            &SECRETS_PLAN,
            "SELECT coalesce(array_agg(secret ORDER BY added_at DESC), '{}') \
             FROM stripe_secrets.webhook_secrets",
        ),
    );
    secrets.unwrap_or_default()
}

/// A Stripe client configured from the `stripe.*` settings and the stored key.
pub fn client() -> crate::client::Client {
    use crate::gucs;
    let retry = crate::retry::RetryPolicy {
        max_attempts: gucs::MAX_RETRIES.get().max(0) as u32 + 1,
        ..Default::default()
    };
    crate::client::Client::new(crate::client::ClientConfig {
        api_base: gucs::api_base(),
        api_key: api_key(),
        api_version: gucs::api_version(),
        timeout: std::time::Duration::from_secs(gucs::HTTP_TIMEOUT.get().max(1) as u64),
        retry,
        user_agent: format!("djstripe_pg/{}", env!("CARGO_PKG_VERSION")),
        account: None,
    })
}
