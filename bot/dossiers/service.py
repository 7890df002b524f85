"""The dossier service the actions, the importer and the sync endpoint use.

Privacy rules kept here: details only after the last 4 digits of the registered phone match;
unknown code and wrong digits give the same answer; the applicant's name is masked; the phone number
never leaves this module; failed verifications are limited (see limiter.py); nothing personal is logged.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dossiers import repository
from bot.dossiers.codes import DossierCodes, codes_for
from bot.dossiers.errors import DossierNotFound
from bot.dossiers.limiter import Clock, FailureLimiter, build_limiter, utcnow
from bot.dossiers.records import DossierRecord
from bot.dossiers.repository import Dossier, UpsertReport
from bot.dossiers.status import DossierStatus

logger = logging.getLogger(__name__)

# Lookup outcomes besides the statuses themselves.
NOT_FOUND = "not_found"  # unknown code OR wrong digits: deliberately indistinguishable
LOCKED = "locked"
INVALID_CODE = "invalid_code"
INVALID_DIGITS = "invalid_digits"
UNAVAILABLE = "unavailable"
OUTCOMES = tuple(s.value for s in DossierStatus) + (
    NOT_FOUND, LOCKED, INVALID_CODE, INVALID_DIGITS, UNAVAILABLE,
)

_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_DUMMY_DIGITS = "\x00\x00\x00\x00"


def mask_name(name: str) -> str:
    """First letter of each word: "Nguyễn Văn An" -> "N*** V*** A***"."""
    return " ".join(word[0] + "***" for word in name.split()) or "***"


@dataclass(frozen=True)
class DossierView:
    """What may be shown once the digits matched: masked, formatted for display, no phone number."""

    code: str
    status: DossierStatus
    procedure_code: str
    procedure_name: str
    agency: str
    applicant: str  # masked
    submitted: str  # dd/mm/yyyy, local
    due: Optional[str]
    updated: str
    note: Optional[str]
    overdue: bool
    overdue_days: int


@dataclass(frozen=True)
class LookupResult:
    state: str  # a DossierStatus value or one of OUTCOMES
    code: Optional[str] = None  # normalised code, when the code was valid
    view: Optional[DossierView] = None
    retry_after_seconds: Optional[int] = None


class DossierService:
    def __init__(self, engine: AsyncEngine, settings, limiter: FailureLimiter,
                 clock: Clock = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.limiter = limiter
        self.clock = clock
        self.codes: DossierCodes = codes_for(settings.dossier_code_pattern)
        self.tz = ZoneInfo(settings.timezone)

    # -- display -------------------------------------------------------------------------------

    def local_date(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%d/%m/%Y")

    def view(self, dossier: Dossier) -> DossierView:
        now = self.clock()
        overdue_days = 0
        if dossier.status.is_open and dossier.due_at is not None and now > dossier.due_at:
            local_days = (now.astimezone(self.tz).date() - dossier.due_at.astimezone(self.tz).date())
            overdue_days = max(1, local_days.days)
        return DossierView(
            code=dossier.code,
            status=dossier.status,
            procedure_code=dossier.procedure_code,
            procedure_name=dossier.procedure_name,
            agency=dossier.agency,
            applicant=mask_name(dossier.applicant_name),
            submitted=self.local_date(dossier.submitted_at),
            due=self.local_date(dossier.due_at) if dossier.due_at else None,
            updated=self.local_date(dossier.updated_at),
            note=dossier.note or None,
            overdue=overdue_days > 0,
            overdue_days=overdue_days,
        )

    # -- lookup --------------------------------------------------------------------------------

    async def lookup(self, code_text: Optional[str], digits: Optional[str],
                     conversation_id: str) -> LookupResult:
        """Where a dossier stands, for someone who knows its code and the phone's last 4 digits."""
        code = self.codes.find(code_text) if code_text else None
        if code is None:
            return LookupResult(INVALID_CODE)
        digits = (digits or "").strip()
        if not _FOUR_DIGITS.fullmatch(digits):
            return LookupResult(INVALID_DIGITS, code)
        keys = [("conversation", conversation_id or ""), ("code", code)]
        dossier: Optional[Dossier] = None
        async with self.engine.connect() as conn:  # one connection for the check and the fetch
            retry_after = await self.limiter.retry_after(keys, conn=conn)
            if retry_after is None:
                try:
                    dossier = await repository.get_dossier(conn, code)
                except DossierNotFound:
                    dossier = None
        if retry_after is not None:
            logger.info("dossier lookup refused: too many failed verifications")
            return LookupResult(LOCKED, code, retry_after_seconds=retry_after)
        expected = dossier.applicant_phone[-4:] if dossier else _DUMMY_DIGITS
        if dossier is None or not hmac.compare_digest(expected.encode(), digits.encode()):
            await self.limiter.record_failure(keys)
            logger.info("dossier lookup: no match for the code and digits given")
            return LookupResult(NOT_FOUND, code)
        logger.info("dossier lookup: verified, status %s", dossier.status.value)
        return LookupResult(dossier.status.value, code, view=self.view(dossier))

    # -- writes --------------------------------------------------------------------------------

    async def upsert(self, records: Sequence[DossierRecord], source: str) -> UpsertReport:
        """Create or update these records in one transaction (retried once on a creation race)."""
        for attempt in (1, 2):
            try:
                async with self.engine.begin() as conn:
                    return await repository.upsert_records(
                        conn, records, source=source, now=utcnow()
                    )
            except IntegrityError:
                if attempt == 2:
                    raise
                logger.info("dossier upsert raced with another writer; retrying")
        raise AssertionError("unreachable")  # pragma: no cover

    async def history(self, code: str):
        async with self.engine.connect() as conn:
            return await repository.get_history(conn, code)

    async def close(self) -> None:
        await self.limiter.close()


async def build_dossier_service(engine: AsyncEngine, settings,
                                clock: Clock = utcnow) -> DossierService:
    """Called by bot.services at start-up; opens no connection itself."""
    return DossierService(engine, settings, build_limiter(engine, settings, clock), clock)


