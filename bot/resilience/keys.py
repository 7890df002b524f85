"""Storage keys for conversation ids: ids a channel would accept but a column or key would not."""

from __future__ import annotations

import hashlib

MAX_PLAIN_KEY = 200  # events.sender_id is VARCHAR(255); keep room


def storage_key(sender_id: str) -> str:
    """The sender id itself, or a stable digest when it is too long, holds a NUL (PostgreSQL rejects
    NUL in text) or is not valid Unicode text. Distinct ids keep distinct keys."""
    sender_id = str(sender_id)
    if len(sender_id) <= MAX_PLAIN_KEY and "\x00" not in sender_id and not sender_id.startswith("sha256:"):
        try:
            sender_id.encode("utf-8")  # a lone surrogate (from a JSON escape) cannot be stored
            return sender_id
        except UnicodeEncodeError:
            pass
    return "sha256:" + hashlib.sha256(sender_id.encode("utf-8", "surrogatepass")).hexdigest()
