"""Domain exceptions of the dossier module."""

from __future__ import annotations


class DossierError(Exception):
    """Base class of the dossier module's errors."""


class DossierNotFound(DossierError):
    """No dossier has this code."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no dossier with code {code}")
        self.code = code


class InvalidDossierCode(DossierError):
    """The text holds no code of the configured format."""

    def __init__(self, value: str) -> None:
        super().__init__("not a dossier code of the configured format")
        self.value = value


class InvalidRecord(DossierError):
    """A dossier record (CSV row, pushed JSON object) cannot be accepted."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidFile(DossierError):
    """The whole import file is unusable (encoding, header)."""
