//! Stripe webhook signature verification.
//!
//! Pure Rust (no pgrx), so it is unit-tested with plain `cargo test` and can be
//! reused by the demo and the benches.
//!
//! Stripe sends
//!
//! ```text
//! Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]
//! ```
//!
//! where each `v1` is `hex(HMAC-SHA256(key, "<t>.<raw body>"))` and `key` is the
//! endpoint's whole signing secret as UTF-8 bytes, `whsec_` prefix included.
//! Several `v1` entries appear while Stripe rolls an endpoint secret; `v0` is a
//! legacy test-mode scheme and is ignored, like any unknown scheme.
//!
//! Verdicts agree with Stripe's official libraries (see
//! `tests/vectors/gen_signature_vectors.py`, whose output the unit tests below
//! replay) except in these deliberate ways:
//!
//! * timestamps too far in the *future* are rejected as well (see [`verify`]);
//! * whitespace around header items and around `=` is tolerated;
//! * a header with more than one `t` is rejected rather than using the first;
//! * headers over [`MAX_HEADER_LEN`] bytes or [`MAX_HEADER_ITEMS`] items are
//!   rejected before any work is done;
//! * `t` must be plain ASCII digits (no sign, no `_`), and signatures must be
//!   exactly 64 lowercase hex digits — the official libraries compare the hex
//!   strings, so anything else could never match there either;
//! * several secrets may be configured at once (key rotation), and blank
//!   secrets are never used as HMAC keys.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Tolerance used by Stripe's official libraries (seconds).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Longest `Stripe-Signature` header we look at. Real headers are ~150 bytes,
/// a few hundred during secret rotation.
pub const MAX_HEADER_LEN: usize = 8 * 1024;

/// Most comma-separated items we accept in one header (empty items count).
pub const MAX_HEADER_ITEMS: usize = 64;

/// Length of an HMAC-SHA256 tag in bytes.
const SIGNATURE_LEN: usize = 32;

/// Why a webhook was rejected.
///
/// The messages are meant for whoever configures the endpoint. They never
/// contain a secret or the expected signature: variants carry only static
/// text and the (public) timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// No usable (non-blank) webhook secret was given.
    NoSecretsConfigured,
    /// The `Stripe-Signature` header is absent or empty.
    MissingHeader,
    /// The header could not be parsed; the text says what is wrong.
    MalformedHeader(&'static str),
    /// The header is well-formed but carries no `v1` signature.
    NoSignatures,
    /// A signature matched, but the timestamp is too far from `now`.
    TimestampOutsideTolerance {
        timestamp: i64,
        now: i64,
        tolerance: i64,
    },
    /// No `v1` signature matches any configured secret.
    NoMatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::NoSecretsConfigured => f.write_str(
                "no Stripe webhook signing secret is configured \
                 (set the endpoint's whsec_... signing secret from the Stripe dashboard)",
            ),
            SignatureError::MissingHeader => f.write_str(
                "the Stripe-Signature header is missing or empty \
                 (pass the request's Stripe-Signature header unchanged; \
                 check that any proxy forwards it)",
            ),
            SignatureError::MalformedHeader(what) => write!(
                f,
                "malformed Stripe-Signature header: {what} \
                 (expected t=<unix time>,v1=<64 hex digits>)"
            ),
            SignatureError::NoSignatures => f.write_str(
                "the Stripe-Signature header contains no v1 signature \
                 (only the v1 scheme is accepted; v0 and other schemes are ignored)",
            ),
            SignatureError::TimestampOutsideTolerance {
                timestamp,
                now,
                tolerance,
            } => {
                let (distance, direction) = if timestamp <= now {
                    (now.abs_diff(*timestamp), "older than")
                } else {
                    (timestamp.abs_diff(*now), "ahead of")
                };
                write!(
                    f,
                    "Stripe-Signature timestamp {timestamp} is {distance} s {direction} \
                     the current time {now}, outside the tolerance of {tolerance} s \
                     (a replayed or long-delayed event, or clock skew: check the server clock)"
                )
            }
            SignatureError::NoMatch => f.write_str(
                "no v1 signature in Stripe-Signature matches any configured webhook secret \
                 (check the endpoint's signing secret, and that the body is passed \
                 byte for byte as received)",
            ),
        }
    }
}

impl std::error::Error for SignatureError {}

/// Verifies a Stripe webhook and returns the timestamp from its header.
///
/// * `payload` — the raw request body, exactly as received.
/// * `header` — the value of the `Stripe-Signature` header.
/// * `secrets` — every currently valid endpoint secret (`whsec_...`). During
///   rotation Stripe signs with each active secret; any match is accepted.
///   Blank entries are skipped; if none is left this is
///   [`SignatureError::NoSecretsConfigured`].
/// * `tolerance_secs` — maximum allowed `|now_unix - t|`; `<= 0` disables the
///   timestamp check. [`DEFAULT_TOLERANCE_SECS`] is Stripe's default.
/// * `now_unix` — the current time in unix seconds (a parameter, so callers
///   and tests control the clock).
///
/// The signature is checked first and the timestamp only afterwards, as in
/// Stripe's libraries: without a valid signature a caller learns nothing about
/// the accepted time window.
///
/// Stripe's libraries only reject timestamps *older* than the tolerance. We
/// also reject timestamps more than `tolerance_secs` in the *future*: such a
/// header can only come from a badly skewed clock (ours or the sender's), and
/// accepting it would let a captured request be replayed for longer than the
/// tolerance promises.
///
/// Each candidate signature is compared in constant time
/// ([`Mac::verify_slice`]).
///
/// # Errors
///
/// Checks run in this order, and the first failure is returned:
/// [`SignatureError::NoSecretsConfigured`], [`SignatureError::MissingHeader`],
/// [`SignatureError::MalformedHeader`] (too long, too many items, bad or
/// missing `t`, only unparseable `v1` values), [`SignatureError::NoSignatures`],
/// [`SignatureError::NoMatch`], then
/// [`SignatureError::TimestampOutsideTolerance`].
pub fn verify(
    payload: &[u8],
    header: &str,
    secrets: &[&str],
    tolerance_secs: i64,
    now_unix: i64,
) -> Result<i64, SignatureError> {
    if !secrets.iter().any(|s| usable_secret(s)) {
        return Err(SignatureError::NoSecretsConfigured);
    }

    let parsed = parse_header(header)?;
    if parsed.v1.is_empty() {
        return Err(if parsed.unparseable_v1 {
            SignatureError::MalformedHeader(
                "no v1 signature is 64 lowercase hex digits (the HMAC-SHA256 length)",
            )
        } else {
            SignatureError::NoSignatures
        });
    }

    let matched = secrets.iter().filter(|s| usable_secret(s)).any(|secret| {
        let mac = signed_payload_mac(secret, parsed.timestamp, payload);
        parsed
            .v1
            .iter()
            .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
    });
    if !matched {
        return Err(SignatureError::NoMatch);
    }

    let timestamp = parsed.timestamp;
    if tolerance_secs > 0 && now_unix.abs_diff(timestamp) > tolerance_secs.unsigned_abs() {
        return Err(SignatureError::TimestampOutsideTolerance {
            timestamp,
            now: now_unix,
            tolerance: tolerance_secs,
        });
    }
    Ok(timestamp)
}

/// Signs `payload` as Stripe would and returns a `Stripe-Signature` header
/// value, `t=<timestamp>,v1=<hex>`. Byte for byte what the official
/// libraries' `generate_signature_header` / `generateTestHeaderString` produce.
#[must_use]
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let tag = signed_payload_mac(secret, timestamp, payload)
        .finalize()
        .into_bytes();
    format!("t={timestamp},v1={}", hex_encode(&tag))
}

/// A blank secret would make the HMAC key public knowledge; never use one.
fn usable_secret(secret: &str) -> bool {
    !secret.trim().is_empty()
}

/// HMAC-SHA256 keyed with the whole secret, fed with `"<t>.<payload>"`.
///
/// `t` is written as the decimal integer (like the official libraries'
/// `"%d.%s"`), so `t=0042` signs as `42.`.
fn signed_payload_mac(secret: &str, timestamp: i64, payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

#[derive(Debug)]
struct ParsedHeader {
    timestamp: i64,
    /// Well-formed v1 signatures, in header order.
    v1: Vec<[u8; SIGNATURE_LEN]>,
    /// At least one v1 entry was not 64 lowercase hex digits (and was skipped).
    unparseable_v1: bool,
}

fn parse_header(header: &str) -> Result<ParsedHeader, SignatureError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::MalformedHeader(
            "header is longer than 8192 bytes",
        ));
    }
    if header.trim().is_empty() {
        return Err(SignatureError::MissingHeader);
    }

    let mut timestamp = None;
    let mut v1 = Vec::new();
    let mut unparseable_v1 = false;

    for (index, item) in header.split(',').enumerate() {
        if index >= MAX_HEADER_ITEMS {
            return Err(SignatureError::MalformedHeader(
                "header has more than 64 comma-separated items",
            ));
        }
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        // A bare key (no '=') is treated as having an empty value.
        let (key, value) = match item.split_once('=') {
            Some((key, value)) => (key.trim_end(), value.trim_start()),
            None => (item, ""),
        };
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::MalformedHeader("more than one t= item"));
                }
                timestamp = Some(parse_timestamp(value)?);
            }
            "v1" => match decode_signature_hex(value) {
                Some(signature) => v1.push(signature),
                None => unparseable_v1 = true,
            },
            // v0 (legacy test-mode scheme) and unknown schemes are ignored.
            _ => {}
        }
    }

    let timestamp = timestamp.ok_or(SignatureError::MalformedHeader("no t=<unix time> item"))?;
    Ok(ParsedHeader {
        timestamp,
        v1,
        unparseable_v1,
    })
}

fn parse_timestamp(value: &str) -> Result<i64, SignatureError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::MalformedHeader(
            "t is not a unix time in decimal digits",
        ));
    }
    value
        .parse()
        .map_err(|_| SignatureError::MalformedHeader("t is too large to be a unix time"))
}

/// Decodes exactly 64 lowercase hex digits. Uppercase is refused on purpose:
/// Stripe's libraries compare hex strings, so `ABCD...` never matches there.
fn decode_signature_hex(text: &str) -> Option<[u8; SIGNATURE_LEN]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * SIGNATURE_LEN {
        return None;
    }
    let mut out = [0u8; SIGNATURE_LEN];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (lower_hex_value(pair[0])? << 4) | lower_hex_value(pair[1])?;
    }
    Some(out)
}

fn lower_hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Produced by `tests/vectors/gen_signature_vectors.py` with the official
    /// `stripe` Python package; `valid` is that library's verdict.
    const VECTORS: &str = include_str!("../tests/vectors/stripe_signatures.json");

    const SECRET: &str = "whsec_test_fake_secret_not_real_0001";
    const OTHER: &str = "whsec_test_fake_secret_not_real_0002";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_test_rust","object":"event"}"#;

    struct Case {
        name: String,
        payload: String,
        secret: String,
        timestamp: i64,
        header: String,
        signed_header: String,
        now: i64,
        tolerance: i64,
        valid: bool,
    }

    fn cases() -> Vec<Case> {
        let doc: Value = serde_json::from_str(VECTORS).expect("vectors are JSON");
        let text = |c: &Value, k: &str| {
            c[k].as_str()
                .unwrap_or_else(|| panic!("{k} is a string"))
                .to_owned()
        };
        let int = |c: &Value, k: &str| c[k].as_i64().unwrap_or_else(|| panic!("{k} is an i64"));
        doc["cases"]
            .as_array()
            .expect("cases is an array")
            .iter()
            .map(|c| Case {
                name: text(c, "name"),
                payload: text(c, "payload"),
                secret: text(c, "secret"),
                timestamp: int(c, "timestamp"),
                header: text(c, "header"),
                signed_header: text(c, "signed_header"),
                now: int(c, "now"),
                tolerance: int(c, "tolerance"),
                valid: c["valid"].as_bool().expect("valid is a bool"),
            })
            .collect()
    }

    fn is_malformed(result: &Result<i64, SignatureError>) -> bool {
        matches!(result, Err(SignatureError::MalformedHeader(_)))
    }

    #[test]
    fn vectors_file_is_from_the_official_library() {
        let doc: Value = serde_json::from_str(VECTORS).unwrap();
        let version = doc["stripe_python_version"].as_str().unwrap();
        assert!(!version.is_empty());
        let all = cases();
        assert!(all.len() >= 20, "only {} vectors", all.len());
        for required in [
            "valid_plain",
            "valid_unicode_escapes_whitespace",
            "multiple_v1_second_matches",
            "v0_alongside",
            "wrong_secret",
            "tampered_payload_one_byte",
            "expired_timestamp",
        ] {
            assert!(all.iter().any(|c| c.name == required), "missing {required}");
        }
        assert!(all.iter().any(|c| c.valid) && all.iter().any(|c| !c.valid));
        for c in &all {
            assert!(
                c.secret.starts_with("whsec_test_"),
                "{}: fake secrets only",
                c.name
            );
        }
    }

    #[test]
    fn agrees_with_official_library_on_every_vector() {
        for c in cases() {
            let got = verify(
                c.payload.as_bytes(),
                &c.header,
                &[c.secret.as_str()],
                c.tolerance,
                c.now,
            );
            assert_eq!(
                got.is_ok(),
                c.valid,
                "{}: official library says valid={}, we say {:?}",
                c.name,
                c.valid,
                got
            );
            if c.valid {
                assert_eq!(got, Ok(c.timestamp), "{}", c.name);
            }
        }
    }

    #[test]
    fn official_vectors_fail_for_the_expected_reason() {
        for c in cases().into_iter().filter(|c| !c.valid) {
            let got = verify(
                c.payload.as_bytes(),
                &c.header,
                &[c.secret.as_str()],
                c.tolerance,
                c.now,
            );
            let ok = match c.name.as_str() {
                "wrong_secret"
                | "tampered_payload_one_byte"
                | "tampered_timestamp"
                | "expired_and_wrong_secret" => got == Err(SignatureError::NoMatch),
                "expired_timestamp" => matches!(
                    got,
                    Err(SignatureError::TimestampOutsideTolerance { timestamp, now, tolerance })
                        if timestamp == c.timestamp && now == c.now && tolerance == c.tolerance
                ),
                "only_v0" => got == Err(SignatureError::NoSignatures),
                "empty_header" => got == Err(SignatureError::MissingHeader),
                "uppercase_hex_v1" | "truncated_v1" | "v1_with_extra_hex" | "non_ascii_v1"
                | "missing_t" | "non_numeric_t" | "t_without_value" | "garbage_header" => {
                    is_malformed(&got)
                }
                other => panic!("new invalid vector {other}: add its expected error here"),
            };
            assert!(ok, "{}: unexpected {:?}", c.name, got);
        }
    }

    #[test]
    fn sign_matches_official_generate_signature_header() {
        for c in cases() {
            assert_eq!(
                sign(c.payload.as_bytes(), &c.secret, c.timestamp),
                c.signed_header,
                "{}",
                c.name
            );
        }
        // For plain valid vectors the header under test is the generated one.
        let plain = cases()
            .into_iter()
            .filter(|c| c.valid && c.header == c.signed_header)
            .count();
        assert!(plain >= 4);
    }

    #[test]
    fn official_vectors_with_rotation() {
        for c in cases().into_iter().filter(|c| c.valid) {
            let secrets = [OTHER, c.secret.as_str()];
            let got = verify(
                c.payload.as_bytes(),
                &c.header,
                &secrets,
                c.tolerance,
                c.now,
            );
            assert_eq!(got, Ok(c.timestamp), "{}", c.name);
        }
    }

    #[test]
    fn sign_then_verify_round_trip() {
        let header = sign(BODY, SECRET, NOW);
        assert!(header.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(header.len(), format!("t={NOW},v1=").len() + 64);
        assert_eq!(verify(BODY, &header, &[SECRET], 300, NOW), Ok(NOW));
    }

    #[test]
    fn non_utf8_payload_is_signed_as_raw_bytes() {
        let body = [0xff, 0x00, 0xfe, b'{', 0x80];
        let header = sign(&body, SECRET, NOW);
        assert_eq!(verify(&body, &header, &[SECRET], 300, NOW), Ok(NOW));
        assert_eq!(
            verify(&body[..4], &header, &[SECRET], 300, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn rotation_second_secret_matches() {
        let header = sign(BODY, OTHER, NOW);
        assert_eq!(verify(BODY, &header, &[SECRET, OTHER], 300, NOW), Ok(NOW));
        assert_eq!(
            verify(BODY, &header, &[SECRET], 300, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn rotation_header_with_two_v1_and_two_secrets() {
        // Stripe signs with old and new secret during rotation.
        let old = sign(BODY, SECRET, NOW);
        let new = sign(BODY, OTHER, NOW);
        let header = format!("{old},{}", new.split_once(',').unwrap().1);
        for secrets in [&[SECRET][..], &[OTHER], &[OTHER, SECRET], &[SECRET, OTHER]] {
            assert_eq!(verify(BODY, &header, secrets, 300, NOW), Ok(NOW));
        }
        assert_eq!(
            verify(BODY, &header, &["whsec_test_third"], 300, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn no_secrets_is_a_distinct_error() {
        let header = sign(BODY, SECRET, NOW);
        assert_eq!(
            verify(BODY, &header, &[], 300, NOW),
            Err(SignatureError::NoSecretsConfigured)
        );
        // Reported before anything about the request itself.
        assert_eq!(
            verify(BODY, "", &[], 300, NOW),
            Err(SignatureError::NoSecretsConfigured)
        );
    }

    #[test]
    fn blank_secrets_are_never_used_as_keys() {
        let forged = sign(BODY, "", NOW);
        assert_eq!(
            verify(BODY, &forged, &[""], 300, NOW),
            Err(SignatureError::NoSecretsConfigured)
        );
        assert_eq!(
            verify(BODY, &forged, &["", " \t\n"], 300, NOW),
            Err(SignatureError::NoSecretsConfigured)
        );
        assert_eq!(
            verify(BODY, &forged, &["", SECRET], 300, NOW),
            Err(SignatureError::NoMatch)
        );
        let real = sign(BODY, SECRET, NOW);
        assert_eq!(verify(BODY, &real, &["", SECRET], 300, NOW), Ok(NOW));
    }

    #[test]
    fn empty_or_blank_header_is_missing() {
        for header in ["", " ", "\t\r\n"] {
            assert_eq!(
                verify(BODY, header, &[SECRET], 300, NOW),
                Err(SignatureError::MissingHeader),
                "{header:?}"
            );
        }
    }

    #[test]
    fn malformed_timestamps() {
        let sig = sign(BODY, SECRET, NOW);
        let v1 = sig.split_once(',').unwrap().1;
        let bad_t_headers = [
            v1.to_string(),                            // missing t
            format!("t,{v1}"),                         // t without value
            format!("t=,{v1}"),                        // empty t
            format!("t=abc,{v1}"),                     // not a number
            format!("t=17000x0000,{v1}"),              // trailing junk
            format!("t=-1700000000,{v1}"),             // sign
            format!("t=+1700000000,{v1}"),             // sign
            format!("t=1_700_000_000,{v1}"),           // python int() would accept
            format!("t=1700000000.5,{v1}"),            // fractional
            format!("t=99999999999999999999999,{v1}"), // overflows i64
            format!("t=1700000000,t=1700000000,{v1}"), // duplicate
            format!("T={NOW},{v1}"),                   // keys are case-sensitive
        ];
        for header in &bad_t_headers {
            let got = verify(BODY, header, &[SECRET], 300, NOW);
            assert!(is_malformed(&got), "{header}: {got:?}");
        }
    }

    #[test]
    fn header_without_v1_has_no_signatures() {
        let good = sign(BODY, SECRET, NOW);
        let hex = &good[good.len() - 64..];
        for header in [
            format!("t={NOW}"),
            format!("t={NOW},v0={hex}"),
            format!("t={NOW},v2={hex},foo,bar=baz"),
            format!("t={NOW},V1={hex}"),
        ] {
            assert_eq!(
                verify(BODY, &header, &[SECRET], 300, NOW),
                Err(SignatureError::NoSignatures),
                "{header}"
            );
        }
    }

    #[test]
    fn bad_hex_alone_is_malformed() {
        let good = sign(BODY, SECRET, NOW);
        let hex = &good[good.len() - 64..];
        let odd = &hex[..63];
        let headers = [
            format!("t={NOW},v1={odd}"),                      // odd length
            format!("t={NOW},v1={hex}0"),                     // 65 digits
            format!("t={NOW},v1={}", &hex[..62]),             // 31 bytes
            format!("t={NOW},v1={}", "g".repeat(64)),         // not hex
            format!("t={NOW},v1={}", hex.to_uppercase()),     // uppercase
            format!("t={NOW},v1="),                           // empty
            format!("t={NOW},v1"),                            // bare
            format!("t={NOW},v1={}", "é".repeat(32)),         // 64 bytes, non-ASCII
            format!("t={NOW},v1={}{}", &hex[..62], "\u{e9}"), // multibyte at the end
        ];
        for header in &headers {
            let got = verify(BODY, header, &[SECRET], 300, NOW);
            assert!(is_malformed(&got), "{header}: {got:?}");
        }
    }

    #[test]
    fn bad_hex_next_to_good_v1_is_skipped() {
        let good = sign(BODY, SECRET, NOW);
        let hex = &good[good.len() - 64..];
        for junk in ["zz", &hex[..63], "", &"A".repeat(64)] {
            for header in [
                format!("t={NOW},v1={junk},v1={hex}"),
                format!("t={NOW},v1={hex},v1={junk}"),
            ] {
                assert_eq!(
                    verify(BODY, &header, &[SECRET], 300, NOW),
                    Ok(NOW),
                    "{header}"
                );
            }
        }
        // Only junk and a wrong-but-well-formed signature: no match.
        let other = sign(BODY, OTHER, NOW);
        let header = format!("t={NOW},v1=zz,v1={}", &other[other.len() - 64..]);
        assert_eq!(
            verify(BODY, &header, &[SECRET], 300, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn whitespace_around_items_is_tolerated() {
        let good = sign(BODY, SECRET, NOW);
        let hex = &good[good.len() - 64..];
        for header in [
            format!(" t={NOW}, v1={hex} "),
            format!("t = {NOW} ,\tv1 = {hex}"),
            format!("v0=00, t={NOW} , v1={hex},"),
        ] {
            assert_eq!(
                verify(BODY, &header, &[SECRET], 300, NOW),
                Ok(NOW),
                "{header:?}"
            );
        }
    }

    #[test]
    fn leading_zeros_in_t_sign_the_integer_value() {
        let good = sign(BODY, SECRET, NOW);
        let hex = &good[good.len() - 64..];
        let header = format!("t=000{NOW},v1={hex}");
        assert_eq!(verify(BODY, &header, &[SECRET], 300, NOW), Ok(NOW));
    }

    #[test]
    fn one_megabyte_header_is_rejected() {
        let mut header = sign(BODY, SECRET, NOW);
        header.push(',');
        header.push_str(&"x".repeat(1 << 20));
        let got = verify(BODY, &header, &[SECRET], 300, NOW);
        assert_eq!(
            got,
            Err(SignatureError::MalformedHeader(
                "header is longer than 8192 bytes"
            ))
        );
        // Just over the limit with an otherwise perfect header.
        let mut header = sign(BODY, SECRET, NOW);
        header.push_str(&" ".repeat(MAX_HEADER_LEN + 1 - header.len()));
        assert!(is_malformed(&verify(BODY, &header, &[SECRET], 300, NOW)));
        header.pop();
        assert_eq!(verify(BODY, &header, &[SECRET], 300, NOW), Ok(NOW));
    }

    #[test]
    fn ten_thousand_items_are_rejected() {
        let good = sign(BODY, SECRET, NOW);
        // Long items: over the byte limit.
        let header = format!("{good}{}", ",v0=0".repeat(10_000));
        assert!(is_malformed(&verify(BODY, &header, &[SECRET], 300, NOW)));
        // Short items under the byte limit: over the item limit, even when
        // the valid signature comes first.
        let header = format!("{good}{}", ",".repeat(MAX_HEADER_LEN - good.len()));
        assert_eq!(
            verify(BODY, &header, &[SECRET], 300, NOW),
            Err(SignatureError::MalformedHeader(
                "header has more than 64 comma-separated items"
            ))
        );
        let header = ",".repeat(10_000);
        assert!(is_malformed(&verify(BODY, &header, &[SECRET], 300, NOW)));
    }

    #[test]
    fn item_limit_boundary() {
        let good = sign(BODY, SECRET, NOW);
        // good has 2 items; pad to exactly MAX_HEADER_ITEMS.
        let header = format!("{good}{}", ",v0=00".repeat(MAX_HEADER_ITEMS - 2));
        assert_eq!(verify(BODY, &header, &[SECRET], 300, NOW), Ok(NOW));
        let header = format!("{header},v0=00");
        assert!(is_malformed(&verify(BODY, &header, &[SECRET], 300, NOW)));
    }

    #[test]
    fn past_timestamp_outside_tolerance() {
        let t = NOW - 301;
        let header = sign(BODY, SECRET, t);
        assert_eq!(
            verify(BODY, &header, &[SECRET], 300, NOW),
            Err(SignatureError::TimestampOutsideTolerance {
                timestamp: t,
                now: NOW,
                tolerance: 300
            })
        );
        assert_eq!(verify(BODY, &header, &[SECRET], 301, NOW), Ok(t));
    }

    #[test]
    fn future_timestamp_outside_tolerance_is_rejected() {
        let t = NOW + 301;
        let header = sign(BODY, SECRET, t);
        assert_eq!(
            verify(BODY, &header, &[SECRET], 300, NOW),
            Err(SignatureError::TimestampOutsideTolerance {
                timestamp: t,
                now: NOW,
                tolerance: 300
            })
        );
        let t = NOW + 300;
        let header = sign(BODY, SECRET, t);
        assert_eq!(verify(BODY, &header, &[SECRET], 300, NOW), Ok(t));
    }

    #[test]
    fn tolerance_zero_or_negative_disables_the_check() {
        for t in [
            0,
            NOW - 10 * 365 * 86_400,
            NOW + 10 * 365 * 86_400,
            i64::MAX,
        ] {
            let header = sign(BODY, SECRET, t);
            assert_eq!(verify(BODY, &header, &[SECRET], 0, NOW), Ok(t));
            assert_eq!(verify(BODY, &header, &[SECRET], -5, NOW), Ok(t));
            assert_eq!(verify(BODY, &header, &[SECRET], i64::MIN, NOW), Ok(t));
        }
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let header = sign(BODY, SECRET, i64::MAX);
        assert!(matches!(
            verify(BODY, &header, &[SECRET], i64::MAX - 1, i64::MIN),
            Err(SignatureError::TimestampOutsideTolerance { .. })
        ));
        assert_eq!(
            verify(BODY, &header, &[SECRET], i64::MAX, i64::MAX),
            Ok(i64::MAX)
        );
        let err = SignatureError::TimestampOutsideTolerance {
            timestamp: i64::MAX,
            now: i64::MIN,
            tolerance: 1,
        };
        assert!(err.to_string().contains(&u64::MAX.to_string()));
    }

    #[test]
    fn signature_is_checked_before_timestamp() {
        // Expired AND forged: the caller learns only that the signature is wrong.
        let header = sign(BODY, OTHER, NOW - 10_000);
        assert_eq!(
            verify(BODY, &header, &[SECRET], 300, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn error_messages_never_leak_secrets_or_signatures() {
        let secret = "whsec_test_leakcheck_do_not_print_me";
        let expected_header = sign(BODY, secret, NOW);
        let expected_hex = &expected_header[expected_header.len() - 64..];
        let other_header = sign(BODY, OTHER, NOW);
        let other_hex = &other_header[other_header.len() - 64..];
        let inputs = [
            (expected_header.clone(), vec![]),
            (String::new(), vec![secret]),
            (format!("t=x,v1={expected_hex}"), vec![secret]),
            (format!("t={NOW},v0={expected_hex}"), vec![secret]),
            (format!("t={NOW},v1={}", &expected_hex[..63]), vec![secret]),
            (sign(BODY, secret, NOW - 10_000), vec![secret]),
            (sign(BODY, secret, NOW + 10_000), vec![secret]),
            (
                other_header.clone(),
                vec![secret, "whsec_test_second_secret"],
            ),
        ];
        let mut seen = std::collections::HashSet::new();
        for (header, secrets) in &inputs {
            let err = verify(BODY, header, secrets, 300, NOW).expect_err(header);
            for text in [err.to_string(), format!("{err:?}")] {
                for needle in [
                    secret,
                    "whsec_test_second_secret",
                    OTHER,
                    expected_hex,
                    other_hex,
                ] {
                    assert!(!text.contains(needle), "{text:?} leaks {needle:?}");
                }
                assert!(!text.contains("whsec_test"), "{text:?}");
            }
            seen.insert(std::mem::discriminant(&err));
        }
        assert_eq!(seen.len(), 6, "cover every variant");
    }

    #[test]
    fn display_messages_are_distinct_and_actionable() {
        let all = [
            SignatureError::NoSecretsConfigured,
            SignatureError::MissingHeader,
            SignatureError::MalformedHeader("no t=<unix time> item"),
            SignatureError::NoSignatures,
            SignatureError::TimestampOutsideTolerance {
                timestamp: NOW - 400,
                now: NOW,
                tolerance: 300,
            },
            SignatureError::NoMatch,
        ];
        let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
        for (i, a) in texts.iter().enumerate() {
            assert!(a.len() > 30, "{a}");
            for b in &texts[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(texts[2].contains("no t=<unix time> item"));
        assert!(texts[4].contains("400 s older than"), "{}", texts[4]);
        assert!(texts[5].contains("matches any configured webhook secret"));
        let future = SignatureError::TimestampOutsideTolerance {
            timestamp: NOW + 400,
            now: NOW,
            tolerance: 300,
        };
        assert!(future.to_string().contains("400 s ahead of"));
        let boxed: Box<dyn std::error::Error> = Box::new(SignatureError::NoMatch);
        assert!(boxed.to_string().starts_with("no v1 signature"));
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(hex_encode(&[]), "");
        assert_eq!(hex_encode(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let bytes: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
        let text = hex_encode(&bytes);
        assert_eq!(decode_signature_hex(&text).unwrap().to_vec(), bytes);
        assert_eq!(decode_signature_hex(&text[..62]), None);
        assert_eq!(decode_signature_hex(&format!("{text}00")), None);
        assert_eq!(decode_signature_hex(&"A".repeat(64)), None);
        assert_eq!(decode_signature_hex(&"0".repeat(64)), Some([0; 32]));
        assert_eq!(decode_signature_hex(&"f".repeat(64)), Some([0xff; 32]));
        assert_eq!(decode_signature_hex(&"g".repeat(64)), None);
        assert_eq!(decode_signature_hex(&"/".repeat(64)), None);
        assert_eq!(decode_signature_hex(&":".repeat(64)), None);
        assert_eq!(decode_signature_hex(&"`".repeat(64)), None);
    }

    #[test]
    fn rfc4231_hmac_sha256_vector() {
        // RFC 4231 test case 2, to pin the HMAC + hex plumbing itself.
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex_encode(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
