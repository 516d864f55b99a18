//! Stripe's form encoding (`application/x-www-form-urlencoded` with bracket
//! nesting), e.g. `metadata[k]=v&expand[]=x&items[0][price]=p`.
//!
//! Structural brackets are written literally, as Stripe's own libraries do;
//! brackets inside keys or values are percent-encoded so they cannot be
//! mistaken for nesting.

use serde_json::Value;

/// Encode a JSON object as a Stripe request body or query string.
///
/// Arrays of scalars use `key[]`, arrays containing objects or arrays use
/// `key[i]`. `null` becomes an empty value (Stripe's way to unset a field);
/// empty arrays and objects produce nothing. A non-object top level yields "".
pub fn encode(params: &Value) -> String {
    let mut out = String::new();
    if let Value::Object(map) = params {
        for (k, v) in map {
            push(&mut out, escape(k), v);
        }
    }
    out
}

/// Encode `key=value` pairs. Keys may already carry Stripe brackets
/// (`created[gte]`), which are kept literal; everything else is escaped.
pub fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        let key: String = k.split_inclusive(['[', ']']).map(escape_key_part).collect();
        pair(&mut out, &key, v);
    }
    out
}

fn escape_key_part(part: &str) -> String {
    match part.char_indices().last() {
        Some((i, c @ ('[' | ']'))) => escape(&part[..i]) + c.encode_utf8(&mut [0; 4]),
        _ => escape(part),
    }
}

fn push(out: &mut String, key: String, value: &Value) {
    match value {
        Value::Null => pair(out, &key, ""),
        Value::Bool(b) => pair(out, &key, if *b { "true" } else { "false" }),
        Value::Number(n) => pair(out, &key, &n.to_string()),
        Value::String(s) => pair(out, &key, s),
        Value::Object(map) => {
            for (k, v) in map {
                push(out, format!("{key}[{}]", escape(k)), v);
            }
        }
        Value::Array(items) => {
            // Stripe needs indices to group fields of the same element.
            let indexed = items.iter().any(|v| v.is_object() || v.is_array());
            for (i, v) in items.iter().enumerate() {
                let sub = if indexed {
                    format!("{key}[{i}]")
                } else {
                    format!("{key}[]")
                };
                push(out, sub, v);
            }
        }
    }
}

/// Append `key=escape(value)`; `key` must already be escaped.
fn pair(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    out.push_str(key);
    out.push('=');
    out.push_str(&escape(value));
}

/// One segment of a URL path, e.g. an id in `/v1/customers/{id}`: every byte but the RFC 3986
/// unreserved ones (`A-Z a-z 0-9 - . _ ~`) is percent-encoded, so an id holding `/`, `?`, `#`
/// or `%` cannot reach another endpoint, start a query or cut the URL short.
///
/// Two things it cannot prevent, since they are made of unreserved bytes (or of none): an empty
/// id leaves the segment empty (`/v1/customers/` is the list), and `.` or `..` stay dot
/// segments. Callers reject those ids before building the path.
pub fn path_segment(s: &str) -> String {
    escape(s)
}

/// Percent-encode everything but RFC 3986 unreserved characters.
pub fn escape(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_the_stripe_example() {
        // Keys written in sorted order so the test holds with or without
        // serde_json's `preserve_order` feature.
        let v = json!({"email":"a@b.c","expand":["data.customer"],
                       "items":[{"price":"p1","quantity":2}],"metadata":{"k":"v"}});
        assert_eq!(
            encode(&v),
            "email=a%40b.c&expand[]=data.customer&items[0][price]=p1&items[0][quantity]=2&metadata[k]=v"
        );
    }

    #[test]
    fn scalars_null_and_empty_containers() {
        let v =
            json!({"a": true, "b": false, "c": null, "d": 1.5, "e": -3, "f": [], "g": {}, "h": ""});
        assert_eq!(encode(&v), "a=true&b=false&c=&d=1.5&e=-3&h=");
        assert_eq!(encode(&json!(null)), "");
        assert_eq!(encode(&json!([1, 2])), "");
    }

    #[test]
    fn nested_objects_in_arrays() {
        let v = json!({"items": [
            {"price_data": {"currency": "usd", "unit_amount": 500}, "tax_rates": ["t1", "t2"]},
            {"price": "p2"}
        ]});
        assert_eq!(
            encode(&v),
            "items[0][price_data][currency]=usd&items[0][price_data][unit_amount]=500\
             &items[0][tax_rates][]=t1&items[0][tax_rates][]=t2&items[1][price]=p2"
        );
        assert_eq!(encode(&json!({"m": [[1], 2]})), "m[0][]=1&m[1]=2");
    }

    #[test]
    fn escapes_keys_and_values() {
        let v = json!({"metadata": {"a b[c]": "x&y=z/é ~"}, "q": "100%+"});
        assert_eq!(
            encode(&v),
            "metadata[a%20b%5Bc%5D]=x%26y%3Dz%2F%C3%A9%20~&q=100%25%2B"
        );
    }

    #[test]
    fn path_segments_keep_only_unreserved_bytes() {
        assert_eq!(path_segment("cus_9sQ-1.x~"), "cus_9sQ-1.x~");
        assert_eq!(
            path_segment("in_1/lines?limit=1#x"),
            "in_1%2Flines%3Flimit%3D1%23x"
        );
        assert_eq!(path_segment("100% a+b"), "100%25%20a%2Bb");
        assert_eq!(path_segment("é日"), "%C3%A9%E6%97%A5");
        assert_eq!(
            path_segment("a\nb\0[]&@:;,'\""),
            "a%0Ab%00%5B%5D%26%40%3A%3B%2C%27%22"
        );
        assert_eq!(path_segment(""), "");
        // Every byte that is not unreserved comes out as %XX, and decoding gives the input back.
        let all: String = (1u8..128).map(char::from).collect();
        let encoded = path_segment(&all);
        assert!(encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        assert_eq!(unescape(&encoded), all);
    }

    fn unescape(s: &str) -> String {
        let mut out = Vec::new();
        let mut bytes = s.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap());
            } else {
                out.push(b);
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_pairs() {
        let pairs = [
            ("limit", "100"),
            ("created[gte]", "1700000000"),
            ("expand[]", "data.customer"),
            ("we ird", "a b&c"),
        ];
        assert_eq!(
            encode_pairs(&pairs),
            "limit=100&created[gte]=1700000000&expand[]=data.customer&we%20ird=a%20b%26c"
        );
        assert_eq!(encode_pairs(&[]), "");
    }
}
