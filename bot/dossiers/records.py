"""Validation of incoming dossier records (a CSV row or a pushed JSON object) and time handling.

Times: ISO 8601; a time without an offset is local time of the configured zone (Asia/Ho_Chi_Minh);
everything is stored as timezone-aware UTC. A date without a time is midnight, except for ``due_at``
where it means the end of that day (the appointment day is still on time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping, Optional
from zoneinfo import ZoneInfo

from bot.dossiers.codes import DossierCodes
from bot.dossiers.errors import InvalidDossierCode, InvalidRecord
from bot.dossiers.status import DossierStatus

FIELDS = (
    "code",
    "procedure_code",
    "procedure_name",
    "applicant_name",
    "applicant_phone",
    "agency",
    "status",
    "submitted_at",
    "due_at",
    "updated_at",
    "note",
)
REQUIRED = ("code", "procedure_name", "applicant_name", "applicant_phone", "agency", "status",
            "submitted_at", "updated_at")
MAX_LENGTHS = {
    "procedure_code": 40,
    "procedure_name": 1000,
    "applicant_name": 200,
    "agency": 500,
    "note": 4000,
}

_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d{2})(\d{2})$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PHONE_JUNK = re.compile(r"[\s.\-()/]")


@dataclass(frozen=True)
class DossierRecord:
    """A validated dossier, as the one-stop system describes it."""

    code: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    applicant_phone: str
    agency: str
    status: DossierStatus
    submitted_at: datetime
    due_at: Optional[datetime]
    updated_at: datetime
    note: str

    def values(self) -> dict:
        """Column values (without the code)."""
        return {
            "procedure_code": self.procedure_code,
            "procedure_name": self.procedure_name,
            "applicant_name": self.applicant_name,
            "applicant_phone": self.applicant_phone,
            "agency": self.agency,
            "status": self.status.value,
            "submitted_at": self.submitted_at,
            "due_at": self.due_at,
            "updated_at": self.updated_at,
            "note": self.note,
        }


def parse_time(value: str, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 time as aware UTC; naive times are in ``tz``. Raises ValueError."""
    text = value.strip()
    if _DATE_ONLY.match(text):
        day = date.fromisoformat(text)
        local = datetime.combine(day, time(23, 59, 59) if end_of_day else time(0, 0), tzinfo=tz)
        return local.astimezone(timezone.utc)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(timezone.utc)


def normalise_phone(value: str) -> str:
    """Digits only, national form (``+84 912 345 678`` -> ``0912345678``). Raises ValueError."""
    digits = _PHONE_JUNK.sub("", value.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise ValueError("phone number must have 8 to 15 digits")
    return digits


def _text(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRecord(field, "must be a string")
    value = value.strip()
    limit = MAX_LENGTHS.get(field)
    if limit is not None and len(value) > limit:
        raise InvalidRecord(field, f"longer than {limit} characters")
    return value


def parse_record(raw: Mapping[str, Any], codes: DossierCodes, tz: ZoneInfo) -> DossierRecord:
    """Validate one record; raises InvalidRecord naming the first bad field."""
    if not isinstance(raw, Mapping):
        raise InvalidRecord("record", "must be an object")
    values = {field: _text(raw, field) for field in FIELDS}
    for field in REQUIRED:
        if not values[field]:
            raise InvalidRecord(field, "is required")
    try:
        code = codes.normalise(values["code"])
    except InvalidDossierCode:
        raise InvalidRecord("code", f"does not match the dossier code pattern {codes.pattern}")
    status = DossierStatus.parse(values["status"])
    if status is None:
        allowed = ", ".join(s.value for s in DossierStatus)
        raise InvalidRecord("status", f"unknown status {values['status']!r} (allowed: {allowed})")
    try:
        phone = normalise_phone(values["applicant_phone"])
    except ValueError as error:
        raise InvalidRecord("applicant_phone", str(error))
    times = {}
    for field in ("submitted_at", "due_at", "updated_at"):
        if not values[field]:
            times[field] = None
            continue
        try:
            times[field] = parse_time(values[field], tz, end_of_day=field == "due_at")
        except ValueError:
            raise InvalidRecord(field, f"not an ISO 8601 date/time: {values[field]!r}")
    if times["updated_at"] < times["submitted_at"] - timedelta(minutes=1):
        raise InvalidRecord("updated_at", "is before submitted_at")
    return DossierRecord(
        code=code,
        procedure_code=values["procedure_code"],
        procedure_name=values["procedure_name"],
        applicant_name=values["applicant_name"],
        applicant_phone=phone,
        agency=values["agency"],
        status=status,
        submitted_at=times["submitted_at"],
        due_at=times["due_at"],
        updated_at=times["updated_at"],
        note=values["note"],
    )
