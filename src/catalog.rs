//! The catalog of Stripe object types the mirror keeps. Each type is declared once here;
//! sync, webhook ingest, the SQL view of types and the tests all iterate `CATALOG`.
//! Pure Rust: nothing here knows about Postgres beyond table names.

/// How Stripe signals that an object is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// `DELETE /v1/<type>/<id>` exists, a `<prefix>.deleted` event is sent, and the list
    /// endpoint stops returning the object. A full sync marks rows it no longer sees.
    Deleted,
    /// The object is never removed, only archived (e.g. `active = false`); every object stays
    /// in the list, so a full sync never marks anything deleted.
    Archived,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectType {
    /// Stripe's `object` field, e.g. `customer`, `checkout.session`.
    pub object: &'static str,
    /// Table in the `stripe` schema.
    pub table: &'static str,
    /// List endpoint; also `<list_path>/<id>` retrieves one object.
    pub list_path: &'static str,
    /// Event types `<event_prefix>.*` carry this object in `data.object`.
    pub event_prefix: &'static str,
    pub deletion: Deletion,
    /// Whether the list endpoint accepts `created[gte]` (for `since` windows).
    pub created_filter: bool,
    /// Fixed query parameters every list call needs (e.g. `status=all`).
    pub list_params: &'static [(&'static str, &'static str)],
}

const BASE: ObjectType = ObjectType {
    object: "",
    table: "",
    list_path: "",
    event_prefix: "",
    deletion: Deletion::Deleted,
    created_filter: true,
    list_params: &[],
};

/// In dependency order: a type comes after the types its rows refer to, so `sync_all`
/// fills parents first.
pub static CATALOG: &[ObjectType] = &[
    ObjectType {
        object: "customer",
        table: "customers",
        list_path: "/v1/customers",
        event_prefix: "customer",
        ..BASE
    },
    ObjectType {
        object: "product",
        table: "products",
        list_path: "/v1/products",
        event_prefix: "product",
        ..BASE
    },
    ObjectType {
        object: "price",
        table: "prices",
        list_path: "/v1/prices",
        event_prefix: "price",
        ..BASE
    },
];

/// Finds a type by Stripe's object name (`customer`) or by its table name (`customers`).
pub fn lookup(name: &str) -> Option<&'static ObjectType> {
    let name = name.trim();
    CATALOG
        .iter()
        .find(|t| t.object.eq_ignore_ascii_case(name) || t.table.eq_ignore_ascii_case(name))
}

/// Finds a type by the exact `object` value of a Stripe object, as events carry it.
pub fn lookup_object(object: &str) -> Option<&'static ObjectType> {
    CATALOG.iter().find(|t| t.object == object)
}

/// Comma-separated object names, for error messages that list what is supported.
pub fn known_names() -> String {
    CATALOG
        .iter()
        .map(|t| t.object)
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when an event of this type means its `data.object` no longer exists.
pub fn is_deletion_event(event_type: &str) -> bool {
    event_type.ends_with(".deleted")
}

impl ObjectType {
    /// Fully qualified, quoted table name for SQL built from the catalog.
    pub fn qualified_table(&self) -> String {
        format!("stripe.{}", quote_ident(self.table))
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
        let mut objects = HashSet::new();
        let mut tables = HashSet::new();
        for t in CATALOG {
            assert!(objects.insert(t.object), "duplicate object {}", t.object);
            assert!(tables.insert(t.table), "duplicate table {}", t.table);
            assert!(t.list_path.starts_with("/v1/"), "{}", t.list_path);
            assert_eq!(quote_ident(t.table), t.table, "table names need no quoting");
            assert!(!t.event_prefix.is_empty());
        }
    }

    #[test]
    fn lookup_by_object_or_table() {
        assert_eq!(lookup("customer").unwrap().table, "customers");
        assert_eq!(lookup("Prices").unwrap().object, "price");
        assert!(lookup("nonsense").is_none());
        assert_eq!(lookup_object("product").unwrap().table, "products");
        assert!(lookup_object("products").is_none());
        assert!(known_names().contains("customer, product, price"));
    }

    #[test]
    fn deletion_events() {
        assert!(is_deletion_event("customer.deleted"));
        assert!(!is_deletion_event("customer.updated"));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1a"), "\"1a\"");
    }
}
