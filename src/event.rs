//! Parsing the envelope of a Stripe event: the few fields ingest needs to route it.
//! The body itself is handed to Postgres untouched; only these fields are read here.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: String,
    pub event_type: String,
    pub created: i64,
    pub api_version: Option<String>,
    pub livemode: bool,
    /// The Connect account the event happened on (`account`), absent for the platform's own.
    pub account: Option<String>,
    /// `data.object.object`, e.g. `customer`.
    pub object_type: String,
    /// `data.object.id`; some objects (e.g. `balance`) have none.
    pub object_id: Option<String>,
    /// Top-level fields of `data.object` holding a JSON object (nested lists, embedded objects),
    /// sorted: the write statement only touches the tables these can fill.
    pub nested_objects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// Not JSON at all (serde's message, with line and column).
    Malformed(String),
    /// Valid JSON but not a Stripe event; says which field is missing or wrong.
    NotAnEvent(String),
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::Malformed(m) => write!(f, "webhook payload is not valid JSON: {m}"),
            EventError::NotAnEvent(m) => write!(f, "webhook payload is not a Stripe event: {m}"),
        }
    }
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    object: Option<&'a str>,
    #[serde(rename = "type")]
    event_type: Option<&'a str>,
    created: Option<i64>,
    api_version: Option<String>,
    #[serde(default)]
    livemode: bool,
    account: Option<String>,
    data: Option<RawData<'a>>,
}

#[derive(Deserialize)]
struct RawData<'a> {
    #[serde(borrow)]
    object: Option<RawObject<'a>>,
}

/// `data.object` as its top-level fields, each left unparsed: routing needs only a few of them.
type RawObject<'a> = std::collections::HashMap<std::borrow::Cow<'a, str>, &'a RawValue>;

/// The longest id accepted: Stripe's are a few dozen bytes, and a longer one could not be
/// indexed (a B-tree entry holds about 2.7 kB).
pub const MAX_ID_BYTES: usize = 1000;

/// An id field as a string: Stripe ids are JSON strings; anything else is rejected.
fn id_string(v: Option<&RawValue>) -> Option<String> {
    v.and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
}

/// An id that can be stored: not empty, no longer than `MAX_ID_BYTES`, no control characters.
fn check_id(what: &str, id: &str) -> Result<(), EventError> {
    let problem = if id.is_empty() {
        "is empty"
    } else if id.len() > MAX_ID_BYTES {
        "is longer than 1000 bytes"
    } else if id.chars().any(char::is_control) {
        "contains control characters"
    } else {
        return Ok(());
    };
    Err(EventError::NotAnEvent(format!("{what} {problem}")))
}

pub fn parse(payload: &str) -> Result<Envelope, EventError> {
    let raw: RawEvent = serde_json::from_str(payload).map_err(|e| {
        if e.is_data() {
            EventError::NotAnEvent(e.to_string())
        } else {
            EventError::Malformed(e.to_string())
        }
    })?;
    let missing = |what: &str| EventError::NotAnEvent(format!("{what} is missing"));
    if raw.object != Some("event") {
        return Err(EventError::NotAnEvent(format!(
            "\"object\" is {:?}, expected \"event\"",
            raw.object.unwrap_or("absent")
        )));
    }
    let id = id_string(raw.id).ok_or_else(|| missing("\"id\" (a string)"))?;
    check_id("the event id", &id)?;
    if !id.starts_with("evt_") {
        return Err(EventError::NotAnEvent(format!(
            "id {id:?} does not start with evt_"
        )));
    }
    let event_type = raw.event_type.ok_or_else(|| missing("\"type\""))?;
    let created = raw.created.ok_or_else(|| missing("\"created\""))?;
    let object = raw
        .data
        .and_then(|d| d.object)
        .ok_or_else(|| missing("\"data.object\""))?;
    let object_type = object
        .get("object")
        .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
        .ok_or_else(|| missing("\"data.object.object\""))?;
    let mut nested_objects: Vec<String> = object
        .iter()
        .filter(|(_, v)| v.get().starts_with('{'))
        .map(|(k, _)| k.to_string())
        .collect();
    nested_objects.sort();
    // An object id that is not a string is no id (the event is then refused where its type
    // needs one); a string id must be one Postgres can store.
    let object_id = id_string(object.get("id").copied());
    if let Some(oid) = &object_id {
        check_id("data.object.id", oid)?;
    }
    Ok(Envelope {
        id,
        event_type: event_type.to_string(),
        created,
        api_version: raw.api_version,
        livemode: raw.livemode,
        account: raw.account,
        object_type,
        object_id,
        nested_objects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id":"evt_1","object":"event","type":"customer.updated",
        "created":1700000000,"api_version":"2023-08-16","livemode":false,
        "data":{"object":{"id":"cus_1","object":"customer","email":"a@b.c"},
                "previous_attributes":{"email":null}}}"#;

    #[test]
    fn parses_envelope() {
        let e = parse(GOOD).unwrap();
        assert_eq!(e.id, "evt_1");
        assert_eq!(e.event_type, "customer.updated");
        assert_eq!(e.created, 1_700_000_000);
        assert_eq!(e.api_version.as_deref(), Some("2023-08-16"));
        assert_eq!(e.object_type, "customer");
        assert_eq!(e.object_id.as_deref(), Some("cus_1"));
        assert!(e.nested_objects.is_empty());
        let with = GOOD.replace(
            r#""email":"a@b.c""#,
            r#""discount":{"id":"di_1"},"lines":{"data":[]},"n":null"#,
        );
        assert_eq!(parse(&with).unwrap().nested_objects, ["discount", "lines"]);
    }

    #[test]
    fn object_ids_that_are_not_strings_are_no_ids() {
        let numeric = GOOD.replace(r#""id":"cus_1""#, r#""id":5"#);
        assert_eq!(parse(&numeric).unwrap().object_id, None);
        let long = GOOD.replace("cus_1", &"c".repeat(MAX_ID_BYTES + 1));
        assert!(matches!(parse(&long), Err(EventError::NotAnEvent(m)) if m.contains("longer")));
    }

    #[test]
    fn malformed_json() {
        assert!(matches!(parse("{\"id\":"), Err(EventError::Malformed(_))));
        assert!(matches!(parse(""), Err(EventError::Malformed(_))));
    }

    #[test]
    fn not_an_event() {
        for (body, needle) in [
            (
                r#"{"id":"cus_1","object":"customer"}"#,
                "expected \"event\"",
            ),
            (r#"[1,2]"#, "invalid type"),
            (
                r#"{"id":"evt_1","object":"event","created":1,"data":{"object":{}}}"#,
                "type",
            ),
            (
                r#"{"id":"evt_1","object":"event","type":"x","data":{"object":{}}}"#,
                "created",
            ),
            (
                r#"{"id":"evt_1","object":"event","type":"x","created":1}"#,
                "data.object",
            ),
            (
                r#"{"id":7,"object":"event","type":"x","created":1,"data":{"object":{"object":"customer"}}}"#,
                "id",
            ),
            (
                r#"{"id":"cus_7","object":"event","type":"x","created":1,"data":{"object":{"object":"customer"}}}"#,
                "evt_",
            ),
            (
                r#"{"id":"","object":"event","type":"x","created":1,"data":{"object":{"object":"customer"}}}"#,
                "is empty",
            ),
            (
                r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"object":{"object":"customer","id":""}}}"#,
                "data.object.id is empty",
            ),
            (
                r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"object":{"object":"customer","id":"a\nb"}}}"#,
                "control characters",
            ),
        ] {
            match parse(body) {
                Err(EventError::NotAnEvent(m)) => assert!(m.contains(needle), "{body}: {m}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
