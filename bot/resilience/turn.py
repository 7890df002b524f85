"""What the turn guard needs to know about the turn in progress (a context variable)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Optional


@dataclass
class TurnState:
    # The tracker store wrote (or outboxed) the turn's events: nothing is left to record.
    saved: bool = False
    # The user already got an apology for this turn (an action failed).
    apologised: bool = False


CURRENT_TURN: ContextVar[Optional[TurnState]] = ContextVar("bot_resilience_turn", default=None)


def current_turn() -> Optional[TurnState]:
    return CURRENT_TURN.get()
