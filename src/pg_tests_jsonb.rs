//! The Rust `jsonb` encoder against PostgreSQL's own `jsonb_in`: byte for byte, for every
//! object in Stripe's fixtures (pretty-printed and compact) and for the edge cases of the format.

#[pgrx::pg_schema]
mod tests {
    use crate::jsonb_encode::encode;
    use crate::jsonb_param::postgres_bytes;
    use pgrx::prelude::*;

    const FIXTURES: &str = include_str!("../vendor/stripe/fixtures3.json");

    fn assert_same(json: &str) {
        let ours = encode(json).unwrap_or_else(|| panic!("not encoded: {json:.200}"));
        assert!(
            ours == postgres_bytes(json),
            "differs from jsonb_in: {json:.300}"
        );
    }

    #[pg_test]
    fn every_fixture_object_encodes_as_jsonb_in_does() {
        let all: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
        let mut n = 0;
        for obj in all["resources"].as_object().unwrap().values() {
            assert_same(&serde_json::to_string_pretty(obj).unwrap());
            assert_same(&obj.to_string());
            n += 1;
        }
        assert!(n > 100, "{n} fixtures");
        // and the whole file, one large document of many nested levels
        assert_same(FIXTURES);
    }

    #[pg_test]
    fn edge_cases_encode_as_jsonb_in_does() {
        let long_array = format!(
            "[{}]",
            (0..100)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let wide_object = format!(
            "{{{}}}",
            (0..70)
                .map(|i| format!("\"k{i}\": [{i}, \"v{i}\"]"))
                .collect::<Vec<_>>()
                .join(",")
        );
        for doc in [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1",
            "-1",
            "\"\"",
            "\"x\"",
            "[]",
            "{}",
            "[[]]",
            "[{}]",
            "{\"a\":{}}",
            "0.5",
            "-0.5",
            "1.50",
            "0.00",
            "-0.000",
            "123456789012345678901234567890",
            "0.000000000000000000000000000001",
            "12345.678",
            "9999",
            "10000",
            "99999999",
            "100000000",
            "1795741178",
            "-2147483648",
            "3.14159265358979",
            "[1, 2.5, \"three\", true, null]",
            "{\"b\": 1, \"a\": 2, \"aa\": 3, \"a\": 4, \"\": 5}",
            "{\"x\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}",
            "{\"unicode\": \"çà 🙂 日本\"}",
            "[\"a\", 1, \"bb\", 22, \"ccc\", 333, [4, [5, [6]]], {\"d\": {\"e\": [7]}}]",
            " { \"spaced\" : [ 1 , 2 ] } ",
            &long_array,
            &wide_object,
        ] {
            assert_same(doc);
        }
    }

    #[pg_test]
    fn what_the_encoder_declines_still_goes_through_jsonb_in() {
        use crate::jsonb_param::param;
        let text = |json: &str| {
            Spi::get_one_with_args::<String>("SELECT $1::text", &[param(json, None)]).unwrap()
        };
        assert_eq!(text("{\"n\": 1e3}").as_deref(), Some("{\"n\": 1000}"));
        assert_eq!(
            text("[\"\\ud83d\\ude00\"]").as_deref(),
            Some("[\"\u{1F600}\"]")
        );
        let bad = std::panic::catch_unwind(|| text("{\"a\": 1,}"));
        assert!(bad.is_err(), "invalid JSON is jsonb_in's error");
    }
}
