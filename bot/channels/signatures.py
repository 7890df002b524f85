"""Webhook signatures and freshness, compared in constant time.

Zalo OA: header ``X-ZEvent-Signature: mac=<hex>``, the hex SHA-256 (plain hash, not an HMAC) of
``app_id + raw body + timestamp + OA secret key``, where ``timestamp`` is the event's own
``timestamp`` field (epoch milliseconds, a string).

Messenger: header ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body keyed with
the app secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Optional, Union

ZALO_SIGNATURE_HEADER = "X-ZEvent-Signature"
HUB_SIGNATURE_256_HEADER = "X-Hub-Signature-256"


def _bytes(value: Union[str, bytes]) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def constant_time_equals(a: Union[str, bytes, None], b: Union[str, bytes, None]) -> bool:
    if a is None or b is None:
        return False
    return hmac.compare_digest(_bytes(a), _bytes(b))


def zalo_signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    digest = hashlib.sha256(_bytes(app_id) + body + _bytes(timestamp) + _bytes(oa_secret_key))
    return "mac=" + digest.hexdigest()


def verify_zalo_signature(
    header: Optional[str], app_id: str, body: bytes, timestamp: str, oa_secret_key: str
) -> bool:
    if not header or not app_id or not oa_secret_key:
        return False
    expected = zalo_signature(app_id, body, timestamp, oa_secret_key)
    return constant_time_equals(header.strip().lower(), expected)


def hub_signature_256(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(_bytes(app_secret), body, hashlib.sha256).hexdigest()


def verify_hub_signature_256(header: Optional[str], app_secret: str, body: bytes) -> bool:
    if not header or not app_secret:
        return False
    return constant_time_equals(header.strip().lower(), hub_signature_256(app_secret, body))


def is_fresh(
    timestamp_ms: Union[str, int, float, None],
    max_age_seconds: float,
    max_future_seconds: float = 60.0,
    now: Optional[float] = None,
) -> bool:
    """True when an epoch-milliseconds timestamp is neither too old nor too far in the future."""
    try:
        sent = float(timestamp_ms) / 1000.0
    except (TypeError, ValueError):
        return False
    if sent != sent:  # NaN
        return False
    now = time.time() if now is None else now
    return now - max_age_seconds <= sent <= now + max_future_seconds
