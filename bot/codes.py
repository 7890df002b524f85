"""Find dossier and procedure codes in free text, by pattern.

Citizens paste codes with odd spacing and case ("000.00.22.h39 - 261118 - 0007"); the text is
compacted (spaces around ``.``/``-`` removed, ASCII letters upper-cased) before matching, and each
match is mapped back to its exact span in the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Tuple

# Spaces around a separator inside a code ("H39 - 261118"), not at the end of a sentence.
_SPACE_AROUND_SEPARATOR = re.compile(
    r"(?<=[A-Za-z0-9])\s*(-)\s*(?=[0-9]|[A-Za-z][0-9])|(?<=[0-9])\s*(\.)\s*(?=[0-9]|[A-Za-z][0-9])"
)


@dataclass(frozen=True)
class CodeMatch:
    start: int  # offsets in the original text
    end: int
    value: str  # normalised code


# Hyphen look-alikes that phones and word processors put in pasted codes (one character each).
DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")


def _compact(text: str) -> Tuple[str, List[int]]:
    """Text without spaces around separators, ASCII upper-cased; plus an index map."""
    text = text.translate(DASHES)
    chars: List[str] = []
    index: List[int] = []
    position = 0
    for match in _SPACE_AROUND_SEPARATOR.finditer(text):
        for i in range(position, match.start()):
            chars.append(text[i])
            index.append(i)
        group = 1 if match.group(1) is not None else 2
        chars.append(match.group(group))
        index.append(match.start(group))
        position = match.end()
    for i in range(position, len(text)):
        chars.append(text[i])
        index.append(i)
    compact = "".join(c.upper() if c.isascii() else c for c in chars)
    return compact, index


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> "re.Pattern[str]":
    # A code must not be glued to other letters, digits or separators on either side.
    return re.compile(rf"(?<![\w.\-])(?:{pattern})(?![\w\-]|\.\w)")


def find_codes(text: str, pattern: str) -> List[CodeMatch]:
    """All non-overlapping codes matching ``pattern`` (written for the normalised form)."""
    if not text:
        return []
    compact, index = _compact(text)
    matches = []
    for match in _compiled(pattern).finditer(compact):
        start = index[match.start()]
        end = index[match.end() - 1] + 1
        matches.append(CodeMatch(start, end, match.group(0)))
    return matches
