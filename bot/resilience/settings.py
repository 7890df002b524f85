"""Timeouts and limits of the resilience layer, read from the environment (seconds unless said)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# The response the user gets when a service is unavailable (domain/resilience.yml); the text below
# is used when the loaded model's domain does not have it yet.
APOLOGY_RESPONSE = "utter_service_unavailable"
APOLOGY_TEXT = (
    "Xin lỗi, hệ thống đang tạm thời gián đoạn nên mình chưa trả lời được. "
    "Tin nhắn của bạn đã được ghi nhận; bạn vui lòng gửi lại sau ít phút nhé."
)


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value.strip() else default
    except ValueError:
        return default


@dataclass(frozen=True)
class ResilienceSettings:
    # One database call of the tracker store (read, write) before the turn gives up.
    store_timeout: float = field(default_factory=lambda: _float("TRACKER_STORE_TIMEOUT_SECONDS", 2.5))
    # One Redis command (lock, outbox).
    redis_timeout: float = field(default_factory=lambda: _float("REDIS_TIMEOUT_SECONDS", 1.5))
    # Longest wait for a conversation's lock (messages of one conversation are served one at a time).
    lock_wait: float = field(default_factory=lambda: _float("LOCK_WAIT_SECONDS", 8.0))
    # One call to the action server.
    action_timeout: float = field(default_factory=lambda: _float("ACTION_TIMEOUT_SECONDS", 5.0))
    # A whole turn, last resort (each step above has its own, shorter bound).
    turn_timeout: float = field(default_factory=lambda: _float("TURN_TIMEOUT_SECONDS", 15.0))
    # How often pending (outboxed) events are retried.
    flush_interval: float = field(default_factory=lambda: _float("OUTBOX_FLUSH_SECONDS", 2.0))
    # Characters of a message kept at all (0: no limit); longer ones are cut, their length and
    # SHA-256 kept in the message's metadata.
    max_message_chars: int = field(default_factory=lambda: int(_float("MAX_MESSAGE_CHARS", 5000)))
    # Characters of a message the NLU pipeline reads (the tracker keeps the whole message).
    nlu_max_chars: int = field(default_factory=lambda: int(_float("NLU_MAX_CHARS", 2000)))
    # Events kept in memory when neither the database nor Redis takes them.
    memory_outbox_limit: int = field(default_factory=lambda: int(_float("OUTBOX_MEMORY_LIMIT", 100_000)))
