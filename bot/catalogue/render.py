"""Turn a procedure into the slot values its domain responses show.

Only data goes into the values (names, counts, the curated Vietnamese texts); the few display
labels that join them live in ``data/procedures/labels.yml``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, List

import yaml

from bot.catalogue.service import Procedure
from bot.settings import PROJECT_ROOT
from bot.text import words

LABELS_PATH = PROJECT_ROOT / "data" / "procedures" / "labels.yml"
# Room left for a response's own text in a 2,000-character chat message.
MAX_FIELD_CHARS = 1500


@lru_cache(maxsize=1)
def labels(path: Path = LABELS_PATH) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def _fit(lines: List[str], limit: int = MAX_FIELD_CHARS) -> str:
    """Join lines, cutting whole lines so the text stays under ``limit`` characters."""
    out: List[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit:
            out.append(labels()["truncated"])
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def documents_text(procedure: Procedure) -> str:
    lab = labels()
    lines = []
    for doc in procedure.detail.documents:
        if doc.originals and doc.copies:
            quantity = lab["quantity_both"].format(originals=doc.originals, copies=doc.copies)
        elif doc.originals:
            quantity = lab["quantity_originals"].format(originals=doc.originals)
        elif doc.copies:
            quantity = lab["quantity_copies"].format(copies=doc.copies)
        else:
            quantity = lab["quantity_show"]
        lines.append(
            lab["document_line"].format(
                name=doc.name.rstrip("."),
                form=lab["form"].format(form=doc.form) if doc.form else "",
                quantity=quantity,
                note=lab["note"].format(note=doc.note.rstrip(".")) if doc.note else "",
            )
        )
    return _fit(lines)


def steps_text(procedure: Procedure) -> str:
    lab = labels()
    return _fit(
        [lab["step_line"].format(number=i, step=step) for i, step in enumerate(procedure.detail.steps, 1)]
    )


def list_text(items: List[str]) -> str:
    return _fit([labels()["list_line"].format(item=item) for item in items])


def channels_text(procedure: Procedure) -> str:
    names = labels()["channels"]
    return ", ".join(names[c] for c in procedure.detail.channels)


def _repeats(item: str, text: str, share: float = 0.8) -> bool:
    """Whether ``item`` says again what ``text`` says (most of its words are already there)."""
    item_words = words(item)
    known = set(words(text))
    return bool(item_words) and sum(w in known for w in item_words) >= share * len(item_words)


def procedure_values(procedure: Procedure, related: List[Procedure]) -> Dict[str, str]:
    """Slot values for the responses about ``procedure`` (curated or catalogue-only)."""
    values = {
        "procedure_code": procedure.code,
        "procedure_name": procedure.detail.name if procedure.detail else procedure.name,
        "procedure_url": procedure.portal_url,
        "procedure_agency": ", ".join(procedure.agencies),
        "procedure_related": labels()["related_separator"].join(
            (p.detail.name if p.detail else p.name) for p in related[:4]
        ),
    }
    detail = procedure.detail
    if detail is not None:
        fees = detail.fees.summary
        exemptions = [item for item in detail.fees.exemptions if not _repeats(item, fees)]
        if exemptions:
            fees = fees + "\n" + list_text(exemptions)
        values.update(
            procedure_agency=detail.agency,
            procedure_documents=documents_text(procedure),
            procedure_fee=fees,
            procedure_duration=detail.processing_time,
            procedure_steps=steps_text(procedure),
            procedure_online=detail.online_note,
            procedure_channels=channels_text(procedure),
            procedure_result=detail.result,
            procedure_conditions=list_text(detail.conditions) if detail.conditions else "",
            procedure_verified=detail.last_verified.strftime("%d/%m/%Y"),
        )
    return values
