"""Numbered choices: buttons shown as "1. …, 2. …" that the user can answer with a digit.

When a channel renders buttons it remembers their payloads for that user (in the shared store, so
any replica can resolve the answer). A later message that is just a number ("2", "2.", "số 2",
"chọn 2") becomes the payload of that choice; any other message forgets the choices.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import List, Optional, Sequence

from bot.channels.store import KeyValueStore

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 24 * 3600
_NUMBER_ANSWER = re.compile(r"^\s*(?:(?:so|chon|lua chon|#)\s*)?(\d{1,2})\s*[.)]?\s*$")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def number_answer(text: Optional[str]) -> Optional[int]:
    """The number a message consists of ("2", "số 2", "chọn 2."), or None."""
    if not text or len(text) > 20:
        return None
    match = _NUMBER_ANSWER.match(_fold(text))
    return int(match.group(1)) if match else None


def numbered(text: str, titles: Sequence[str]) -> str:
    """The message text followed by its choices, one numbered line each."""
    lines = [f"{index}. {title}" for index, title in enumerate(titles, start=1)]
    return (text.rstrip() + "\n\n" if text and text.strip() else "") + "\n".join(lines)


def usable_buttons(buttons: Sequence[dict]) -> List[dict]:
    """Buttons with a title and a payload (an unfilled slot renders as "None" or "")."""
    usable = []
    for button in buttons or []:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or button.get("url") or "").strip()
        if title and payload and title != "None" and payload != "None":
            usable.append({**button, "title": title, "payload": payload})
    return usable


class ChoiceMemory:
    def __init__(self, store: KeyValueStore, namespace: str, ttl_seconds: float = DEFAULT_TTL_SECONDS):
        self.store = store
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds

    def _key(self, user_id: str) -> str:
        return f"{self.namespace}:choices:{user_id}"

    async def remember(self, user_id: str, payloads: Sequence[str]) -> None:
        try:
            await self.store.set(self._key(user_id), json.dumps(list(payloads)), self.ttl_seconds)
        except Exception as error:  # noqa: BLE001 - the buttons still work, only digits do not
            logger.warning("could not remember choices for %s: %s", user_id, error)

    async def resolve(self, user_id: str, text: str) -> str:
        """The payload chosen by a number answer, else the text itself (choices are then forgotten)."""
        try:
            stored = await self.store.get(self._key(user_id))
        except Exception as error:  # noqa: BLE001
            logger.warning("could not read choices for %s: %s", user_id, error)
            return text
        if stored is None:
            return text
        number = number_answer(text)
        payloads = json.loads(stored)
        try:
            await self.store.delete(self._key(user_id))
        except Exception as error:  # noqa: BLE001
            logger.warning("could not forget choices for %s: %s", user_id, error)
        if number is not None and 1 <= number <= len(payloads):
            return payloads[number - 1]
        return text
