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

from bot.codes import DASHES, find_codes
from bot.dossiers.errors import InvalidDossierCode
from bot.settings import DEFAULT_PROCEDURE_CODE_PATTERN

_WHITESPACE = re.compile(r"\s+")
# Something a user typed as a code: groups of letters/digits joined by dots or dashes, with digits.
_CODE_LIKE = re.compile(r"[A-Za-z0-9]+(?:\s*[.\-\u2013\u2014]\s*[A-Za-z0-9]+){2,}")


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(DASHES).upper()


def normalise_code(value: str) -> str:
    """Upper-case, ASCII dashes, no whitespace: the stored form of a code."""
    return _WHITESPACE.sub("", _prepare(value))


class DossierCodes:
    """Codes of one configured pattern."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._full = re.compile(pattern)

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
        matches = find_codes(unicodedata.normalize("NFKC", text), self.pattern)
        return matches[0].value if matches else None

    def remove(self, text: str) -> str:
        """The text without the codes it holds (so their digits are not taken for anything else)."""
        text = unicodedata.normalize("NFKC", text or "")
        for match in reversed(find_codes(text, self.pattern)):
            text = text[: match.start] + " " + text[match.end :]
        return text


def looks_like_code(text: Optional[str]) -> bool:
    """Whether a message holds something typed as a code: groups joined by dots/dashes, with at
    least 4 digits and a letter or both kinds of separator (a phone number "0912.345.678" is not)."""
    if not text:
        return False
    for match in _CODE_LIKE.finditer(text):
        found = match.group(0)
        if sum(ch.isdigit() for ch in found) < 4:
            continue
        if any(ch.isalpha() for ch in found) or ("." in found and "-" in found.translate(DASHES)):
            return True
    return False


# In a message that asks for a lookup: a token of letters/digits joined by dots or dashes.
_ATTEMPT = re.compile(r"(?<![\w.\-])[A-Za-z0-9]+(?:[.\-][A-Za-z0-9]+)+(?![\w\-])")
_DATE = re.compile(r"\d{1,2}[.\-]\d{1,2}(?:[.\-]\d{2,4})?")
_PHONE = re.compile(r"0\d{2,3}(?:[.\-]\d{3,4}){2}")
_PROCEDURE_CODE = re.compile(DEFAULT_PROCEDURE_CODE_PATTERN, re.IGNORECASE)


def attempts_code(text: Optional[str]) -> bool:
    """Whether a lookup request holds something meant as a dossier code ("tra cứu hồ sơ 123-abc").

    Looser than :func:`looks_like_code`, so it is asked only of the message that starts a lookup:
    a token joined by dots or dashes, with a digit, and a letter or two separators; dates
    ("12-11", "12.11.2026"), phone numbers and procedure codes ("1.001193") are not attempts.
    """
    if not text:
        return False
    for match in _ATTEMPT.finditer(unicodedata.normalize("NFKC", text).translate(DASHES)):
        found = match.group(0)
        if not any(ch.isdigit() for ch in found):
            continue
        if _DATE.fullmatch(found) or _PROCEDURE_CODE.fullmatch(found):
            continue
        separators = sum(ch in ".-" for ch in found)
        if any(ch.isalpha() for ch in found) or (separators >= 2 and not _PHONE.fullmatch(found)):
            return True
    return False


@lru_cache(maxsize=8)
def codes_for(pattern: str) -> DossierCodes:
    """A shared, compiled matcher per pattern."""
    return DossierCodes(pattern)
