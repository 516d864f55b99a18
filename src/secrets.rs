//! Taking secrets in: `stripe.set_api_key`, `stripe.add_webhook_secret` and
//! `stripe.remove_webhook_secret`. The statement that calls them holds the secret, and Postgres
//! writes the statement of every failed call to the server log (`log_min_error_statement`,
//! ERROR by default): a refused caller, a mistyped key. So these functions are executable by
//! everyone and check the caller themselves, with that logging off for the call: a refusal is
//! an error of theirs, not Postgres' permission check, which runs before any function could
//! intervene. Only a role with EXECUTE on the marker `stripe._manage_secrets()` (the
//! extension's owner, and roles given `stripe.grant_admin_access`) gets past the check; the
//! secrets are then written as the extension's owner into its owner-only tables.

use crate::errors::{raise, spi};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// While it lives, a failed statement's text is not logged: `log_min_error_statement = panic`
/// in a GUC nest level of its own, undone when it is dropped normally. An error unwinding
/// through it leaves the setting in place until the transaction's abort, which runs after the
/// error has been reported: that report is the one that must not show the statement.
struct Unlogged {
    level: i32,
}

impl Unlogged {
    fn new() -> Unlogged {
        // SAFETY: NewGUCNestLevel / set_config_option with GUC_ACTION_SAVE is how a function's
        // SET clause is applied (fmgr_security_definer); superuser context because the setting
        // is one, as the clause of a superuser-owned function would be.
        unsafe {
            let level = pg_sys::NewGUCNestLevel();
            pg_sys::set_config_option(
                c"log_min_error_statement".as_ptr(),
                c"panic".as_ptr(),
                pg_sys::GucContext::PGC_SUSET,
                pg_sys::GucSource::PGC_S_SESSION,
                pg_sys::GucAction::GUC_ACTION_SAVE,
                true,
                0,
                false,
            );
            Unlogged { level }
        }
    }
}

impl Drop for Unlogged {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // SAFETY: closes the nest level opened in `new`, keeping nothing of it.
            unsafe { pg_sys::AtEOXact_GUC(true, self.level) };
        }
    }
}

/// Refuses a caller who may not manage secrets (42501), as Postgres' own check would.
fn require_privilege(function: &str) {
    let allowed = spi(
        "checking privileges",
        Spi::get_one::<bool>(
            "SELECT has_function_privilege('stripe._manage_secrets()', 'EXECUTE')",
        ),
    );
    if allowed != Some(true) {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("permission denied for function {function}"),
            Some(
                "The extension's owner can allow a role: SELECT stripe.grant_admin_access('role');",
            ),
        );
    }
}

/// Runs `work` (SPI on the owner-only tables) as the extension's owner, like SECURITY DEFINER.
fn as_owner<T>(work: impl FnOnce() -> T) -> T {
    let owner = spi(
        "finding the extension's owner",
        Spi::get_one::<pg_sys::Oid>(
            "SELECT extowner FROM pg_extension WHERE extname = 'djstripe_pg'",
        ),
    )
    .unwrap_or(pg_sys::InvalidOid);
    let (mut caller, mut context) = (pg_sys::InvalidOid, 0);
    // SAFETY: the switch fmgr_security_definer makes; an error in `work` aborts the
    // (sub)transaction, whose abort restores the user id.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut caller, &mut context);
        pg_sys::SetUserIdAndSecContext(
            owner,
            context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32,
        );
    }
    let value = work();
    unsafe { pg_sys::SetUserIdAndSecContext(caller, context) };
    value
}

/// Stripe's keys and secrets are about 100 characters; far longer is a paste gone wrong, which
/// would replace the working key.
const MAX_SECRET_LEN: usize = 255;

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SECRET_LEN
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Stripe secret keys are `sk_…` (secret) or `rk_…` (restricted); publishable keys (`pk_…`)
/// cannot read the API.
fn is_secret_key(key: &str) -> bool {
    ["sk_test_", "sk_live_", "rk_test_", "rk_live_"]
        .iter()
        .any(|p| key.strip_prefix(p).is_some_and(is_word))
}

fn is_signing_secret(secret: &str) -> bool {
    secret.strip_prefix("whsec_").is_some_and(is_word)
}

/// Stores the Stripe secret key used by every request. Messages name the problem, never the key.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn set_api_key(key: Option<&str>) {
    let _unlogged = Unlogged::new();
    require_privilege("stripe.set_api_key");
    let Some(key) = key.filter(|k| is_secret_key(k)) else {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "stripe.set_api_key: not a Stripe secret key".into(),
            Some("Use a secret key (sk_test_…, sk_live_…) or a restricted key (rk_…) from the Stripe dashboard."),
        )
    };
    as_owner(|| {
        spi(
            "storing the API key",
            Spi::run_with_args(
                "INSERT INTO stripe_secrets.api_key (singleton, api_key) VALUES (true, $1) \
                 ON CONFLICT (singleton) DO UPDATE SET api_key = excluded.api_key, set_at = now()",
                &[key.into()],
            ),
        )
    });
}

/// Adds a webhook signing secret; several may be active at once (rotation).
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn add_webhook_secret(secret: Option<&str>) {
    let _unlogged = Unlogged::new();
    require_privilege("stripe.add_webhook_secret");
    let Some(secret) = secret.filter(|s| is_signing_secret(s)) else {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "stripe.add_webhook_secret: not a webhook signing secret".into(),
            Some("Signing secrets start with whsec_; copy it from the webhook endpoint or `stripe listen`."),
        )
    };
    as_owner(|| {
        spi(
            "storing the webhook secret",
            Spi::run_with_args(
                "INSERT INTO stripe_secrets.webhook_secrets (secret) VALUES ($1) ON CONFLICT DO NOTHING",
                &[secret.into()],
            ),
        )
    });
}

/// Removes a webhook signing secret; returns whether it was configured.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn remove_webhook_secret(secret: Option<&str>) -> bool {
    let _unlogged = Unlogged::new();
    require_privilege("stripe.remove_webhook_secret");
    let Some(secret) = secret else {
        return false;
    };
    as_owner(|| {
        spi(
            "removing the webhook secret",
            Spi::get_one_with_args::<bool>(
                "WITH gone AS (DELETE FROM stripe_secrets.webhook_secrets WHERE secret = $1 RETURNING 1) \
                 SELECT count(*) > 0 FROM gone",
                &[secret.into()],
            ),
        )
    })
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_secret_shapes() {
        assert!(is_secret_key("sk_test_abc123") && is_secret_key("rk_live_X_9"));
        for bad in [
            "pk_test_abc",
            "sk_test_",
            "sk_test_a b",
            "sk_prod_abc",
            "abc",
            "sk_test_é",
        ] {
            assert!(!is_secret_key(bad), "{bad}");
        }
        let long = format!("sk_test_{}", "a".repeat(300));
        assert!(!is_secret_key(&long) && is_secret_key(&long[..200]));
        assert!(
            is_signing_secret("whsec_abc")
                && !is_signing_secret("whsec_")
                && !is_signing_secret("sk_test_x")
        );
    }
}
