"""Curated procedure records and life events: schema and loading (pydantic, YAML)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import yaml
from pydantic import BaseModel, Field, validator

CHANNELS = ("full_online", "partly_online", "in_person", "post")


class Document(BaseModel):
    name: str
    form: Optional[str] = None
    originals: int = Field(0, ge=0)
    copies: int = Field(0, ge=0)
    note: Optional[str] = None


class Fees(BaseModel):
    summary: str
    exemptions: List[str] = []


class CuratedRecord(BaseModel):
    slug: str = Field(..., regex=r"^[a-z0-9_]+$")
    code: str
    name: str
    aliases: List[str] = []
    level: str = Field(..., regex=r"^(commune|province|national)$")
    agency: str
    documents: List[Document]
    fees: Fees
    processing_time: str
    steps: List[str]
    channels: List[str]
    online_note: str
    conditions: List[str] = []
    result: str
    legal_basis: List[str]
    source: str
    last_verified: dt.date

    @validator("channels", each_item=True)
    def _known_channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"unknown channel {value!r}")
        return value

    def to_json(self) -> str:
        return self.json(ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "CuratedRecord":
        return cls.parse_obj(json.loads(text))


class LifeEvent(BaseModel):
    id: str
    name: str
    phrases: List[str]
    procedures: List[str]  # slugs or codes, most relevant first


def load_curated(directory: Path) -> List[CuratedRecord]:
    records = []
    for path in sorted(Path(directory).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        record = CuratedRecord.parse_obj(data)
        if record.slug != path.stem:
            raise ValueError(f"{path.name}: slug {record.slug!r} differs from the file name")
        records.append(record)
    return records


def load_life_events(path: Path) -> List[LifeEvent]:
    if not Path(path).exists():
        return []
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return [LifeEvent.parse_obj(item) for item in data.get("life_events", [])]


def load_synonyms(path: Path) -> Dict[str, List[str]]:
    """Colloquial phrase -> official wordings, as written in data/procedures/synonyms.yml."""
    if not Path(path).exists():
        return {}
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {str(k): list(v) for k, v in (data.get("synonyms") or {}).items()}


def load_aliases(path: Path) -> Dict[str, List[str]]:
    """Official code -> citizen wordings of procedures without a curated record
    (data/procedures/aliases.yml); raises ValueError when the file is not such a mapping."""
    if not Path(path).exists():
        return {}
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ValueError(f"{path}: expected a mapping of procedure codes to lists of phrases")
    # Unquoted, YAML reads 1.010030 as the number 1.01003: the code would silently change.
    numbers = [code for code in data if not isinstance(code, str)]
    if numbers:
        raise ValueError(f"{path}: quote the procedure codes, e.g. \"{numbers[0]}\"")
    return {code: [str(alias) for alias in aliases] for code, aliases in data.items()}


def load_court_matters(path: Path) -> Dict[str, List[str]]:
    """Phrases of matters courts decide, and the words after which they are not one
    (data/procedures/court_matters.yml)."""
    if not Path(path).exists():
        return {"phrases": [], "not_after": []}
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {key: [str(item) for item in data.get(key) or []] for key in ("phrases", "not_after")}


def read_national(path: Path) -> Iterator[dict]:
    """Rows of the national procedure list (JSON lines); raises ValueError on a bad line."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                code, name = str(row["code"]).strip(), str(row["name"]).strip()
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"line {number}: {error}") from None
            if not code or not name:
                raise ValueError(f"line {number}: empty code or name")
            yield {
                "code": code,
                "name": name,
                "issuing_ministry": str(row.get("issuing_ministry") or ""),
                "agencies": list(row.get("implementing_agencies") or []),
                "field": str(row.get("field") or ""),
                "portal_url": str(row.get("portal_url") or ""),
            }
