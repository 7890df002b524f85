"""Migration 0002 up, down and up again, on SQLite and PostgreSQL."""

import asyncio

import pytest
from sqlalchemy import inspect

from bot.db import create_engine
from bot.migrate import downgrade, upgrade
from tests.dossiers.conftest import create_pg_database, drop_pg_database, pg_url

DOSSIER_TABLES = {"dossiers", "dossier_status_history", "verification_failures"}


def table_names(url: str):
    async def run():
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def columns(url: str, table: str):
    async def run():
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: {c["name"] for c in inspect(sync).get_columns(table)}
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    name = create_pg_database()
    try:
        yield pg_url(name)
    finally:
        drop_pg_database(name)


def test_up_down_up(empty_db_url):
    upgrade(empty_db_url)
    assert DOSSIER_TABLES <= table_names(empty_db_url)
    assert {"code", "procedure_code", "procedure_name", "applicant_name", "applicant_phone",
            "agency", "status", "submitted_at", "due_at", "updated_at", "note"} <= columns(
        empty_db_url, "dossiers")

    downgrade(empty_db_url, "0001")
    remaining = table_names(empty_db_url)
    assert not DOSSIER_TABLES & remaining
    assert "procedures" in remaining

    upgrade(empty_db_url)
    assert DOSSIER_TABLES <= table_names(empty_db_url)

    downgrade(empty_db_url, "base")
    assert not DOSSIER_TABLES & table_names(empty_db_url)
    upgrade(empty_db_url, "0002")
    assert DOSSIER_TABLES <= table_names(empty_db_url)


def test_the_status_check_constraint_holds(empty_db_url):
    from datetime import datetime, timezone

    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from bot.dossiers.tables import dossiers

    upgrade(empty_db_url)
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    values = dict(code="X.1-261118-0001", procedure_name="p", applicant_name="a",
                  applicant_phone="0912345678", agency="g", status="done",
                  submitted_at=now, updated_at=now, synced_at=now)

    async def run():
        engine = create_engine(empty_db_url)
        try:
            with pytest.raises(IntegrityError):
                async with engine.begin() as conn:
                    await conn.execute(insert(dossiers), values)
            async with engine.begin() as conn:
                await conn.execute(insert(dossiers), dict(values, status="processing"))
            with pytest.raises(IntegrityError):  # the code is unique
                async with engine.begin() as conn:
                    await conn.execute(insert(dossiers), dict(values, status="processing"))
        finally:
            await engine.dispose()

    asyncio.run(run())
