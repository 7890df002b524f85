"""Fixtures of the dossier tests: migrated SQLite and PostgreSQL databases, a fake clock, services.

PostgreSQL (``TEST_POSTGRES_URL``, default postgres@127.0.0.1:5432, trust auth): the tests create
their own database and drop it. Unreachable server: the tests are skipped, unless REQUIRE_SERVICES=1,
where they fail. Redis (``TEST_REDIS_URL``, default redis://127.0.0.1:6379/15) likewise.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SYNC_TOKEN = "test-sync-token-0123456789abcdef"
TABLES = ("dossier_status_history", "verification_failures", "dossiers")


def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def unavailable(what: str, error: BaseException):
    message = f"{what} unreachable: {type(error).__name__}: {error}"
    if require_services():
        pytest.fail(message + " (REQUIRE_SERVICES=1)")
    pytest.skip(message)


async def pg_admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL.replace("+asyncpg", ""), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


def create_pg_database() -> str:
    """A new empty database (its name); skips or fails when the server is unreachable."""
    name = f"test_dossiers_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure
        unavailable("PostgreSQL", error)
    return name


def drop_pg_database(name: str) -> None:
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class FakeClock:
    """A settable UTC clock shared by the service and the limiter."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    from bot.migrate import upgrade

    path = tmp_path_factory.mktemp("dossiers") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture
def dossier_sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "dossiers.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def pg_database():
    from bot.migrate import upgrade

    name = create_pg_database()
    try:
        upgrade(pg_url(name))
        yield pg_url(name)
    finally:
        drop_pg_database(name)


@pytest.fixture
def dossier_pg_url(pg_database) -> str:
    name = pg_database.rsplit("/", 1)[1]

    async def truncate():
        import asyncpg

        connection = await asyncpg.connect(PG_ADMIN_URL.replace("+asyncpg", "").rsplit("/", 1)[0]
                                           + "/" + name)
        try:
            await connection.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        finally:
            await connection.close()

    asyncio.run(truncate())
    return pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Each test using it runs on SQLite and on PostgreSQL."""
    name = "dossier_sqlite_url" if request.param == "sqlite" else "dossier_pg_url"
    return request.getfixturevalue(name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc))  # 10:00 in Hà Nội


def make_settings(url: str, **overrides):
    from bot.settings import Settings

    values = dict(
        database_url=url,
        redis_url="",
        dossier_sync_token=SYNC_TOKEN,
        verify_max_failures=5,
        verify_window_seconds=3600,
        timezone="Asia/Ho_Chi_Minh",
    )
    values.update(overrides)
    return replace(Settings(), **values)


@pytest.fixture
def settings(db_url):
    return make_settings(db_url)


@pytest.fixture
async def engine(db_url):
    from bot.db import create_engine

    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def service(engine, settings, clock):
    from bot.dossiers.limiter import SqlFailureLimiter
    from bot.dossiers.service import DossierService

    limiter = SqlFailureLimiter(engine, settings.verify_max_failures,
                                settings.verify_window_seconds, clock)
    service = DossierService(engine, settings, limiter, clock)
    yield service
    await service.close()


def csv_text(*rows: str) -> str:
    header = ("code,procedure_code,procedure_name,applicant_name,applicant_phone,agency,status,"
              "submitted_at,due_at,updated_at,note")
    return "\n".join((header,) + rows) + "\n"


def row(code="000.00.22.H39-261118-0007", status="processing", updated="2026-11-19T09:00:00",
        due="2026-11-25T17:00:00", note="", phone="0912 345 678", name="Nguyễn Văn An",
        submitted="2026-11-18T08:30:00") -> str:
    return (f'{code},1.001193,Thủ tục đăng ký khai sinh,{name},{phone},UBND phường Hồng Châu,'
            f'{status},{submitted},{due},{updated},"{note}"')
