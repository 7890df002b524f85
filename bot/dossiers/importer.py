"""CSV import: ``bot dossiers import FILE.csv``.

UTF-8 (a BOM is accepted), header ``code,procedure_code,procedure_name,applicant_name,
applicant_phone,agency,status,submitted_at,due_at,updated_at,note``. Rows are upserted by code in
batches; a bad row is reported with its line number and reason and does not stop the others.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, List, Tuple, Union

from bot.dossiers.errors import InvalidFile, InvalidRecord
from bot.dossiers.records import FIELDS, DossierRecord, parse_record
from bot.dossiers.repository import UpsertReport

BATCH_SIZE = 1000


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass
class ImportResult:
    rows: int = 0
    report: UpsertReport = field(default_factory=UpsertReport)
    errors: List[RowError] = field(default_factory=list)
    ignored_columns: List[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.rows - len(self.errors)


def _rows(lines: Iterable[str]) -> Tuple[List[str], Iterator[Tuple[int, dict]]]:
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidFile("the file is empty (expected a header line)")
    columns = [name.strip().lower() for name in header]
    missing = [name for name in FIELDS if name not in columns]
    if missing:
        raise InvalidFile(
            "header is missing column(s) " + ", ".join(missing)
            + "; expected: " + ",".join(FIELDS)
        )
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if duplicated:
        raise InvalidFile("header repeats column(s) " + ", ".join(duplicated))
    ignored = [name for name in columns if name not in FIELDS]

    def generate() -> Iterator[Tuple[int, dict]]:
        for values in reader:
            if not any(value.strip() for value in values):
                continue  # blank line
            if len(values) != len(columns):
                yield reader.line_num, {
                    "__error__": f"has {len(values)} fields, the header has {len(columns)}"
                }
                continue
            yield reader.line_num, dict(zip(columns, values))

    return ignored, generate()


async def import_lines(service, lines: Iterable[str], *, source: str = "csv",
                       batch_size: int = BATCH_SIZE) -> ImportResult:
    """Import CSV text (an iterable of lines, header first) through ``service.upsert``."""
    result = ImportResult()
    ignored, rows = _rows(lines)
    result.ignored_columns = ignored
    batch: List[DossierRecord] = []
    try:
        for line, raw in rows:
            result.rows += 1
            if "__error__" in raw:
                result.errors.append(RowError(line, "row", raw["__error__"]))
                continue
            try:
                batch.append(parse_record(raw, service.codes, service.tz))
            except InvalidRecord as error:
                result.errors.append(RowError(line, error.field, error.reason))
                continue
            if len(batch) >= batch_size:
                result.report.add(await service.upsert(batch, source))
                batch = []
    except UnicodeDecodeError as error:
        raise InvalidFile(f"the file is not UTF-8 text ({error.reason} at byte {error.start})")
    except csv.Error as error:
        raise InvalidFile(f"malformed CSV: {error}")
    if batch:
        result.report.add(await service.upsert(batch, source))
    return result


async def import_csv(service, path: Union[str, Path], *, source: str = "csv",
                     batch_size: int = BATCH_SIZE) -> ImportResult:
    """Import a CSV file (CLI use: the file is read as the import goes)."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as error:
        raise InvalidFile(f"cannot open {path}: {error.strerror}")
    with handle:
        try:
            return await import_lines(service, handle, source=source, batch_size=batch_size)
        except UnicodeDecodeError as error:  # raised while reading the header
            raise InvalidFile(f"the file is not UTF-8 text ({error.reason} at byte {error.start})")


async def import_text(service, text: str, **kwargs) -> ImportResult:
    """Import CSV given as a string (tests, small uploads)."""
    return await import_lines(service, io.StringIO(text.lstrip("\ufeff"), newline=""), **kwargs)
