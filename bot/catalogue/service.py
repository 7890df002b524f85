"""The catalogue as the actions see it: search, look-up by code, and hot reload."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalogue.records import CuratedRecord
from bot.catalogue.search import Entry, Hit, SearchIndex, is_local, is_superseded
from bot.catalogue.tables import catalogue_meta, procedures
from bot.text import words

logger = logging.getLogger(__name__)


class ProcedureNotFound(LookupError):
    """No procedure has this code or slug."""


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    portal_url: str
    agencies: List[str]
    field: str
    slug: Optional[str]
    detail: Optional[CuratedRecord]


@dataclass
class _Snapshot:
    version: Optional[str]
    index: SearchIndex
    procedures: Dict[str, Procedure]
    life_events: List[dict]
    court_matters: Optional["re.Pattern[str]"] = None  # phrases of matters courts decide, folded
    court_not_after: Optional["re.Pattern[str]"] = None  # ... unless right after these words


def _build(rows, meta_row) -> _Snapshot:
    entries, by_code = [], {}
    for row in rows:
        detail = CuratedRecord.from_json(row.detail) if row.detail else None
        procedure = Procedure(
            code=row.code,
            name=row.name,
            portal_url=row.portal_url,
            agencies=json.loads(row.agencies or "[]"),
            field=row.field,
            slug=row.slug,
            detail=detail,
        )
        by_code[row.code] = procedure
        entries.append(
            Entry(
                code=row.code,
                name=detail.name if detail else row.name,
                portal_url=row.portal_url,
                slug=row.slug,
                aliases=tuple(json.loads(row.aliases or "[]")) + ((row.name,) if detail else ()),
                local=is_local(procedure.agencies),
                superseded=is_superseded(row.issuing_ministry, row.field),
            )
        )
    extras = json.loads(meta_row.extras) if meta_row is not None else {}
    life_events = extras.get("life_events", [])
    index = SearchIndex(entries, life_events=life_events, synonyms=extras.get("synonyms", {}))
    court = extras.get("court_matters") or {}
    return _Snapshot(
        meta_row.version if meta_row else None,
        index,
        by_code,
        life_events,
        _words_pattern(court.get("phrases", []), r"\b(?:%s)\b"),
        _words_pattern(court.get("not_after", []), r"\b(?:%s)$"),
    )


def _words_pattern(phrases: List[str], template: str) -> Optional["re.Pattern[str]"]:
    """A regex matching any of the phrases as folded words, or None when there are none."""
    folded = [" ".join(words(phrase)) for phrase in phrases]
    alternatives = "|".join(re.escape(phrase) for phrase in folded if phrase)
    return re.compile(template % alternatives) if alternatives else None


class CatalogueService:
    def __init__(self, engine: AsyncEngine, refresh_seconds: float = 30.0) -> None:
        self._engine = engine
        self._refresh_seconds = refresh_seconds
        self._snapshot: Optional[_Snapshot] = None
        self._checked_at = 0.0
        self._reload_lock = asyncio.Lock()

    async def _current_version(self) -> Optional[str]:
        async with self._engine.connect() as connection:
            return (await connection.execute(select(catalogue_meta.c.version))).scalar()

    async def load(self) -> None:
        """(Re)build the in-memory index from the database; the build runs off the event loop."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(procedures))).all()
            meta_row = (await connection.execute(select(catalogue_meta))).first()
        snapshot = await asyncio.get_running_loop().run_in_executor(None, _build, rows, meta_row)
        self._snapshot = snapshot  # atomic swap: readers keep the old one until here
        self._checked_at = time.monotonic()
        logger.info("catalogue loaded: %d procedures, version %s", len(rows), snapshot.version)

    async def maybe_refresh(self) -> None:
        """Reload if the catalogue was re-imported since (checked at most every refresh_seconds)."""
        if time.monotonic() - self._checked_at < self._refresh_seconds or self._reload_lock.locked():
            return
        async with self._reload_lock:
            self._checked_at = time.monotonic()
            try:
                version = await self._current_version()
                if self._snapshot is None or version != self._snapshot.version:
                    await self.load()
            except SQLAlchemyError:
                logger.warning("catalogue refresh failed; keeping the loaded index", exc_info=True)

    @property
    def version(self) -> Optional[str]:
        return self._snapshot.version if self._snapshot else None

    @property
    def _snap(self) -> _Snapshot:
        if self._snapshot is None:
            raise RuntimeError("catalogue not loaded")
        return self._snapshot

    def search(self, query: str, top: int = 3) -> List[Hit]:
        return self._snap.index.search(query, top=top)

    def holds_name(self, text: str, code: str) -> bool:
        """Whether the text holds a whole name or alias of the procedure."""
        return self._snap.index.holds_name(text, code)

    def query_terms(self, text: str) -> List[str]:
        """The words of ``text`` the search matches on (question words dropped)."""
        return self._snap.index.expand(text).split()

    def court_matter(self, text: str) -> Optional[str]:
        """The phrase of a matter courts decide that the text speaks of ("ly hôn"), else None."""
        snap = self._snap
        if snap.court_matters is None:
            return None
        folded = " ".join(words(text))
        for match in snap.court_matters.finditer(folded):
            before = folded[: match.start()].rstrip()
            if snap.court_not_after is None or not snap.court_not_after.search(before):
                return match.group(0)
        return None

    def get(self, ref: str) -> Procedure:
        """A procedure by official code or curated slug."""
        snap = self._snap
        procedure = snap.procedures.get(ref)
        if procedure is None:
            entry = snap.index.resolve(ref)
            procedure = snap.procedures.get(entry.code) if entry else None
        if procedure is None:
            raise ProcedureNotFound(ref)
        return procedure

    def related(self, code: str) -> List[Procedure]:
        """Other procedures of the life events this procedure opens (for 'you may also need')."""
        snap = self._snap
        procedure = snap.procedures.get(code)
        refs = {code, procedure.slug} if procedure else {code}
        related: List[Procedure] = []
        for event in snap.life_events:
            chain = event.get("procedures", [])
            if chain and chain[0] in refs:
                for ref in chain[1:]:
                    try:
                        other = self.get(ref)
                    except ProcedureNotFound:
                        continue
                    if other.code != code and other not in related:
                        related.append(other)
        return related

    def __len__(self) -> int:
        return len(self._snap.procedures)
