"""Shared fixtures: databases (SQLite and, when reachable, PostgreSQL) and an imported catalogue."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


async def _pg_admin(statement: str) -> None:
    import asyncpg

    url = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as error:  # noqa: BLE001 - any connection failure
        if _require_services():
            pytest.fail(f"PostgreSQL unreachable and REQUIRE_SERVICES=1: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request):
    """Both databases: every test using it runs twice."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def catalogue_db(tmp_path_factory) -> str:
    """A SQLite database with the real catalogue imported (once per test session)."""
    from bot.catalogue.importer import import_catalogue
    from bot.db import create_engine
    from bot.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('catalogue') / 'catalogue.db'}"
    upgrade(url)

    async def run():
        engine = create_engine(url)
        try:
            await import_catalogue(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return url


@pytest.fixture
async def catalogue(catalogue_db):
    from bot.catalogue.service import CatalogueService
    from bot.db import create_engine

    engine = create_engine(catalogue_db)
    service = CatalogueService(engine, refresh_seconds=0)
    await service.load()
    yield service
    await engine.dispose()


@pytest.fixture
async def services(catalogue_db, monkeypatch):
    """Process-wide services on the imported catalogue, installed for the actions."""
    from bot import services as services_module
    from bot.settings import Settings

    monkeypatch.setenv("DATABASE_URL", catalogue_db)
    opened = await services_module.open_services(Settings())
    services_module.set_services(opened)
    yield opened
    services_module.set_services(None)
    await opened.close()
