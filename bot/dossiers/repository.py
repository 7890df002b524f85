"""Database access for dossiers: async functions on an AsyncConnection, bound parameters only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional, Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.dossiers.errors import DossierNotFound
from bot.dossiers.records import DossierRecord
from bot.dossiers.status import DossierStatus
from bot.dossiers.tables import dossier_status_history, dossiers

# Stay under SQLite's limit on bound parameters in one statement.
_IN_CHUNK = 500

_DOSSIER_COLUMNS = (
    dossiers.c.id,
    dossiers.c.code,
    dossiers.c.procedure_code,
    dossiers.c.procedure_name,
    dossiers.c.applicant_name,
    dossiers.c.applicant_phone,
    dossiers.c.agency,
    dossiers.c.status,
    dossiers.c.submitted_at,
    dossiers.c.due_at,
    dossiers.c.updated_at,
    dossiers.c.note,
)
_GET_BY_CODE = select(*_DOSSIER_COLUMNS).where(dossiers.c.code == bindparam("code"))


@dataclass(frozen=True)
class Dossier:
    id: int
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

    @classmethod
    def from_row(cls, row) -> "Dossier":
        data = dict(row._mapping)
        data["status"] = DossierStatus(data["status"])
        return cls(**data)

    def values(self) -> dict:
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


@dataclass(frozen=True)
class StatusChange:
    previous_status: Optional[DossierStatus]
    status: DossierStatus
    changed_at: datetime
    note: str
    source: str


@dataclass
class UpsertReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # older than what is stored: ignored
    status_changes: int = 0

    def add(self, other: "UpsertReport") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        self.status_changes += other.status_changes

    def as_dict(self) -> Dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "status_changes": self.status_changes,
        }


async def get_dossier(conn: AsyncConnection, code: str) -> Dossier:
    """The dossier with this (normalised) code; raises DossierNotFound."""
    row = (await conn.execute(_GET_BY_CODE, {"code": code})).first()
    if row is None:
        raise DossierNotFound(code)
    return Dossier.from_row(row)


async def get_history(conn: AsyncConnection, code: str) -> List[StatusChange]:
    """Status changes of a dossier, oldest first; raises DossierNotFound."""
    dossier = await get_dossier(conn, code)
    h = dossier_status_history.c
    rows = await conn.execute(
        select(h.previous_status, h.status, h.changed_at, h.note, h.source)
        .where(h.dossier_id == dossier.id)
        .order_by(h.changed_at, h.id)
    )
    return [
        StatusChange(
            previous_status=DossierStatus(r.previous_status) if r.previous_status else None,
            status=DossierStatus(r.status),
            changed_at=r.changed_at,
            note=r.note,
            source=r.source,
        )
        for r in rows
    ]


async def _current(conn: AsyncConnection, codes: Sequence[str]) -> Dict[str, dict]:
    found: Dict[str, dict] = {}
    unique = sorted(set(codes))
    lock = conn.dialect.name == "postgresql"
    for start in range(0, len(unique), _IN_CHUNK):
        query = select(*_DOSSIER_COLUMNS).where(
            dossiers.c.code.in_(unique[start : start + _IN_CHUNK])
        )
        if lock:  # serialise concurrent pushes of the same dossiers
            query = query.with_for_update()
        for row in await conn.execute(query):
            found[row.code] = dict(row._mapping)
    return found


async def upsert_records(
    conn: AsyncConnection,
    records: Sequence[DossierRecord],
    *,
    source: str,
    now: datetime,
) -> UpsertReport:
    """Create or update dossiers by code, in order, recording every status change.

    A record older (``updated_at``) than the stored dossier is ignored, so replays and
    out-of-order pushes are harmless; an identical record changes nothing.
    Run inside a transaction; raises IntegrityError if another writer created the same code.
    """
    report = UpsertReport()
    if not records:
        return report
    current = await _current(conn, [r.code for r in records])
    existing_codes = set(current)
    changed: Dict[str, dict] = {}
    history: List[dict] = []
    for record in records:
        stored = current.get(record.code)
        values = record.values()
        if stored is None:
            report.created += 1
            history.append(
                {"code": record.code, "previous_status": None, "status": values["status"],
                 "changed_at": record.updated_at, "note": record.note}
            )
        elif record.updated_at < stored["updated_at"]:
            report.stale += 1
            continue
        elif all(stored[key] == value for key, value in values.items()):
            report.unchanged += 1
            continue
        else:
            if record.code in existing_codes:
                report.updated += 1
            if stored["status"] != values["status"]:
                history.append(
                    {"code": record.code, "previous_status": stored["status"],
                     "status": values["status"], "changed_at": record.updated_at,
                     "note": record.note}
                )
        merged = dict(stored or {}, code=record.code, **values)
        current[record.code] = merged
        changed[record.code] = merged

    columns = ("code",) + tuple(records[0].values())
    inserts = [
        {key: row[key] for key in columns} | {"synced_at": now}
        for code, row in changed.items()
        if code not in existing_codes
    ]
    updates = [
        {key: row[key] for key in columns if key != "code"} | {"_id": row["id"], "synced_at": now}
        for code, row in changed.items()
        if code in existing_codes
    ]
    if inserts:
        await conn.execute(insert(dossiers), inserts)
    if updates:
        await conn.execute(update(dossiers).where(dossiers.c.id == bindparam("_id")), updates)
    if history:
        ids = {code: row["id"] for code, row in current.items() if row.get("id") is not None}
        new_codes = [row["code"] for row in inserts]
        for start in range(0, len(new_codes), _IN_CHUNK):
            rows = await conn.execute(
                select(dossiers.c.id, dossiers.c.code).where(
                    dossiers.c.code.in_(new_codes[start : start + _IN_CHUNK])
                )
            )
            ids.update({row.code: row.id for row in rows})
        await conn.execute(
            insert(dossier_status_history),
            [
                {
                    "dossier_id": ids[item["code"]],
                    "previous_status": item["previous_status"],
                    "status": item["status"],
                    "changed_at": item["changed_at"],
                    "note": item["note"],
                    "source": source,
                    "recorded_at": now,
                }
                for item in history
            ],
        )
        report.status_changes += len(history)
    return report
