"""Stripe-Signature headers computed the way Stripe documents them, independently of the
extension: v1 = hex HMAC-SHA256(secret, "<t>.<payload>")."""

import hashlib
import hmac
import json
import time


def signature(payload, secret, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed(event, secret, t=None):
    """(payload, header) for an event dict, serialized the way Stripe sends it."""
    payload = json.dumps(event, indent=2)
    return payload, signature(payload, secret, t)
