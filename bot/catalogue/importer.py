"""Import the procedure catalogue into the database, in one transaction.

Running assistants keep answering from their in-memory index while the import runs; they
notice the new ``catalogue_meta`` version and rebuild their index (no downtime).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalogue.records import (
    CuratedRecord,
    load_aliases,
    load_court_matters,
    load_curated,
    load_life_events,
    load_synonyms,
    read_national,
)
from bot.catalogue.tables import catalogue_meta, procedures
from bot.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data" / "procedures"
DEFAULT_NATIONAL = DATA_DIR / "national_procedures.jsonl"
DEFAULT_CURATED = DATA_DIR / "curated"
DEFAULT_LIFE_EVENTS = PROJECT_ROOT / "data" / "life_events.yml"
DEFAULT_SYNONYMS = DATA_DIR / "synonyms.yml"
DEFAULT_ALIASES = DATA_DIR / "aliases.yml"
DEFAULT_COURT_MATTERS = DATA_DIR / "court_matters.yml"


class CatalogueError(Exception):
    """The catalogue files are inconsistent; nothing was imported."""


@dataclass
class ImportReport:
    version: str
    procedures: int
    curated: int
    removed: int
    unknown_alias_codes: Tuple[str, ...] = ()  # aliases.yml codes not in the national list: skipped


def _version(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                digest.update(file.name.encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _rows(national: Path, curated: List[CuratedRecord], aliases: Dict[str, List[str]]) -> List[dict]:
    rows = {row["code"]: row for row in read_national(national)}
    for record in curated:
        if record.code not in rows:
            raise CatalogueError(f"curated record {record.slug}: code {record.code} is not in the catalogue")
    out = []
    by_code = {record.code: record for record in curated}
    if len(by_code) != len(curated):
        raise CatalogueError("two curated records share a code")
    for code, row in rows.items():
        record = by_code.get(code)
        out.append(
            {
                "code": code,
                "name": row["name"],
                "issuing_ministry": row["issuing_ministry"],
                "agencies": json.dumps(row["agencies"], ensure_ascii=False),
                "field": row["field"],
                "portal_url": row["portal_url"],
                "slug": record.slug if record else None,
                "aliases": json.dumps((record.aliases if record else []) + aliases.get(code, []), ensure_ascii=False),
                "detail": record.to_json() if record else None,
            }
        )
    return out


async def import_catalogue(
    engine: AsyncEngine,
    national: Path = DEFAULT_NATIONAL,
    curated_dir: Path = DEFAULT_CURATED,
    life_events: Path = DEFAULT_LIFE_EVENTS,
    synonyms: Path = DEFAULT_SYNONYMS,
    court_matters: Path = DEFAULT_COURT_MATTERS,
    aliases: Path = DEFAULT_ALIASES,
) -> ImportReport:
    """Replace the catalogue with the files' content; raises CatalogueError if they disagree."""
    try:
        curated = load_curated(curated_dir)
        events = load_life_events(life_events)
        synonym_map = load_synonyms(synonyms)
        court_phrases = load_court_matters(court_matters)
        alias_map = load_aliases(aliases)
        rows = _rows(national, curated, alias_map)
    except (ValueError, OSError) as error:
        raise CatalogueError(str(error)) from error
    codes = {row["code"] for row in rows}
    slugs = {record.slug for record in curated} | codes
    for event in events:
        unknown = [ref for ref in event.procedures if ref not in slugs]
        if unknown:
            raise CatalogueError(f"life event {event.id}: unknown procedures {unknown}")
    # An updated national list may drop a procedure that has aliases: the import goes on without them.
    unknown_aliases = tuple(sorted(set(alias_map) - codes))
    version = _version(national, curated_dir, life_events, synonyms, court_matters, aliases)
    extras = json.dumps(
        {
            "life_events": [event.dict() for event in events],
            "synonyms": synonym_map,
            "court_matters": court_phrases,
        },
        ensure_ascii=False,
    )
    async with engine.begin() as connection:
        existing = set((await connection.execute(select(procedures.c.code))).scalars())
        new_codes = {row["code"] for row in rows}
        removed = existing - new_codes
        if removed:
            await connection.execute(delete(procedures).where(procedures.c.code.in_(list(removed))))
        # slugs are unique: clear them first so a slug may move to another code
        await connection.execute(update(procedures).values(slug=None))
        updates = [row for row in rows if row["code"] in existing]
        inserts = [row for row in rows if row["code"] not in existing]
        if updates:
            await connection.execute(
                update(procedures).where(procedures.c.code == _bind("b_code")),
                [{"b_code": row["code"], **{k: v for k, v in row.items() if k != "code"}} for row in updates],
            )
        if inserts:
            await connection.execute(insert(procedures), inserts)
        await connection.execute(delete(catalogue_meta))
        await connection.execute(
            insert(catalogue_meta).values(
                id=1,
                version=version,
                imported_at=dt.datetime.now(dt.timezone.utc),
                procedure_count=len(rows),
                extras=extras,
            )
        )
    return ImportReport(
        version=version,
        procedures=len(rows),
        curated=len(curated),
        removed=len(removed),
        unknown_alias_codes=unknown_aliases,
    )


def _bind(name: str):
    from sqlalchemy import bindparam

    return bindparam(name)
