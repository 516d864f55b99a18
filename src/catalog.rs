//! The catalog of Stripe object types the mirror keeps. Each type is declared once here;
//! sync, webhook ingest, the SQL view of types and the tests all iterate `CATALOG`.
//! Pure Rust: nothing here knows about Postgres beyond table names.

/// How Stripe signals that an object is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// A `DELETE` endpoint exists, a `*.deleted` event is sent, and the list endpoint stops
    /// returning the object. A full sync marks rows it no longer sees.
    Deleted,
    /// Never removed: the object ends in a status (e.g. a subscription's `canceled`), which
    /// the list still returns (with `list_params` where Stripe needs asking).
    Status(&'static str),
    /// Never removed, only archived or left as a record (e.g. `active = false`, a charge).
    Kept,
}

/// Where a type hangs off another type: types listable only per parent, and nested lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    /// Catalog name of the parent type.
    pub name: &'static str,
    /// Column of this table holding the parent's id (indexed).
    pub column: &'static str,
    /// The parent object's list field that inlines up to 10 of these (`lines`), if any.
    pub inline_field: Option<&'static str>,
    /// Field of this object naming its parent, for rows that arrive on their own (events).
    pub own_field: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectType {
    /// Catalog key: Stripe's `object` name for top-level types (`checkout.session`).
    pub name: &'static str,
    /// Values of Stripe's `object` field this table stores.
    pub objects: &'static [&'static str],
    /// Table in the `stripe` schema.
    pub table: &'static str,
    /// List endpoint, `{parent}` standing for a parent id; `None` where Stripe has none.
    pub list_path: Option<&'static str>,
    pub parent: Option<Parent>,
    /// Event types `<prefix>.<action>` carry this type in `data.object`.
    pub event_prefixes: &'static [&'static str],
    pub deletion: Deletion,
    /// Whether the list endpoint accepts `created[gte]` (for `since` windows).
    pub created_filter: bool,
    /// Fixed query parameters every list call needs (e.g. `status=all`).
    pub list_params: &'static [(&'static str, &'static str)],
    /// Fields holding another catalog type's object inline (`discount`), mirrored with it.
    pub embeds: &'static [(&'static str, &'static str)],
    /// A field Stripe bumps on every change (`updated`): between two versions of one object it
    /// orders them more finely than the time of their event or fetch.
    pub version_field: Option<&'static str>,
    /// Where one object is retrieved when the list endpoint's path plus `/{id}` is not it.
    pub retrieve_path: Option<&'static str>,
}

const BASE: ObjectType = ObjectType {
    name: "",
    objects: &[],
    table: "",
    list_path: None,
    parent: None,
    event_prefixes: &[],
    deletion: Deletion::Kept,
    created_filter: true,
    list_params: &[],
    embeds: &[],
    version_field: None,
    retrieve_path: None,
};

/// Declares a top-level type whose name, object and event prefix are all `$name`.
macro_rules! top {
    ($name:literal, $table:literal, $path:literal $(, $field:ident : $value:expr)* $(,)?) => {
        ObjectType {
            $($field: $value,)*
            ..ObjectType {
                name: $name,
                objects: &[$name],
                table: $table,
                list_path: Some($path),
                event_prefixes: &[$name],
                ..BASE
            }
        }
    };
}

const fn parent(name: &'static str, column: &'static str) -> Option<Parent> {
    Some(Parent {
        name,
        column,
        inline_field: None,
        own_field: None,
    })
}

const fn nested(name: &'static str, column: &'static str, field: &'static str) -> Option<Parent> {
    Some(Parent {
        name,
        column,
        inline_field: Some(field),
        own_field: None,
    })
}

use Deletion::{Deleted, Status};

/// In dependency order: a type comes after the types its rows refer to, so `sync_all`
/// fills parents first and per-parent types find their parents already mirrored.
pub static CATALOG: &[ObjectType] = &[
    // Core
    top!("account", "accounts", "/v1/accounts", deletion: Deleted),
    top!("customer", "customers", "/v1/customers", deletion: Deleted,
         embeds: &[("discount", "discount")]),
    top!("product", "products", "/v1/products", deletion: Deleted, version_field: Some("updated")),
    top!("price", "prices", "/v1/prices", deletion: Deleted),
    top!("plan", "plans", "/v1/plans", deletion: Deleted),
    top!("coupon", "coupons", "/v1/coupons", deletion: Deleted),
    top!("promotion_code", "promotion_codes", "/v1/promotion_codes"),
    top!("tax_rate", "tax_rates", "/v1/tax_rates"),
    top!("tax_code", "tax_codes", "/v1/tax_codes", created_filter: false),
    top!("shipping_rate", "shipping_rates", "/v1/shipping_rates"),
    top!("billing.meter", "billing_meters", "/v1/billing/meters", created_filter: false,
         version_field: Some("updated")),
    top!("entitlements.feature", "entitlements_features", "/v1/entitlements/features",
         created_filter: false),
    top!("file", "files", "/v1/files"),
    top!("file_link", "file_links", "/v1/file_links"),
    top!("payment_intent", "payment_intents", "/v1/payment_intents", deletion: Status("canceled")),
    top!("setup_intent", "setup_intents", "/v1/setup_intents", deletion: Status("canceled"),
         // Mandates have no list endpoint: they arrive expanded here, or in mandate.* events.
         embeds: &[("mandate", "mandate"), ("single_use_mandate", "mandate")]),
    top!("charge", "charges", "/v1/charges"),
    top!("refund", "refunds", "/v1/refunds", event_prefixes: &["refund", "charge.refund"]),
    top!("dispute", "disputes", "/v1/disputes", event_prefixes: &["charge.dispute"]),
    top!("review", "reviews", "/v1/reviews"),
    top!("radar.early_fraud_warning", "early_fraud_warnings", "/v1/radar/early_fraud_warnings",
         created_filter: false),
    top!("payout", "payouts", "/v1/payouts"),
    top!(
        "balance_transaction",
        "balance_transactions",
        "/v1/balance_transactions"
    ),
    // Billing
    top!("subscription", "subscriptions", "/v1/subscriptions",
         event_prefixes: &["customer.subscription"], deletion: Status("canceled"),
         list_params: &[("status", "all")], embeds: &[("discount", "discount")]),
    ObjectType {
        name: "subscription_item",
        objects: &["subscription_item"],
        table: "subscription_items",
        list_path: Some("/v1/subscription_items?subscription={parent}"),
        parent: Some(Parent {
            name: "subscription",
            column: "subscription",
            inline_field: Some("items"),
            own_field: Some("subscription"),
        }),
        deletion: Deleted,
        created_filter: false,
        ..BASE
    },
    top!("subscription_schedule", "subscription_schedules", "/v1/subscription_schedules",
         deletion: Status("canceled")),
    top!("invoice", "invoices", "/v1/invoices", deletion: Deleted,
         embeds: &[("discount", "discount")]),
    ObjectType {
        name: "line_item",
        objects: &["line_item"],
        table: "invoice_lines",
        list_path: Some("/v1/invoices/{parent}/lines"),
        parent: Some(Parent {
            name: "invoice",
            column: "invoice",
            inline_field: Some("lines"),
            own_field: Some("invoice"),
        }),
        created_filter: false,
        ..BASE
    },
    top!("invoiceitem", "invoiceitems", "/v1/invoiceitems", deletion: Deleted),
    top!("credit_note", "credit_notes", "/v1/credit_notes", created_filter: false,
         deletion: Status("void")),
    ObjectType {
        name: "credit_note_line_item",
        objects: &["credit_note_line_item"],
        table: "credit_note_lines",
        list_path: Some("/v1/credit_notes/{parent}/lines"),
        parent: nested("credit_note", "credit_note", "lines"),
        created_filter: false,
        ..BASE
    },
    top!("quote", "quotes", "/v1/quotes", created_filter: false, deletion: Status("canceled")),
    ObjectType {
        name: "discount",
        objects: &["discount"],
        table: "discounts",
        event_prefixes: &["customer.discount"],
        deletion: Deleted,
        ..BASE
    },
    ObjectType {
        name: "tax_id",
        objects: &["tax_id"],
        table: "tax_ids",
        list_path: Some("/v1/customers/{parent}/tax_ids"),
        parent: Some(Parent {
            name: "customer",
            column: "customer",
            inline_field: None,
            own_field: Some("customer"),
        }),
        event_prefixes: &["customer.tax_id"],
        deletion: Deleted,
        created_filter: false,
        ..BASE
    },
    // Payment methods
    ObjectType {
        name: "payment_method",
        objects: &["payment_method"],
        table: "payment_methods",
        list_path: Some("/v1/customers/{parent}/payment_methods"),
        parent: Some(Parent {
            name: "customer",
            column: "customer",
            inline_field: None,
            own_field: Some("customer"),
        }),
        event_prefixes: &["payment_method"],
        created_filter: false,
        ..BASE
    },
    ObjectType {
        name: "customer_source",
        objects: &["card", "bank_account", "source"],
        table: "customer_sources",
        list_path: Some("/v1/customers/{parent}/sources"),
        parent: Some(Parent {
            name: "customer",
            column: "customer",
            inline_field: None,
            own_field: Some("customer"),
        }),
        event_prefixes: &["customer.source"],
        deletion: Deleted,
        created_filter: false,
        ..BASE
    },
    ObjectType {
        name: "mandate",
        objects: &["mandate"],
        table: "mandates",
        event_prefixes: &["mandate"],
        retrieve_path: Some("/v1/mandates"),
        ..BASE
    },
    // Checkout
    top!("checkout.session", "checkout_sessions", "/v1/checkout/sessions", created_filter: false),
    ObjectType {
        name: "checkout.session.line_item",
        objects: &["item"],
        table: "checkout_session_line_items",
        list_path: Some("/v1/checkout/sessions/{parent}/line_items"),
        parent: nested("checkout.session", "checkout_session", "line_items"),
        created_filter: false,
        ..BASE
    },
    // Connect
    top!(
        "application_fee",
        "application_fees",
        "/v1/application_fees"
    ),
    ObjectType {
        name: "fee_refund",
        objects: &["fee_refund"],
        table: "application_fee_refunds",
        list_path: Some("/v1/application_fees/{parent}/refunds"),
        parent: Some(Parent {
            name: "application_fee",
            column: "fee",
            inline_field: Some("refunds"),
            own_field: Some("fee"),
        }),
        event_prefixes: &["application_fee.refund"],
        created_filter: false,
        ..BASE
    },
    top!("transfer", "transfers", "/v1/transfers"),
    ObjectType {
        name: "transfer_reversal",
        objects: &["transfer_reversal"],
        table: "transfer_reversals",
        list_path: Some("/v1/transfers/{parent}/reversals"),
        parent: Some(Parent {
            name: "transfer",
            column: "transfer",
            inline_field: Some("reversals"),
            own_field: Some("transfer"),
        }),
        created_filter: false,
        ..BASE
    },
    ObjectType {
        name: "external_account",
        objects: &["card", "bank_account"],
        table: "external_accounts",
        list_path: Some("/v1/accounts/{parent}/external_accounts"),
        parent: Some(Parent {
            name: "account",
            column: "account",
            inline_field: None,
            own_field: Some("account"),
        }),
        event_prefixes: &["account.external_account"],
        deletion: Deleted,
        created_filter: false,
        ..BASE
    },
    // Entitlements
    ObjectType {
        name: "product_feature",
        objects: &["product_feature"],
        table: "product_features",
        list_path: Some("/v1/products/{parent}/features"),
        parent: parent("product", "product"),
        deletion: Deleted,
        created_filter: false,
        ..BASE
    },
    ObjectType {
        name: "entitlements.active_entitlement",
        objects: &["entitlements.active_entitlement"],
        table: "active_entitlements",
        list_path: Some("/v1/entitlements/active_entitlements?customer={parent}"),
        parent: parent("customer", "customer"),
        deletion: Deleted,
        created_filter: false,
        ..BASE
    },
    // Identity
    top!("identity.verification_session", "identity_verification_sessions",
         "/v1/identity/verification_sessions", deletion: Status("canceled")),
    top!(
        "identity.verification_report",
        "identity_verification_reports",
        "/v1/identity/verification_reports"
    ),
    // Issuing (its events spell the prefix with an underscore: issuing_card.created)
    top!("issuing.cardholder", "issuing_cardholders", "/v1/issuing/cardholders",
         event_prefixes: &["issuing_cardholder"]),
    top!("issuing.card", "issuing_cards", "/v1/issuing/cards", event_prefixes: &["issuing_card"]),
    top!("issuing.authorization", "issuing_authorizations", "/v1/issuing/authorizations",
         event_prefixes: &["issuing_authorization"]),
    top!("issuing.transaction", "issuing_transactions", "/v1/issuing/transactions",
         event_prefixes: &["issuing_transaction"]),
    top!("issuing.dispute", "issuing_disputes", "/v1/issuing/disputes",
         event_prefixes: &["issuing_dispute"]),
    // Events themselves, from the Events API (Stripe keeps 30 days)
    // No event prefixes: events are never routed into their own table as objects.
    top!("event", "events", "/v1/events", event_prefixes: &[]),
];

/// Finds a type by its catalog name (`customer`, `checkout.session`) or its table name.
pub fn lookup(name: &str) -> Option<&'static ObjectType> {
    let name = name.trim();
    CATALOG
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name) || t.table.eq_ignore_ascii_case(name))
}

/// The type an event's `data.object` belongs to, among the types events carry (those with
/// event prefixes): the longest prefix that matches (`customer.source.created` → customer
/// sources, not customers), provided the object's `object` is one the type stores; otherwise
/// the single such type storing that object.
pub fn route_event(event_type: &str, object: &str) -> Option<&'static ObjectType> {
    let by_prefix = CATALOG
        .iter()
        .flat_map(|t| t.event_prefixes.iter().map(move |p| (t, *p)))
        .filter(|(_, p)| {
            event_type.len() > p.len()
                && event_type.starts_with(p)
                && event_type.as_bytes()[p.len()] == b'.'
                && !event_type[p.len() + 1..].contains('.')
        })
        .max_by_key(|(_, p)| p.len())
        .map(|(t, _)| t);
    match by_prefix {
        Some(t) if t.objects.contains(&object) => Some(t),
        _ => {
            let mut storing = CATALOG
                .iter()
                .filter(|t| !t.event_prefixes.is_empty() && t.objects.contains(&object));
            match (storing.next(), storing.next()) {
                (Some(t), None) => Some(t),
                _ => None,
            }
        }
    }
}

/// Comma-separated catalog names, for error messages that list what is supported.
pub fn known_names() -> String {
    CATALOG
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// True for the `*.deleted` events: the last thing that happens to an object. Whether the
/// object is then gone depends on its type (`ObjectType::event_deletes`).
pub fn is_deletion_event(event_type: &str) -> bool {
    event_type.ends_with(".deleted")
}

impl ObjectType {
    /// Fully qualified table name for SQL built from the catalog.
    pub fn qualified_table(&self) -> String {
        format!("stripe.{}", quote_ident(self.table))
    }

    /// Types nested in this one (their parent is this type).
    pub fn children(&self) -> impl Iterator<Item = &'static ObjectType> + '_ {
        CATALOG
            .iter()
            .filter(move |c| c.parent.is_some_and(|p| p.name == self.name))
    }

    /// Whether a full list of this type can be fetched without knowing a parent.
    pub fn top_level_list(&self) -> Option<&'static str> {
        self.list_path.filter(|p| !p.contains("{parent}"))
    }

    /// Whether an event of `event_type` means Stripe removed the object. A `*.deleted` event of
    /// a type that ends in a status (`customer.subscription.deleted`: canceled) is the object's
    /// final state, not its removal: the row stays, not deleted, as a later sync finds it.
    pub fn event_deletes(&self, event_type: &str) -> bool {
        is_deletion_event(event_type) && !matches!(self.deletion, Deletion::Status(_))
    }

    /// Whether a complete walk of this type's list may point at deleted objects (each is
    /// retrieved before it is marked).
    pub fn sweeps(&self) -> bool {
        self.deletion == Deletion::Deleted && self.list_path.is_some()
    }

    /// The path that retrieves one object (`/v1/customers/cus_1`), its parent's id in place of
    /// `{parent}`; ids are percent-encoded. None where Stripe has no such endpoint, or the type
    /// hangs off a parent and none is known.
    pub fn object_path(&self, parent: Option<&str>, id: &str) -> Option<String> {
        let base = self
            .retrieve_path
            .or_else(|| self.list_path.map(|p| p.split('?').next().unwrap_or(p)))?;
        let base = if base.contains("{parent}") {
            base.replace("{parent}", &crate::form::path_segment(parent?))
        } else {
            base.to_string()
        };
        Some(format!("{base}/{}", crate::form::path_segment(id)))
    }

    /// The list endpoint of one parent's objects (`/v1/customers/cus_1/tax_ids`, or
    /// `/v1/subscription_items?subscription=sub_1`), the parent's id percent-encoded.
    pub fn parent_list_path(&self, parent: &str) -> Option<String> {
        let path = self.list_path?;
        Some(path.replace("{parent}", &crate::form::path_segment(parent)))
    }
}

/// Quotes an SQL identifier. Catalog names are constants, but quoting keeps generated SQL
/// correct if a future name needs it.
pub fn quote_ident(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut names = HashSet::new();
        let mut tables = HashSet::new();
        for t in CATALOG {
            assert!(names.insert(t.name), "duplicate name {}", t.name);
            assert!(tables.insert(t.table), "duplicate table {}", t.table);
            assert!(!t.objects.is_empty(), "{}", t.name);
            if let Some(p) = t.list_path {
                assert!(p.starts_with("/v1/"), "{p}");
                assert_eq!(p.contains("{parent}"), t.parent.is_some(), "{}", t.name);
            }
            assert_eq!(quote_ident(t.table), t.table, "table names need no quoting");
        }
    }

    #[test]
    fn parents_come_first_and_exist() {
        for (i, t) in CATALOG.iter().enumerate() {
            if let Some(p) = t.parent {
                let at = CATALOG.iter().position(|x| x.name == p.name);
                assert!(
                    at.is_some_and(|at| at < i),
                    "{} must follow {}",
                    t.name,
                    p.name
                );
            }
            for (_, embedded) in t.embeds {
                assert!(
                    lookup(embedded).is_some(),
                    "{} embeds unknown {embedded}",
                    t.name
                );
            }
        }
    }

    #[test]
    fn lookup_by_name_or_table() {
        assert_eq!(lookup("customer").unwrap().table, "customers");
        assert_eq!(lookup("Prices").unwrap().name, "price");
        assert_eq!(
            lookup("checkout.session").unwrap().table,
            "checkout_sessions"
        );
        assert!(lookup("nonsense").is_none());
        assert!(known_names().starts_with("account, customer, product, price"));
    }

    #[test]
    fn events_route_by_longest_prefix() {
        let r = |e, o| route_event(e, o).map(|t| t.table);
        assert_eq!(r("customer.updated", "customer"), Some("customers"));
        assert_eq!(
            r("customer.subscription.updated", "subscription"),
            Some("subscriptions")
        );
        assert_eq!(
            r("customer.source.created", "card"),
            Some("customer_sources")
        );
        assert_eq!(
            r("account.external_account.created", "card"),
            Some("external_accounts")
        );
        assert_eq!(r("charge.dispute.created", "dispute"), Some("disputes"));
        assert_eq!(r("charge.refunded", "charge"), Some("charges"));
        assert_eq!(r("charge.refund.updated", "refund"), Some("refunds"));
        assert_eq!(
            r("issuing_card.created", "issuing.card"),
            Some("issuing_cards")
        );
        assert_eq!(r("invoice.payment_succeeded", "invoice"), Some("invoices"));
        assert_eq!(
            r("application_fee.refund.updated", "fee_refund"),
            Some("application_fee_refunds")
        );
        assert_eq!(r("plan.created", "plan"), Some("plans"));
        assert_eq!(r("balance.available", "balance"), None);
        assert_eq!(
            r("something.new", "event"),
            None,
            "events are not routed to themselves"
        );
        // An object no prefix claims but exactly one type stores:
        assert_eq!(r("something.new", "mandate"), Some("mandates"));
        // card is stored by two types: only a prefix can decide.
        assert_eq!(r("something.new", "card"), None);
    }

    #[test]
    fn deletion_events() {
        assert!(is_deletion_event("customer.deleted"));
        assert!(!is_deletion_event("customer.updated"));
        let t = |n| lookup(n).unwrap();
        assert!(t("customer").event_deletes("customer.deleted"));
        assert!(t("tax_id").event_deletes("customer.tax_id.deleted"));
        // A canceled subscription is still there, with its final status.
        assert!(!t("subscription").event_deletes("customer.subscription.deleted"));
        assert!(!t("customer").event_deletes("customer.updated"));
    }

    #[test]
    fn object_paths() {
        let t = |n| lookup(n).unwrap();
        let path = |n, parent, id| t(n).object_path(parent, id);
        assert_eq!(
            path("customer", None, "cus_1").as_deref(),
            Some("/v1/customers/cus_1")
        );
        assert_eq!(
            path("tax_id", Some("cus_1"), "txi_1").as_deref(),
            Some("/v1/customers/cus_1/tax_ids/txi_1")
        );
        assert_eq!(path("tax_id", None, "txi_1"), None, "needs its parent");
        assert_eq!(
            path("subscription_item", None, "si_1").as_deref(),
            Some("/v1/subscription_items/si_1")
        );
        assert_eq!(
            path("mandate", None, "mandate_1").as_deref(),
            Some("/v1/mandates/mandate_1")
        );
        assert_eq!(path("discount", None, "di_1"), None);
        // Ids from data are one path segment, whatever they hold.
        assert_eq!(
            path("customer", None, "a/../b?x=1").as_deref(),
            Some("/v1/customers/a%2F..%2Fb%3Fx%3D1")
        );
        assert_eq!(
            t("subscription_item").parent_list_path("sub 1").as_deref(),
            Some("/v1/subscription_items?subscription=sub%201")
        );
        let swept: Vec<_> = CATALOG
            .iter()
            .filter(|t| t.sweeps())
            .map(|t| t.name)
            .collect();
        assert!(
            swept.contains(&"customer") && swept.contains(&"tax_id"),
            "{swept:?}"
        );
        assert!(!swept.contains(&"subscription") && !swept.contains(&"discount"));
        for t in CATALOG.iter().filter(|t| t.sweeps()) {
            assert!(
                t.object_path(Some("p"), "x").is_some(),
                "{} can be retrieved",
                t.name
            );
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1a"), "\"1a\"");
    }
}
