"""Benchmark of the dossier lookup and CSV import, on SQLite and PostgreSQL.

For each database: a fresh database with the project's migrations, ``--rows`` dossiers bulk-loaded
(fixed seed; COPY on PostgreSQL, executemany in one transaction on SQLite), then ``--lookups``
lookups through DossierService.lookup (the full path the action uses: limiter check + fetch +
verification), then the import of a ``--csv-rows`` CSV file (90 % new dossiers, 10 % status changes)
through the CSV importer. Prints lookup p50/p95 and the import rate.

    .venv/bin/python scripts/bench_dossiers.py                 # 1,000,000 rows, both databases
    .venv/bin/python scripts/bench_dossiers.py --rows 100000 --only sqlite

PostgreSQL: TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres); the script
creates its own database and drops it. Bounded by --time-limit (seconds, whole run): phases not
started in time are skipped and reported as such.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bot.db import create_engine  # noqa: E402
from bot.dossiers.demo import FAMILY, GIVEN, MIDDLE, MOBILE_PREFIXES, PROCEDURES  # noqa: E402
from bot.dossiers.importer import import_csv  # noqa: E402
from bot.dossiers.service import build_dossier_service  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.settings import Settings  # noqa: E402

SEED = 20261118
AGENCY_COUNT = 50
DAYS = 400
PER_AGENCY_DAY = AGENCY_COUNT * DAYS  # codes per sequence number
BASE_DAY = datetime(2025, 6, 1, 1, 0, tzinfo=timezone.utc)
STATUSES = ("received", "processing", "supplement_requested", "completed", "returned",
            "rejected", "cancelled")
STATUS_WEIGHTS = (10, 30, 10, 15, 25, 5, 5)
COLUMNS = ("code", "procedure_code", "procedure_name", "applicant_name", "applicant_phone",
           "agency", "status", "submitted_at", "due_at", "updated_at", "note", "synced_at")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0


def code_of(index: int) -> str:
    """A unique national-format code per index (50 agencies x 400 days x sequence)."""
    agency = index % AGENCY_COUNT
    day = (index // AGENCY_COUNT) % DAYS
    sequence = index // PER_AGENCY_DAY + 1
    submitted = BASE_DAY + timedelta(days=day)
    return f"000.{agency // 10:02d}.{agency % 10 + 10:02d}.H39-{submitted:%y%m%d}-{sequence:04d}"


def dossier_rows(start: int, stop: int, seed: int) -> Iterator[tuple]:
    """Deterministic dossier rows (aware UTC times) for indices [start, stop)."""
    for index in range(start, stop):
        rng = random.Random(seed * 1_000_003 + index)  # per row: the same whatever the chunking
        procedure_code, procedure_name, days, _ = PROCEDURES[index % len(PROCEDURES)]
        day = (index // AGENCY_COUNT) % DAYS
        submitted = BASE_DAY + timedelta(days=day, minutes=rng.randrange(600))
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        updated = submitted + timedelta(hours=rng.randrange(1, 200))
        yield (
            code_of(index),
            procedure_code,
            procedure_name,
            f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}",
            f"UBND xã số {index % AGENCY_COUNT + 1}",
            status,
            submitted,
            submitted + timedelta(days=days + 2),
            updated,
            "Bổ sung bản sao giấy khai sinh." if status == "supplement_requested" else "",
        )


def chunks(start: int, stop: int, size: int) -> Iterator[Tuple[int, int]]:
    for first in range(start, stop, size):
        yield first, min(stop, first + size)


# -- bulk load ---------------------------------------------------------------------------------------

def sqlite_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(path: str, rows: int, seed: int, samples: Dict[int, None]) -> Dict[int, tuple]:
    found: Dict[int, tuple] = {}
    now = sqlite_time(datetime.now(timezone.utc))
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        placeholders = ", ".join("?" for _ in COLUMNS)
        statement = f"INSERT INTO dossiers ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        with connection:  # one transaction
            for first, last in chunks(0, rows, 50_000):
                batch = []
                for offset, record in enumerate(dossier_rows(first, last, seed)):
                    if first + offset in samples:
                        found[first + offset] = record
                    batch.append(record[:7] + tuple(sqlite_time(t) for t in record[7:10])
                                 + (record[10], now))
                connection.executemany(statement, batch)
        connection.execute("ANALYZE")
    finally:
        connection.close()
    return found


async def load_postgres(url: str, rows: int, seed: int, samples: Dict[int, None]) -> Dict[int, tuple]:
    import asyncpg

    found: Dict[int, tuple] = {}
    now = datetime.now(timezone.utc)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for first, last in chunks(0, rows, 100_000):
            batch = []
            for offset, record in enumerate(dossier_rows(first, last, seed)):
                if first + offset in samples:
                    found[first + offset] = record
                batch.append(record + (now,))
            await connection.copy_records_to_table("dossiers", records=batch, columns=COLUMNS)
        await connection.execute("ANALYZE dossiers")
    finally:
        await connection.close()
    return found


# -- measurements ------------------------------------------------------------------------------------

async def measure_lookups(url: str, sample_rows: Dict[int, tuple], deadline: Deadline,
                          **engine_kwargs):
    settings = replace(Settings(), database_url=url, redis_url="")
    engine = create_engine(url, **engine_kwargs)
    service = await build_dossier_service(engine, settings)
    timings: List[float] = []
    failed_timings: List[float] = []
    try:
        items = list(sample_rows.values())
        for record in items[:100]:  # warm-up: pool, prepared statements, caches
            await service.lookup(record[0], record[4][-4:], "warm-up")
        for number, record in enumerate(items):
            if deadline.passed():
                break
            started = time.perf_counter()
            result = await service.lookup(record[0], record[4][-4:], f"bench-{number}")
            timings.append(time.perf_counter() - started)
            if result.state != record[6]:
                raise AssertionError(f"lookup of {record[0]} gave {result.state}")
        for number, record in enumerate(items[:200]):  # wrong digits: also records a failure
            if deadline.passed():
                break
            wrong = f"{(int(record[4][-4:]) + 1) % 10000:04d}"
            started = time.perf_counter()
            result = await service.lookup(record[0], wrong, f"bench-wrong-{number}")
            failed_timings.append(time.perf_counter() - started)
            assert result.state == "not_found"
    finally:
        await service.close()
        await engine.dispose()
    return timings, failed_timings


def write_csv(path: Path, rows: int, csv_rows: int, seed: int) -> None:
    """90 % new dossiers (indices after the loaded ones), 10 % status changes of loaded ones."""
    updates = min(rows, csv_rows // 10)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS[:-1])

        def out(record, status, updated):
            writer.writerow(record[:6] + (status, record[7].isoformat(), record[8].isoformat(),
                                          updated.isoformat(), record[10]))

        for record in dossier_rows(rows, rows + csv_rows - updates, seed):
            out(record, record[6], record[9])
        step = max(1, rows // max(updates, 1))
        for index in range(0, updates * step, step):
            record = next(dossier_rows(index, index + 1, seed))
            status = "returned" if record[6] != "returned" else "completed"
            out(record, status, record[9] + timedelta(days=1))  # a later change: not stale


async def measure_import(url: str, path: Path, csv_rows: int) -> Tuple[float, dict]:
    settings = replace(Settings(), database_url=url, redis_url="")
    engine = create_engine(url)
    service = await build_dossier_service(engine, settings)
    try:
        started = time.perf_counter()
        result = await import_csv(service, path)
        elapsed = time.perf_counter() - started
    finally:
        await service.close()
        await engine.dispose()
    if result.errors:
        raise AssertionError(f"import errors: {result.errors[:3]}")
    return csv_rows / elapsed, result.report.as_dict()


# -- one database ------------------------------------------------------------------------------------

async def pg_admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL.replace("+asyncpg", ""), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def run_backend(kind: str, args, deadline: Deadline) -> Optional[dict]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-dossiers-{kind}-"))
    pg_name = None
    report: dict = {"backend": kind, "rows": args.rows}
    try:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        else:
            pg_name = f"bench_dossiers_{uuid.uuid4().hex[:8]}"
            try:
                asyncio.run(pg_admin(f'CREATE DATABASE "{pg_name}"'))
            except Exception as error:  # noqa: BLE001
                print(f"[{kind}] skipped: server unreachable ({type(error).__name__}: {error})")
                pg_name = None
                return None
            base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            url = f"{base}/{pg_name}"
        upgrade(url)

        rng = random.Random(args.seed)
        samples = dict.fromkeys(rng.sample(range(args.rows), min(args.lookups, args.rows)))
        print(f"[{kind}] loading {args.rows:,} dossiers ...", flush=True)
        started = time.perf_counter()
        if kind == "sqlite":
            sample_rows = load_sqlite(str(workdir / "bench.db"), args.rows, args.seed, samples)
        else:
            sample_rows = asyncio.run(load_postgres(url, args.rows, args.seed, samples))
        report["load_seconds"] = time.perf_counter() - started
        report["load_rate"] = args.rows / report["load_seconds"]
        print(f"[{kind}] loaded in {report['load_seconds']:.1f} s "
              f"({report['load_rate']:,.0f} rows/s)", flush=True)

        if deadline.passed():
            print(f"[{kind}] time limit reached: lookups and import skipped")
            return report
        ordered = {index: sample_rows[index] for index in samples}  # random order, fixed seed
        engines = [("", {})]
        if kind == "sqlite":
            # bot.db.create_engine gives file-based SQLite SQLAlchemy 1.4's default NullPool (a new
            # connection and thread per checkout); measure a pooled engine as well.
            from sqlalchemy.pool import AsyncAdaptedQueuePool

            engines = [(" (bot.db engine, NullPool)", {}),
                       (" (pooled engine)", {"poolclass": AsyncAdaptedQueuePool})]
        report["lookup_runs"] = []
        for label, engine_kwargs in engines:
            if deadline.passed():
                break
            timings, failed = asyncio.run(measure_lookups(url, ordered, deadline, **engine_kwargs))
            run = {"label": label, "lookups": len(timings),
                   "p50_ms": statistics.median(timings) * 1000,
                   "p95_ms": float(np.percentile(timings, 95)) * 1000}
            if failed:
                run["failed_p95_ms"] = float(np.percentile(failed, 95)) * 1000
            report["lookup_runs"].append(run)
            print(f"[{kind}]{label} lookup p50 {run['p50_ms']:.2f} ms, p95 {run['p95_ms']:.2f} ms "
                  f"({len(timings)} lookups; wrong digits p95 {run.get('failed_p95_ms', 0):.2f} ms)",
                  flush=True)

        if deadline.passed():
            print(f"[{kind}] time limit reached: import skipped")
            return report
        csv_path = workdir / "import.csv"
        write_csv(csv_path, args.rows, args.csv_rows, args.seed)
        print(f"[{kind}] importing a {args.csv_rows:,}-row CSV ...", flush=True)
        rate, counts = asyncio.run(measure_import(url, csv_path, args.csv_rows))
        report["import_rate"] = rate
        report["import_counts"] = counts
        print(f"[{kind}] import {rate:,.0f} rows/s {counts}", flush=True)
        return report
    finally:
        if pg_name:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--time-limit", type=float, default=1800,
                        help="seconds for the whole run (default 1800)")
    args = parser.parse_args(argv)
    deadline = Deadline(args.time_limit)
    results = []
    for kind in ("postgresql", "sqlite"):
        if args.only and kind != args.only:
            continue
        if deadline.passed():
            print(f"[{kind}] time limit reached: skipped")
            continue
        result = run_backend(kind, args, deadline)
        if result:
            results.append(result)

    print()
    print(f"{'database':<38} {'dossiers':>10} {'lookups':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p95<5ms':>8} {'import rows/s':>14}")
    ok = True
    for r in results:
        runs = r.get("lookup_runs") or [{"label": " (lookups skipped)", "lookups": 0}]
        for run in runs:
            passed = "p95_ms" in run and run["p95_ms"] < 5.0
            ok = ok and passed
            print(f"{r['backend'] + run['label']:<38} {r['rows']:>10,} {run['lookups']:>8} "
                  f"{run.get('p50_ms', float('nan')):>7.2f} {run.get('p95_ms', float('nan')):>7.2f} "
                  f"{('yes' if passed else 'NO'):>8} {r.get('import_rate', float('nan')):>14,.0f}")
    print(f"bulk load: " + ", ".join(f"{r['backend']} {r['load_rate']:,.0f} rows/s"
                                     for r in results if "load_rate" in r))
    return 0 if ok and results else 1


if __name__ == "__main__":
    sys.exit(main())
