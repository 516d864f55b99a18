#!/usr/bin/env python3
"""Generate Stripe webhook signature test vectors with Stripe's official
Python library.

Usage (from the repository root):

    python3 -m venv /tmp/stripe-venv
    /tmp/stripe-venv/bin/pip install stripe
    /tmp/stripe-venv/bin/python tests/vectors/gen_signature_vectors.py

Writes tests/vectors/stripe_signatures.json next to this script. The Rust unit
tests in src/signature.rs load that file and assert that our verifier reaches
the same verdict as the official library for every case, and that our `sign`
produces byte-for-byte the header `generate_signature_header` produces.

For every case the `valid` field is the verdict of
`stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)`
with `time.time()` pinned to `now`; nothing in it is hand-written.

Only cases where the Rust verifier is *meant* to agree with the official
library belong here. Deliberate differences (we also reject timestamps too far
in the future, tolerate whitespace around header items, reject a duplicated
`t`, accept several secrets for key rotation) are covered by Rust-only tests.

All secrets are fixed, fake, test-only values.
"""

import json
import os
import sys
from unittest import mock

import stripe
from stripe import WebhookSignature

try:
    from stripe import SignatureVerificationError
except ImportError:  # older layouts
    from stripe.error import SignatureVerificationError  # type: ignore

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "stripe_signatures.json")

SECRET = "whsec_test_fake_secret_not_real_0001"
OTHER_SECRET = "whsec_test_fake_secret_not_real_0002"
UNICODE_SECRET = "whsec_test_fake_s\u00e9cr\u00e8t_\u2603_0003"

NOW = 1_700_000_000
TOL = 300

PLAIN = (
    '{"id":"evt_test_0001","object":"event","type":"customer.created",'
    '"data":{"object":{"id":"cus_test_0001","object":"customer"}}}'
)

# Unicode (BMP + astral), JSON escape sequences kept as literal text,
# real control whitespace (LF, CRLF, tab), trailing spaces and a final newline.
UNICODE = (
    "{\n"
    '  "id": "evt_test_0002",\r\n'
    '\t"object": "event",\n'
    '  "data": {"object": {"name": "Zo\u00eb \u00c5ngstr\u00f6m \u65e5\u672c \U0001F680",\n'
    '    "escaped": "quote \\" backslash \\\\ newline \\n tab \\t unicode \\u00e9 \\ud83d\\ude80",\n'
    '    "html": "<b>&amp;</b> \u2028 \u00a0"}}   \n'
    "}\n"
)


def sig(payload, secret, timestamp):
    """The bare v1 signature the official library computes."""
    return WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)


def gen_header(payload, secret, timestamp):
    return WebhookSignature.generate_signature_header(payload, secret, timestamp)


def official_verdict(payload, header, secret, tolerance, now):
    with mock.patch("time.time", return_value=float(now)):
        try:
            ok = WebhookSignature.verify_header(payload, header, secret, tolerance)
            return bool(ok), None
        except SignatureVerificationError as e:
            return False, "SignatureVerificationError: %s" % e.user_message
        except Exception as e:  # the library does not always wrap errors
            return False, "%s: %s" % (type(e).__name__, e)


def build_cases():
    cases = []

    def add(name, payload, secret, timestamp, header, now=NOW, tolerance=TOL, note=""):
        cases.append(
            dict(
                name=name,
                note=note,
                payload=payload,
                secret=secret,
                timestamp=timestamp,
                header=header,
                now=now,
                tolerance=tolerance,
                signed_header=gen_header(payload, secret, timestamp),
            )
        )

    t = NOW - 5
    good = sig(PLAIN, SECRET, t)

    add("valid_plain", PLAIN, SECRET, t, gen_header(PLAIN, SECRET, t),
        note="plain header produced by generate_signature_header")
    add("valid_unicode_escapes_whitespace", UNICODE, SECRET, t,
        gen_header(UNICODE, SECRET, t),
        note="payload with non-ASCII, astral chars, literal JSON escapes, CRLF/LF/tab, trailing spaces")
    add("valid_empty_payload", "", SECRET, t, gen_header("", SECRET, t),
        note="signed payload is just '<t>.'")
    add("valid_unicode_secret", PLAIN, UNICODE_SECRET, t,
        gen_header(PLAIN, UNICODE_SECRET, t),
        note="secret is used as its UTF-8 bytes, whsec_ prefix included")
    add("multiple_v1_second_matches", PLAIN, SECRET, t,
        "t=%d,v1=%s,v1=%s" % (t, sig(PLAIN, OTHER_SECRET, t), good),
        note="first v1 is from another secret, second matches")
    add("v0_alongside", PLAIN, SECRET, t,
        "t=%d,v1=%s,v0=%s" % (t, good, sig(PLAIN, OTHER_SECRET, t)),
        note="v0 (test-mode legacy scheme) entry is ignored")
    add("items_in_other_order", PLAIN, SECRET, t,
        "v0=%s,v1=%s,t=%d" % (sig(PLAIN, OTHER_SECRET, t), good, t),
        note="order of items is arbitrary")
    add("unknown_scheme_alongside", PLAIN, SECRET, t,
        "t=%d,v2=%s,v1=%s" % (t, "ab" * 32, good),
        note="unknown schemes are ignored")
    add("bad_hex_v1_then_good_v1", PLAIN, SECRET, t,
        "t=%d,v1=%s,v1=%s" % (t, "zz" * 32, good),
        note="an unparseable v1 does not prevent a later good one from matching")
    add("wrong_secret", PLAIN, OTHER_SECRET, t, gen_header(PLAIN, SECRET, t),
        note="header signed with a different secret than the one configured")

    tampered = PLAIN.replace("cus_test_0001", "cus_test_0002")
    assert len(tampered) == len(PLAIN) and sum(a != b for a, b in zip(tampered, PLAIN)) == 1
    add("tampered_payload_one_byte", tampered, SECRET, t, gen_header(PLAIN, SECRET, t),
        note="payload differs from the signed one in exactly one byte")
    add("tampered_timestamp", PLAIN, SECRET, t, "t=%d,v1=%s" % (t + 1, good),
        note="t changed after signing")

    old = NOW - TOL - 1
    add("expired_timestamp", PLAIN, SECRET, old, gen_header(PLAIN, SECRET, old),
        note="valid signature, timestamp one second older than the tolerance")
    edge = NOW - TOL
    add("timestamp_exactly_at_tolerance", PLAIN, SECRET, edge,
        gen_header(PLAIN, SECRET, edge),
        note="now - t == tolerance is still accepted")
    ancient = NOW - 10 * 365 * 86400
    add("tolerance_zero_disables_check", PLAIN, SECRET, ancient,
        gen_header(PLAIN, SECRET, ancient), tolerance=0,
        note="tolerance 0 disables the timestamp check")
    future = NOW + 60
    add("future_within_tolerance", PLAIN, SECRET, future,
        gen_header(PLAIN, SECRET, future),
        note="slightly in the future (clock skew) but within tolerance")
    add("expired_and_wrong_secret", PLAIN, OTHER_SECRET, old,
        gen_header(PLAIN, SECRET, old))

    add("only_v0", PLAIN, SECRET, t, "t=%d,v0=%s" % (t, good),
        note="a correct signature under the v0 scheme is not accepted")
    add("uppercase_hex_v1", PLAIN, SECRET, t, "t=%d,v1=%s" % (t, good.upper()),
        note="signatures are compared as lowercase hex strings")
    add("truncated_v1", PLAIN, SECRET, t, "t=%d,v1=%s" % (t, good[:-1]))
    add("v1_with_extra_hex", PLAIN, SECRET, t, "t=%d,v1=%s00" % (t, good))
    add("non_ascii_v1", PLAIN, SECRET, t, "t=%d,v1=%s" % (t, "\u00e9" * 64),
        note="the official library raises TypeError here; we reject cleanly")
    add("t_with_leading_zeros", PLAIN, SECRET, t, "t=000%d,v1=%s" % (t, good),
        note="the signed payload uses the integer value of t, not its spelling")
    add("empty_items_and_trailing_comma", PLAIN, SECRET, t, "t=%d,,v1=%s," % (t, good))
    add("missing_t", PLAIN, SECRET, t, "v1=%s" % good)
    add("t_without_value", PLAIN, SECRET, t, "t,v1=%s" % good)
    add("non_numeric_t", PLAIN, SECRET, t, "t=abc,v1=%s" % good)
    add("empty_header", PLAIN, SECRET, t, "")
    add("garbage_header", PLAIN, SECRET, t, "not a stripe signature header")
    return cases


def main():
    cases = build_cases()
    for c in cases:
        c["valid"], c["official_error"] = official_verdict(
            c["payload"], c["header"], c["secret"], c["tolerance"], c["now"]
        )
    doc = {
        "generator": "tests/vectors/gen_signature_vectors.py",
        "stripe_python_version": stripe.VERSION,
        "python_version": sys.version.split()[0],
        "description": "Stripe-Signature verdicts of the official stripe-python "
        "WebhookSignature.verify_header with time.time() pinned to `now`. "
        "Secrets are fake.",
        "cases": cases,
    }
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        # ASCII-only output: invisible characters in payloads (NBSP, U+2028)
        # survive editors and git untouched as \uXXXX escapes.
        json.dump(doc, f, indent=2, ensure_ascii=True)
        f.write("\n")
    print("wrote %d cases to %s (stripe %s)" % (len(cases), OUT, stripe.VERSION))
    for c in cases:
        print("  %-36s valid=%-5s %s" % (c["name"], c["valid"], c["official_error"] or ""))


if __name__ == "__main__":
    main()
