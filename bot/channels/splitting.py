"""Cut a long text into messages a chat app accepts (Zalo and Messenger: 2,000 characters).

Length is counted in UTF-16 code units, as the platforms' JavaScript clients do: an emoji counts
twice, so a part never goes over the limit whichever way the platform counts. Cuts fall on a
paragraph break if one is near, else a line break, else a space; a word longer than the whole limit
is cut inside. Each part keeps its own lines; blank parts are dropped.
"""

from __future__ import annotations

import unicodedata
from typing import List

DEFAULT_LIMIT = 2000


def text_length(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """The largest n with text_length(text[:n]) <= limit (fast path for BMP-only text)."""
    if text_length(text[:limit]) <= limit:
        return min(len(text), limit)
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if text_length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def split_text(text: str, limit: int = DEFAULT_LIMIT) -> List[str]:
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: List[str] = []
    rest = (text or "").strip()
    while rest:
        if text_length(rest) <= limit:
            parts.append(rest)
            break
        window = _prefix_within(rest, limit)
        head = rest[:window]
        # Prefer the latest paragraph break, then line break, then space, in the second half of
        # the window (a cut in the first half would make many short messages).
        cut = -1
        for separator in ("\n\n", "\n", " "):
            position = head.rfind(separator)
            if position >= window // 2:
                cut = position
                break
        if cut <= 0:
            for separator in ("\n\n", "\n", " "):
                position = head.rfind(separator)
                if position > 0:
                    cut = position
                    break
        if cut <= 0:
            cut = window
            # Do not leave a combining mark (decomposed diacritic) at the start of the next part.
            while cut > 1 and unicodedata.combining(rest[cut]):
                cut -= 1
        part = rest[:cut].strip()
        if part:
            parts.append(part)
        rest = rest[cut:].strip()
    return parts

