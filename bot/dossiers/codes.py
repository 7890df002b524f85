"""Dossier codes: normalisation, validation against the configured pattern, finding one in any text.

The national one-stop format is ``<agency code>-<yymmdd>-<4-digit sequence>``, e.g.
``000.00.22.H39-261118-0007``; the pattern is configurable (``DOSSIER_CODE_PATTERN``) and is always
matched against the normalised, upper-case text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Optional

from bot.dossiers.errors import InvalidDossierCode

# Hyphen look-alikes that phones and word processors put in pasted codes.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")
_SPACES_AROUND_DASH = re.compile(r"(?<=[A-Z0-9])\s*-\s*(?=[A-Z0-9])")
_SPACES_AROUND_DOT = re.compile(r"(?<=[A-Z0-9])\s*\.\s*(?=[A-Z0-9])")
_WHITESPACE = re.compile(r"\s+")
# Something a user typed as a code: groups of letters/digits joined by dots or dashes, with digits.
_CODE_LIKE = re.compile(r"[A-Za-z0-9]+(?:\s*[.\-\u2013\u2014]\s*[A-Za-z0-9]+){2,}")


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DASHES).upper()


def normalise_code(value: str) -> str:
    """Upper-case, ASCII dashes, no whitespace: the stored form of a code."""
    return _WHITESPACE.sub("", _prepare(value))


class DossierCodes:
    """Codes of one configured pattern."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._full = re.compile(pattern)
        # A code inside text must not be glued to more letters, digits or separators.
        self._inside = re.compile(rf"(?<![A-Z0-9._/-])(?:{pattern})(?![A-Z0-9_/-])")

    def is_valid(self, code: str) -> bool:
        return self._full.fullmatch(code) is not None

    def normalise(self, value: str) -> str:
        """The stored form of a code given alone; raises InvalidDossierCode when it does not fit."""
        code = normalise_code(value or "")
        if not self.is_valid(code):
            raise InvalidDossierCode(value)
        return code

    def find(self, text: Optional[str]) -> Optional[str]:
        """The first code in a message ("hồ sơ 000.00.22.h39 - 261118-0007 sao lâu vậy"), or None."""
        if not text:
            return None
        prepared = _prepare(text)
        # First join spaces around dashes only (dots end sentences), then around dots too.
        dashes_joined = _SPACES_AROUND_DASH.sub("-", prepared)
        for candidate in (dashes_joined, _SPACES_AROUND_DOT.sub(".", dashes_joined)):
            match = self._inside.search(candidate)
            if match:
                return match.group(0)
        return None

    def remove(self, text: str) -> str:
        """The text without the codes it holds (so their digits are not taken for anything else)."""
        prepared = _SPACES_AROUND_DOT.sub(".", _SPACES_AROUND_DASH.sub("-", _prepare(text)))
        return self._inside.sub(" ", prepared)


def looks_like_code(text: Optional[str]) -> bool:
    """Whether a message holds something typed as a code: groups joined by dots/dashes, with at
    least 4 digits and a letter or both kinds of separator (a phone number "0912.345.678" is not)."""
    if not text:
        return False
    for match in _CODE_LIKE.finditer(text):
        found = match.group(0)
        if sum(ch.isdigit() for ch in found) < 4:
            continue
        if any(ch.isalpha() for ch in found) or ("." in found and "-" in found.translate(_DASHES)):
            return True
    return False


@lru_cache(maxsize=8)
def codes_for(pattern: str) -> DossierCodes:
    """A shared, compiled matcher per pattern."""
    return DossierCodes(pattern)
